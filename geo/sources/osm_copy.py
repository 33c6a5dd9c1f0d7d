"""Part of an OSM file copied to another by libosmium, in a child process.

libosmium's writer throws from its destructor once a write has failed (a
full disk), and a C++ exception thrown from a destructor ends the process
(``std::terminate``: "Aborted", exit code 134) past every Python handler,
after the error had been reported as HamJi's own bug. So the copy runs in a
child process that leaves through ``os._exit`` (no destructor runs), and
its failure comes back here as one clear error: the file to write, or the
file read, named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from geo.errors import OutputError, SourceError, clip

__all__ = ["CopySpec", "copy_osm"]

#: libosmium's messages of a failed write (io_error).
_WRITE_FAILURES = ("Write failed", "Close failed", "fsync failed")
#: Its message for a file that cannot be opened, source or target alike: the path it names decides.
_OPEN_FAILED = "Open failed for"


@dataclass
class CopySpec:
    """What to copy: the objects of ``entities`` ("n", "w", "r") that pass every filter given.

    ``keys`` and ``tags`` are libosmium's ``KeyFilter`` and ``TagFilter``;
    ``way_ids`` lets through only those ways; ``track`` (``{"n": [...],
    "w": [...], "r": [...]}``) keeps the objects with those ids and every
    object they reference (``IdTracker.complete_backward_references``).
    With no filter at all, nothing is copied (an empty file). ``raw``
    writes blocks uncompressed (a scratch copy read once).
    """

    source: str
    target: str
    entities: str = "nwr"
    keys: list[str] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    way_ids: list[int] | None = None
    track: dict[str, list[int]] | None = None
    raw: bool = False


def copy_osm(spec: CopySpec, name: str | None = None, advice: str = "free some space or choose another folder") -> None:
    """Write ``spec.target`` from ``spec.source`` as ``spec`` says, in a child process.

    ``name`` is what an error calls the target (the file the user asked for, not its temporary name), and
    ``advice`` what it tells to do when it cannot be written.

    Raises
    ------
    OutputError
        The target could not be written (a full disk, no permission).
    SourceError
        The source could not be read (corrupt or truncated).
    """
    # The child imports this very package, wherever the parent found it (a clone on sys.path, say).
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "geo.sources.osm_copy"],
        input=json.dumps(asdict(spec)),
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if done.returncode == 0:
        return
    if done.returncode < 0:  # killed: by the system when memory ran out, most likely; not the file's fault
        raise OutputError(
            f"the copy from {spec.source} to {name or spec.target} was killed (signal {-done.returncode}; out of "
            "memory?); nothing was written: free memory, or cut the extract first with hamji extract"
        )
    lines = done.stderr.strip().splitlines()
    side, _, reason = (lines[-1] if lines else "").partition(": ")
    reason = clip(reason or f"the copy stopped with exit code {done.returncode}", 200)
    if side == "write":
        raise OutputError(f"cannot write {name or spec.target} ({reason}); {advice}")
    raise SourceError(
        f"cannot read OSM extract {spec.source}: {reason}; the file is corrupt or truncated, download it again"
    )


def _filters(spec: CopySpec) -> list:
    import osmium

    filters: list = []
    if spec.keys:
        filters.append(osmium.filter.KeyFilter(*spec.keys))
    if spec.tags:
        filters.append(osmium.filter.TagFilter(*((key, value) for key, value in spec.tags)))
    if spec.way_ids is not None:
        ways = osmium.filter.IdFilter(spec.way_ids)
        ways.enable_for(osmium.osm.WAY)  # nodes and relations pass
        filters.append(ways)
    if spec.track is not None:
        tracker = osmium.IdTracker()
        for kind, add in (("n", tracker.add_node), ("w", tracker.add_way), ("r", tracker.add_relation)):
            for ident in spec.track.get(kind, []):
                add(ident)
        tracker.complete_backward_references(spec.source, relation_depth=0)
        filters.append(tracker.id_filter())
    return filters


def _child() -> None:
    """Run one copy from the spec on standard input; leave through ``os._exit``, so no destructor runs."""
    import osmium

    code, side = 0, "read"
    try:
        spec = CopySpec(**json.loads(sys.stdin.read()))
        entities = osmium.osm.osm_entity_bits.NOTHING
        for letter, bit in (("n", osmium.osm.NODE), ("w", osmium.osm.WAY), ("r", osmium.osm.RELATION)):
            if letter in spec.entities:
                entities |= bit
        filters = _filters(spec)
        target = osmium.io.File(spec.target, "pbf,pbf_compression=none") if spec.raw else spec.target
        side = "write"
        writer = osmium.SimpleWriter(target, overwrite=True)
        side = "read"
        if filters:
            osmium.apply(osmium.io.Reader(spec.source, entities), *filters, writer)
        side = "write"
        writer.close()
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, in one line
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if text.startswith(_OPEN_FAILED):
            side = "write" if "spec" in locals() and spec.target in text else "read"
        elif text.startswith(_WRITE_FAILURES):
            side = "write"
        sys.stderr.write(f"{side}: {text}\n")
        code = 1
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _child()
