"""Read local OpenStreetMap extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``) with pyosmium.

Cost follows what is kept, not the size of the file (a China extract is
~190 M nodes, almost all of them buildings and land use far from Jilin):

1. **Relations** (a relations-only read): the boundary, marketplace and
   border-control relations, and the ids of their member ways.
2. **Everything else** (one streaming pass, node locations in libosmium's
   index): tagged nodes and ways that HamJi uses reach Python only after a
   C++ tag filter; a node, or a way whose first node, is far from
   :data:`settings.REGION_BBOX` is dropped before its tags are read or any
   geometry is made; the roads left keep libosmium's WKB, turned into
   shapely geometry in one bulk call and cut to the region box.

   The index holds every node of a file up to :data:`LARGE_EXTRACT_BYTES`.
   A larger PBF file (China) first has the nodes of the ways this pass may
   keep chosen and read on their own (:func:`_way_nodes`,
   :mod:`geo.sources.pbf_nodes`), so that its memory follows the region's
   nodes, not the file's.
3. **Areas** (a ways-only read, reusing the index): libosmium assembles only
   the relations of pass 1 from their member ways, never a building.

An incomplete relation (a member way cut off by a clipped extract) is named
in :attr:`RawOsm.provenance` (``incomplete_relations``), so that a missing
province can be explained rather than called absent.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from geo import settings
from geo.errors import InputError, OutputError, SourceError, clip
from geo.io import check_input_file, file_digest
from geo.sources import osm_copy, pbf_nodes
from geo.sources.bounded import check_extract_stream
from geo.sources.passes import AreaPass, FeaturePass, Kept, RelationPass, near_box_e7, wanted_tags
from geo.sources.raw import (
    KEYS,
    KINDS,
    RawOsm,
    tag_filters,
    to_frame,
    tool_versions,
)

log = logging.getLogger(__name__)

#: ``progress(bytes_read, bytes_total, objects_kept)``, called now and then while a file is read.
Progress = Callable[[int, int, int], None]

#: Above this size only the nodes of the ways HamJi may keep are stored (a PBF file), or every node on disk (see
#: :func:`_node_store`).
LARGE_EXTRACT_BYTES = 600 * 1024**2
_HISTORY_SUFFIXES = (".osh", ".osh.pbf", ".osh.bz2", ".osh.gz", ".osc", ".osc.gz", ".osc.bz2")


def check_extract_path(path: Path) -> Path:
    """Fail with a one-line message unless ``path`` looks like a readable extract."""
    path = check_input_file(Path(path), "OSM extract", option="osm_paths")
    if path.name.lower().endswith(_HISTORY_SUFFIXES):
        raise InputError(
            f"OSM extract {path} is a history or change file; give a plain extract (.osm.pbf, .osm, .osm.bz2)",
            option="osm_paths",
        )
    if not path.name.lower().endswith(settings.EXTRACT_SUFFIXES):
        raise InputError(
            f"OSM extract {path} is not an .osm.pbf, .osm or .osm.bz2 file; "
            "download an extract (e.g. from Geofabrik) in one of those formats",
            option="osm_paths",
        )
    if path.stat().st_size == 0:
        raise InputError(f"OSM extract {path} is empty; download it again", option="osm_paths")
    return path


def node_index(path: Path, folder: Path) -> str:
    """The libosmium node-location index for ``path``.

    ``flex_mem`` (in memory; sparse or dense as the ids require) up to
    :data:`LARGE_EXTRACT_BYTES`: fastest, and a country extract's nodes
    fit in a few hundred MB. Beyond it, for a file whose every node is
    stored all the same (XML, or a PBF :mod:`geo.sources.pbf_nodes` does not
    read; see :func:`_node_store`), a ``sparse_file_array`` in ``folder``:
    16 bytes per node on disk, paged in by the kernel (a China extract:
    ~190 M nodes, 3 GB); a dense array would need 8 bytes per possible id
    (~100 GB).
    """
    if path.stat().st_size <= LARGE_EXTRACT_BYTES:
        return "flex_mem"
    return f"sparse_file_array,{folder / 'node-locations.idx'}"


class FileProgress:
    """Bytes read so far, from the kernel's record of the open file (Linux); objects kept otherwise."""

    def __init__(self, path: Path, progress: Progress | None) -> None:
        self.path, self.progress = path.resolve(), progress
        self.total = path.stat().st_size
        self.fd: str | None = None
        self.last = 0.0
        self.seen = 0

    def _position(self) -> int:
        """The read position in the file; the last one seen while it is not open (between passes)."""
        folder = "/proc/self/fd"
        if self.fd is not None and not self._is_ours(f"{folder}/{self.fd}"):
            self.fd = None  # closed, and the number perhaps given to another file since
        if self.fd is None and os.path.isdir(folder):
            self.fd = next((fd for fd in os.listdir(folder) if self._is_ours(f"{folder}/{fd}")), None)
        try:
            text = Path(f"/proc/self/fdinfo/{self.fd}").read_text() if self.fd else ""
        except OSError:
            text = ""
        found = re.search(r"pos:\s*(\d+)", text)
        if found:
            self.seen = int(found.group(1))
        return self.seen

    def _is_ours(self, link: str) -> bool:
        try:
            return os.readlink(link) == str(self.path)
        except OSError:
            return False

    def tick(self, kept: int, done: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not done and now - self.last < 0.5):
            return
        self.last = now
        self.progress(self.total if done else min(self._position(), self.total), self.total, kept)


