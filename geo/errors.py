"""HamJi Explorer's exceptions: each a problem the user can fix, with a message saying what to do.

The command line turns any of them into one line on stderr and a non-zero
exit; from Python, catch :class:`HamjiError` for all of them, or a subclass
for one kind, and read its attributes for the details.
"""

from __future__ import annotations

from pathlib import Path


def clip(text: object, limit: int = 200) -> str:
    """Text as it goes into a one-line message: whitespace folded, cut at ``limit`` characters.

    Examples
    --------
    >>> clip("two   words"), clip("x" * 10, 4)
    ('two words', 'xxxx…')
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


class HamjiError(Exception):
    """A problem the user can fix: the message says what was wrong and what to do.

    Attributes
    ----------
    option : str or None
        The parameter of the public API the problem is about (``"penalties"``,
        ``"allow_empty"``), so that a front end can name its own spelling of
        it (the ``hamji`` command adds its flag). Messages never name flags.
    """

    def __init__(self, message: str, *, option: str | None = None):
        super().__init__(message)
        self.option = option


class InputError(HamjiError, ValueError):
    """An input file or option is missing, unreadable or not of the expected form (also a :class:`ValueError`)."""


class MissingStageError(InputError):
    """A stage's input file does not exist yet: an earlier stage has to run first.

    Attributes
    ----------
    path : pathlib.Path
        The file that is missing.
    stage : str
        The stage that writes it (``"layers"``, ``"routes"``, ``"reach"``).
    """

    def __init__(self, path: Path, stage: str, why: str = ""):
        self.path, self.stage = Path(path), stage
        super().__init__(f"{path} does not exist{why}; the {stage} stage writes it: run that stage first")


class MixedRunError(InputError):
    """Files a stage reads belong to different runs: one was made from another version of the other.

    Attributes
    ----------
    path : pathlib.Path
        The file made from something else.
    source : pathlib.Path
        The file it was not made from.
    """

    def __init__(self, path: Path, source: Path, stage: str):
        self.path, self.source, self.stage = Path(path), Path(source), stage
        super().__init__(
            f"{path} was not made from the {source.name} beside it ({source}), so the two belong to different "
            f"runs (an older or copied file?); rerun the {stage} stage so that they agree, instead of mixing them"
        )


class ClippedExtractError(InputError):
    """A province's boundary relation is in the extract but incomplete: the extract was clipped too tightly.

    Attributes
    ----------
    region : str
        The province.
    relation_id : int
        Its OSM boundary relation.
    missing, members : int
        Member ways missing from the extract, and member ways in all.
    """

    def __init__(self, region: str, relation_id: int, missing: int, members: int, source: str):
        self.region, self.relation_id, self.missing, self.members = region, relation_id, missing, members
        super().__init__(
            f"{region}'s boundary relation {relation_id} in {source} is missing {missing} of its {members} member "
            "ways: the extract was clipped. Clip with a box around the whole province and the smart strategy "
            "(osmium extract -s smart -S types=multipolygon,boundary), or pass the full file",
            option="osm_paths",
        )


class SourceError(HamjiError):
    """OpenStreetMap could not be read: a broken extract, or an Overpass server that failed."""


class OverpassError(SourceError):
    """An Overpass request failed or answered with something that is not a full result.

    Attributes
    ----------
    url : str
        The Overpass endpoint.
    query : str
        Which query failed, in words (``"roads, part 3 of 12"``).
    reason : str
        What the server did (``"HTTP 429"``, ``"runtime error: Query timed out …"``).
    """

    def __init__(self, url: str, query: str, reason: str):
        self.url, self.query, self.reason = url, query, reason
        super().__init__(
            f"Overpass at {url} failed on the {query} query: {reason}; nothing was written. Try a "
            "smaller area (fewer provinces), try again later, or use a local extract"
        )


class OutputError(HamjiError):
    """An output folder or file cannot be written (permissions, a file in the way, a full disk)."""


class BusyError(OutputError):
    """Another HamJi run holds the lock on an output folder.

    Attributes
    ----------
    folder : pathlib.Path
        The locked folder.
    pid : int or None
        The process holding it, when it could be read.
    """

    def __init__(self, folder: Path, pid: int | None):
        self.folder, self.pid = Path(folder), pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"{folder} is being written by another hamji run ({holder}); wait for it to finish, "
            "or run again asking to wait for it",
            option="wait",
        )
