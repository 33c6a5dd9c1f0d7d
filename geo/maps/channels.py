"""The other ways in on a map: railways with their stations, and sea links from a Chinese port to a Korean one.

A crossing is a point on the border; a train or a ship is a line. Railways are
drawn as a dark line with white dashes (the usual railway symbol, apart from
the grey roads), stations as white squares where goods move between train and
truck; a sea link as a blue dashed line from the Chinese port through its
waypoints to the Korean port, with a popup of its facts, each cited once.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geo import settings
from geo.maps.base import MapInputs
from geo.maps.layers import shut_periods
from geo.maps.style import RAIL_CASING, RAIL_DASHES, SEA_LINE
from geo.maps.text import Citations, _table, _text, escape
from geo.reach import format_hours
from geo.sources.gazetteer import periods_text
from geo.sources.maritime import SeaLink, find_sea_link
from geo.status import SHUT_ON

__all__ = [
    "RAILWAYS_LAYER",
    "SEA_LINKS_LAYER",
    "add_channels",
    "add_railways",
    "add_sea_links",
    "channel_legend_items",
    "railway_tip",
    "sea_link_points",
    "sea_link_popup",
]

RAILWAYS_LAYER = "Railways and stations"
SEA_LINKS_LAYER = "Sea links (Chinese port → Korean port)"
#: The OSM tags a railway's tooltip gives, as tagged, with the words they are shown under.
RAIL_TAGS_SHOWN = (("usage", "usage"), ("service", "service"), ("gauge", "gauge (mm)"), ("electrified", "electrified"))


def railway_tip(row: pd.Series) -> str:
    """A railway's tooltip (plain text): its name and the tags routing does not read but a reader may want.

    Examples
    --------
    >>> railway_tip(pd.Series({"name": "평의선", "usage": "main", "gauge": "1435", "service": None}))
    '평의선, railway: usage main, gauge (mm) 1435 (as tagged)'
    >>> railway_tip(pd.Series({"name": None}))
    'unnamed railway (no usage or service tagged)'
    """
    name = _text(row.get("name_en")) or _text(row.get("name")) or "unnamed"
    tags = [f"{words} {_text(row.get(tag))}" for tag, words in RAIL_TAGS_SHOWN if _text(row.get(tag))]
    if not tags:
        return f"{name} railway (no usage or service tagged)"
    return f"{name}, railway: {', '.join(tags)} (as tagged)"


def add_railways(
    m: folium.Map, railways: gpd.GeoDataFrame | None, stations: gpd.GeoDataFrame | None, show: bool = True
) -> bool:
    """Draw the railways and stations in one layer; False (nothing drawn) when the layers hold no railway."""
    if railways is None or railways.empty:
        return False
    group = folium.FeatureGroup(name=RAILWAYS_LAYER, show=show)
    tips = [escape(railway_tip(row)) for _, row in railways.iterrows()]
    data = gpd.GeoDataFrame({"tip": tips}, geometry=railways.geometry.values, crs=settings.STORE_CRS)
    folium.GeoJson(data[["geometry"]], style_function=lambda _: RAIL_CASING, interactive=False).add_to(group)
    folium.GeoJson(
        data, style_function=lambda _: RAIL_DASHES, tooltip=folium.GeoJsonTooltip(["tip"], labels=False)
    ).add_to(group)
    for _, row in (stations if stations is not None else gpd.GeoDataFrame()).iterrows():
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            icon=folium.DivIcon(
                html='<div class="hamji-station"></div>',
                icon_size=(10, 10),
                icon_anchor=(5, 5),
                class_name="hamji-station-icon",
            ),
            tooltip=escape(_station_tip(row)),
        ).add_to(group)
    group.add_to(m)
    return True


def _station_tip(row: pd.Series) -> str:
    name = _text(row.get("name_en")) or _text(row.get("name")) or "unnamed"
    kind = "freight yard" if row.get("railway") == "yard" else "station"
    if row.get("country") != "KP":
        reach_m = settings.HUB_STATION_MAX_M
        return f"{name} {kind} (China): a hub within {reach_m / 1000:g} km may load its goods onto a train here"
    return f"{name} {kind}: goods move between train and truck ({settings.RAIL_TRANSFER_H:g} h)"


def sea_link_popup(row: pd.Series, link: SeaLink, day: str) -> str:
    """A sea link's facts and what routing made of it on ``day``, as escaped HTML; each source cited once."""
    sources = Citations()
    usable = bool(row.get("usable"))
    reason = _text(row.get("reason"))
    status = "usable" if usable else "shut (see Shut)" if reason.startswith(SHUT_ON) else f"not used: {reason}"
    pairs = [
        ("Sea link", escape(f"{link.cn_port} → {link.kp_port}")),
        (
            "Distance",
            escape(f"{link.distance_nm:,.0f} nmi ({link.distance_nm * 1.852:,.0f} km)")
            + sources.cite(link.distance_source),
        ),  # fmt: skip
        ("Ship speed", escape(f"{settings.SEA_SPEED_KN:g} kn (an assumption: no published speed found)")),
        ("In port", escape(f"{settings.SEA_DWELL_H:g} h loading and unloading (an assumption)")),
        ("Wait for a sailing", escape(format_hours(link.wait_h)) + sources.cite(link.wait_source)),
        ("Quay to quay", escape(format_hours(link.sea_hours()))),
        ("Customs at the port", escape(format_hours(row.get("penalty_h")))),
        ("Opened", escape(_text(link.year_opened) or "not known") + sources.cite(link.year_opened_source)),
        ("Status", escape("scheduled or reported service") + sources.cite(link.status_source)),
        ("Shut", shut_periods(periods_text(link.periods), sources)),
        (escape(f"On {day}"), escape(status)),
        (
            "Ports",
            escape(f"{link.cn_port}:")
            + sources.cite(link.cn_coord_source)
            + "<br>"
            + escape(f"{link.kp_port}:")
            + sources.cite(link.kp_coord_source),
        ),  # fmt: skip
        ("Markets served", escape(_text(row.get("markets_served")) if usable else "")),
        ("Sources", sources.listing()),
    ]
    return _table(pairs)