#: The keys of every tag pass 2 reads (:func:`wanted_tags`).
TAG_KEYS = ("highway", "railway", "amenity", "barrier", "place")


def _tag_filters() -> tuple:
    # A key filter first: it costs little on the buildings, so the pair matching runs on few objects.
    return osmium.filter.KeyFilter(*TAG_KEYS), osmium.filter.TagFilter(*wanted_tags())


@dataclass
class _NodeStore:
    """Where pass 2 finds its ways' node locations, and where it reads the ways.

    ``handler`` is None when ``index`` takes every node of the file as it is read. Otherwise it is the
    handler that loaded the kept nodes into ``index``, and passes 2 and 3 read copies in the scratch
    folder: ``tagged`` (the nodes and ways that pass the tag filters) and ``members`` (the relations'
    member ways).
    """

    index: osmium.index.LocationTable
    handler: osmium.NodeLocationsForWays | None = None
    tagged: Path | None = None
    members: Path | None = None

    def tagged_objects(self, path: Path) -> Iterator:
        """Pass 2's stream: the tagged nodes and ways HamJi reads, the ways with their nodes' locations."""
        if self.handler is None or self.tagged is None:
            # pyosmium annotates storage as str, yet takes a LocationTable (file_processor.py checks for one).
            located = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            located = located.with_locations(cast(str, self.index))
            for step in _tag_filters():
                located = located.with_filter(step)
            yield from located
            return
        # The loading handler again: as one handler, it sees one stream of nodes (the kept ones, then the
        # tagged ones) before the first way, so it sorts the index again after the tagged nodes it adds (a
        # second handler would not, and lose the nodes put out of order).
        with osmium.io.Reader(str(self.tagged), osmium.osm.NODE | osmium.osm.WAY) as reader:
            yield from osmium.OsmFileIterator(reader, self.handler)

    def assemble(self, path: Path, member_ways: set[int], *handlers) -> None:
        """Pass 3: the relations' member ways, with their nodes' locations, to ``handlers``."""
        # The loading handler when there is one: it sorts the index before the first way it sees, and
        # pass 2 may have met no way after its tagged nodes (a file with no road); a new handler would not.
        locations = self.handler or osmium.NodeLocationsForWays(self.index)
        locations.ignore_errors()
        # The member ways first: locations are looked up for them only, not for every way of the file
        # (at real density that lookup, a binary search per vertex, cost more than the rest of the pass).
        reader = osmium.io.Reader(str(self.members or path), osmium.osm.WAY)
        osmium.apply(reader, osmium.filter.IdFilter(member_ways), locations, *handlers)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    # np.unique hashes ints (numpy 2.3): several times slower than a sort here.
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


