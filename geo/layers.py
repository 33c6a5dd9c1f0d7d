"""Stage 1: OpenStreetMap in, clean GIS layers out.

Layers (one GeoPackage, EPSG:4326), each with the schema declared in
:data:`SCHEMAS`:

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
from geo.errors import HamjiError
from geo.regions import BY_CODE, YANBIAN, Region, UnknownRegionError, find_region
from geo.sources.gazetteer import gazetteer_frame
from geo.sources.raw import RawOsm

#: Column name -> dtype, per layer (geometry last, not listed).
SCHEMAS: dict[str, dict[str, str]] = {
    "provinces": {"code": "str", "name": "str", "name_ko": "str", "country": "str", "group": "str",
                  "admin_level": "int64", "osm_id": "int64", "area_km2": "float64"},
    "border": {"length_km": "float64"},
    "crossings": {
        "crossing_id": "str", "name_en": "str", "name_ko": "str", "name_zh": "str", "kp_town": "str",
        "cn_town": "str", "mode": "str", "status": "str", "status_source": "str", "year_opened": "Int64",
        "year_opened_source": "str", "year_rebuilt": "Int64", "year_rebuilt_source": "str",
        "coord_source": "str", "coord_precision_m": "Int64", "province": "str", "province_name": "str",
        "province_source": "str", "cn_prefecture": "str", "facts_source": "str", "in_gazetteer": "bool",
        "in_osm": "bool", "osm_ids": "str", "osm_name": "str", "geometry_source": "str",
        "gazetteer_offset_m": "float64"},
    "roads": {"osm_id": "int64", "highway": "str", "minor": "bool", "name": "str", "name_en": "str",
              "name_ko": "str", "ref": "str", "surface": "str", "bridge": "bool", "oneway": "str",
              "maxspeed": "str", "length_m": "float64", "country": "str", "province": "str",
              "province_name": "str", "prefecture": "str"},
    "markets": {"osm_type": "str", "osm_id": "int64", "name": "str", "name_en": "str", "name_ko": "str",
                "geom_type": "str", "area_m2": "float64", "geometry_repaired": "bool", "country": "str",
                "province": "str", "province_name": "str", "prefecture": "str"},
    "market_areas": {"osm_type": "str", "osm_id": "int64", "name": "str", "area_m2": "float64",
                     "province": "str"},
    "hubs": {"hub": "str", "osm_id": "int64", "name": "str", "name_zh": "str", "place": "str",
             "population": "Int64", "province": "str", "prefecture": "str"},
}
GEOMETRY_TYPES = {"provinces": "MultiPolygon", "border": "MultiLineString", "crossings": "Point",
                  "roads": "LineString", "markets": "Point", "market_areas": "MultiPolygon", "hubs": "Point"}
LAYER_ORDER = ("provinces", "border", "crossings", "roads", "markets", "market_areas", "hubs")


def conform(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Return ``frame`` with exactly the columns and dtypes of ``layer``'s schema."""
    schema = SCHEMAS[layer]
    out = pd.DataFrame(index=frame.index)
    for column, dtype in schema.items():
        values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        if dtype == "str":
            out[column] = values.astype(object).where(values.notna(), None)
        elif dtype == "bool":
            out[column] = values.fillna(False).astype(bool)
        else:
            out[column] = values.astype(dtype)
    geometry = list(frame.geometry)
    if GEOMETRY_TYPES[layer] == "MultiPolygon":
        geometry = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geometry]
    elif GEOMETRY_TYPES[layer] == "MultiLineString":
        geometry = [shapely.MultiLineString([g]) if g.geom_type == "LineString" else g for g in geometry]
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs).values,
                            crs=settings.STORE_CRS)


# --------------------------------------------------------------------------
# provinces and the border
# --------------------------------------------------------------------------

def _region_of_boundary(row: pd.Series) -> Region | None:
    iso = row.get("ISO3166-2")
    if isinstance(iso, str) and iso in BY_CODE:
        return BY_CODE[iso]
    for key in ("name:en", "name"):
        label = row.get(key)
        if isinstance(label, str):
            try:
                region = find_region(label)
            except UnknownRegionError:
                continue
            if str(region.admin_level) == str(row.get("admin_level")):
                return region
    return None


