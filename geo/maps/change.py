"""The map of ``hamji compare``: each market by the change in its hub time, and the roads added or removed."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo import settings
from geo.change import CAVEAT, BuildComparison
from geo.maps.base import (
    MapInputs,
    _bounds,
    _crossing_legend_items,
    _legend,
    _new_map,
    _outline_legend_items,
    _page,
    _page_furniture,
    _road_legend_items,
)
from geo.maps.channels import add_channels
from geo.maps.layers import MarketMarkers, _add_crossings, _add_outlines, _add_roads, _finish
from geo.maps.pages import CHANGE_CLASSES, GAINED_COLOUR, LOST_COLOUR, _change_text
from geo.maps.style import INDEX_FILE
from geo.maps.text import _table, _text, escape, market_label
from geo.reach import format_hours

#: The roads in one build and not the other: change -> (colour, weight, legend words).
ROAD_CHANGE_STYLES = {
    "added": ("#00a651", 5, "road in the later build only (new to the map)"),
    "removed": ("#e7298a", 4, "road in the earlier build only"),
    "retagged": ("#1f78b4", 5, "road in both, with another class, surface or direction"),
    "extended": ("#66c2a5", 5, "new stretch of a road in both (new to the map)"),
    "shortened": ("#fb9a99", 4, "stretch of a road in the earlier build only"),
}


def change_map(inputs: MapInputs, result: BuildComparison) -> folium.Map:
    """The later build's roads and markets, each market coloured by its change in hub → market time.

    ``inputs`` are the later build's (see :func:`geo.maps.output.map_inputs`).
    """
    m = _new_map(inputs)
    m.fit_bounds(_bounds(inputs.markets if len(inputs.markets) else inputs.roads))
    _add_outlines(m, inputs)
    _add_roads(m, inputs.roads)
    _add_road_changes(m, result.roads)
    channel_items, _ = add_channels(m, inputs)
    _add_crossings(m, inputs.crossings, inputs.assumptions.unknown_crossings)
    _add_market_changes(m, inputs.markets, result.markets)
    _finish(m)
    root = _page(m)
    before, after = result.info["before"], result.info["after"]
    subtitle = escape(
        f"From {before['source']} ({before['date']}) to {after['source']} ({after['date']}): "
        f"{int((result.roads['change'] == 'added').sum())} roads added, "
        f"{int((result.roads['change'] == 'retagged').sum())} retagged, "
        f"{int((result.roads['change'] == 'extended').sum())} drawn longer, "
        f"{result.markets['hours_cut'].sum():,.1f} market-hours cut."
    )
    _page_furniture(
        root,
        inputs,
        "Change between two builds",
        subtitle + "<br><small>" + escape(CAVEAT) + "</small>",
        index_href=INDEX_FILE,
    )
    items = [f'<i class="dot" style="background:{colour}"></i>{escape(label)}' for _, colour, label in CHANGE_CLASSES]
    items += [
        f'<i class="dot" style="background:{LOST_COLOUR}"></i>no longer reachable',
        f'<i class="dot" style="background:{GAINED_COLOUR}"></i>newly reachable',
    ]
    roads = [
        f'<i class="line" style="border-top:{weight}px solid {colour}"></i>{escape(words)}'
        for colour, weight, words in ROAD_CHANGE_STYLES.values()
    ]
    _legend(
        root,
        [
            ("Change in hub → market time", items),
            ("Roads changed", roads),
            ("Crossings", _crossing_legend_items() + channel_items),
            ("Roads", _road_legend_items()),
            ("Provinces", _outline_legend_items()),
        ],
    )
    return m


def _add_road_changes(m: folium.Map, roads: gpd.GeoDataFrame) -> None:
    for change, (colour, weight, words) in ROAD_CHANGE_STYLES.items():
        chosen = roads[roads["change"] == change]
        if chosen.empty:
            continue
        rows = zip(chosen["osm_id"], chosen["name"], chosen["highway"], chosen["length_km"], chosen["tags_before"])
        tips = [
            escape(
                f"way/{i}: {_text(name) or 'unnamed'} ({highway}, {km:,.1f} km), {words}"
                + (f" (was {_text(was)})" if _text(was) else "")
            )
            for i, name, highway, km, was in rows
        ]
        data = gpd.GeoDataFrame({"tip": tips}, geometry=chosen.geometry.values, crs=settings.STORE_CRS)
        folium.GeoJson(
            data,
            name=f"Roads {change} ({len(chosen)})",
            style_function=lambda _, c=colour, w=weight: {"color": c, "weight": w, "opacity": 0.9},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(m)


def _colour(row: pd.Series) -> str:
    if row["lost_reach"]:
        return LOST_COLOUR
    if row["gained_reach"]:
        return GAINED_COLOUR
    if pd.isna(row["change_h"]):
        return settings.MAP_UNREACHABLE_COLOUR
    return next(colour for upper, colour, _ in CHANGE_CLASSES if row["change_h"] < upper)


def _add_market_changes(m: folium.Map, markets: gpd.GeoDataFrame, changes: pd.DataFrame) -> None:
    """One circle per market of the later build that the earlier one has too."""
    group = folium.FeatureGroup(name="Markets: change in hub → market time")
    by_key = changes.set_index(["osm_type", "osm_id"])
    drawn = MarketMarkers()
    for _, market in markets.iterrows():
        key = (market["osm_type"], market["osm_id"])
        if key not in by_key.index:
            continue  # newly mapped: no earlier time to compare with
        row = by_key.loc[key]
        change = _change_text(row["change_h"])  # signed, in the units of every other time
        pairs = [
            ("Market", escape(market_label(market))),
            ("Province", escape(_text(market.get("province")))),
            (
                "Hub → market",
                escape(f"{format_hours(row['total_h_before'])} → {format_hours(row['total_h_after'])} ({change})"),
            ),
        ]
        tip = f"<b>{escape(market_label(market))}</b><br>" + escape(f"{change} from a hub")
        drawn.add(market.geometry, _colour(row), tip, _table(pairs))
    drawn.add_to(group)
    group.add_to(m)