_SCRATCH_ADVICE = "set HAMJI_TMPDIR to a folder with more room (a China-size file took 189 MB)"


def _copy(source: Path, target: Path, **choice) -> Path:
    """What ``choice`` takes of ``source`` (the fields of :class:`geo.sources.osm_copy.CopySpec`), copied
    by libosmium to ``target`` uncompressed: no Python per object, and a full disk is one clear error."""
    osm_copy.copy_osm(osm_copy.CopySpec(str(source), str(target), raw=True, **choice), advice=_SCRATCH_ADVICE)
    return target


def _way_nodes(path: Path, box: tuple[float, float, float, float], tagged: Path, members: Path) -> np.ndarray:
    """The ids of the nodes pass 2 needs, sorted and unique.

    The first node of every way that passes the tag filters (copied, with the tagged nodes, to
    ``tagged``), so that pass 2 tells a far way as it would on the whole file; every node of those whose
    first node is near ``box``, or not in the file (:class:`FeaturePass` reads those); and every node of
    the relations' member ways (``members``). The references are decoded from the copies in bulk and the
    first nodes' locations read by :mod:`geo.sources.pbf_nodes`: Python sees no way, and no node
    reference one at a time. In the generated China-size file (docs/performance.md) 2.17 M ways pass
    the filters, 129,000 of them start near the region, and 8.55 M of its 212 M nodes are stored.
    """
    firsts = pbf_nodes.first_refs(tagged)
    ids, x, y = pbf_nodes.kept_locations(path, _sorted_unique(firsts))
    west, south, east, north = near_box_e7(box)
    far = ids[(x < west) | (x > east) | (y < south) | (y > north)]
    near_ways = pbf_nodes.way_refs(tagged, keep=~np.isin(firsts, far))
    return _sorted_unique(np.concatenate([firsts, near_ways, pbf_nodes.way_refs(members)]))


def _node_store(path: Path, box: tuple[float, float, float, float], scratch: Path, member_ways: set[int]) -> _NodeStore:
    """The node store for ``path`` (see :class:`_NodeStore`).

    A file up to :data:`LARGE_EXTRACT_BYTES`: every node, in one pass. A larger PBF file (China): the
    ways are copied, the nodes pass 2 needs chosen (:func:`_way_nodes`) and their locations alone read
    (:func:`geo.sources.pbf_nodes.kept_locations`), so that memory follows what is kept: 16 bytes a kept
    node, not a node of the file. A larger file in another format, or a PBF that reader does not know:
    every node, on disk (:func:`node_index`).
    """
    if path.stat().st_size > LARGE_EXTRACT_BYTES and path.name.lower().endswith(".pbf"):
        try:
            pbf_nodes.check_readable(path)
            pairs = [list(pair) for pair in wanted_tags()]
            tagged = _copy(path, scratch / "tagged.osm.pbf", entities="nw", keys=list(TAG_KEYS), tags=pairs)
            # No wanted relation: an empty copy, not a pass over the file for nothing.
            member_ids = sorted(member_ways) if member_ways else None
            members = _copy(path, scratch / "member-ways.osm.pbf", entities="w", way_ids=member_ids)
            ids, x, y = pbf_nodes.kept_locations(path, _way_nodes(path, box, tagged, members))
        except pbf_nodes.UnreadablePbf as exc:
            log.info(f"{path}: {exc}; every node's location goes to disk instead")
        else:
            kept = scratch / "kept-nodes.osm.pbf"
            try:
                pbf_nodes.write_nodes(kept, ids, x, y)
            except OSError as exc:
                raise OutputError(f"cannot write {kept} ({exc.strerror or exc}); {_SCRATCH_ADVICE}") from None
            del ids, x, y
            index = osmium.index.create_map("flex_mem")
            handler = osmium.NodeLocationsForWays(index)
            handler.ignore_errors()
            osmium.apply(osmium.io.Reader(str(kept)), handler)
            kept.unlink()
            return _NodeStore(index, handler, tagged, members)
    return _NodeStore(osmium.index.create_map(node_index(path, scratch)))