def match_provinces(boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Known regions among OSM boundary relations (Yanbian included), one row each."""
    rows = []
    for _, row in boundaries.iterrows():
        region = _region_of_boundary(row)
        if region is None or any(r["code"] == region.code for r in rows):
            continue
        rows.append({"code": region.code, "name": region.name, "name_ko": region.name_ko,
                     "country": region.country, "group": region.group, "admin_level": region.admin_level,
                     "osm_id": int(row["osm_id"]), "geometry": row.geometry})
    frame = gpd.GeoDataFrame(rows, columns=[*SCHEMAS["provinces"], "geometry"], geometry="geometry",
                             crs=settings.STORE_CRS)
    frame["area_km2"] = frame.to_crs(settings.MEASURE_CRS).area / 1e6
    return frame


def check_coverage(provinces: gpd.GeoDataFrame, selection: list[Region], source: str) -> None:
    """Fail unless every selected region has a boundary in the data."""
    missing = [r for r in selection if r.code not in set(provinces["code"])]
    if missing:
        names = ", ".join(f"{r.name} ({r.code})" for r in missing)
        raise HamjiError(f"{source} does not cover {names}: no OSM boundary relation for it; add an extract "
                         "that includes it or leave it out of the provinces", option="provinces")


def border_line(provinces: gpd.GeoDataFrame) -> shapely.Geometry:
    """The China–DPRK border (EPSG:32652) where the two countries' provinces meet."""
    level4 = provinces[provinces["admin_level"] == 4].to_crs(settings.MEASURE_CRS)
    kp = level4[level4["country"] == "KP"].union_all()
    cn = level4[level4["country"] == "CN"].union_all()
    if kp is None or cn is None or kp.is_empty or cn.is_empty:
        return shapely.MultiLineString()
    shared = kp.boundary.intersection(cn.buffer(settings.BORDER_TOLERANCE_M))
    lines = [g for g in getattr(shared, "geoms", [shared]) if g.geom_type in ("LineString", "MultiLineString")]
    merged = shapely.line_merge(shapely.union_all(lines)) if lines else shapely.MultiLineString()
    return merged if merged.geom_type == "MultiLineString" else shapely.MultiLineString([merged])


def assign_regions(geometries: gpd.GeoSeries, provinces: gpd.GeoDataFrame,
                   countries: tuple[str, ...] = ("KP", "CN")) -> pd.DataFrame:
    """Country, province and (in China) prefecture of each geometry.

    A line is placed by its midpoint, a polygon by its representative point.
    A point in no polygon (generalised coasts, a bridge over the border river)
    takes the nearest province within :data:`settings.PROVINCE_SNAP_M`.
    """
    result = pd.DataFrame({"country": None, "province": None, "province_name": None, "prefecture": None},
                          index=geometries.index, dtype=object)
    if len(geometries) == 0:
        return result
    level4 = provinces[(provinces["admin_level"] == 4) & provinces["country"].isin(countries)]
    points = geometries.to_crs(settings.MEASURE_CRS)
    is_line = points.geom_type.isin(["LineString", "MultiLineString"])
    anchor = points.representative_point()
    anchor[is_line] = points[is_line].interpolate(0.5, normalized=True)
    anchors = gpd.GeoDataFrame(geometry=anchor, crs=settings.MEASURE_CRS)
    polygons = level4.to_crs(settings.MEASURE_CRS)[["code", "name", "country", "geometry"]]
    joined = gpd.sjoin_nearest(anchors, polygons, how="left", max_distance=settings.PROVINCE_SNAP_M,
                               distance_col="_distance")
    # Touching polygons can tie: keep the first (inside beats nearest: distance 0).
    joined = joined[~joined.index.duplicated(keep="first")]
    for target, column in (("country", "country"), ("province", "code"), ("province_name", "name")):
        values = joined[column].astype(object)
        result[target] = values.where(values.notna(), None)
    prefecture = provinces[provinces["code"] == YANBIAN.code].to_crs(settings.MEASURE_CRS)
    if len(prefecture):
        in_yanbian = anchors.within(prefecture.geometry.iloc[0])
        result.loc[in_yanbian & (result["country"] == "CN"), "prefecture"] = YANBIAN.name
    return result


# --------------------------------------------------------------------------
# the three feature layers
# --------------------------------------------------------------------------

def _bool_tag(values: pd.Series) -> pd.Series:
    return values.notna() & ~values.isin(["no", "false", "0"])


def build_roads(raw: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame, selection: list[Region]) -> gpd.GeoDataFrame:
    """The roads layer: classed ways in the selected provinces, measured in metres."""
    roads = raw[raw["highway"].isin(settings.ROAD_TAGS["highway"]) & (raw.geom_type == "LineString")].copy()
    roads["minor"] = roads["highway"].isin(settings.MINOR_ROAD_CLASSES)
    roads["bridge"] = _bool_tag(roads["bridge"])
    roads["oneway"] = roads["oneway"].where(roads["oneway"].isin(["yes", "-1", "no"]), "no")
    roads = roads.rename(columns={"name:en": "name_en", "name:ko": "name_ko"})
    roads["length_m"] = roads.to_crs(settings.MEASURE_CRS).length
    roads = roads.join(assign_regions(roads.geometry, provinces))
    selected = {r.code for r in selection}
    roads = roads[roads["province"].isin(selected)]
    return conform(roads.sort_values("osm_id").reset_index(drop=True), "roads")


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


def build_markets(raw: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame,
                  selection: list[Region]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Markets as points (all) and as polygons (those mapped as areas)."""
    markets = raw[raw["amenity"] == "marketplace"].copy()
    markets = markets[~markets.geometry.is_empty & markets.geometry.notna()]
    repaired = repair_polygons(markets.geometry)
    markets["geometry_repaired"] = ~repaired.geom_equals_exact(markets.geometry, 0)
    markets["geometry"] = repaired
    is_area = markets.geom_type.isin(["Polygon", "MultiPolygon"])
    markets["geom_type"] = np.where(is_area, "polygon", "point")
    markets["area_m2"] = markets.to_crs(settings.MEASURE_CRS).area.where(is_area)
    markets = markets.rename(columns={"name:en": "name_en", "name:ko": "name_ko"})
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


def _osm_crossing_candidates(raw: RawOsm, border: shapely.Geometry) -> gpd.GeoDataFrame:
    """Border controls near the border line and bridges across it (EPSG:32652)."""
    rows = []
    controls = raw["border_controls"].to_crs(settings.MEASURE_CRS)
    for _, row in controls.iterrows():
        if row.geometry.distance(border) <= settings.BORDER_CONTROL_MAX_M:
            rows.append({"osm_ref": f"{row['osm_type']}/{row['osm_id']}", "mode": "road", "name": row["name"],
                         "is_bridge": False, "geometry": row.geometry})
    roads = raw["roads"]
    bridges = [(roads[_bool_tag(roads["bridge"])], "road"), (raw["rail"], "rail")]
    for frame, mode in bridges:
        projected = frame.to_crs(settings.MEASURE_CRS)
        crossing = projected[projected.intersects(border)]
        for _, row in crossing.iterrows():
            where = row.geometry.intersection(border)
            point = where if where.geom_type == "Point" else where.centroid
            rows.append({"osm_ref": f"way/{row['osm_id']}", "mode": mode, "name": row["name"],
                         "is_bridge": True, "geometry": point})
    return gpd.GeoDataFrame(rows, columns=["osm_ref", "mode", "name", "is_bridge", "geometry"],
                            geometry="geometry", crs=settings.MEASURE_CRS)


def _cluster(candidates: gpd.GeoDataFrame) -> list[dict]:
    """Group candidates of one mode lying within the merge distance of each other."""
    clusters: list[dict] = []
    for _, row in candidates.sort_values("is_bridge", ascending=False).iterrows():
        for cluster in clusters:
            if cluster["mode"] == row["mode"] and cluster["geometry"].distance(row.geometry) <= settings.CROSSING_MERGE_M:
                cluster["refs"].append(row["osm_ref"])
                cluster["name"] = cluster["name"] or row["name"]
                break
        else:
            # A bridge's crossing point is the better position: bridges sort first.
            clusters.append({"mode": row["mode"], "refs": [row["osm_ref"]], "name": row["name"],
                             "geometry": row.geometry})
    return clusters


def build_crossings(raw: RawOsm, border: shapely.Geometry, provinces: gpd.GeoDataFrame,
                    selection: list[Region]) -> gpd.GeoDataFrame:
    """The crossings layer: OSM evidence merged with the gazetteer, one row per crossing."""
    clusters = _cluster(_osm_crossing_candidates(raw, border))
    selected = {r.code for r in selection}
    gazetteer = gazetteer_frame()
    gazetteer = gazetteer[gazetteer["province"].isin(selected)].to_crs(settings.MEASURE_CRS)
    # Pair each gazetteer crossing with the nearest OSM crossing of its mode,
    # closest pairs first, each OSM crossing used once.
    pairs = []
    for g_index, g_row in gazetteer.iterrows():
        reach = max(settings.CROSSING_MERGE_M, g_row["coord_precision_m"])
        for c_index, cluster in enumerate(clusters):
            distance = g_row.geometry.distance(cluster["geometry"])
            if cluster["mode"] == g_row["mode"] and distance <= reach:
                pairs.append((distance, g_index, c_index))
    used_g, used_c, rows = set(), set(), []
    for distance, g_index, c_index in sorted(pairs):
        if g_index in used_g or c_index in used_c:
            continue
        used_g.add(g_index)
        used_c.add(c_index)
        cluster = clusters[c_index]
        row = gazetteer.loc[g_index].to_dict()
        row.update({"in_gazetteer": True, "in_osm": True, "osm_ids": ";".join(sorted(cluster["refs"])),
                    "osm_name": cluster["name"], "geometry_source": "osm", "gazetteer_offset_m": distance,
                    "geometry": cluster["geometry"]})
        rows.append(row)
    for g_index, g_row in gazetteer.iterrows():
        if g_index not in used_g:
            row = g_row.to_dict()
            row.update({"in_gazetteer": True, "in_osm": False, "geometry_source": "gazetteer"})
            rows.append(row)
    for c_index, cluster in enumerate(clusters):
        if c_index not in used_c:
            rows.append({"crossing_id": "osm_" + cluster["refs"][0].replace("/", "_"), "name_en": cluster["name"],
                         "mode": cluster["mode"], "status": "unknown", "in_gazetteer": False, "in_osm": True,
                         "osm_ids": ";".join(sorted(cluster["refs"])), "osm_name": cluster["name"],
                         "geometry_source": "osm", "geometry": cluster["geometry"]})
    if not rows:
        return conform(gpd.GeoDataFrame(columns=["geometry"], geometry="geometry", crs=settings.STORE_CRS),
                       "crossings")
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.MEASURE_CRS).to_crs(settings.STORE_CRS)
    # A crossing's province is the North Korean one it touches, whatever the
    # gazetteer says; the tests check that the two agree.
    placed = assign_regions(frame.geometry, provinces, countries=("KP",))
    frame["province"] = placed["province"]
    frame["province_name"] = placed["province_name"]
    frame = frame[frame["province"].isin(selected)]
    return conform(frame.sort_values("crossing_id").reset_index(drop=True), "crossings")


# --------------------------------------------------------------------------
# the whole stage
# --------------------------------------------------------------------------

def build_layers(raw: RawOsm, selection: list[Region], source: str) -> dict[str, gpd.GeoDataFrame]:
    """Turn raw OSM into the layers, checking the data covers the selection."""
    everything = match_provinces(raw["boundaries"])
    check_coverage(everything, selection, source)
    border = border_line(everything)
    if border.is_empty:
        raise HamjiError(f"{source} has no place where a North Korean province meets Jilin, so the border line "
                         "cannot be drawn; include the border provinces and Jilin")
    provinces = everything[everything["code"].isin({r.code for r in selection})]
    markets, market_areas = build_markets(raw["markets"], everything, selection)
    border_frame = gpd.GeoDataFrame({"length_km": [border.length / 1000]}, geometry=[border],
                                    crs=settings.MEASURE_CRS).to_crs(settings.STORE_CRS)
    return {
        "provinces": conform(provinces.sort_values("code").reset_index(drop=True), "provinces"),
        "border": conform(border_frame, "border"),
        "crossings": build_crossings(raw, border, everything, selection),
        "roads": build_roads(raw["roads"], everything, selection),
        "markets": markets,
        "market_areas": market_areas,
        "hubs": build_hubs(raw["places"], everything),
    }


def summary(layers: dict[str, gpd.GeoDataFrame], provenance: dict) -> dict:
    """Counts per layer per province, and the data date."""
    counts: dict[str, dict[str, int]] = {}
    for name in ("crossings", "roads", "markets"):
        frame = layers[name]
        counts[name] = {str(k): int(v) for k, v in frame["province"].value_counts().sort_index().items()}
    km = layers["roads"].groupby("province")["length_m"].sum().div(1000).round(1)
    return {"osm_timestamp": provenance.get("osm_timestamp"), "demo": provenance.get("synthetic", False),
            "counts": counts, "road_km": {str(k): float(v) for k, v in km.items()},
            "markets_repaired": int(layers["markets"]["geometry_repaired"].sum()),
            "areas_not_assembled": int(provenance.get("areas_not_assembled", 0))}
