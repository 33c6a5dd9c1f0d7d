"""The declared schema of every layer: column names, dtypes, geometry types, and the order they are written in."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.sources.maritime import SEA_PORTS

__all__ = [
    "DATA_STAMPS",
    "GEOMETRY_TYPES",
    "HUB_HOURS_HUBS",
    "HUB_HOURS_PREFIX",
    "LAYER_ORDER",
    "ROUTE_SCHEMAS",
    "SCHEMAS",
    "STAMPS",
    "TABLE_SCHEMAS",
    "bool_tag",
    "conform",
    "conform_routes",
    "conform_table",
    "read_table",
]

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
        "year_opened_alt": "Int64",
        "year_opened_alt_source": "str",
        # When it could not be used (COVID closures, a bridge built but not opened), with sources.
        "periods": "str",
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
        # OSM's name:ko-Latn: the Korean name romanised, where a mapper gave it (shown beside the Korean name).
        "name_ko_latn": "str",
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
    # railway=rail ways, with their OSM tags as tagged (geo/rail.py).
    "railways": {
        "osm_id": "int64",
        "name": "str",
        "name_en": "str",
        "usage": "str",
        "service": "str",
        "gauge": "str",
        "electrified": "str",
        "bridge": "bool",
        "length_m": "float64",
        "country": "str",
        "province": "str",
        "province_name": "str",
    },
    # railway=station and yard nodes: where goods move between rail and road.
    "stations": {
        "osm_type": "str",
        "osm_id": "int64",
        "railway": "str",
        "name": "str",
        "name_en": "str",
        "country": "str",
        "province": "str",
        "province_name": "str",
    },
    # Written by the reach stage (hamji_catchments.gpkg), not the layers stage: see geo.access.crossing_catchments.
    "catchments": {
        "crossing_id": "str",
        "crossing_name": "str",
        "markets": "int64",
        "markets_share": "float64",
        "people": "float64",
        "people_share": "float64",
        "people_basis": "str",
        "hub_h_median": "float64",
    },
    # Written by hamji compare (hamji_road_changes.gpkg): OSM ways in one build and not the other, ways retagged,
    # and the stretches a way in both gained (extended) or lost (shortened).
    "road_changes": {
        "change": "str",
        "osm_id": "int64",
        "highway": "str",
        # A retagged way's routing tags in the earlier build (geo.change.ROUTING_TAGS): highway=…; surface=…
        "tags_before": "str",
        "name": "str",
        "country": "str",
        "province": "str",
        "length_km": "float64",
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
    "railways": "LineString",
    "stations": "Point",
    "catchments": "MultiPoint",
    "road_changes": "MultiLineString",
}
LAYER_ORDER = ("provinces", "border", "crossings", "roads", "markets", "market_areas", "hubs", "railways", "stations")


def conform(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Return ``frame`` with exactly the columns and dtypes of ``layer``'s schema."""
    return _conform(frame, SCHEMAS[layer], GEOMETRY_TYPES[layer])


def _columns(frame: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    """``frame``'s columns of ``schema``, in its order and dtypes; missing ones as nulls."""
    data = {column: _as_dtype(frame, column, dtype) for column, dtype in schema.items()}
    return pd.DataFrame(data, index=frame.index)  # at once: a column set at a time took 0.2 ms each


def _as_dtype(frame: pd.DataFrame, column: str, dtype: str) -> pd.Series:
    if column not in frame.columns:  # all null: None as text, False as a flag, NaN as a number
        fill = {"str": None, "bool": False}.get(dtype, np.nan)
        return pd.Series([fill] * len(frame), index=frame.index, dtype=object if dtype == "str" else dtype)
    values = frame[column]
    missing = values.isna()
    if dtype == "str":
        values = values.astype(object)
        return values.where(~missing, None) if missing.any() else values
    if dtype == "bool":
        values = values.astype(object).where(~missing, False) if missing.any() else values
        return values.astype(bool)
    return values if values.dtype == dtype else values.astype(dtype)


def _conform(frame: gpd.GeoDataFrame, schema: dict[str, str], geometry_type: str) -> gpd.GeoDataFrame:
    out = _columns(frame, schema)
    geometry = frame.geometry.values  # an array as it is: no Python object per row unless one must change
    if geometry_type == "MultiPolygon":
        geometry = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in geometry]
    elif geometry_type == "MultiLineString":
        geometry = [shapely.MultiLineString([g]) if g.geom_type == "LineString" else g for g in geometry]
    return gpd.GeoDataFrame(
        out, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs).values, crs=settings.STORE_CRS
    )


