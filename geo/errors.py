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
    """A problem the user can fix: the message says what was wrong and what to do."""


class InputError(HamjiError):
    """An input file or option is missing, unreadable or not of the expected form."""


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
        super().__init__(f"Overpass at {url} failed on the {query} query: {reason}; nothing was written. Try a "
                         "smaller area (fewer provinces), try again later, or use a local extract")


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
        super().__init__(f"{folder} is being written by another hamji run ({holder}); wait for it to finish, "
                         "or run again with --wait to queue behind it")
