"""Change over time: two builds (say from two dated Geofabrik extracts) compared market by market.

Pure functions over two builds' layers and routes: the change in each
market's hub → market time (:func:`market_changes`) and each province's
(:func:`province_changes`), the roads present in one build and not the
other (:func:`road_differences`), and which of the new roads cut the most
market-hours (:func:`segment_savings`).

Most of what grows in OpenStreetMap between two extracts is new mapping,
not new construction (:data:`CAVEAT`): a road new to the map was usually on
the ground already. The comparison measures what the map says, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.reach import format_hours
from geo.regions import BY_CODE
from geo.schema import conform

__all__ = [
    "CAVEAT",
    "BuildComparison",
    "change_summary",
    "market_changes",
    "province_changes",
    "road_differences",
    "segment_savings",
]

#: Said wherever a comparison of two builds is shown.
CAVEAT = (
    "Most of what grows in OpenStreetMap between two extracts is new mapping, not new construction: mappers "
    "trace from imagery roads that were there all along, and North Korea's roads are still being traced. A "
    "road present in the later build and not the earlier one is new to the map; it is a new road on the ground "
    "only if another source (imagery of both dates, a report of its building) says so. A road retagged (another "
    "class or surface) was more often corrected by a mapper than rebuilt. A market that became faster may only "
    "have become better mapped."
)
#: A new road is taken to carry a market's route where the route runs along it for at least this share of
#: its length (or this many metres, for a long road the route joins part way): crossing it at a junction is not use.
_ALONG_SHARE, _ALONG_MIN_M = 0.5, 50.0
#: A way in both builds is redrawn where its later line runs more than this (m) from its earlier one …
REDRAWN_TOLERANCE_M = 25.0
#: … for at least this many metres (a stretch shorter is a node nudged, not a road drawn on).
REDRAWN_MIN_M = 100.0
#: A market whose hub time changed by less than this (h) is unchanged: rounding, not roads.
UNCHANGED_H = 0.05


@dataclass
class BuildComparison:
    """Two builds compared (see :func:`geo.api.compare_builds`).

    ``info`` says what each build is (``before``/``after``: folder, source,
    OSM data date) and whether either is synthetic; ``markets``,
    ``provinces``, ``roads`` and ``segments`` are the results of
    :func:`market_changes`, :func:`province_changes`,
    :func:`road_differences` and :func:`segment_savings`.
    """

    info: dict
    markets: pd.DataFrame
    provinces: pd.DataFrame
    roads: gpd.GeoDataFrame
    segments: pd.DataFrame


def market_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per market in both builds (matched by OSM type and id): hub → market hours before and after.

    Returns
    -------
    pandas.DataFrame
        ``osm_type``, ``osm_id``, ``name``, ``province``, ``total_h_before``,
        ``total_h_after``, ``change_h`` (after − before; negative is faster),
        ``hours_cut`` (the time saved, 0 when slower or unchanged, NaN when
        either build cannot reach the market), ``best_crossing_before`` and
        ``_after``, ``gained_reach`` and ``lost_reach``.
    """
    keys = ["osm_type", "osm_id"]
    columns = ["name", "province", "total_h", "best_crossing"]
    joined = before[keys + columns].merge(after[keys + columns], on=keys, suffixes=("_before", "_after"))
    out = joined[keys].assign(name=joined["name_after"], province=joined["province_after"])
    for column in ("total_h", "best_crossing"):
        out[f"{column}_before"], out[f"{column}_after"] = joined[f"{column}_before"], joined[f"{column}_after"]
    out["change_h"] = out["total_h_after"] - out["total_h_before"]
    out["hours_cut"] = (-out["change_h"]).clip(lower=0.0)
    out["gained_reach"] = out["total_h_before"].isna() & out["total_h_after"].notna()
    out["lost_reach"] = out["total_h_before"].notna() & out["total_h_after"].isna()
    return out


