"""The declared schema of every layer: column names, dtypes, geometry types, and the order they are written in."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo import settings

__all__ = ["GEOMETRY_TYPES", "LAYER_ORDER", "SCHEMAS", "bool_tag", "conform"]

#: Column name -> dtype, per layer (geometry last, not listed).
SCHEMAS: dict[str, dict[str, str]] = {
    "provinces": {
        "code": "str",
        "name": "str",
        "name_ko": "str",
        "name_zh": "str",
        "country": "str",
        "group": "str",
        "admin_level": "int64",
        "osm_id": "int64",
        "area_km2": "float64",
    },
    "border": {"length_km": "float64"},
    "crossings": {
        "crossing_id": "str",
        "name_en": "str",
        "name_ko": "str",
        "name_zh": "str",
        "kp_town": "str",
        "cn_town": "str",
        "mode": "str",
        "status": "str",
        "status_source": "str",
        "year_opened": "Int64",
        "year_opened_source": "str",
        "year_rebuilt": "Int64",
        "year_rebuilt_source": "str",
        "coord_source": "str",
        "coord_precision_m": "Int64",
        "province": "str",
        "province_name": "str",
        "province_source": "str",
        "cn_prefecture": "str",
        "facts_source": "str",
        "in_gazetteer": "bool",
        "in_osm": "bool",
        "osm_ids": "str",
        "osm_name": "str",
        "geometry_source": "str",
        "gazetteer_offset_m": "float64",
    },
    "roads": {
        "osm_id": "int64",
        "highway": "str",
        "minor": "bool",
        "name": "str",
        "name_en": "str",
        "name_ko": "str",
        "ref": "str",
        "surface": "str",
        "bridge": "bool",
        "oneway": "str",
        "maxspeed": "str",
        "length_m": "float64",
        "country": "str",
        "province": "str",
        "province_name": "str",
        "prefecture": "str",
    },
    "markets": {
        "osm_type": "str",
        "osm_id": "int64",
        "name": "str",
        "name_en": "str",
        "name_ko": "str",
        "geom_type": "str",
        "area_m2": "float64",
        "geometry_repaired": "bool",
        "country": "str",
        "province": "str",
        "province_name": "str",
        "prefecture": "str",
        # Where the market comes from (OpenStreetMap, the demo, or a researcher's list and row), its size
        # or stall count when a list gives one, and whether it was placed in the nearest province.
        "source": "str",
        "size": "float64",
        "province_snapped": "bool",
    },
    "market_areas": {"osm_type": "str", "osm_id": "int64", "name": "str", "area_m2": "float64", "province": "str"},
    "hubs": {
        "hub": "str",
        "osm_id": "int64",
        "name": "str",
        "name_zh": "str",
        "place": "str",
        "population": "Int64",
        "province": "str",
        "prefecture": "str",
    },
}
GEOMETRY_TYPES = {
    "provinces": "MultiPolygon",
    "border": "MultiLineString",
    "crossings": "Point",
    "roads": "LineString",
    "markets": "Point",
    "market_areas": "MultiPolygon",
    "hubs": "Point",
}
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
    geometry = frame.geometry.values  # an array as it is: no Python object per row unless one must change
    if GEOMETRY_TYPES[layer] == "MultiPolygon":
        geometry = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geometry]
    elif GEOMETRY_TYPES[layer] == "MultiLineString":
        geometry = [shapely.MultiLineString([g]) if g.geom_type == "LineString" else g for g in geometry]
    return gpd.GeoDataFrame(
        out, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs).values, crs=settings.STORE_CRS
    )


def bool_tag(values: pd.Series) -> pd.Series:
    return values.notna() & ~values.isin(["no", "false", "0"])
