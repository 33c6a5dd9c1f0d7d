"""The layers drawn on the maps: roads, corridors, crossings, hubs, markets, outlines, and their popups."""

from __future__ import annotations

import json
import math

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium import plugins

from geo import settings
from geo.crossings import crossing_label, crossing_name
from geo.maps.base import MapInputs, _SearchBox
from geo.maps.style import AVOIDED_LINE, BORDER_LINE, CROSSING_COLOURS, GROUP_OUTLINES, ROAD_STYLES, time_colour
from geo.maps.text import (
    Citations,
    StaticHtml,
    _link,
    _table,
    _text,
    escape,
    list_origin,
    market_label,
    market_other_names,
    plural,
    search_text,
)
from geo.reach import format_hours, format_share, people_basis_text
from geo.status import ALSO, SHUT_ON, UNKNOWN_STATUS


def merge_lines(frame: gpd.GeoDataFrame, by: list[str]) -> gpd.GeoDataFrame:
    """One (multi)line per group of ``by``, touching ways joined end to end.

    A national network is tens of thousands of short OSM ways; as GeoJSON
    features each repeats its properties and breaks the line, so merging
    first makes the maps several times smaller and faster to draw.
    """
    if frame.empty:
        return frame[[*by, "geometry"]]
    rows = []
    keys = frame[by].astype(object).where(frame[by].notna(), None)
    for key, index in keys.groupby(by if len(by) > 1 else by[0], dropna=False, sort=True).groups.items():
        key = key if isinstance(key, tuple) else (key,)
        lines = shapely.get_parts(frame.geometry.values[frame.index.get_indexer(index)])
        merged = shapely.line_merge(shapely.multilinestrings(lines))
        rows.append({**dict(zip(by, key)), "geometry": merged})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs)


