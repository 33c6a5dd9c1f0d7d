"""The crossings layer: OSM's border controls and border bridges, merged with the curated gazetteer.

OSM evidence near the border line is clustered into candidate crossings;
each gazetteer crossing (:mod:`geo.sources.gazetteer`, every fact sourced)
is paired with the nearest candidate of its mode. A gazetteer crossing with
no OSM feature keeps its published position; an OSM crossing with no
gazetteer entry is kept and flagged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import shapely

from geo import settings
from geo.provinces import assign_regions
from geo.regions import Region
from geo.schema import bool_tag, conform
from geo.sources.gazetteer import gazetteer_frame
from geo.sources.raw import RawOsm

__all__ = ["build_crossings", "crossing_name", "penalty_text"]


def _osm_crossing_candidates(raw: RawOsm, border: shapely.Geometry) -> gpd.GeoDataFrame:
    """Border controls near the border line and bridges across it (EPSG:32652)."""
    rows = []
    controls = raw["border_controls"].to_crs(settings.MEASURE_CRS)
    for _, row in controls.iterrows():
        if row.geometry.distance(border) <= settings.BORDER_CONTROL_MAX_M:
            rows.append(
                {
                    "osm_ref": f"{row['osm_type']}/{row['osm_id']}",
                    "mode": "road",
                    "name": row["name"],
                    "is_bridge": False,
                    "geometry": row.geometry,
                }
            )
    roads = raw["roads"]
    rail = raw["rail"]
    rail = rail[rail["railway"].isin(settings.RAIL_TAGS["railway"]) & bool_tag(rail["bridge"])]
    bridges = [(roads[bool_tag(roads["bridge"])], "road"), (rail, "rail")]
    for frame, mode in bridges:
        projected = frame.to_crs(settings.MEASURE_CRS)
        crossing = projected[projected.intersects(border)]
        for _, row in crossing.iterrows():
            where = row.geometry.intersection(border)
            point = where if where.geom_type == "Point" else where.centroid
            rows.append(
                {
                    "osm_ref": f"way/{row['osm_id']}",
                    "mode": mode,
                    "name": row["name"],
                    "is_bridge": True,
                    "geometry": point,
                }
            )
    return gpd.GeoDataFrame(
        rows,
        columns=["osm_ref", "mode", "name", "is_bridge", "geometry"],
        geometry="geometry",
        crs=settings.MEASURE_CRS,
    )


def _cluster(candidates: gpd.GeoDataFrame) -> list[dict]:
    """Group candidates of one mode lying within the merge distance of each other."""
    clusters: list[dict] = []
    for _, row in candidates.sort_values("is_bridge", ascending=False).iterrows():
        for cluster in clusters:
            if (
                cluster["mode"] == row["mode"]
                and cluster["geometry"].distance(row.geometry) <= settings.CROSSING_MERGE_M
            ):
                cluster["refs"].append(row["osm_ref"])
                cluster["name"] = cluster["name"] or row["name"]
                break
        else:
            # A bridge's crossing point is the better position: bridges sort first.
            clusters.append(
                {"mode": row["mode"], "refs": [row["osm_ref"]], "name": row["name"], "geometry": row.geometry}
            )
    return clusters


def build_crossings(
    raw: RawOsm, border: shapely.Geometry, provinces: gpd.GeoDataFrame, selection: list[Region]
) -> gpd.GeoDataFrame:
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
        row.update(
            {
                "in_gazetteer": True,
                "in_osm": True,
                "osm_ids": ";".join(sorted(cluster["refs"])),
                "osm_name": cluster["name"],
                "geometry_source": "osm",
                "gazetteer_offset_m": distance,
                "geometry": cluster["geometry"],
            }
        )
        rows.append(row)
    for g_index, g_row in gazetteer.iterrows():
        if g_index not in used_g:
            row = g_row.to_dict()
            row.update({"in_gazetteer": True, "in_osm": False, "geometry_source": "gazetteer"})
            rows.append(row)
    for c_index, cluster in enumerate(clusters):
        if c_index not in used_c:
            rows.append(
                {
                    "crossing_id": "osm_" + cluster["refs"][0].replace("/", "_"),
                    "name_en": cluster["name"],
                    "mode": cluster["mode"],
                    "status": "unknown",
                    "in_gazetteer": False,
                    "in_osm": True,
                    "osm_ids": ";".join(sorted(cluster["refs"])),
                    "osm_name": cluster["name"],
                    "geometry_source": "osm",
                    "geometry": cluster["geometry"],
                }
            )
    if not rows:
        return conform(gpd.GeoDataFrame(columns=["geometry"], geometry="geometry", crs=settings.STORE_CRS), "crossings")
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.MEASURE_CRS).to_crs(settings.STORE_CRS)
    # A crossing's province is the North Korean one it touches, whatever the
    # gazetteer says; the tests check that the two agree.
    placed = assign_regions(frame.geometry, provinces, countries=("KP",))
    frame["province"] = placed["province"]
    frame["province_name"] = placed["province_name"]
    frame = frame[frame["province"].isin(selected)]
    return conform(frame.sort_values("crossing_id").reset_index(drop=True), "crossings")


def crossing_name(row: Mapping) -> str:
    """What a reader calls a crossing: its gazetteer name, its OSM name, or the OSM object it was found on.

    Never the internal ``crossing_id`` (``osm_node_108``), which only
    ``--penalty`` and scenario files need.
    """
    for column in ("name_en", "osm_name"):
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            return value
    kind, _, number = str(row["crossing_id"]).removeprefix("osm_").partition("_")
    return f"unnamed border post (OSM {kind} {number})" if number else str(row["crossing_id"])


def crossing_label(row: Mapping, *words: str) -> str:
    """``Name (mode, words…)``: the name with its mode and any words, the mode left out where the name says
    it already ("Manpo–Ji'an (rail)", not "Manpo–Ji'an (rail) (rail)")."""
    name, mode = crossing_name(row), row.get("mode")
    mode = mode.strip() if isinstance(mode, str) else ""
    said = bool(mode) and re.search(rf"\b{re.escape(mode)}\b", name, re.IGNORECASE) is not None
    inside = [w for w in ("" if said else mode, *words) if w]
    return f"{name} ({', '.join(inside)})" if inside else name


def penalty_text(assumptions, crossings: pd.DataFrame) -> str:
    """The border penalties of a run in words: the usual one, then the crossings that differ, by name.

    ``assumptions`` is a :class:`~geo.assumptions.RunAssumptions`.
    """
    names = {row["crossing_id"]: crossing_name(row) for _, row in crossings.iterrows()}
    usual = assumptions.default_penalty_h
    # A crossing no layer names reads as its OSM object, never as its id.
    others = sorted(
        (names.get(cid) or crossing_name({"crossing_id": cid}), h)
        for cid, h in assumptions.penalties_h.items()
        if h != usual
    )
    return f"{usual:g} h at each crossing" + (
        ", except " + ", ".join(f"{name} {hours:g} h" for name, hours in others) if others else ""
    )