def bool_tag(values: pd.Series) -> pd.Series:
    return values.notna() & ~values.isin(["no", "false", "0"])


# -- the routes GeoPackage ------------------------------------------------------------
#: Markets-layer columns of the hours from each hub: ``hours_from_Yanji`` … (one per :data:`HUB_HOURS_HUBS`).
HUB_HOURS_PREFIX = "hours_from_"
#: Every hub goods may start from: the land hubs of :data:`settings.HUBS`, then the sea links' Chinese ports.
HUB_HOURS_HUBS = (*settings.HUBS, *(port for port in SEA_PORTS if port not in settings.HUBS))
#: Column name -> dtype of each layer of ``hamji_routes.gpkg``: the layers stage's columns plus routing's.
ROUTE_SCHEMAS: dict[str, dict[str, str]] = {
    "routes": {
        "osm_type": "str",
        "osm_id": "int64",
        "name": "str",
        "province": "str",
        "hub": "str",
        "crossing": "str",
        "hub_crossing_h": "float64",
        "penalty_h": "float64",
        "total_h": "float64",
        "total_km": "float64",
        "entry_mode": "str",
        "legs": "str",
    },
    "markets": {
        **SCHEMAS["markets"],
        "snap_m": "float64",
        "nearest_crossing": "str",
        "crossing_h": "float64",
        "crossing_km": "float64",
        "best_crossing": "str",
        "hub": "str",
        "hub_crossing_h": "float64",
        "penalty_h": "float64",
        "total_h": "float64",
        "total_km": "float64",
        "reachable": "bool",
        "reason": "str",
        "reason_code": "str",
        # Hours from each hub through the way in best for it (the gravity index sums over them): the land
        # hubs, and the sea links' Chinese ports; NaN for a hub outside the supply model or that cannot reach
        # the market.
        **{f"{HUB_HOURS_PREFIX}{hub}": "float64" for hub in HUB_HOURS_HUBS},
    },
    "roads": {**SCHEMAS["roads"], "routes": "int64", "routes_area_m2": "float64"},
    "crossings": {
        **SCHEMAS["crossings"],
        "kp_snap_m": "float64",
        "cn_snap_m": "float64",
        "penalty_h": "float64",
        "reason": "str",
        "reason_code": "str",
        "cn_province": "str",
        "hub": "str",
        "hub_crossing_h": "float64",
        # How goods from that hub reach a rail crossing: "train from <station>" or empty (by road).
        "hub_via": "str",
        "usable": "bool",
        "markets_served": "int64",
    },
    "hubs": {**SCHEMAS["hubs"], "in_supply": "bool", "snap_m": "float64", "usable": "bool"},
    "bands": {"hours": "float64", "road_km": "float64", "area_km2": "float64"},
    "road_times": {"from_h": "float64", "to_h": "float64", "road_km": "float64"},
}
ROUTE_GEOMETRY_TYPES = {
    **{name: GEOMETRY_TYPES[name] for name in ("markets", "roads", "crossings", "hubs")},
    "routes": "LineString",
    "bands": "MultiPolygon",
    "road_times": "MultiLineString",
}


