"""Stage 1: OpenStreetMap in, clean GIS layers out (roads, markets and hubs here; see also
:mod:`geo.provinces` and :mod:`geo.crossings`).

Layers (one GeoPackage, EPSG:4326), each with the schema declared in
:data:`geo.schema.SCHEMAS`:

- ``provinces``: the selected provinces' OSM boundary polygons.
- ``border``: the China–DPRK border line where the two countries' province
  polygons meet.
- ``crossings``: OSM border controls and border bridges merged with the
  curated gazetteer (:mod:`geo.sources.gazetteer`).
- ``roads``: ``highway`` ways, motorway … tertiary, plus unclassified and
  track flagged ``minor``.
- ``markets``: ``amenity=marketplace`` as one point each (polygons give their
  representative point and area), and ``market_areas`` with the polygons.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.crossings import build_crossings
from geo.errors import InputError
from geo.provinces import assign_anchors, assign_regions, border_line, check_coverage, match_provinces
from geo.rail import build_railways, build_stations
from geo.regions import Region
from geo.schema import bool_tag, conform
from geo.sources.raw import RawOsm

# --------------------------------------------------------------------------
# the three feature layers
# --------------------------------------------------------------------------


def build_roads(raw: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame, selection: list[Region]) -> gpd.GeoDataFrame:
    """The roads layer: classed ways in the selected provinces, measured in metres."""
    roads = raw[raw["highway"].isin(settings.ROAD_TAGS["highway"]) & (raw.geom_type == "LineString")].copy()
    roads["minor"] = roads["highway"].isin(settings.MINOR_ROAD_CLASSES)
    roads["bridge"] = bool_tag(roads["bridge"])
    roads["oneway"] = roads["oneway"].where(roads["oneway"].isin(["yes", "-1", "no"]), "no")
    roads = roads.rename(columns={"name:en": "name_en", "name:ko": "name_ko"})
    length_m, midpoint = measure_lines(roads.geometry)
    roads["length_m"] = length_m
    roads = roads.join(assign_anchors(midpoint, provinces))
    selected = {r.code for r in selection}
    roads = roads[roads["province"].isin(selected)]
    return conform(roads.sort_values("osm_id").reset_index(drop=True), "roads")


def measure_lines(lines: gpd.GeoSeries) -> tuple[np.ndarray, gpd.GeoSeries]:
    """Each line's length (m) and its midpoint along it, in the measuring CRS, from one projection of its vertices.

    The same as ``to_crs`` then ``length`` and ``interpolate(0.5, normalized=True)``, without making a
    projected copy of every line: at real density (millions of vertices) that copy cost more than the
    measuring. An empty line has length 0 and an empty midpoint.
    """
    coords, line = shapely.get_coordinates(lines.to_numpy(), return_index=True)
    x, y = np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1])
    settings.to_measure_transformer().transform(x, y, inplace=True)
    n = len(lines)
    same = line[1:] == line[:-1]
    step = np.where(same, np.hypot(np.diff(x), np.diff(y)), 0.0)
    length = np.bincount(line[1:], weights=step, minlength=n)
    # Each line's vertices run first[i] .. last[i]; walk half its length from its first vertex.
    count = np.bincount(line, minlength=n)
    last = np.cumsum(count) - 1
    first = last - count + 1
    walked = np.r_[0.0, np.cumsum(step)]
    has = count > 0
    mid_x, mid_y = np.full(n, np.nan), np.full(n, np.nan)
    start = first[has]
    target = walked[start] + length[has] / 2
    end = np.clip(np.searchsorted(walked, target, side="left"), start + 1, last[has])
    seg = step[end - 1]
    t = np.divide(target - walked[end - 1], seg, out=np.zeros_like(seg), where=seg > 0).clip(0, 1)
    mid_x[has] = x[end - 1] + t * (x[end] - x[end - 1])
    mid_y[has] = y[end - 1] + t * (y[end] - y[end - 1])
    midpoint = gpd.GeoSeries(shapely.points(mid_x, mid_y), index=lines.index, crs=settings.MEASURE_CRS)
    return length, midpoint


def repair_polygons(geometries: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygons with broken rings (self-crossing, bow ties) made valid, keeping only their polygonal part.

    A market mapped with a bad ring is still a market: it is repaired, not
    dropped, and :func:`summary` counts how many were.
    """
    bad = (~geometries.is_valid) & geometries.geom_type.isin(["Polygon", "MultiPolygon"])
    if not bad.any():
        return geometries
    fixed = geometries.copy()
    repaired = []
    for geometry in shapely.make_valid(geometries[bad].values):
        parts = shapely.get_parts(geometry)
        repaired.append(shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))]))
    fixed[bad] = repaired
    return fixed


