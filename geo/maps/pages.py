"""The map pages: overview, comparison, side by side, and a scenario's difference map."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Figure
from folium import plugins

from geo import settings
from geo.maps.base import (
    MapInputs,
    _area_legend_items,
    _bounds,
    _bounds_with,
    _columns,
    _crossing_legend_items,
    _fit_view,
    _legend,
    _MapScript,
    _new_map,
    _outline_legend_items,
    _page,
    _page_furniture,
    _road_legend_items,
    _SearchBox,
    _symbol_legend_items,
    _time_legend_items,
)
from geo.maps.catchments import add_catchments
from geo.maps.channels import add_channels, sea_link_points
from geo.maps.layers import (
    MarketMarkers,
    _add_corridors,
    _add_crossings,
    _add_hubs,
    _add_markets,
    _add_outlines,
    _add_roads,
    _finish,
    crossing_names,
    interval_popup_rows,
    market_name_rows,
    market_search_name,
    market_tip_name,
    named,
    province_popup_rows,
)
from geo.maps.style import (
    INDEX_FILE,
    ROAD_TIME_CASING,
    ROAD_TIME_LINE,
    SMALL_SCREEN_PX,
    band_label,
    time_colour,
)
from geo.maps.text import StaticHtml, _table, _text, escape, market_label, plural
from geo.reach import format_hours, headline

#: How strongly the comparison shades a province by its median hub → market time (the legend's swatches too).
PROVINCE_FILL_OPACITY = 0.35
#: The legend's words for a province left white: none of its markets is in the list (OSM's markets).
NO_MARKET = "no market in the list"


def _first_view(m: folium.Map, inputs: MapInputs) -> None:
    """Open a whole-build map on every market and every sea link to its Chinese port (markets first on a phone)."""
    markets = inputs.markets if len(inputs.markets) else inputs.roads
    _fit_view(m, _bounds_with(markets, sea_link_points(inputs.crossings)), _bounds(markets))


def overview_map(inputs: MapInputs) -> folium.Map:
    """Crossings, roads, corridors, hubs and markets of the whole build."""
    m = _new_map(inputs)
    _first_view(m, inputs)
    _add_outlines(m, inputs)
    _add_roads(m, inputs.roads)
    _add_corridors(m, inputs.corridors)
    channel_items, links = add_channels(m, inputs)
    _add_hubs(m, inputs.hubs)
    crossings = _add_crossings(m, inputs.crossings, inputs.assumptions.unknown_crossings)
    markets = _add_markets(m, inputs.markets, inputs.crossings)
    _finish(m, [markets, crossings, *links])
    root = _page(m)
    _page_furniture(
        root,
        inputs,
        "HamJi Explorer — trade routes from Jilin into North Korea",
        "Markets coloured by time to the nearest open crossing; purple lines are the roads the "
        "fastest hub → crossing → market routes use.",
    )
    _legend(
        root,
        [
            ("Time to nearest crossing", _time_legend_items()),
            ("Symbols", _symbol_legend_items() + channel_items),
            ("Roads", _road_legend_items()),
            ("Provinces", _outline_legend_items()),
        ],
    )
    return m


def comparison_map(inputs: MapInputs) -> folium.Map:
    """Provinces shaded by median hub → market time (the headline), with the roads coloured by hours from a crossing."""
    m = _new_map(inputs)
    kp = inputs.provinces[inputs.provinces["country"] == "KP"]
    m.fit_bounds(_bounds(kp if len(kp) else inputs.provinces))
    reach = inputs.reach.set_index("code")
    rows = [reach.loc[c] if c in reach.index else None for c in kp["code"]]
    model = inputs.assumptions.supply.name
    data = gpd.GeoDataFrame(
        {
            "code": kp["code"].to_numpy(),
            # A province with no market in the list has no median: white, "no market in the list" in the legend.
            "fill": [time_colour(r["hub_h_median"]) if r is not None and r["markets"] else "#ffffff" for r in rows],
            "tip": [escape(_province_tip(n, r, model)) for n, r in zip(kp["name"], rows)],
            "popup": [
                f"<b>{escape(n)} ({escape(c)})</b>"
                + (_table(province_popup_rows(r, interval_popup_rows(inputs.uncertainty, c))) if r is not None else "")
                for n, c, r in zip(kp["name"], kp["code"], rows)
            ],
        },
        geometry=kp.geometry.values,
        crs=settings.STORE_CRS,
    )
    folium.GeoJson(
        data,
        name="Provinces: median hub → market time",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": PROVINCE_FILL_OPACITY,
            "color": "#343a40",
            "weight": 1.5,
        },
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        popup=folium.GeoJsonPopup(["popup"], labels=False),
    ).add_to(m)
    _add_road_times(m, inputs.road_times)
    _add_outlines(m, inputs)  # the groups' outlines, the province names and the border line, over the shading
    catchment_items = add_catchments(m, inputs)
    channel_items, links = add_channels(m, inputs, rail_shown=False)
    crossings = _add_crossings(m, inputs.crossings, inputs.assumptions.unknown_crossings)
    markets = _add_markets(m, inputs.markets, inputs.crossings)
    _finish(m, [markets, crossings, *links])
    root = _page(m)
    intervals = inputs.interval_html()
    subtitle = escape(headline(inputs.reach)) + (f"<br><small>{intervals}</small>" if intervals else "")
    _page_furniture(root, inputs, "Border provinces against far provinces", subtitle)
    _legend(
        root,
        [
            (
                "Provinces: median hub → market time",
                [
                    "<small>its median market's time from a Chinese hub through the best<br>crossing "
                    f"(supply model {escape(model)}, penalty included)</small>",
                    _columns(_area_legend_items(PROVINCE_FILL_OPACITY, NO_MARKET)),
                ],
            ),
            (
                "Roads and markets: time to the nearest crossing",
                ["<small>each its own time from the nearest open crossing</small>", _columns(_time_legend_items())],
            ),
            ("Crossings", _crossing_legend_items() + channel_items),
            ("Catchments (layer control)", catchment_items or ["no market is routed"]),
            ("Provinces", _outline_legend_items()),
        ],
    )
    return m


def _province_tip(name: str, row: pd.Series | None, model: str) -> str:
    """A province's tooltip: the headline time, then the time to a crossing (plain text: the caller escapes it)."""
    if row is None:
        return name
    return (
        f"{name}: median {format_hours(row['hub_h_median'])} from a Chinese hub to market (supply model {model}), "
        f"{format_hours(row['crossing_h_median'])} from a crossing; " + plural(row["markets"], "market")
    )