def _add_roads(m: folium.Map, roads: gpd.GeoDataFrame) -> None:
    for label, classes, colour, weight, show in ROAD_STYLES.values():
        chosen = roads[roads["highway"].str.removesuffix("_link").isin(classes)]
        if chosen.empty:
            continue
        tips = [
            escape(f"{_text(name) or 'unnamed'} ({highway})")
            for name, highway in zip(chosen["name"], chosen["highway"])
        ]
        data = gpd.GeoDataFrame({"tip": tips}, geometry=chosen.geometry.values, crs=settings.STORE_CRS)
        folium.GeoJson(
            data,
            name=label,
            show=show,
            style_function=lambda _, c=colour, w=weight: {
                "color": c,
                "weight": w,
                "opacity": 0.8,
                "className": AVOIDED_LINE,
            },
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(m)


def _add_corridors(m: folium.Map, corridors: gpd.GeoDataFrame) -> None:
    if corridors.empty:
        return
    counts = corridors["routes"].astype(int).to_numpy()
    tips = [escape(f"{count} market route{'' if count == 1 else 's'} use this road") for count in counts]
    data = gpd.GeoDataFrame({"tip": tips, "routes": counts}, geometry=corridors.geometry.values, crs=settings.STORE_CRS)
    folium.GeoJson(
        data,
        name="Trade corridors (hub → crossing → market)",
        style_function=lambda f: {
            "color": "#5f3dc4",
            "opacity": 0.75,
            "weight": 2 + 2 * math.log2(1 + f["properties"]["routes"]),
            "className": AVOIDED_LINE,
        },
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(m)


def crossing_popup(row: pd.Series, unknown_crossings: str = "closed") -> str:
    """A crossing's gazetteer facts, routing result and sources (each cited once) as escaped HTML.

    ``unknown_crossings`` is the run's ``--unknown-crossings``: whether a
    crossing of unknown status was routed (``open``) or left out (``closed``).
    """
    sources = Citations()

    def with_source(value, source) -> str:
        text = escape(_text(value))
        return text + sources.cite(source) if text else ""

    usable = bool(row.get("usable"))
    precision = _text(row.get("coord_precision_m"))
    pairs = [
        ("Crossing", escape(crossing_name(row))),
        (
            "Korean / Chinese",
            escape(" / ".join(t for t in (_text(row.get("name_ko")), _text(row.get("name_zh"))) if t)),
        ),
        ("Towns", escape(" – ".join(t for t in (_text(row.get("kp_town")), _text(row.get("cn_town"))) if t))),
        ("Mode", escape(_text(row.get("mode")))),
        ("Status", with_source(row.get("status"), row.get("status_source"))),
        ("Opened", with_source(row.get("year_opened"), row.get("year_opened_source"))),
        ("Rebuilt", with_source(row.get("year_rebuilt"), row.get("year_rebuilt_source"))),
        # Where sources disagree on the year, both are shown.
        ("Opened (other source)", with_source(row.get("year_opened_alt"), row.get("year_opened_alt_source"))),
        ("Shut", shut_periods(row.get("periods"), sources)),
        ("Location", with_source(f"±{precision} m" if precision else "", row.get("coord_source"))),
        ("Facts", sources.cite(row.get("facts_source")).strip()),
        ("In OSM", escape(_text(row.get("osm_ids")) or "no")),
        ("Routing", escape(routing_text(row, unknown_crossings))),
        *(_crossing_result(row) if usable else []),
        ("Sources", sources.listing()),
    ]
    return _table(pairs)


def routing_text(row: pd.Series, unknown_crossings: str = "closed") -> str:
    """What routing made of a crossing, in words (plain text); for one of unknown status, that its status is
    unknown and whether this run routed it (only ``--unknown-crossings open`` does).

    A crossing of unknown status may also lack a road near it; that reason, found first, hid the other
    ("not used: no road within 2,000 m" read as though the crossing were known to be open).
    """
    usable, reason = bool(row.get("usable")), _text(row.get("reason"))
    if row.get("status") != "unknown":
        return "usable" if usable else f"not used: {reason}"
    rule = f"{UNKNOWN_STATUS}: routed only with --unknown-crossings open"
    if unknown_crossings != "open":
        # geo.status says the unknown status first, then (after ALSO) what the data says (no road near).
        other = reason.partition(ALSO)[2] if reason.startswith(UNKNOWN_STATUS) else reason
        besides = f"; besides, {other}" if other else ""
        return f"not used: {rule}, and this run leaves unknown crossings out{besides}"
    if usable:
        return f"usable, taken as open: {rule}, which this run gives"
    return f"not used: {rule}, which this run gives, but {reason or 'it could not be used'}"


def crossing_state(row: pd.Series) -> tuple[str, str]:
    """A crossing's colour key in :data:`CROSSING_COLOURS` and the word for it in its tooltip."""
    shut = str(row.get("reason") or "").startswith(SHUT_ON)
    usable = bool(row.get("usable", True))
    state = "closed" if row["status"] == "closed" or shut else "open" if usable else "unusable"
    if row["status"] == "unknown":
        # Not "unusable" nor only "closed": nobody knows whether it is open; routed only when taken as open.
        done = "routed as open" if usable else "shut on this day" if state == "closed" else "not routed"
        return state, f"{UNKNOWN_STATUS}, {done}"
    return state, state


def crossing_tip(row: pd.Series, word: str) -> str:
    """``Name (mode, state)``, the mode left out where the name says it already ("Namyang–Tumen (rail)")."""
    return crossing_label(row, word)


def shut_periods(text, sources: Citations) -> str:
    """Each period a crossing was shut (``shut A to B (why): sources``), its sources numbered like the others."""
    periods = [p if p.startswith("shut ") else f"shut {p}" for p in _text(text).split("; shut ") if p]
    lines = []
    for period in periods:
        what, _, cited = period.partition(": ")
        lines.append(escape(what) + sources.cite(cited))
    return "<br>".join(lines)


def _crossing_result(row: pd.Series) -> list[tuple[str, str]]:
    """What routing made of a usable crossing (a crossing not used has no fastest hub to speak of)."""
    served = row.get("markets_served")
    return [
        (
            "Fastest hub",
            escape(
                f"{_text(row.get('hub'))}, {format_hours(row.get('hub_crossing_h'))}"
                + (f" ({_text(row.get('hub_via'))})" if _text(row.get("hub_via")) else "")
                + _transfers_note(row)
            )
            if _text(row.get("hub"))
            else "",
        ),
        ("Border penalty", escape(format_hours(row.get("penalty_h")))),
        ("Markets served", escape(plural(int(served), "market") if pd.notna(served) else "")),
    ]


def _transfers_note(row: pd.Series) -> str:
    """For a rail crossing, how much of its fastest hub's hours is loading and unloading (the 6 h of a 2 min trip)."""
    if row.get("mode") != "rail":
        return ""
    return f", of it {format_hours(2 * settings.RAIL_TRANSFER_H)} loading and unloading the train"


#: Which label stays where two would overlap (higher first; see ``_MAP_SETUP_JS`` in :mod:`geo.maps.base`).
LABEL_RANKS = {"province": 3, "hub": 2, "crossing": 1}


def _label(kind: str, english: str, *local: str) -> str:
    """A place label (escaped HTML): the English name, then the local ones smaller."""
    others = " · ".join(escape(t) for t in local if t)
    return (
        f'<div class="hamji-label hamji-{kind}-label" data-rank="{LABEL_RANKS[kind]}">{escape(english)}'
        + (f"<br><span>{others}</span>" if others else "")
        + "</div>"
    )


def _add_crossings(
    m: folium.Map, crossings: gpd.GeoDataFrame, unknown_crossings: str = "closed"
) -> folium.FeatureGroup:
    """The crossings, labelled in English, Korean and Chinese (from zoom :data:`geo.maps.style.LABEL_ZOOM`);
    ``unknown_crossings``: the run's ``--unknown-crossings``, which their popups report."""
    group = folium.FeatureGroup(name="Border crossings")
    # A sea link is drawn as a line from port to port (geo.maps.channels), not as a crossing at its Korean port.
    for _, row in crossings[crossings["mode"] != "sea"].iterrows():
        state, word = crossing_state(row)
        shape = "rail" if row["mode"] == "rail" else "road"
        name = crossing_name(row)
        korean, chinese = _text(row.get("name_ko")), _text(row.get("name_zh"))
        icon = folium.DivIcon(
            html=f'<div class="hamji-crossing {shape}" style="background:{CROSSING_COLOURS[state]}"></div>'
            + _label("crossing", name, korean, chinese),
            icon_size=(18, 18),
            icon_anchor=(9, 9),
            class_name="hamji-crossing-icon",
        )
        marker = folium.Marker(
            [row.geometry.y, row.geometry.x],
            icon=icon,
            tooltip=escape(crossing_tip(row, word)),
            popup=folium.Popup(crossing_popup(row, unknown_crossings), max_width=420),
        )
        # What the search box finds it by: every name it goes by.
        names = " ".join(filter(None, (name, korean, chinese)))
        marker.options["searchName"] = escape(search_text(names) + " (crossing)")
        marker.add_to(group)
    group.add_to(m)
    return group


def _add_hubs(m: folium.Map, hubs: gpd.GeoDataFrame) -> None:
    """The Chinese wholesale hubs, labelled in English and Chinese."""
    group = folium.FeatureGroup(name="Chinese wholesale hubs")
    for _, row in hubs.iterrows():
        # OSM's name:zh where the place has one, else the Chinese name the hub is matched by.
        english = _text(row["hub"])
        chinese = _text(row.get("name_zh")) or settings.HUBS.get(english, "")
        icon = folium.DivIcon(
            html='<div class="hamji-hub"></div>' + _label("hub", english, chinese),
            icon_size=(20, 20),
            icon_anchor=(10, 10),
            class_name="hamji-hub-icon",
        )
        tip = escape(f"{english} ({chinese}), wholesale hub" if chinese else f"{english}, wholesale hub")
        folium.Marker([row.geometry.y, row.geometry.x], icon=icon, tooltip=tip).add_to(group)
    group.add_to(m)


def crossing_names(crossings: pd.DataFrame) -> dict[str, str]:
    """Crossing id -> what a reader calls it (:func:`geo.crossings.crossing_name`); ids stay out of the maps.

    The gazetteer's crossings and the sea links are named too: a scenario's map
    names the baseline's crossings, which its own layer may not hold (a land-only
    scenario has no sea links).
    """
    from geo.sources.gazetteer import CROSSINGS
    from geo.sources.maritime import SEA_LINKS

    names = {c.crossing_id: c.name_en for c in CROSSINGS} | {link.link_id: link.name_en for link in SEA_LINKS}
    if not crossings.empty:
        names |= {str(row["crossing_id"]): crossing_name(row) for _, row in crossings.iterrows()}
    return names


def named(crossing_id, names: dict[str, str]) -> str:
    """A crossing id as its name (plain text; empty for none)."""
    text = _text(crossing_id)
    return names.get(text, text) if text else ""


def market_popup(row: pd.Series, names: dict[str, str] | None = None, gravity: float | None = None) -> str:
    """A market's route and times as escaped HTML; ``names`` turns crossing ids into names; ``gravity``: its
    gravity access if already worked out for every market at once (else from the row)."""
    names = names or {}
    route = ""
    if row.get("reachable"):
        route = (
            f"{_text(row['hub'])} → {named(row['best_crossing'], names)} → market: {format_hours(row['total_h'])}, "
            f"{row['total_km']:.1f} km (border {format_hours(row['penalty_h'])})"
        )
    pairs = [
        ("Market", escape(market_label(row))),
        *market_name_rows(row),
        ("Province", escape(province_label(row))),
        ("Nearest crossing", escape(named(row.get("nearest_crossing"), names) or "none")),
        ("Time to it", escape(format_hours(row.get("crossing_h")))),
        ("Road distance", escape(f"{row['crossing_km']:.1f} km" if pd.notna(row.get("crossing_km")) else "")),
        ("Fastest from China", escape(route)),
        ("Not reached", escape(_text(row.get("reason")))),
        ("Distance to road", escape(f"{row['snap_m']:.0f} m" if pd.notna(row.get("snap_m")) else "")),
        *market_gravity_rows(row, gravity),
        *market_origin_rows(row),
    ]
    return _table(pairs)


def market_origin_rows(row: pd.Series) -> list[tuple[str, str]]:
    """Where a market comes from, as escaped popup rows: its OSM object, or its market list's row and source."""
    origin = list_origin(row)
    if origin is None:
        return [("OSM", escape(f"{row['osm_type']}/{row['osm_id']}"))]
    where, source = origin
    return [("Market list", escape(where)), ("Source", _link(source))]


def province_label(row: pd.Series) -> str:
    """A market's province as people read it: "Kangwon (KP-07)"."""
    code, name = _text(row.get("province")), province_name(row)
    return f"{name} ({code})" if name and code else name or code


def province_name(row: pd.Series) -> str:
    """The province's name, from its code where the row has none (scenario and compare layers keep only the
    code, and their popups read "Province KP-09"); the code if it is no region's."""
    from geo.regions import BY_CODE

    code = _text(row.get("province"))
    return _text(row.get("province_name")) or (BY_CODE[code].name if code in BY_CODE else code)


def market_gravity_rows(row: pd.Series, value: float | None = None) -> list[tuple[str, str]]:
    """A market's own gravity access (:func:`geo.access.gravity_access`), when the row has its hours from each hub."""
    from geo import access

    columns = access.hub_columns(row)
    if not columns:
        return []
    if value is None:
        hours = pd.DataFrame([pd.to_numeric(row[columns], errors="coerce").to_numpy(float)], columns=columns)
        value = float(access.gravity_access(hours).iloc[0])
    return [(f"Gravity access (half-life {settings.GRAVITY_HALF_LIFE_H:g} h)", f"{value:.3f}")]


def market_name_rows(row: pd.Series) -> list[tuple[str, str]]:
    """A market's English and romanised names (escaped popup rows), where OSM has them and they differ."""
    return [(escape(label), escape(name)) for label, name in market_other_names(row).items()]


def market_tip_name(row: pd.Series) -> str:
    """A market's name in a tooltip (escaped HTML): its label in bold, then its English name if another."""
    english = market_other_names(row).get("English") or market_other_names(row).get("Romanised")
    return f"<b>{escape(market_label(row))}</b>" + (f" ({escape(english)})" if english else "")


def _add_markets(
    m: folium.Map,
    markets: gpd.GeoDataFrame,
    crossings: pd.DataFrame,
    name: str = "Markets (colour: time to crossing)",
) -> folium.FeatureGroup:
    from geo import access

    group = folium.FeatureGroup(name=name)
    names = crossing_names(crossings)
    gravity = access.gravity_access(markets) if access.hub_columns(markets) else None  # once, not per popup
    drawn = MarketMarkers()
    for index, row in markets.iterrows():
        hours = row.get("crossing_h")
        nearest = named(row.get("nearest_crossing"), names)
        tip = f"{market_tip_name(row)}<br>" + escape(
            f"{format_hours(hours)} to the nearest crossing" + (f" ({nearest})" if nearest else "")
        )
        own = None if gravity is None else float(gravity.loc[index])
        drawn.add(row.geometry, time_colour(hours), tip, market_popup(row, names, own), market_search_name(row))
    drawn.add_to(group)
    group.add_to(m)
    return group


def market_search_name(row: pd.Series) -> str:
    """What the search box finds a market by (escaped): each of its names, then its province.

    OSM's ``name`` is often only the Korean one, so the English and romanised
    names are added: the README promises a market is found by its English name
    too. Names are matched as :func:`geo.maps.text.search_text` makes them.
    """
    label = " ".join([market_label(row), *market_other_names(row).values()])
    province = province_name(row)
    return escape(search_text(f"{label} ({province})" if province else label))


class MarketMarkers(MacroElement):
    """Every market of one layer, drawn as a circle with its tooltip and popup by one loop in the page.

    folium makes three elements a marker (circle, tooltip, popup) and compiles
    each one's rendered text again as a Jinja2 template: 5,400 compiles for
    the 1,800 markets of a build's maps, a quarter of the maps stage. Here the
    markets are data (JSON) read by one fixed script, and the script goes into
    the page as it is (:class:`~geo.maps.text.StaticHtml`): outside text is
    never part of a template's source, not even escaped. Each circle is a
    Leaflet ``circleMarker`` of class ``hamji-market`` in the group, as
    folium's were, so search, popups and tests see the same layers.
    """

    def __init__(self) -> None:
        super().__init__()
        self._name = "HamjiMarkets"
        self.rows: list[list] = []

    def add(self, point, fill: str, tip: str, popup: str, search_name: str | None = None) -> None:
        """One market at ``point`` (lon/lat); ``tip``, ``popup`` and ``search_name`` must already be escaped HTML."""
        self.rows.append([round(point.y, 5), round(point.x, 5), fill, tip, popup, search_name])

    def render(self, **kwargs) -> str:
        figure, group = self.get_root(), self._parent
        if not isinstance(figure, Figure) or group is None:
            raise TypeError("the markets must be added to a feature group of a map before the map is rendered")
        data = json.dumps(self.rows, ensure_ascii=False, separators=(",", ":"))
        # Nothing in the data may end the script or open a comment: "<" is written as its JSON escape.
        data = data.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        script = _MARKETS_JS % {
            "map": _map_of(group).get_name(),
            "group": group.get_name(),
            "rows": data,
            "pane": MARKET_PANE,
            "z": MARKET_PANE_Z,
        }
        figure.script.add_child(StaticHtml(script), name=self.get_name())
        return ""


def _map_of(element: Element) -> folium.Map:
    """The map ``element`` is drawn on, however deep in groups."""
    parent = element._parent
    while parent is not None and not isinstance(parent, folium.Map):
        parent = parent._parent
    if parent is None:
        raise TypeError("the markets' feature group must be added to a map before the map is rendered")
    return parent


#: The markets' own Leaflet pane, above the marker pane (600: crossings, stations, hubs) and below the
#: tooltips (650) and popups (700). In the marker pane's shadow 8 of the demo's 20 markets lay under a
#: crossing's or station's icon at the first zoom, and a click on one opened the crossing; a market is a
#: small circle, so the icons stay clickable around it.
MARKET_PANE, MARKET_PANE_Z = "hamjiMarkets", 610

#: The markets' loop: the options, tooltip and popup folium gave each market's circle, in the markets' pane.
_MARKETS_JS = """
(function(map, group, rows) {
  if (!map.getPane('%(pane)s')) map.createPane('%(pane)s').style.zIndex = %(z)d;
  rows.forEach(function(r) {
    var options = {radius: 7, weight: 1.5, color: '#212529', fill: true, fillColor: r[2], fillOpacity: 0.9,
                   className: 'hamji-market', pane: '%(pane)s'};
    if (r[5] !== null) options.searchName = r[5];
    var content = document.createElement('div');
    content.style.width = '100%%';
    content.style.height = '100%%';
    content.innerHTML = r[4];
    L.circleMarker([r[0], r[1]], options)
      .bindPopup(L.popup({maxWidth: 420}).setContent(content))
      .bindTooltip('<div>' + r[3] + '</div>', {sticky: true})
      .addTo(group);
  });
})(%(map)s, %(group)s, %(rows)s);
"""


def province_popup_rows(row: pd.Series, intervals: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """A province's reach-table row as escaped (label, text) pairs for its popup.

    ``intervals`` (:func:`interval_popup_rows`) follow the headline's rows, before the time to a crossing.
    """
    published = (
        "–"
        if pd.isna(row["published_markets"])
        else f"{row['published_markets']} ({row['published_by']}, {row['published_year']})"
    )
    pairs = [
        ("Markets in OSM", f"{row['markets']}"),
        ("Published count", published),
        ("Markets per 1,000 km²", f"{row['markets_per_1000km2']:.2f}"),
        ("Median hub → market (headline)", format_hours(row["hub_h_median"])),
    ]
    pairs += [
        (f"Markets within {h} h of a hub", format_share(row[f"hub_within_{h}h"])) for h in settings.REACH_THRESHOLDS_H
    ]
    pairs += intervals or []
    pairs += [
        ("Median time to crossing", format_hours(row["crossing_h_median"])),
        ("90th percentile to crossing", format_hours(row["crossing_h_p90"])),
    ]
    pairs += [
        (f"Markets within {h} h of a crossing", format_share(row[f"crossing_within_{h}h"]))
        for h in settings.REACH_THRESHOLDS_H
    ]
    pairs += [("Unreachable from a crossing", format_share(row["crossing_unreachable"]))]
    if "population" in row and not pd.isna(row["population"]):
        pairs += [
            ("People (2008 census)", f"{int(row['population']):,}"),
            ("People per OSM market", "–" if pd.isna(row["people_per_market"]) else f"{row['people_per_market']:,.0f}"),
            ("People within 4 h of a hub (weighted)", format_share(row["hub_within_4h_people"])),
        ]
        if "people_basis" in row:
            pairs.append(("People weighted by", people_basis_text(row["people_basis"], row["people_areas_coverage"])))
    return [(escape(label), escape(text)) for label, text in pairs + access_popup_rows(row)]


def interval_popup_rows(uncertainty: pd.DataFrame | None, code: str) -> list[tuple[str, str]]:
    """A province's 5–95 % intervals and the groups' probability (``hamji uncertainty``) as (label, text), or none.

    ``uncertainty`` is only given while it was made from the routes drawn
    (:func:`geo.pipeline.current_uncertainty`).
    """
    from geo.regions import BORDER, FAR
    from geo.uncertainty import (
        NEITHER_REACHED,
        ONE_MARKET_NOTE,
        STATISTIC_HEADINGS,
        STATISTICS,
        draws_phrase,
        neither_reached,
        one_market,
    )

    if uncertainty is None or code not in set(uncertainty["code"]):
        return []
    row = uncertainty.set_index("code").loc[code]
    if not row["markets"] > 0:
        return []
    draws = int(row["draws"])

    def interval(stat: str) -> str:
        fmt = format_hours if stat.endswith("median") else format_share
        return f"{fmt(row[f'{stat}_p5'])} to {fmt(row[f'{stat}_p95'])}"

    pairs = [(f"{h}: 5–95 % over {draws} draws", interval(s)) for h, s in zip(STATISTIC_HEADINGS, STATISTICS)]
    if one_market(row):
        pairs.append(("Interval", ONE_MARKET_NOTE))
    border, far = (uncertainty.set_index("code").loc[f"group:{g}"] for g in (BORDER, FAR))
    if not pd.isna(border["p_border_median_below_far"]):
        below = draws_phrase(float(border["p_border_median_below_far"]), draws)
        why = f": {NEITHER_REACHED}" if neither_reached(border, far) else ""
        pairs.append(("Border median below far", f"{below} ({border['p_border_median_below_far']:.0%}){why}"))
    return pairs


def access_popup_rows(row: pd.Series) -> list[tuple[str, str]]:
    """The standard access measures of a reach-table row (when the table has them), as (label, text) pairs."""

    def count(value) -> str:
        return "–" if pd.isna(value) else f"{float(value):,.0f}"

    pairs = []
    if "unreachable_no_road" in row:
        split = f"{count(row['unreachable_no_road'])} / {count(row['unreachable_no_route'])}"
        pairs.append(("Unreachable: no road / no route", split))
    if "hub_people_within_4h" in row:
        within = " / ".join(count(row[f"hub_people_within_{h}h"]) for h in settings.REACH_THRESHOLDS_H)
        hours = "/".join(str(h) for h in settings.REACH_THRESHOLDS_H)
        pairs.append((f"People within {hours} h of a hub", f"{within} of {count(row['people_counted'])}"))
    if "gravity_access" in row:
        value = "–" if pd.isna(row["gravity_access"]) else f"{row['gravity_access']:.3f}"
        pairs.append((f"Gravity access (half-life {settings.GRAVITY_HALF_LIFE_H:g} h)", value))
    return pairs


def _outline_style(feature: dict) -> dict:
    style = GROUP_OUTLINES.get(feature["properties"]["group"], GROUP_OUTLINES["other"])[0]
    return {**style, "fill": False}


#: How far (degrees) round the markets a province's name is placed: about what the maps show at first.
LABEL_VIEW_MARGIN_DEG = 0.3


def _label_anchors(provinces: gpd.GeoDataFrame, markets: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Where each province's name goes: inside the part of it around the markets, which the maps open on.

    A large province mostly out of view (Jilin) had its name at the view's
    edge, under the DEMO bar, or past it; one with no part there keeps its own point.
    """
    shapes = provinces.geometry
    if len(markets):
        minx, miny, maxx, maxy = markets.total_bounds
        margin = LABEL_VIEW_MARGIN_DEG
        view = shapely.box(minx - margin, miny - margin, maxx + margin, maxy + margin)
        clipped = shapes.intersection(view)
        # Only a part with area: a province touching the box at a point or along a line keeps its own point.
        shapes = clipped.where(~clipped.is_empty & clipped.geom_type.isin(["Polygon", "MultiPolygon"]), shapes)
    measured = gpd.GeoSeries(shapes.values, crs=settings.STORE_CRS).to_crs(settings.MEASURE_CRS)
    return measured.representative_point().to_crs(settings.STORE_CRS)


def _add_outlines(m: folium.Map, inputs: MapInputs) -> None:
    """Province outlines styled by group, their names, and the border line."""
    provinces = inputs.provinces
    if not provinces.empty:
        data = gpd.GeoDataFrame(
            {"group": provinces["group"].fillna("other").to_numpy()},
            geometry=provinces.geometry.values,
            crs=settings.STORE_CRS,
        )
        folium.GeoJson(data, name="Provinces (outline: group)", style_function=_outline_style).add_to(m)
        labels = folium.FeatureGroup(name="Province names")
        for (_, row), point in zip(provinces.iterrows(), _label_anchors(provinces, inputs.markets)):
            html = _label("province", _text(row["name"]), _text(row.get("name_ko")), _text(row.get("name_zh")))
            icon = folium.DivIcon(html=html, icon_size=(0, 0))
            folium.Marker([point.y, point.x], icon=icon).add_to(labels)
        labels.add_to(m)
    if not inputs.border.empty:
        folium.GeoJson(
            inputs.border[["geometry"]], name="China–North Korea border", style_function=lambda _: BORDER_LINE
        ).add_to(m)


def _finish(m: folium.Map, searched: list[folium.FeatureGroup] | None = None) -> None:
    """The controls every map has; ``searched``: the layers of markets and crossings the search box finds."""
    if searched:
        _SearchBox(searched).add_to(m)
    plugins.MiniMap(toggle_display=True, position="bottomright").add_to(m)
    plugins.Fullscreen(position="topleft").add_to(m)
    # Collapsed: open, it covered the popups of markets under it.
    folium.LayerControl(collapsed=True).add_to(m)
