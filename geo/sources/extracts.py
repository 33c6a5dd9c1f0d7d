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

import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from geo import settings
from geo.errors import HamjiError, InputError
from geo.io import check_input_file
from geo.sources.raw import (
    BOUNDARY_KEYS,
    CONTROL_KEYS,
    KEYS,
    KINDS,
    MARKET_KEYS,
    PLACE_KEYS,
    RAIL_KEYS,
    ROAD_KEYS,
    SYNTHETIC_TAG,
    RawOsm,
    tag_filters,
    to_frame,
    tool_versions,
)

log = logging.getLogger(__name__)

#: ``progress(bytes_read, bytes_total, objects_kept)``, called now and then while a file is read.
Progress = Callable[[int, int, int], None]

_UNDEFINED = osmium.osm.Location().x  # libosmium's coordinate of a missing location
#: Above this size the node locations go to a file on disk rather than memory (see :func:`node_index`).
NODE_INDEX_ON_DISK_BYTES = 600 * 1024**2
_HISTORY_SUFFIXES = (".osh", ".osh.pbf", ".osh.bz2", ".osh.gz", ".osc", ".osc.gz", ".osc.bz2")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


@dataclass
class _Relation:
    osm_id: int
    version: int
    tags: dict
    way_ids: list[int]


def _wanted_relation(tags) -> str | None:
    """Which kind of feature a relation gives, or None."""
    if tags.get("type") not in ("multipolygon", "boundary"):
        return None
    if tags.get("amenity") == "marketplace":
        return "markets"
    if tags.get("barrier") == "border_control":
        return "border_controls"
    boundary = settings.BOUNDARY_TAGS
    if tags.get("boundary") == boundary["boundary"] and tags.get("admin_level") in boundary["admin_level"]:
        return "boundaries"
    return None


class _RelationPass(osmium.SimpleHandler):
    """Pass 1: the wanted relations and their member ways (after a C++ tag filter)."""

    def __init__(self) -> None:
        super().__init__()
        self.relations: dict[int, _Relation] = {}

    def relation(self, rel) -> None:
        if _wanted_relation(rel.tags):
            ways = [m.ref for m in rel.members if m.type == "w"]
            self.relations[rel.id] = _Relation(rel.id, rel.version, dict(rel.tags), ways)


@dataclass
class _Kept:
    """What pass 2 keeps: rows per kind, and the roads as WKB until the end."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    lines: dict[str, list] = field(default_factory=lambda: {"roads": [], "rail": []})
    latest: object = None
    synthetic: bool = False
    negative_ids: bool = False
    partial_ways: int = 0
    #: Tagged nodes and ways dropped unread because they start far from the region.
    far: int = 0


class _FeaturePass:
    """Pass 2: tagged nodes and ways, roads near the region only."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.kept = _Kept()
        self.wkb = osmium.geom.WKBFactory()
        self.box = box
        margin = settings.REGION_WAY_MARGIN_DEG
        self._near_e7 = tuple(
            round(v * 1e7) for v in (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)
        )
        self.count = 0

    def _tags(self, obj, keys: tuple[str, ...]) -> dict:
        tags = obj.tags
        values = {key: tags.get(key) for key in (*keys, SYNTHETIC_TAG)}
        if values[SYNTHETIC_TAG] == "yes":
            self.kept.synthetic = True
        return values

    def _row(self, kind: str, osm_type: str, obj, keys, geometry) -> None:
        row = {"osm_type": osm_type, "osm_id": obj.id, "osm_version": obj.version, "geometry": geometry}
        self.kept.rows[kind].append({**row, **self._tags(obj, keys)})
        self.count += 1

    def see(self, obj) -> None:
        """One tagged node or way: anything far from the region is dropped before its tags are read."""
        is_node = obj.is_node()
        if is_node:
            location = obj.location
        else:
            nodes = obj.nodes
            location = nodes[0].location if len(nodes) else None
        if location is not None:
            # Integer coordinates (1e-7 degrees): the cheapest test per object. A missing
            # location (a node cut off by a clip) is never "far": the way is looked at.
            x, y, near = location.x, location.y, self._near_e7
            if x != _UNDEFINED and not (near[0] <= x <= near[2] and near[1] <= y <= near[3]):
                self.kept.far += 1
                return
        kept = self.count
        if is_node:
            self.node(obj)
        else:
            self.way(obj)
        if self.count > kept:  # the data date is the newest object kept
            stamp = obj.timestamp
            if stamp.year > 1970 and (self.kept.latest is None or stamp > self.kept.latest):
                self.kept.latest = stamp

    def node(self, node) -> None:
        tags = node.tags
        point = None
        for kind, keys, hit in (
            ("markets", MARKET_KEYS, tags.get("amenity") == "marketplace"),
            ("border_controls", CONTROL_KEYS, tags.get("barrier") == "border_control"),
            ("places", PLACE_KEYS, tags.get("place") in settings.PLACE_TAGS["place"]),
        ):
            if hit:
                if point is None:
                    point = shapely.Point(node.location.lon, node.location.lat)
                self._row(kind, "node", node, keys, point)

    def way(self, way) -> None:
        tags = way.tags
        highway = road_class(tags.get("highway"))
        is_road = highway is not None
        is_rail = tags.get("railway") in settings.RAIL_TAGS["railway"] and tags.get("bridge", "no") != "no"
        is_market = tags.get("amenity") == "marketplace" and way.is_closed()
        is_control = tags.get("barrier") == "border_control" and way.is_closed()
        if not (is_road or is_rail or is_market or is_control):
            return
        line = self._line(way)
        if line is None:
            return
        if is_road or is_rail:
            kind = "roads" if is_road else "rail"
            values = self._tags(way, ROAD_KEYS if is_road else RAIL_KEYS)
            if is_road:
                values["highway"] = highway
            self.kept.lines[kind].append((way.id, way.version, values, line))
            self.count += 1
        if is_market or is_control:
            geometry = _ring_polygon(line)
            if geometry is not None:
                kind, keys = ("markets", MARKET_KEYS) if is_market else ("border_controls", CONTROL_KEYS)
                self._row(kind, "way", way, keys, geometry if is_market else geometry.centroid)

    def _line(self, way):
        """The way's WKB, or (nodes cut off by a clip) a line through the nodes that are there."""
        try:
            return self.wkb.create_linestring(way)
        except (osmium.InvalidLocationError, RuntimeError):
            pass
        if any(n.ref < 0 for n in way.nodes):
            self.kept.negative_ids = True
            return None
        coords = [(n.location.lon, n.location.lat) for n in way.nodes if n.location.valid()]
        if len(set(coords)) < 2:
            return None  # a one-node way, or every node cut off
        self.kept.partial_ways += 1
        return shapely.LineString(coords).wkb