def conform_routes(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """Return a routes-GeoPackage layer with exactly the columns and dtypes of :data:`ROUTE_SCHEMAS`."""
    return _conform(frame, ROUTE_SCHEMAS[layer], ROUTE_GEOMETRY_TYPES[layer])


# -- tables (CSV) ---------------------------------------------------------------------
def _measure_columns(suffix: str = "") -> dict[str, str]:
    columns = {}
    for measure in ("crossing", "hub"):
        columns[f"{measure}_h_median{suffix}"] = "float64"
        columns[f"{measure}_h_p90{suffix}"] = "float64"
        for hours in settings.REACH_THRESHOLDS_H:
            columns[f"{measure}_within_{hours:g}h{suffix}"] = "float64"
        columns[f"{measure}_unreachable{suffix}"] = "float64"
    return columns


#: What data a table comes from, in every row of every table: a copy out of its folder still says DEMO.
DATA_STAMPS = {"data_source": "str", "osm_data_date": "str", "demo": "bool"}
#: The stamps of a table made from one set of routes (reach, differences): the data and the assumptions.
#: ``crossings_as_of``: the day the crossings and links were taken as open or shut (``--as-of``, else the data date).
STAMPS = {
    "supply_model": "str",
    "crossings_as_of": "str",
    "speed_table": "str",
    **DATA_STAMPS,
    "people_areas": "str",
}
_PEOPLE = {
    f"{measure}_within_{hours:g}h_people": "float64"
    for measure in ("crossing", "hub")
    for hours in settings.REACH_THRESHOLDS_H
}
#: The standard access measures of each reach row (geo.reach: people counted and within t hours of a hub,
#: unreachable split by why, the gravity index at the chosen half-life and each other one).
_ACCESS = {
    "population_without_markets": "Int64",
    "people_counted": "float64",
    **{f"hub_people_within_{hours:g}h": "float64" for hours in settings.REACH_THRESHOLDS_H},
    "unreachable_no_road": "Int64",
    "unreachable_no_route": "Int64",
    "gravity_access": "float64",
    **{f"gravity_half_{half:g}h": "float64" for half in settings.GRAVITY_SENSITIVITY_HALF_LIVES_H},
}
#: Column name -> dtype of every CSV table HamJi writes.
TABLE_SCHEMAS: dict[str, dict[str, str]] = {
    "reach": {
        "code": "str",
        "name": "str",
        "group": "str",
        "markets": "int64",
        "area_km2": "float64",
        "markets_per_1000km2": "float64",
        "published_markets": "Int64",
        "published_year": "Int64",
        "published_by": "str",
        **_measure_columns(),
        "population": "Int64",
        "population_year": "Int64",
        "population_source": "str",
        "people_per_market": "float64",
        **_PEOPLE,
        "people_basis": "str",
        "people_areas_coverage": "float64",
        **_ACCESS,
        "made_from_layers": "str",
        "made_from_routes": "str",
        **STAMPS,
    },
    # hamji uncertainty: per reach-table row, each statistic's point estimate and 5th and 95th percentile
    # over the draws (geo/uncertainty.py), and P(border median below far) on the two group rows.
    "uncertainty": {
        "code": "str",
        "name": "str",
        "group": "str",
        "markets": "int64",
        **{
            f"{statistic}{end}": "float64"
            for statistic in ("hub_h_median", *(f"hub_within_{h:g}h" for h in settings.REACH_THRESHOLDS_H))
            for end in ("", "_p5", "_p95")
        },
        "p_border_median_below_far": "float64",
        "draws": "int64",
        "seed": "int64",
        "bootstrap": "bool",
        "ranges": "str",
        "made_from_layers": "str",
        "made_from_routes": "str",
        **STAMPS,
    },
    "difference_markets": {
        "osm_type": "str",
        "osm_id": "int64",
        "name": "str",
        "province": "str",
        **{
            f"{column}_{run}": dtype
            for column, dtype in (
                ("nearest_crossing", "str"),
                ("crossing_h", "float64"),
                ("best_crossing", "str"),
                ("total_h", "float64"),
                ("reachable", "bool"),
            )
            for run in ("base", "scenario")
        },
        "crossing_change_h": "float64",
        "total_change_h": "float64",
        "nearest_crossing_changed": "bool",
        "lost_reach": "bool",
        "gained_reach": "bool",
        **STAMPS,
    },
    "difference_provinces": {
        "code": "str",
        "name": "str",
        "group": "str",
        "markets": "int64",
        **{
            f"{column}_{run}": "float64"
            for run in ("base", "scenario", "change")
            for column in (
                "crossing_h_median",
                "crossing_within_4h",
                "hub_h_median",
                "hub_within_4h",
                "crossing_unreachable",
            )
        },
        **STAMPS,
    },
    # One row per scenario, each routed under its own assumptions: only the data's stamps are common to all.
    "sensitivity": {
        "scenario": "str",
        "name": "str",
        # What each scenario moved (geo.comparison.reordering): markets whose best and nearest crossing changed,
        # and provinces that changed places by median hub->market time ("B before A; ...").
        "markets_rerouted": "int64",
        "nearest_crossing_changed": "int64",
        "provinces_swapped": "str",
        **{
            f"{prefix}_{column}": dtype
            for prefix in ("crossing", "hub")
            for column, dtype in (
                ("ordering_holds", "boolean"),  # empty where a group has no markets, or neither side is reached
                ("slowest_border", "str"),
                ("slowest_border_h", "float64"),
                ("fastest_far", "str"),
                ("fastest_far_h", "float64"),
                ("border_median_h", "float64"),
                ("far_median_h", "float64"),
            )
        },
        **DATA_STAMPS,
    },
}


# What hamji compare writes (geo.change): per market, per province, and the new roads by market-hours cut.
TABLE_SCHEMAS["compare_markets"] = {
    "osm_type": "str",
    "osm_id": "int64",
    "name": "str",
    "province": "str",
    "total_h_before": "float64",
    "total_h_after": "float64",
    "best_crossing_before": "str",
    "best_crossing_after": "str",
    "change_h": "float64",
    "hours_cut": "float64",
    "gained_reach": "bool",
    "lost_reach": "bool",
}
TABLE_SCHEMAS["compare_provinces"] = {
    "province": "str",
    "province_name": "str",
    "markets_before": "int64",
    "markets_after": "int64",
    "markets_in_both": "int64",
    "hub_h_median_before": "float64",
    "hub_h_median_after": "float64",
    "market_hours_cut": "float64",
    "faster": "int64",
    "slower": "int64",
    "gained_reach": "int64",
    "lost_reach": "int64",
    "hub_h_median_change": "float64",
}
TABLE_SCHEMAS["compare_segments"] = {
    "change": "str",
    "osm_id": "int64",
    "highway": "str",
    "tags_before": "str",
    "name": "str",
    "length_km": "float64",
    "markets": "int64",
    "markets_faster": "int64",
    "market_hours_cut": "float64",
    "gained_reach": "int64",
    "market_names": "str",
}


def conform_table(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Return a table with exactly the columns (in order) and dtypes of :data:`TABLE_SCHEMAS` ``[kind]``.

    Columns the schema lacks are dropped and missing ones filled with nulls,
    so a table reads back with the columns it was written with.
    """
    return _columns(frame, TABLE_SCHEMAS[kind])


def read_table(path: str | Path, kind: str) -> pd.DataFrame:
    """A CSV table written through :func:`conform_table`, read back with its declared dtypes."""
    schema = TABLE_SCHEMAS[kind]
    text_columns = {c: "string" for c, t in schema.items() if t == "str"}
    frame = pd.read_csv(path, dtype={**text_columns, **{c: t for c, t in schema.items() if t == "Int64"}})
    return _columns(frame, schema)
