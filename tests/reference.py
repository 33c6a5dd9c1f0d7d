"""Loaders for the real reference geography in ../shared/data, shaped like HamJi layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geo import settings
from geo.regions import find_region


def natural_earth_provinces(shared: Path) -> gpd.GeoDataFrame:
    """Natural Earth first-level divisions as a HamJi ``provinces`` frame (Jilin and North Korea)."""
    frame = gpd.read_file(shared / "provinces_naturalearth.geojson").to_crs(settings.STORE_CRS)
    frame = frame[frame["name"].isin(["Jilin"]) | (frame["iso_a2"] == "KP")].copy()
    regions = [find_region(name) for name in frame["name"]]
    frame["code"] = [r.code for r in regions]
    frame["name"] = [r.name for r in regions]
    frame["country"] = [r.country for r in regions]
    frame["admin_level"] = 4
    return frame[["code", "name", "country", "admin_level", "geometry"]].reset_index(drop=True)


def china_dprk_border(shared: Path) -> gpd.GeoSeries:
    """The Natural Earth China–DPRK boundary line, in the measuring CRS."""
    lines = gpd.read_file(shared / "borders_naturalearth.geojson")
    pair = {"PRK", "CHN"}
    keep = lines.apply(lambda r: {r["adm0_a3_l"], r["adm0_a3_r"]} == pair, axis=1)
    return lines[keep].to_crs(settings.MEASURE_CRS).geometry


def whosonfirst_locality(shared: Path, name: str):
    """The point (lon, lat) of the one Who's On First locality of this name (positions from GeoNames)."""
    frame = gpd.read_file(shared / "kp_whosonfirst.gpkg", layer="localities").to_crs(settings.STORE_CRS)
    return frame.loc[frame["name"] == name].geometry.item()


def osm_counties(shared: Path) -> gpd.GeoDataFrame:
    """OpenStreetMap's North Korean county polygons (2020 export, ODbL), with their OSM tags."""
    return gpd.read_file(shared / "kp_counties_osm_2020.geojson").to_crs(settings.STORE_CRS)
