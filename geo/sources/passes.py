"""The three pyosmium passes of :mod:`geo.sources.extracts`: what each keeps, and why it is cheap.

Pass 1 (:class:`RelationPass`) picks the relations HamJi reads; pass 2
(:class:`FeaturePass`) sees every tagged node and way that C++ filters let
through and drops those far from the region on their first coordinate;
pass 3 (:class:`AreaPass`) receives libosmium's areas for the relations of
pass 1 only, and notes which of their member ways the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import osmium
import pandas as pd
import shapely

from geo import settings
from geo.provinces import region_of_boundary
from geo.sources.raw import (
    BOUNDARY_KEYS,
    CONTROL_KEYS,
    KINDS,
    MARKET_KEYS,
    PLACE_KEYS,
    RAIL_KEYS,
    ROAD_KEYS,
    SYNTHETIC_TAG,
)

__all__ = [
    "AreaPass",
    "FeaturePass",
    "Kept",
    "near_box_e7",
    "RelationPass",
    "road_class",
    "wanted_relation",
    "wanted_tags",
    "way_kinds",
]

_UNDEFINED = osmium.osm.Location().x  # libosmium's coordinate of a missing location


@dataclass
class Relation:
    osm_id: int
    version: int
    tags: dict
    way_ids: list[int]


def wanted_relation(tags) -> str | None:
    """Which kind of feature a relation gives, or None: a marketplace, a border control, or the boundary of
    a province HamJi knows (:func:`geo.provinces.region_of_boundary`)."""
    if tags.get("type") not in ("multipolygon", "boundary"):
        return None
    if tags.get("amenity") == "marketplace":
        return "markets"
    if tags.get("barrier") == "border_control":
        return "border_controls"
    boundary = settings.BOUNDARY_TAGS
    if tags.get("boundary") == boundary["boundary"] and tags.get("admin_level") in boundary["admin_level"]:
        # Only the provinces HamJi knows: a China file holds every province and prefecture of China, whose
        # member ways would be stored and assembled only to be dropped by match_provinces.
        keys = ("ISO3166-2", "name", "name:en", "admin_level")
        known = region_of_boundary(pd.Series({key: tags.get(key) for key in keys}))
        return "boundaries" if known is not None else None
    return None


class RelationPass(osmium.SimpleHandler):
    """Pass 1: the wanted relations and their member ways (after a C++ tag filter)."""

    def __init__(self) -> None:
        super().__init__()
        self.relations: dict[int, Relation] = {}

    def relation(self, rel) -> None:
        if wanted_relation(rel.tags):
            ways = [m.ref for m in rel.members if m.type == "w"]
            self.relations[rel.id] = Relation(rel.id, rel.version, dict(rel.tags), ways)


@dataclass
class Kept:
    """What pass 2 keeps: rows per kind, and the roads as WKB until the end."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    lines: dict[str, list] = field(default_factory=lambda: {"roads": [], "rail": []})
    latest: datetime | None = None  # newest timestamp of an object kept (osmium gives a datetime)
    synthetic: bool = False
    negative_ids: bool = False
    partial_ways: int = 0
    #: Tagged nodes and ways dropped unread because they start far from the region.
    far: int = 0


def near_box_e7(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """The box (1e-7 degrees, as libosmium's ``Location.x``, ``.y``) a node, or a way's first node, must lie
    in for pass 2 to read it: ``box`` and :data:`settings.REGION_WAY_MARGIN_DEG` around it."""
    margin = settings.REGION_WAY_MARGIN_DEG
    west, south, east, north = box
    return tuple(round(v * 1e7) for v in (west - margin, south - margin, east + margin, north + margin))  # type: ignore[return-value]


class FeaturePass:
    """Pass 2: tagged nodes and ways, roads near the region only."""

    def __init__(self, box: tuple[float, float, float, float]) -> None:
        self.kept = Kept()
        self.wkb = osmium.geom.WKBFactory()
        self.box = box
        self._near_e7 = near_box_e7(box)
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
            ("rail", RAIL_KEYS, tags.get("railway") in settings.STATION_TAGS["railway"]),
        ):
            if hit:
                if point is None:
                    point = shapely.Point(node.location.lon, node.location.lat)
                self._row(kind, "node", node, keys, point)

    def way(self, way) -> None:
        tags = way.tags
        highway = road_class(tags.get("highway"))
        is_road, is_rail, is_market, is_control = way_kinds(way, highway)
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
            # libosmium gives hex text; shapely parses bytes five times faster, and they take half the memory.
            return bytes.fromhex(self.wkb.create_linestring(way))
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


def way_kinds(way, highway: str | None) -> tuple[bool, bool, bool, bool]:
    """Whether a way (its class ``highway`` by :func:`road_class`) is a road, a rail line, a marketplace or a
    border control for HamJi: tags and node ids only, no locations needed."""
    tags = way.tags
    return (
        highway is not None,
        tags.get("railway") in settings.RAIL_TAGS["railway"],
        tags.get("amenity") == "marketplace" and way.is_closed(),
        tags.get("barrier") == "border_control" and way.is_closed(),
    )


def wanted_tags() -> list[tuple[str, str]]:
    """The tags that let a node or way through to Python in pass 2 (libosmium matches them in C++).

    Exact pairs, so that the bulk of an extract's highways (residential,
    service, footway) and amenities never reach Python: the road classes
    HamJi keeps, ``highway=road``, and ``a;b`` for every two classes that are
    not links (the multi-values met in practice; each pair costs a string
    comparison per tagged way, so not every combination is listed), plus
    rail lines and stations, marketplaces, border controls and towns.
    """
    classes = [*settings.ROAD_TAGS["highway"], "road"]
    plain = [c for c in classes if not c.endswith("_link") and c != "road"]
    pairs = [("highway", c) for c in classes] + [("highway", f"{a};{b}") for a in plain for b in plain if a != b]
    pairs += [("railway", v) for v in (*settings.RAIL_TAGS["railway"], *settings.STATION_TAGS["railway"])] + [
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


class AreaPass(osmium.SimpleHandler):
    """Pass 3: the areas libosmium assembles from the wanted relations; which member ways exist."""

    def __init__(self, relations: dict[int, Relation], kept: Kept) -> None:
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
        kind = wanted_relation(relation.tags) if relation else None
        if kind is None or relation is None:
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