def wanted_tags() -> list[tuple[str, str]]:
    """The tags that let a node or way through to Python in pass 2 (libosmium matches them in C++).

    Exact pairs, so that the bulk of an extract's highways (residential,
    service, footway) and amenities never reach Python: the road classes
    HamJi keeps, ``highway=road``, and ``a;b`` for every two classes that are
    not links (the multi-values met in practice; each pair costs a string
    comparison per tagged way, so not every combination is listed), plus
    rail, marketplaces, border controls and towns.
    """
    classes = [*settings.ROAD_TAGS["highway"], "road"]
    plain = [c for c in classes if not c.endswith("_link") and c != "road"]
    pairs = [("highway", c) for c in classes] + [("highway", f"{a};{b}") for a in plain for b in plain if a != b]
    pairs += [("railway", v) for v in settings.RAIL_TAGS["railway"]] + [
        ("place", v) for v in settings.PLACE_TAGS["place"]
    ]
    return [*pairs, ("amenity", "marketplace"), ("barrier", "border_control")]


def road_class(value: str | None) -> str | None:
    """The road class HamJi routes on for an OSM ``highway`` value, or None.

    ``primary;secondary`` takes its first class; ``road`` (class not yet
    known) counts as ``unclassified``, the lowest paved class;
    ``construction`` and every class not in :data:`settings.ROAD_TAGS` are
    not roads for trucks.

    Examples
    --------
    >>> road_class("primary;secondary"), road_class("road"), road_class("construction")
    ('primary', 'unclassified', None)
    """
    if not value:
        return None
    first = value.split(";", 1)[0].strip()
    first = "unclassified" if first == "road" else first
    return first if first in settings.ROAD_TAGS["highway"] else None


def _ring_polygon(wkb) -> shapely.Geometry | None:
    """A closed way's ring as a polygon (the layers stage repairs and flags a broken one)."""
    ring = shapely.from_wkb(wkb)
    coords = list(ring.coords)
    return shapely.Polygon(coords) if len(coords) >= 4 else None