def build_markets(
    raw: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame, selection: list[Region]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Markets as points (all) and as polygons (those mapped as areas)."""
    markets = raw[raw["amenity"] == "marketplace"].copy()
    markets = markets[~markets.geometry.is_empty & markets.geometry.notna()]
    repaired = repair_polygons(markets.geometry)
    markets["geometry_repaired"] = ~repaired.geom_equals_exact(markets.geometry, 0)
    markets["geometry"] = repaired
    is_area = markets.geom_type.isin(["Polygon", "MultiPolygon"])
    markets["geom_type"] = np.where(is_area, "polygon", "point")
    markets["area_m2"] = markets.to_crs(settings.MEASURE_CRS).area.where(is_area)
    markets = markets.rename(columns={"name:en": "name_en", "name:ko": "name_ko", "name:ko-Latn": "name_ko_latn"})
    markets = markets.join(assign_regions(markets.geometry, provinces))
    markets = markets[markets["province"].isin({r.code for r in selection})]
    markets = markets.sort_values(["osm_type", "osm_id"]).reset_index(drop=True)
    areas = conform(markets[markets["geom_type"] == "polygon"], "market_areas")
    points = markets.copy()
    points["geometry"] = points.geometry.representative_point()
    return conform(points, "markets"), areas


def _hub_of(row: pd.Series) -> str | None:
    english = str(row.get("name:en") or "").lower().removesuffix(" city").strip()
    local = {str(row.get(key) or "") for key in ("name", "name:zh")}
    for hub, chinese in settings.HUBS.items():
        if english == hub.lower() or chinese in local or chinese.removesuffix("市") in local:
            return hub
    return None


def build_hubs(raw: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The Chinese wholesale hubs among OSM towns and cities, with population where tagged."""
    places = raw.copy()
    places["hub"] = [_hub_of(row) for _, row in places.iterrows()]
    places = places[places["hub"].notna()]
    places = places.join(assign_regions(places.geometry, provinces))
    places = places[places["country"] == "CN"]
    # Where OSM has several nodes for a hub (a city and its district seat), the
    # city, then the most populous, stands for it.
    places["rank"] = places["place"].map({"city": 0, "town": 1})
    places["population"] = pd.to_numeric(places["population"].astype(str).str.replace(",", ""), errors="coerce")
    places = places.sort_values(["hub", "rank", "population"], ascending=[True, True, False])
    places = places.drop_duplicates("hub").rename(columns={"name:zh": "name_zh"})
    return conform(places.reset_index(drop=True), "hubs")


# --------------------------------------------------------------------------
# the whole stage
# --------------------------------------------------------------------------


def build_layers(raw: RawOsm, selection: list[Region], source: str) -> dict[str, gpd.GeoDataFrame]:
    """Turn raw OSM into the layers, checking the data covers the selection."""
    everything = match_provinces(raw["boundaries"])
    check_coverage(everything, selection, source, raw.provenance.get("incomplete_relations"))
    border = border_line(everything)
    if border.is_empty:
        raise InputError(
            f"{source} has no place where a North Korean province meets Jilin, so the border line "
            "cannot be drawn; include the border provinces and Jilin"
        )
    provinces = everything[everything["code"].isin({r.code for r in selection})]
    markets, market_areas = build_markets(raw["markets"], everything, selection)
    border_frame = gpd.GeoDataFrame(
        {"length_km": [border.length / 1000]}, geometry=[border], crs=settings.MEASURE_CRS
    ).to_crs(settings.STORE_CRS)
    return {
        "provinces": conform(provinces.sort_values("code").reset_index(drop=True), "provinces"),
        "border": conform(border_frame, "border"),
        "crossings": build_crossings(raw, border, everything, selection),
        "roads": build_roads(raw["roads"], everything, selection),
        "markets": markets,
        "market_areas": market_areas,
        "hubs": build_hubs(raw["places"], everything),
        "railways": build_railways(raw["rail"], everything, selection),
        "stations": build_stations(raw["rail"], everything, selection),
    }


def summary(layers: dict[str, gpd.GeoDataFrame], provenance: dict) -> dict:
    """Counts per layer per province, and the data date."""
    counts: dict[str, dict[str, int]] = {}
    for name in ("crossings", "roads", "markets"):
        frame = layers[name]
        counts[name] = {str(k): int(v) for k, v in frame["province"].value_counts().sort_index().items()}
    km = layers["roads"].groupby("province")["length_m"].sum().div(1000).round(1)
    return {
        "osm_timestamp": provenance.get("osm_timestamp"),
        "demo": provenance.get("synthetic", False),
        "counts": counts,
        "road_km": {str(k): float(v) for k, v in km.items()},
        "markets_repaired": int(layers["markets"]["geometry_repaired"].sum()),
        "areas_not_assembled": int(provenance.get("areas_not_assembled", 0)),
    }