def _sea_links(crossings: pd.DataFrame) -> list[tuple[pd.Series, SeaLink]]:
    """The routes' sea links with their gazetteer entries (a link a newer or older build named is left out)."""
    sea = crossings[crossings["mode"] == "sea"] if "mode" in crossings else crossings.iloc[:0]
    found = [(row, _link_of(row["crossing_id"])) for _, row in sea.iterrows()]
    return [(row, link) for row, link in found if link is not None]


def sea_link_points(crossings: pd.DataFrame) -> list[tuple[float, float]]:
    """Every (lat, lon) a sea link is drawn through, ports included: what a map must show to show where it goes."""
    return [p for _, k in _sea_links(crossings) for p in [(k.cn_lat, k.cn_lon), *k.waypoints, (k.kp_lat, k.kp_lon)]]


def add_sea_links(m: folium.Map, crossings: pd.DataFrame, day: str) -> folium.FeatureGroup | None:
    """Draw each sea link of the routes' crossings as a line port to port; None when the run has no sea link."""
    links = _sea_links(crossings)
    if not links:
        return None
    group = folium.FeatureGroup(name=SEA_LINKS_LAYER)
    for row, link in links:
        state = "usable" if row.get("usable") else "not used"
        name = link.name_en.removesuffix(" (sea)")
        line = folium.PolyLine(
            [(link.cn_lat, link.cn_lon), *link.waypoints, (link.kp_lat, link.kp_lon)],
            tooltip=escape(f"{name} by sea, {link.distance_nm:,.0f} nmi ({state} on {day})"),
            popup=folium.Popup(sea_link_popup(row, link, day), max_width=420),
            **(SEA_LINE if row.get("usable") else {**SEA_LINE, "opacity": 0.45}),
        )
        line.options["searchName"] = escape(f"{name} (sea link)")
        line.add_to(group)
    group.add_to(m)
    return group


def _link_of(link_id) -> SeaLink | None:
    """The gazetteer's sea link (its ports and waypoints), or None for one a newer or older build named."""
    try:
        return find_sea_link(str(link_id))
    except KeyError:
        return None


def channel_legend_items(rail: bool, sea: bool) -> list[str]:
    """The legend's words for the channels drawn (none for a run that has neither)."""
    items = []
    if rail:
        items += ['<i class="rail"></i>railway (tooltip: usage, service as tagged)',
                  '<i class="station"></i>station: train ↔ truck']  # fmt: skip
    if sea:
        colour = SEA_LINE["color"]
        items.append(f'<i class="outline" style="border-top:3px dashed {colour}"></i>sea link, Chinese → Korean port')
    return items


def add_channels(
    m: folium.Map, inputs: MapInputs, rail_shown: bool = True
) -> tuple[list[str], list[folium.FeatureGroup]]:
    """Railways, stations and sea links on ``m``: their legend items, and the layers the search box should find.

    ``rail_shown`` False leaves the railways switched off at the start (the layer control shows them): on a
    map whose roads are coloured by time, a railway beside a road would hide its colour.
    """
    rail = add_railways(m, inputs.railways, inputs.stations, rail_shown)
    sea = add_sea_links(m, inputs.crossings, inputs.as_of_day)
    return channel_legend_items(rail, sea is not None), [sea] if sea is not None else []