class _AreaPass(osmium.SimpleHandler):
    """Pass 3: the areas libosmium assembles from the wanted relations; which member ways exist."""

    def __init__(self, relations: dict[int, _Relation], kept: _Kept) -> None:
        super().__init__()
        self.relations, self.kept = relations, kept
        self.wkb = osmium.geom.WKBFactory()
        self.seen: set[int] = set()
        self.not_assembled = 0
        self.assembled: set[int] = set()

    def way(self, way) -> None:
        self.seen.add(way.id)

    def area(self, area) -> None:
        if area.from_way():
            return
        relation = self.relations.get(area.orig_id())
        # The relation's own tags: libosmium drops ``type`` from the area's.
        kind = _wanted_relation(relation.tags) if relation else None
        if kind is None:
            return
        try:
            geometry = shapely.from_wkb(self.wkb.create_multipolygon(area))
        except RuntimeError:
            self.not_assembled += 1  # reported in the build summary, not dropped silently
            return
        self.assembled.add(area.orig_id())
        keys = {"markets": MARKET_KEYS, "boundaries": BOUNDARY_KEYS, "border_controls": CONTROL_KEYS}[kind]
        values = {key: area.tags.get(key) for key in (*keys, SYNTHETIC_TAG)}
        if values[SYNTHETIC_TAG] == "yes":
            self.kept.synthetic = True
        self.kept.rows[kind].append(
            {
                "osm_type": "relation",
                "osm_id": area.orig_id(),
                "osm_version": relation.version,
                "geometry": geometry if kind != "border_controls" else geometry.centroid,
                **values,
            }
        )

    def incomplete(self) -> list[dict]:
        """Wanted relations that were not assembled because member ways are missing from the file."""
        out = []
        for rel in self.relations.values():
            missing = [w for w in rel.way_ids if w not in self.seen]
            if rel.osm_id not in self.assembled and missing:
                out.append(
                    {
                        "osm_id": rel.osm_id,
                        "name": rel.tags.get("name:en") or rel.tags.get("name"),
                        "iso": rel.tags.get("ISO3166-2"),
                        "admin_level": rel.tags.get("admin_level"),
                        "missing_ways": len(missing),
                        "member_ways": len(rel.way_ids),
                    }
                )
        return out


class _FileProgress:
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
            return int(re.search(r"pos:\s*(\d+)", text).group(1)) if text else 0
        except (OSError, AttributeError):
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
    relations = _RelationPass()
    osmium.apply(osmium.io.Reader(str(path), osmium.osm.RELATION), wanted, relations, areas.first_pass_handler())

    features = _FeaturePass(box)
    meter = _FileProgress(path, progress)
    with tempfile.TemporaryDirectory(prefix="hamji-nodes-", dir=settings.NODE_INDEX_DIR) as scratch:
        index = osmium.index.create_map(node_index(path, Path(scratch)))
        # A key filter first: it costs little on the buildings, so the pair matching runs on few objects.
        keys = osmium.filter.KeyFilter("highway", "railway", "amenity", "barrier", "place")
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        for obj in (
            processor.with_locations(index).with_filter(keys).with_filter(osmium.filter.TagFilter(*wanted_tags()))
        ):
            features.see(obj)
            if features.count % 4096 == 0:
                meter.tick(features.count)
        meter.tick(features.count, done=True)
        member_ways = {w for rel in relations.relations.values() for w in rel.way_ids}
        area_pass = _AreaPass(relations.relations, features.kept)
        locations = osmium.NodeLocationsForWays(index)
        locations.ignore_errors()
        osmium.apply(
            osmium.io.Reader(str(path), osmium.osm.WAY),
            locations,
            osmium.filter.IdFilter(member_ways),
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


def _stamp(path: Path, kept: _Kept) -> tuple[str | None, str]:
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
        raise HamjiError("no OSM extract given; name at least one", option="osm_paths")
    box = settings.REGION_BBOX
    frames: dict[str, list[gpd.GeoDataFrame]] = {kind: [] for kind in KINDS}
    inputs, synthetic, not_assembled, incomplete = [], False, 0, []
    counts = {"partial_ways": 0, "outside_region": 0}
    for path in (check_extract_path(Path(p)) for p in paths):
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
        except RuntimeError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise HamjiError(
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
            raise HamjiError(
                f"OSM extract {path} holds no roads, markets, boundaries or border controls in the HamJi "
                "region; check that it is an extract of North Korea or Jilin"
            )
        stamp, stamp_from = _stamp(path, kept)
        synthetic = synthetic or kept.synthetic
        not_assembled += area_pass.not_assembled
        incomplete += [{**item, "file": str(path)} for item in area_pass.incomplete()]
        inputs.append(
            {"path": str(path.resolve()), "sha256": _sha256(path), "osm_timestamp": stamp, "timestamp_from": stamp_from}
        )
        for kind in KINDS:
            frames[kind].append(lines[kind] if kind in lines else to_frame(kept.rows[kind], KEYS[kind]))
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
