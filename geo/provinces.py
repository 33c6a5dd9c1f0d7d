"""Provinces and the border: OSM boundary relations matched to the regions HamJi knows, and points assigned to them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.errors import ClippedExtractError, InputError
from geo.regions import BY_CODE, YANBIAN, Region, UnknownRegionError, find_region
from geo.schema import SCHEMAS

__all__ = ["assign_anchors", "assign_regions", "border_line", "check_coverage", "match_provinces", "region_of_boundary"]


def region_of_boundary(row: pd.Series) -> Region | None:
    """The region a boundary relation (its tags) stands for: by ISO 3166-2 code, else by name and admin level."""
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
    rows: list[dict] = []
    for _, row in boundaries.iterrows():
        region = region_of_boundary(row)
        if region is None or any(r["code"] == region.code for r in rows):
            continue
        rows.append(
            {
                "code": region.code,
                "name": region.name,
                "name_ko": region.name_ko,
                "name_zh": region.name_zh or None,
                "country": region.country,
                "group": region.group,
                "admin_level": region.admin_level,
                "osm_id": int(row["osm_id"]),
                "geometry": row.geometry,
            }
        )
    frame = gpd.GeoDataFrame(
        rows, columns=[*SCHEMAS["provinces"], "geometry"], geometry="geometry", crs=settings.STORE_CRS
    )
    frame["area_km2"] = frame.to_crs(settings.MEASURE_CRS).area / 1e6
    return frame


def check_coverage(
    provinces: gpd.GeoDataFrame, selection: list[Region], source: str, incomplete: list[dict] | None = None
) -> None:
    """Fail unless every selected region has a boundary in the data.

    ``incomplete`` are relations the reader found but could not assemble
    (member ways missing, see :mod:`geo.sources.extracts`): a selected
    region among them was clipped, not left out, and the error says so.
    """
    missing = [r for r in selection if r.code not in set(provinces["code"])]
    for region in missing:
        for item in incomplete or []:
            tags = pd.Series({"ISO3166-2": item["iso"], "name": item["name"], "admin_level": item["admin_level"]})
            if region_of_boundary(tags) == region:
                raise ClippedExtractError(
                    region.name, item["osm_id"], item["missing_ways"], item["member_ways"], item.get("file", source)
                )
    if missing:
        names = ", ".join(f"{r.name} ({r.code})" for r in missing)
        raise InputError(
            f"{source} does not cover {names}: no OSM boundary relation for it; add an extract "
            "that includes it or leave it out of the provinces",
            option="regions",
        )


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


def assign_regions(
    geometries: gpd.GeoSeries, provinces: gpd.GeoDataFrame, countries: tuple[str, ...] = ("KP", "CN")
) -> pd.DataFrame:
    """Country, province and (in China) prefecture of each geometry.

    A line is placed by its midpoint, a polygon by its representative point
    (see :func:`assign_anchors`).
    """
    points = geometries.to_crs(settings.MEASURE_CRS)
    is_line = points.geom_type.isin(["LineString", "MultiLineString"])
    anchor = points.representative_point()
    anchor[is_line] = points[is_line].interpolate(0.5, normalized=True)
    return assign_anchors(anchor, provinces, countries)


def assign_anchors(
    anchors: gpd.GeoSeries, provinces: gpd.GeoDataFrame, countries: tuple[str, ...] = ("KP", "CN")
) -> pd.DataFrame:
    """Country, province and (in China) prefecture of each point (``anchors``, in the measuring CRS).

    A point in or on a province polygon takes it (the first in ``provinces``
    where two touch); a point in none (generalised coasts, a bridge over the
    border river) takes the nearest province within
    :data:`settings.PROVINCE_SNAP_M`.
    """
    result = pd.DataFrame(
        {"country": None, "province": None, "province_name": None, "prefecture": None},
        index=anchors.index,
        dtype=object,
    )
    if len(anchors) == 0:
        return result
    level4 = provinces[(provinces["admin_level"] == 4) & provinces["country"].isin(countries)]
    polygons = level4.to_crs(settings.MEASURE_CRS).geometry.to_numpy()
    x, y = shapely.get_x(anchors.to_numpy()), shapely.get_y(anchors.to_numpy())
    where = _containing(polygons, x, y)
    where[np.isnan(x)] = -1  # an empty anchor (an empty geometry) is in no province
    where = _nearest_within(polygons, x, y, where)
    hit = where >= 0
    for target, column in (("country", "country"), ("province", "code"), ("province_name", "name")):
        values = np.full(len(anchors), None, dtype=object)
        values[hit] = level4[column].to_numpy(object)[where[hit]]
        result[target] = pd.Series(values, index=result.index, dtype=object)  # None stays None, not NaN
    prefecture = provinces[provinces["code"] == YANBIAN.code].to_crs(settings.MEASURE_CRS)
    if len(prefecture):
        yanbian = prefecture.geometry.iloc[0]
        shapely.prepare(yanbian)
        in_yanbian = shapely.contains_xy(yanbian, x, y) & (result["country"] == "CN").to_numpy()
        result.loc[in_yanbian, "prefecture"] = YANBIAN.name
    return result


def _containing(polygons: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The position of the first polygon each point is in or on, or -1 (prepared point-in-polygon tests)."""
    where = np.full(len(x), -1, dtype=np.int64)
    for k, polygon in enumerate(polygons):
        open_ = where < 0
        shapely.prepare(polygon)
        inside = shapely.intersects_xy(polygon, x[open_], y[open_])
        where[np.flatnonzero(open_)[inside]] = k
    return where


def _nearest_within(polygons: np.ndarray, x: np.ndarray, y: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``where``, with each point in no polygon given the nearest within :data:`settings.PROVINCE_SNAP_M`."""
    outside = np.flatnonzero((where < 0) & ~np.isnan(x))
    if not len(outside) or not len(polygons):
        return where
    pairs = shapely.STRtree(polygons).query_nearest(
        shapely.points(x[outside], y[outside]), max_distance=settings.PROVINCE_SNAP_M, all_matches=True
    )
    # Equally near polygons: the first of them, as for a point on two.
    order = np.lexsort((pairs[1], pairs[0]))
    point, polygon = pairs[0][order], pairs[1][order]
    first = np.r_[True, point[1:] != point[:-1]][: len(point)]  # no match at all: nothing to take
    where[outside[point[first]]] = polygon[first]
    return where