def _add_road_times(m: folium.Map, road_times: gpd.GeoDataFrame) -> None:
    """North Korean roads coloured by hours from the nearest crossing, on a white casing.

    Lines keep their pixel width at every zoom, so the classes stay visible
    where areas around the roads would shrink to nothing.
    """
    group = folium.FeatureGroup(name="Roads: hours from the nearest crossing")
    for _, band in road_times.sort_values("from_h", ascending=False).iterrows():
        colour = time_colour(band["from_h"])
        tip = escape(f"{band_label(band['from_h'], band['to_h'])} from a crossing: {band['road_km']:,.0f} km of road")
        frame = gpd.GeoDataFrame({"tip": [tip]}, geometry=[band.geometry], crs=settings.STORE_CRS)
        folium.GeoJson(frame[["geometry"]], style_function=lambda _: ROAD_TIME_CASING).add_to(group)
        folium.GeoJson(
            frame,
            style_function=lambda _, c=colour: {**ROAD_TIME_LINE, "color": c},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(group)
    group.add_to(m)


def side_by_side_map(inputs: MapInputs) -> Figure:
    """North Hamgyong and South Hwanghae side by side, at the same zoom and on the same colour scale."""
    figure = Figure()
    reach = inputs.reach.set_index("code")
    maps, views = [], []
    for left, code in zip(("0%", "50%"), settings.SIDE_BY_SIDE):
        m = _new_map(inputs, width="50%", height="100%", left=left, top="0%", position="absolute")
        figure.add_child(m)
        province = inputs.provinces[inputs.provinces["code"] == code]
        _add_outlines(m, inputs)
        # Each side carries only the roads around its own province.
        minx, miny, maxx, maxy = (province if len(province) else inputs.provinces).total_bounds
        _add_roads(m, gpd.clip(inputs.roads, (minx - 0.3, miny - 0.3, maxx + 0.3, maxy + 0.3)))
        channel_items, links = add_channels(m, inputs)
        searched = [
            _add_markets(m, inputs.markets, inputs.crossings),
            _add_crossings(m, inputs.crossings, inputs.assumptions.unknown_crossings),
            *links,
        ]
        _SearchBox(searched).add_to(m)
        plugins.Fullscreen(position="topleft").add_to(m)
        folium.LayerControl(collapsed=True).add_to(m)
        row = reach.loc[code] if code in reach.index else None
        name = province["name"].iloc[0] if len(province) else code
        title = f"{name} ({code})" + (
            f": median {format_hours(row['hub_h_median'])} from a Chinese hub to market "
            f"({format_hours(row['crossing_h_median'])} from a crossing), {plural(row['markets'], 'market')}"
            if row is not None
            else ": not in this build"
        )
        _page(m).html.add_child(
            StaticHtml(f'<div class="hamji-title" id="hamji-title-{m.get_name()}">{escape(title)}</div>')
        )
        _MapScript(_CAPTION_JS).add_to(m)
        maps.append(m)
        views.append(_bounds(province if len(province) else inputs.provinces))
    # The same zoom on both sides: the one that fits the larger province, then
    # kept equal whenever either side zooms.
    a, b = (m.get_name() for m in maps)
    code = f"""
    (function() {{
      var maps = [{a}, {b}], bounds = {views}, header = document.querySelector('.hamji-header');
      // The maps start where the header ends, however many lines it takes at this width, folded or not.
      var fit = function() {{
        document.documentElement.style.setProperty('--hamji-head', header.offsetHeight + 'px');
        maps.forEach(function(m) {{ m.invalidateSize(); }});
      }};
      fit();
      window.addEventListener('resize', fit);
      header.addEventListener('toggle', fit);
      var zoom = Math.min(maps[0].getBoundsZoom(bounds[0]), maps[1].getBoundsZoom(bounds[1]));
      maps.forEach(function(m, i) {{ m.setView(L.latLngBounds(bounds[i]).getCenter(), zoom); }});
      var busy = false;
      maps.forEach(function(m, i) {{
        m.on('zoomend', function() {{
          if (busy) return; busy = true;
          maps[1 - i].setZoom(m.getZoom()); busy = false;
        }});
      }});
    }})();"""
    _MapScript(code).add_to(maps[1])
    _page_furniture(
        figure,
        inputs,
        "North Hamgyong and South Hwanghae at the same scale",
        "Same zoom and same colours on both sides; zooming one side zooms the other.",
    )
    figure.header.add_child(StaticHtml(_side_by_side_css(24 if inputs.synthetic else 0, [m.get_name() for m in maps])))
    # Folded at the start: open, half a map wide, it covered South Hwanghae's neighbours and its title.
    _legend(
        figure,
        [
            ("Time to nearest crossing", _time_legend_items()),
            ("Crossings", _crossing_legend_items() + channel_items),
            ("Roads", _road_legend_items()),
            ("Provinces", _outline_legend_items()),
        ],
        folded=True,
    )
    return figure


#: Each side's caption, a strip along the foot of its own map (two captions never meet, on a phone the
#: maps are stacked): moved into the map's container, with the map's bottom controls lifted above it.
_CAPTION_JS = """
(function(map) {
  var caption = document.getElementById('hamji-title-{map}'), box = map.getContainer();
  box.appendChild(caption);
  var lift = function() {
    box.querySelectorAll('.leaflet-bottom').forEach(function(c) { c.style.bottom = caption.offsetHeight + 'px'; });
  };
  lift();
  map.on('resize', lift);
})({map});
"""
#: Folded, a phone's header is this high (px): the title's line and the short line under it (model and day,
#: which 34 px hid under the first map); unfolded, it lies over the maps.
_PHONE_HEADER_PX = 52


def _side_by_side_css(top: int, names: list[str]) -> str:
    """A header strip across the top and both maps below it (``--hamji-head``: its height), so that nothing
    covers either map's controls.

    Side by side at 50 % each; below :data:`SMALL_SCREEN_PX` wide one above the
    other, full width (half a phone's width clipped popups and captions).
    """
    first, second = (f"#{name}" for name in names)
    below = top + _PHONE_HEADER_PX
    return (
        f"<style>.hamji-header{{left:0;right:0;top:{top}px !important;max-width:none;border-radius:0;"
        "box-sizing:border-box}"
        f".hamji-demo ~ .folium-map,.folium-map{{top:calc({top}px + var(--hamji-head, 58px)) !important;"
        f"height:calc(100% - {top}px - var(--hamji-head, 58px)) !important}}"
        ".hamji-legend{left:auto;right:10px;bottom:100px}"
        f"@media (max-width:{SMALL_SCREEN_PX - 1}px){{"
        ".hamji-header{max-height:70vh;overflow:auto}.hamji-legend{bottom:64px}"
        f".hamji-header:not([open]){{height:{_PHONE_HEADER_PX}px;overflow:hidden;white-space:nowrap;"
        "text-overflow:ellipsis}"
        f"{first},{second}{{left:0 !important;width:100% !important;height:calc((100% - {below}px) / 2) !important}}"
        f"{first}{{top:{below}px !important}}"
        f"{second}{{top:calc({below}px + (100% - {below}px) / 2) !important}}}}</style>"
    )


#: Change in time to the nearest crossing (hours): upper bound, colour, label.
CHANGE_CLASSES = (
    (-0.05, "#1a9850", "faster"),
    (0.05, "#d9d9d9", "unchanged (within 3 min)"),
    (1.0, "#fdae61", "slower by up to 1 h"),
    (4.0, "#f46d43", "slower by 1–4 h"),
    (math.inf, "#a50026", "slower by more than 4 h"),
)
#: Blue, not a second green: "newly reachable" must not read as a shade of "faster".
LOST_COLOUR, GAINED_COLOUR = "#000000", "#2166ac"


#: The two measures a difference map shows: column stem, layer name.
CHANGE_MEASURES = (("crossing", "time to the nearest crossing"), ("total", "hub → market time"))


def change_colour(row: pd.Series, measure: str = "crossing") -> str:
    """Colour of a market on the difference map, by the change in ``crossing`` or ``total`` (hub→market) time."""
    before, after = row[f"{measure}_h_base"], row[f"{measure}_h_scenario"]
    if pd.notna(before) and pd.isna(after):
        return LOST_COLOUR
    if pd.isna(before) and pd.notna(after):
        return GAINED_COLOUR
    change = row[f"{measure}_change_h"]
    if pd.isna(change):
        return settings.MAP_UNREACHABLE_COLOUR
    return next(colour for upper, colour, _ in CHANGE_CLASSES if change < upper)


def _change_text(hours: float) -> str:
    """A change of time, signed, in the units of every other time (``+15 min``, ``−1.3 h``, ``±0 min``)."""
    if pd.isna(hours):
        return "–"
    text = format_hours(abs(hours))
    return ("±" if text == "0 min" else "+" if hours > 0 else "−") + text


def difference_map(inputs: MapInputs, markets: pd.DataFrame, provinces: pd.DataFrame, info: dict) -> folium.Map:
    """A scenario against the baseline: each market coloured by the change in its time to a crossing."""
    m = _new_map(inputs)
    _first_view(m, inputs)
    _add_outlines(m, inputs)
    _add_roads(m, inputs.roads)
    channel_items, links = add_channels(m, inputs)
    searched = [_add_crossings(m, inputs.crossings, inputs.assumptions.unknown_crossings), *links]
    diff = markets.set_index(["osm_type", "osm_id"])
    # Shown first: the measure the scenario changes more (a border penalty leaves crossing times alone).
    moved = {stem: float(markets[f"{stem}_change_h"].abs().sum()) for stem, _ in CHANGE_MEASURES}
    first = max(moved, key=lambda stem: moved[stem])
    for stem, words in CHANGE_MEASURES:
        group = folium.FeatureGroup(name=f"Markets: change in {words}", show=stem == first)
        _add_change_markers(group, inputs, diff, stem)
        group.add_to(m)
        if stem == first:
            searched.insert(0, group)
    _finish(m, searched)
    root = _page(m)
    groups = provinces.set_index("code")
    sentence = ""
    if {"group:border", "group:far"} <= set(groups.index):
        b, f = groups.loc["group:border"], groups.loc["group:far"]
        sentence = (
            f"Median time to a crossing: border provinces {format_hours(b['crossing_h_median_base'])} → "
            f"{format_hours(b['crossing_h_median_scenario'])}, far provinces "
            f"{format_hours(f['crossing_h_median_base'])} → {format_hours(f['crossing_h_median_scenario'])}. "
            f"Median hub → market: border {format_hours(b['hub_h_median_base'])} → "
            f"{format_hours(b['hub_h_median_scenario'])}, far {format_hours(f['hub_h_median_base'])} → "
            f"{format_hours(f['hub_h_median_scenario'])}."
        )
    shown = dict(CHANGE_MEASURES)[first]
    other = next(words for stem, words in CHANGE_MEASURES if stem != first)
    # The measure first: scenarios open on different ones (a border penalty leaves crossing times alone).
    measure = f"Markets coloured by the change in {shown} (the layer control switches to the change in {other})."
    _page_furniture(
        root,
        inputs,
        # In the title too, which is all a phone shows of the header until it is unfolded.
        f"Scenario: {info['name']} · change in {shown}",
        f"<b>{escape(measure)}</b><br>" + escape(info["description"]) + "<br>" + escape(sentence),
        index_href=f"../{INDEX_FILE}",
    )
    items = [f"<small>shown: {escape(shown)};<br>the layer control switches measure</small>"]
    items += [f'<i class="dot" style="background:{colour}"></i>{escape(label)}' for _, colour, label in CHANGE_CLASSES]
    items += [
        f'<i class="dot" style="background:{LOST_COLOUR}"></i>no longer reachable',
        f'<i class="dot" style="background:{GAINED_COLOUR}"></i>newly reachable',
    ]
    _legend(
        root,
        [
            ("Change in time", items),
            ("Crossings", _crossing_legend_items() + channel_items),
            ("Roads", _road_legend_items()),
            ("Provinces", _outline_legend_items()),
        ],
    )
    return m


def _add_change_markers(group: folium.FeatureGroup, inputs: MapInputs, diff: pd.DataFrame, stem: str) -> None:
    """One circle per market, coloured by the change in ``stem`` (``crossing`` or ``total``) time."""
    names = crossing_names(inputs.crossings)
    drawn = MarketMarkers()
    for _, market in inputs.markets.iterrows():
        row = diff.loc[(market["osm_type"], market["osm_id"])]
        before, after = named(row["nearest_crossing_base"], names), named(row["nearest_crossing_scenario"], names)
        pairs = [
            ("Market", escape(market_label(market))),
            *market_name_rows(market),
            ("Province", escape(_text(market.get("province")))),
            ("Nearest crossing", escape(f"{before or 'none'} → {after or 'none'}")),
            (
                "Time to it",
                escape(
                    f"{format_hours(row['crossing_h_base'])} → "
                    f"{format_hours(row['crossing_h_scenario'])} "
                    f"({_change_text(row['crossing_change_h'])})"
                ),
            ),
            (
                "Hub → market",
                escape(
                    f"{format_hours(row['total_h_base'])} → "
                    f"{format_hours(row['total_h_scenario'])} "
                    f"({_change_text(row['total_change_h'])})"
                ),
            ),
            (
                "Best crossing",
                escape(
                    f"{named(row['best_crossing_base'], names) or 'none'} → "
                    f"{named(row['best_crossing_scenario'], names) or 'none'}"
                ),
            ),
        ]
        measure = "the nearest crossing" if stem == "crossing" else "goods from a hub"
        lost = pd.notna(row[f"{stem}_h_base"]) and pd.isna(row[f"{stem}_h_scenario"])
        tip = f"{market_tip_name(market)}<br>" + escape(
            "no longer reachable"
            if lost
            else f"{_change_text(row[f'{stem}_change_h'])} to {measure}"
            + (f" (now via {after})" if stem == "crossing" and row["nearest_crossing_changed"] and after else "")
        )
        drawn.add(market.geometry, change_colour(row, stem), tip, _table(pairs), market_search_name(market))
    drawn.add_to(group)