def _read_one(path: Path, box: tuple[float, float, float, float], progress: Progress | None) -> tuple:
    """The three passes over one file; returns what was kept and the area pass."""
    wanted = osmium.filter.TagFilter(
        ("boundary", "administrative"), ("amenity", "marketplace"), ("barrier", "border_control")
    )
    areas = osmium.area.AreaManager()
    relations = RelationPass()
    osmium.apply(osmium.io.Reader(str(path), osmium.osm.RELATION), wanted, relations, areas.first_pass_handler())

    features = FeaturePass(box)
    meter = FileProgress(path, progress)
    member_ways = {w for rel in relations.relations.values() for w in rel.way_ids}
    with tempfile.TemporaryDirectory(prefix="hamji-nodes-", dir=settings.NODE_INDEX_DIR) as scratch:
        store = _node_store(path, box, Path(scratch), member_ways)
        for obj in store.tagged_objects(path):
            features.see(obj)
            if features.count % 4096 == 0:
                meter.tick(features.count)
        meter.tick(features.count, done=True)
        area_pass = AreaPass(relations.relations, features.kept)
        store.assemble(path, member_ways, area_pass, areas.second_pass_handler(area_pass))
    return features.kept, area_pass


def _lines_frame(kind: str, lines: list, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Roads or rail as kept in pass 2: WKB to shapely in one call, then cut to the region box."""
    if not lines:
        return to_frame([], KEYS[kind])
    ids, versions, tags, wkbs = zip(*lines)
    geometry = shapely.from_wkb(np.asarray(wkbs, dtype=object))
    inside = shapely.intersects(geometry, shapely.box(*box))
    rows = pd.DataFrame(list(tags))
    rows.insert(0, "osm_type", "way")
    rows.insert(1, "osm_id", np.asarray(ids, dtype=np.int64))
    rows["osm_version"] = np.asarray(versions)
    frame = gpd.GeoDataFrame(rows, geometry=geometry, crs=settings.STORE_CRS)
    return frame[inside].reset_index(drop=True)


def _header(path: Path):
    try:
        return osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header()
    except RuntimeError:
        return None


def _stamp(path: Path, kept: Kept) -> tuple[str | None, str]:
    header = _header(path)
    value = (header.get("osmosis_replication_timestamp") or header.get("timestamp")) if header else None
    if value:
        return value, "file header"
    return (kept.latest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if kept.latest else None), "latest object"


def read_extracts(paths: list[Path], progress: Progress | None = None) -> RawOsm:
    """Read one or more local OSM extracts.

    Parameters
    ----------
    paths
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` files; an object present in
        several (a country extract and a neighbouring clip) is kept once, in
        its newest version.
    progress
        Called now and then with (bytes read, file size, objects kept).

    Returns
    -------
    RawOsm
    """
    if not paths:
        raise InputError("no OSM extract given; name at least one", option="osm_paths")
    box = settings.REGION_BBOX
    frames: dict[str, list[gpd.GeoDataFrame]] = {kind: [] for kind in KINDS}
    inputs, synthetic, not_assembled, incomplete = [], False, 0, []
    counts = {"partial_ways": 0, "outside_region": 0}
    for path in (check_extract_path(Path(p)) for p in paths):
        check_extract_stream(path)
        header = _header(path)
        if header is not None and header.has_multiple_object_versions:
            raise InputError(
                f"OSM extract {path} is a history file (several versions of each object); give a plain "
                "extract of the current data",
                option="osm_paths",
            )
        log.info(f"reading {path} …")
        try:
            kept, area_pass = _read_one(path, box, progress)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"OSM extract {path} holds text that is not UTF-8 (near {bytes(exc.object[exc.start :][:20])!r}); "
                "the file is damaged or not written by an OSM tool, download it again",
                option="osm_paths",
            ) from None
        except ValueError as exc:  # libosmium's limits, e.g. "OSM tag value is too long"
            raise InputError(
                f"cannot read OSM extract {path}: {clip(exc, 80)}; the file breaks a limit of OSM data (a tag "
                "holds at most 255 characters), so it was not written by an OSM tool",
                option="osm_paths",
            ) from None
        except RuntimeError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SourceError(
                f"cannot read OSM extract {path}: {reason}; the file is corrupt or truncated, download it again"
            ) from None
        if kept.negative_ids:
            raise InputError(
                f"OSM extract {path} has objects with negative ids (an unsaved JOSM edit?); upload the edits "
                "or renumber the file (osmium renumber) first",
                option="osm_paths",
            )
        lines = {kind: _lines_frame(kind, kept.lines[kind], box) for kind in ("roads", "rail")}
        counts["partial_ways"] += kept.partial_ways
        counts["outside_region"] += kept.far + sum(len(kept.lines[k]) - len(lines[k]) for k in lines)
        if not any(kept.rows.values()) and all(frame.empty for frame in lines.values()):
            raise InputError(
                f"OSM extract {path} holds no roads, markets, boundaries or border controls in the HamJi "
                "region; check that it is an extract of North Korea or Jilin"
            )
        stamp, stamp_from = _stamp(path, kept)
        synthetic = synthetic or kept.synthetic
        not_assembled += area_pass.not_assembled
        incomplete += [{**item, "file": str(path)} for item in area_pass.incomplete()]
        inputs.append(
            {
                "path": str(path.resolve()),
                "sha256": file_digest(path),
                "osm_timestamp": stamp,
                "timestamp_from": stamp_from,
            }
        )
        for kind in KINDS:
            frames[kind].append(to_frame(kept.rows[kind], KEYS[kind]))
            if kind in lines:  # rail: the lines, and the stations among the nodes
                frames[kind].append(lines[kind])
    known = [item["osm_timestamp"] for item in inputs if item["osm_timestamp"]]
    provenance = {
        "source": "local extract" + ("s" if len(inputs) > 1 else ""),
        "inputs": inputs,
        # The oldest input bounds how current the combined data is.
        "osm_timestamp": min(known) if known else None,
        "tag_filters": tag_filters(),
        "tools": tool_versions(),
        "synthetic": synthetic,
        "areas_not_assembled": not_assembled,
        "incomplete_relations": _complete_elsewhere(incomplete, frames["boundaries"]),
        "region_bbox": list(box),
        **counts,
    }
    return RawOsm({kind: _newest(parts) for kind, parts in frames.items()}, provenance)


def _newest(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The frames of several files as one, each object once in its newest version."""
    frame = pd.concat(parts, ignore_index=True)
    if "osm_version" in frame:
        frame = frame.sort_values("osm_version", ascending=False, kind="stable")
    frame = frame.drop_duplicates(["osm_type", "osm_id"]).sort_index()
    frame = frame.drop(columns=["osm_version"], errors="ignore")
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=settings.STORE_CRS)


def _complete_elsewhere(incomplete: list[dict], boundaries: list[gpd.GeoDataFrame]) -> list[dict]:
    """Incomplete relations, less those another file held whole."""
    whole = {int(i) for frame in boundaries for i in frame.loc[frame["osm_type"] == "relation", "osm_id"]}
    return [item for item in incomplete if item["osm_id"] not in whole]