def province_changes(changes: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per province: the median hub → market time of the markets in both builds, before and after.

    Medians over the same markets, so that a market newly mapped does not
    pass for one newly reached; ``markets_before`` and ``markets_after``
    count every market each build holds, ``market_hours_cut`` sums the time
    saved, ``faster`` and ``slower`` count markets that changed by more
    than 3 minutes.
    """
    rows = []
    for province in sorted(set(before["province"].dropna()) | set(after["province"].dropna())):
        mine = changes[changes["province"] == province]
        rows.append(
            {
                "province": province,
                "province_name": BY_CODE[province].name if province in BY_CODE else province,
                "markets_before": int((before["province"] == province).sum()),
                "markets_after": int((after["province"] == province).sum()),
                "markets_in_both": len(mine),
                "hub_h_median_before": _median(mine["total_h_before"]),
                "hub_h_median_after": _median(mine["total_h_after"]),
                "market_hours_cut": float(mine["hours_cut"].sum()),
                "faster": int((mine["change_h"] < -UNCHANGED_H).sum()),
                "slower": int((mine["change_h"] > UNCHANGED_H).sum()),
                "gained_reach": int(mine["gained_reach"].sum()),
                "lost_reach": int(mine["lost_reach"].sum()),
            }
        )
    table = pd.DataFrame(rows)
    if len(table):
        table["hub_h_median_change"] = table["hub_h_median_after"] - table["hub_h_median_before"]
    return table


def _median(hours: pd.Series) -> float:
    """The median of hours with unreachable (NaN) as infinitely far, as in the reach table."""
    from geo.reach import quantile

    return quantile(hours.to_numpy(float), 0.5)


#: The tags of a road that routing reads (its class's speed, the unpaved factor, the directions it runs):
#: a way kept with other values of these is ``retagged``, and its markets' times can change as a new road's do.
ROUTING_TAGS = ("highway", "surface", "oneway")


def road_differences(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The roads (OSM ways) that differ between the builds: ``change`` ``added``, ``removed``, ``retagged``,
    ``extended`` or ``shortened``.

    Ways are matched by OSM id, so a way redrawn keeps its identity; one
    split or merged by a mapper shows as removed and added. A way in both
    whose :data:`ROUTING_TAGS` differ (a track made primary, a road paved,
    a street made one-way) is ``retagged``, drawn as it is in the later
    build, with ``tags_before`` saying what it was. A way in both with the
    same tags whose line gained a stretch (a mapper drew it on: the commonest
    way a road grows in OSM) is ``extended``, drawn and measured as the new
    stretch only (the later line more than :data:`REDRAWN_TOLERANCE_M` from
    the earlier one); one that lost a stretch is ``shortened``, the stretch
    gone; a stretch under :data:`REDRAWN_MIN_M` (a node nudged) is neither.
    North Korean and Chinese roads both; the layer schema is
    :data:`geo.schema.SCHEMAS` ``road_changes`` (length in km measured in
    :data:`settings.MEASURE_CRS`).
    """
    old, new = set(before["osm_id"]), set(after["osm_id"])
    was = _routing_tags(before)
    retagged = _retagged(was, _routing_tags(after))
    extended, shortened = _redrawn(before, after, skip=set(retagged))
    parts = [
        after[~after["osm_id"].isin(old)].assign(change="added"),
        before[~before["osm_id"].isin(new)].assign(change="removed"),
        after[after["osm_id"].isin(retagged)].assign(
            change="retagged", tags_before=lambda f: f["osm_id"].map(was.apply(_tags_text, axis=1))
        ),
        extended.assign(change="extended"),
        shortened.assign(change="shortened"),
    ]
    frame = pd.concat([p for p in parts if len(p)] or [after.iloc[:0].assign(change=None)], ignore_index=True)
    ways = gpd.GeoDataFrame(frame, geometry="geometry", crs=after.crs)
    merged = ways.dissolve(by=["change", "osm_id"], as_index=False, aggfunc="first") if len(ways) else ways
    merged["length_km"] = merged.to_crs(settings.MEASURE_CRS).length / 1000 if len(merged) else []
    return conform(merged, "road_changes")


def _redrawn(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, skip: set[int]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ways in both builds (but ``skip``) whose line gained a stretch, and those whose line lost one.

    Each is one row per way (in the store CRS, as the layers): the later
    way's tags with the stretch new to the later line, or the earlier way's
    with the stretch gone from it. Only ways whose vertices differ are
    measured, so comparing two national builds costs little.
    """
    ids = sorted((set(before["osm_id"]) & set(after["osm_id"])) - skip)
    was, now = before[before["osm_id"].isin(ids)], after[after["osm_id"].isin(ids)]
    moved = [i for i, a, b in zip(ids, _vertices(was, ids), _vertices(now, ids), strict=True) if a != b]
    if not moved:
        return after.iloc[:0], before.iloc[:0]
    lines = {}
    for label, frame in (("before", was), ("after", now)):
        chosen = frame[frame["osm_id"].isin(moved)].to_crs(settings.MEASURE_CRS)
        lines[label] = chosen.dissolve(by="osm_id", aggfunc="first").geometry.reindex(moved)
    gained = lines["after"].difference(lines["before"].buffer(REDRAWN_TOLERANCE_M))
    lost = lines["before"].difference(lines["after"].buffer(REDRAWN_TOLERANCE_M))

    def stretches(frame: gpd.GeoDataFrame, part: gpd.GeoSeries) -> gpd.GeoDataFrame:
        part = part[part.length >= REDRAWN_MIN_M]
        rows = frame[frame["osm_id"].isin(part.index)].drop_duplicates("osm_id").set_index("osm_id")
        rows = rows.loc[part.index].set_geometry(part.to_crs(frame.crs).values)
        return rows.reset_index()

    return stretches(now, gained), stretches(was, lost)


def _vertices(roads: pd.DataFrame, ids: list[int]) -> list[bytes]:
    """Each way's vertices (its pieces' in the layer's order) as bytes, for the sorted ``ids``."""
    ordered = roads.sort_values("osm_id", kind="stable")
    coords, piece = shapely.get_coordinates(ordered.geometry.values, return_index=True)
    way = ordered["osm_id"].to_numpy()[piece]
    coords = np.round(coords, 7)
    first, last = np.searchsorted(way, ids, "left"), np.searchsorted(way, ids, "right")
    return [coords[a:b].tobytes() for a, b in zip(first, last, strict=True)]


def _routing_tags(roads: pd.DataFrame) -> pd.DataFrame:
    """Each way's :data:`ROUTING_TAGS` (its pieces share them), missing ones as ''."""
    return roads.groupby("osm_id")[list(ROUTING_TAGS)].first().astype(object).fillna("").astype(str)


def _retagged(before: pd.DataFrame, after: pd.DataFrame) -> list[int]:
    """The ways in both builds whose routing tags differ."""
    both = before.index.intersection(after.index)
    differs = (before.loc[both] != after.loc[both]).any(axis=1)
    return [int(i) for i in both[differs.to_numpy()]]


def _tags_text(tags: pd.Series) -> str:
    """``highway=track; surface=unpaved`` (the tags a way had, those it had none of left out)."""
    return "; ".join(f"{k}={v}" for k, v in tags.items() if v)


def segment_savings(roads: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Which added, retagged or extended roads the later build's routes use, and the market-hours they cut.

    Parameters
    ----------
    roads
        From :func:`road_differences` (its ``added``, ``retagged`` and ``extended`` rows are read; an
        extended road as its new stretch).
    routes
        The later build's ``routes`` layer: one line per market routed.
    changes
        From :func:`market_changes`.

    Returns
    -------
    pandas.DataFrame
        One row per added, retagged or extended road that some route runs along:
        ``change``, ``osm_id``, ``highway`` (as now), ``tags_before`` (of a
        retagged road), ``name``, ``length_km``, ``markets`` (routes along it),
        ``markets_faster``, ``market_hours_cut`` (the hours saved by the
        markets whose route runs along it and got faster), ``gained_reach``
        (markets newly reached through it) and ``market_names``; most
        market-hours first. A market whose route runs along two new roads
        counts for both: the figures say what each road is part of, and do
        not add up across roads.
    """
    added = roads[roads["change"].isin(["added", "retagged", "extended"])].to_crs(settings.MEASURE_CRS)
    lines = routes.to_crs(settings.MEASURE_CRS)
    by_market = changes.set_index(["osm_type", "osm_id"])
    tree = shapely.STRtree(lines.geometry.values)
    rows = []
    for _, road in added.iterrows():
        users = [i for i in tree.query(road.geometry.buffer(1.0)) if _runs_along(lines.geometry.iloc[i], road.geometry)]
        if not users:
            continue
        keys = [(lines["osm_type"].iloc[i], lines["osm_id"].iloc[i]) for i in users]
        mine = by_market.loc[[k for k in keys if k in by_market.index]]
        rows.append(
            {
                "change": road["change"],
                "osm_id": int(road["osm_id"]),
                "highway": road["highway"],
                "tags_before": road["tags_before"],
                "name": road["name"],
                "length_km": float(road["length_km"]),
                "markets": len(users),
                "markets_faster": int((mine["change_h"] < -UNCHANGED_H).sum()),
                "market_hours_cut": float(mine["hours_cut"].sum()),
                "gained_reach": int(mine["gained_reach"].sum()),
                "market_names": "; ".join(sorted(str(n) for n in mine["name"])),
            }
        )
    columns = ["change", "osm_id", "highway", "tags_before", "name", "length_km", "markets", "markets_faster"]
    columns.append("market_hours_cut")
    table = pd.DataFrame(rows, columns=[*columns, "gained_reach", "market_names"])
    return table.sort_values(["market_hours_cut", "gained_reach", "osm_id"], ascending=[False, False, True])


def _runs_along(route: shapely.Geometry, road: shapely.Geometry) -> bool:
    """Whether ``route`` runs along ``road`` (both in metres), not only across it."""
    along = route.intersection(road.buffer(1.0)).length
    return bool(along >= min(_ALONG_SHARE * road.length, _ALONG_MIN_M))


def change_summary(
    info: dict, markets: pd.DataFrame, provinces: pd.DataFrame, roads: pd.DataFrame, segments: pd.DataFrame
) -> str:
    """The comparison of two builds as Markdown: the caveat, per province, the new roads that cut most."""
    lines = ["# HamJi Explorer — change between two builds", ""]
    if info.get("synthetic"):
        lines += [f"**{settings.DEMO_STAMP}.** Neither build is OpenStreetMap; never quote these figures.", ""]
    added, removed = roads[roads["change"] == "added"], roads[roads["change"] == "removed"]
    retagged = roads[roads["change"] == "retagged"]
    extended, shortened = roads[roads["change"] == "extended"], roads[roads["change"] == "shortened"]
    faster = int((markets["change_h"] < -UNCHANGED_H).sum())
    slower = int((markets["change_h"] > UNCHANGED_H).sum())
    lines += [
        f"**Read this first.** {CAVEAT}",
        "",
        *(
            [
                "**The two builds were routed under different assumptions ("
                + ", ".join(info["assumptions_differ"])
                + ")**: part of every change below comes from them, not from the map.",
                "",
            ]
            if info.get("assumptions_differ")
            else []
        ),
        *(
            f"- {label.capitalize()}: {info[label]['source']}, OpenStreetMap data as of {info[label]['date']} "
            f"({info[label]['folder']})."
            for label in ("before", "after")
        ),
        f"- Roads: {len(added)} ways added ({added['length_km'].sum():,.1f} km), {len(removed)} removed "
        f"({removed['length_km'].sum():,.1f} km), {len(retagged)} kept with another class, surface or direction "
        f"(retagged, {retagged['length_km'].sum():,.1f} km), {len(extended)} drawn longer "
        f"({extended['length_km'].sum():,.1f} km of new line), {len(shortened)} drawn shorter "
        f"({shortened['length_km'].sum():,.1f} km of line gone).",
        f"- Markets in both builds: {len(markets)}; {faster} faster and {slower} slower from a hub by more than "
        f"3 minutes, {int(markets['gained_reach'].sum())} newly reachable, {int(markets['lost_reach'].sum())} no "
        f"longer reachable; {markets['hours_cut'].sum():,.1f} market-hours cut in all.",
        "",
        "## Per province (markets in both builds)",
        "",
        "| Province | Markets before → after | Median hub → market: before → after | Change | Market-hours cut |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in provinces.itertuples():
        change = r.hub_h_median_change
        change_text = "–" if not np.isfinite(change) else f"{change:+.2f} h"
        lines.append(
            f"| {r.province_name} ({r.province}) | {r.markets_before} → {r.markets_after} | "
            f"{format_hours(r.hub_h_median_before)} → {format_hours(r.hub_h_median_after)} | {change_text} | "
            f"{r.market_hours_cut:,.2f} |"
        )
    lines += ["", "## New, retagged or extended roads that cut the most market-hours", ""]
    if segments.empty:
        lines.append("No added, retagged or extended road carries any market's route in the later build.")
    else:
        lines += [
            "A market whose route runs along two such roads counts for both, so the rows do not add up.",
            "",
            "| OSM way | Change | Class | Name | km | Routes along it | Faster | Market-hours cut | Newly reached |",
            "|---|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for r in segments.head(20).itertuples():
            lines.append(
                f"| way/{r.osm_id} | {_change_words(r)} | {r.highway} | {_cell(r.name)} | {r.length_km:,.1f} | "
                f"{r.markets} | {r.markets_faster} | {r.market_hours_cut:,.2f} | {r.gained_reach} |"
            )
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    """Outside text (an OSM name or tag) as a Markdown table cell: nothing for none, no column breaks."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return text.replace("|", "/").replace("\n", " ")


def _change_words(row) -> str:
    if row.change == "retagged":
        return f"retagged (was {_cell(row.tags_before)})"
    return "extended (new stretch of a way in both)" if row.change == "extended" else str(row.change)
