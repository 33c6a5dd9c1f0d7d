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
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from geo import settings
from geo.errors import InputError, SourceError, clip
from geo.io import check_input_file, file_digest
from geo.sources.bounded import check_extract_stream
from geo.sources.passes import AreaPass, FeaturePass, Kept, RelationPass, wanted_tags
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

#: Above this size the node locations go to a file on disk rather than memory (see :func:`node_index`).
NODE_INDEX_ON_DISK_BYTES = 600 * 1024**2
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
    :data:`NODE_INDEX_ON_DISK_BYTES`: fastest, and a country extract's nodes
    fit in a few hundred MB. Beyond it (a China extract: ~190 M nodes, ids
    above 1e10), a ``sparse_file_array`` in ``folder``: 16 bytes per node on
    disk, paged in by the kernel, so that peak memory stays within a laptop's
    4 GB; a dense array would need 8 bytes per possible id (~100 GB).
    """
    if path.stat().st_size <= NODE_INDEX_ON_DISK_BYTES:
        return "flex_mem"
    return f"sparse_file_array,{folder / 'node-locations.idx'}"


class FileProgress:
    """Bytes read so far, from the kernel's record of the open file (Linux); objects kept otherwise."""

    def __init__(self, path: Path, progress: Progress | None) -> None:
        self.path, self.progress = path.resolve(), progress
        self.total = path.stat().st_size
        self.fd: str | None = None
        self.last = 0.0

    def _position(self) -> int:
        folder = "/proc/self/fd"
        if self.fd is None and os.path.isdir(folder):
            for fd in os.listdir(folder):
                try:
                    if os.readlink(f"{folder}/{fd}") == str(self.path):
                        self.fd = fd
                except OSError:
                    continue
        try:
            text = Path(f"/proc/self/fdinfo/{self.fd}").read_text() if self.fd else ""
            found = re.search(r"pos:\s*(\d+)", text)
            return int(found.group(1)) if found else 0
        except OSError:
            return 0

    def tick(self, kept: int, done: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not done and now - self.last < 0.5):
            return
        self.last = now
        self.progress(self.total if done else min(self._position(), self.total), self.total, kept)


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
    with tempfile.TemporaryDirectory(prefix="hamji-nodes-", dir=settings.NODE_INDEX_DIR) as scratch:
        index = osmium.index.create_map(node_index(path, Path(scratch)))
        # A key filter first: it costs little on the buildings, so the pair matching runs on few objects.
        keys = osmium.filter.KeyFilter("highway", "railway", "amenity", "barrier", "place")
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        # pyosmium annotates storage as str, yet takes a LocationTable (file_processor.py checks for one).
        located = processor.with_locations(cast(str, index))
        for obj in located.with_filter(keys).with_filter(osmium.filter.TagFilter(*wanted_tags())):
            features.see(obj)
            if features.count % 4096 == 0:
                meter.tick(features.count)
        meter.tick(features.count, done=True)
        member_ways = {w for rel in relations.relations.values() for w in rel.way_ids}
        area_pass = AreaPass(relations.relations, features.kept)
        locations = osmium.NodeLocationsForWays(index)
        locations.ignore_errors()
        # The member ways first: locations are looked up for them only, not for every way of the file
        # (at real density that lookup, a binary search per vertex, cost more than the rest of the pass).
        osmium.apply(
            osmium.io.Reader(str(path), osmium.osm.WAY),
            osmium.filter.IdFilter(member_ways),
            locations,
            area_pass,
            areas.second_pass_handler(area_pass),
        )
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
