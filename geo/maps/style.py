"""Colours, symbols, file names and page styles shared by every map."""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from geo import settings

MAP_FILES = {"overview": "overview.html", "comparison": "comparison.html", "side_by_side": "side_by_side.html"}
INDEX_FILE = "index.html"
#: What each map shows, in one line (index page, and what ``hamji maps`` prints).
MAP_TITLES = {
    "overview.html": "Overview: crossings, roads, trade corridors, hubs and markets",
    "comparison.html": "Comparison: provinces by median hub → market time, roads by hours from a crossing",
    "side_by_side.html": "Side by side: North Hamgyong and South Hwanghae at the same scale",
    "index.html": "Index: the maps, the headline, the reach table, sources and assumptions",
}

OSM_ATTRIBUTION = 'Data &copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)'
DEMO_ATTRIBUTION = "DEMO data: synthetic, not OpenStreetMap"

#: The class of a line place names keep off (roads, routes, railways, sea links; not outlines or rivers).
AVOIDED_LINE = "hamji-avoid"
# Roads in neutral greys (darker and wider for higher classes): the colours are kept for time.
ROAD_STYLES = {  # layer name, classes, colour, weight, shown at start
    "main": ("Roads: motorway, trunk, primary", ("motorway", "trunk", "primary"), "#495057", 3, True),
    "secondary": ("Roads: secondary, tertiary", ("secondary", "tertiary"), "#868e96", 2, True),
    "minor": ("Roads: unclassified, track", ("unclassified", "track"), "#adb5bd", 1, False),
}
#: A railway: a dark line under white dashes (the usual railway symbol), apart from the grey roads.
RAIL_CASING = {"color": "#343a40", "weight": 5, "opacity": 0.9, "className": AVOIDED_LINE}
RAIL_DASHES = {"color": "#ffffff", "weight": 2.5, "opacity": 1, "dashArray": "7 7"}
#: A sea link, port to port (folium's PolyLine options): blue like the water, dashed like a route not on land.
SEA_LINE = {"color": "#1864ab", "weight": 3.5, "opacity": 0.9, "dash_array": "12 8", "class_name": AVOIDED_LINE}
CROSSING_COLOURS = {"open": "#2b8a3e", "closed": "#c92a2a", "unusable": "#868e96"}


def time_colour(hours: float) -> str:
    """Colour of a time to the nearest crossing, the same on every map."""
    if hours is None or pd.isna(hours) or not np.isfinite(hours):
        return settings.MAP_UNREACHABLE_COLOUR
    bins = settings.MAP_TIME_BINS_H
    for upper, colour in zip(bins[1:], settings.MAP_TIME_COLOURS):
        if hours < upper:
            return colour
    return settings.MAP_TIME_COLOURS[-1]


def band_label(from_h: float, to_h: float) -> str:
    """Words for a class of hours: '2–4 h', '24 h or more', 'unreachable'."""
    if not np.isfinite(from_h):
        return "unreachable"
    return f"{from_h:g}–{to_h:g} h" if np.isfinite(to_h) else f"{from_h:g} h or more"


def time_bin_labels() -> list[tuple[str, str]]:
    """(colour, label) for each bin of the time scale, then unreachable."""
    bins = settings.MAP_TIME_BINS_H
    labels = [band_label(low, high) for low, high in zip(bins, [*bins[1:], np.inf])]
    return list(zip(settings.MAP_TIME_COLOURS, labels)) + [(settings.MAP_UNREACHABLE_COLOUR, "unreachable")]


class OutlineStyle(TypedDict):
    """A province outline's Leaflet path style (``dashArray`` ``None`` draws it solid)."""

    color: str
    weight: float
    dashArray: str | None


#: How each group of provinces is outlined (Leaflet path style), its CSS line style in the legend, and its words.
GROUP_OUTLINES: dict[str, tuple[OutlineStyle, str, str]] = {
    "border": (
        {"color": settings.MAP_GROUP_COLOURS["border"], "weight": 3, "dashArray": None},
        "solid",
        "border province (solid)",
    ),
    "far": (
        {"color": settings.MAP_GROUP_COLOURS["far"], "weight": 3, "dashArray": "9 6"},
        "dashed",
        "far province (dashed)",
    ),
    "other": ({"color": "#868e96", "weight": 1.2, "dashArray": "3 4"}, "dotted", "other North Korean province"),
    "china": ({"color": "#495057", "weight": 1.2, "dashArray": "1 5"}, "dotted", "Chinese province"),
}
BORDER_LINE = {"color": "#212529", "weight": 3, "opacity": 0.7}
#: Roads coloured by hours from the nearest crossing: a white casing under a line of the time colour.
ROAD_TIME_CASING = {"color": "#ffffff", "weight": 6, "opacity": 0.9}
ROAD_TIME_LINE = {"weight": 3.5, "opacity": 1, "className": AVOIDED_LINE}

#: Crossings' names are shown from this zoom on (at the overview's zoom fifteen labels along the Tumen would
#: hide each other); their symbols, tooltips and the search box find them at every zoom.
LABEL_ZOOM = 9
#: Below this width (px) the legend and the header start folded, and fold when a popup opens.
SMALL_SCREEN_PX = 700
#: index.html is laid out for the device's width (folium's maps carry their own viewport meta).
VIEWPORT_META = '<meta name="viewport" content="width=device-width, initial-scale=1">'
#: Fold the legend and the header on a small screen before the first paint of the map. Then, and whenever
#: the window's size changes or either folds, the legend (fixed by its foot) is kept below the header and
#: the DEMO bar: as tall as the room between, scrolling inside when longer (it lay over the comparison's
#: headline at 1280×800).
FOLD_ON_SMALL_SCREENS = (
    "<script>document.addEventListener('DOMContentLoaded', function() {"
    f"if (window.innerWidth < {SMALL_SCREEN_PX}) "
    "document.querySelectorAll('details.hamji-fold').forEach(function(d) { d.open = false; });"
    """
  var fit = function() {
    var above = document.querySelectorAll('.hamji-header, .hamji-demo');
    document.querySelectorAll('.hamji-legend').forEach(function(legend) {
      legend.style.maxHeight = '';
      var own = parseFloat(getComputedStyle(legend).maxHeight) || Infinity, r = legend.getBoundingClientRect();
      var top = 0;
      above.forEach(function(el) {
        var a = el.getBoundingClientRect();
        if (a.width && a.left < r.right && r.left < a.right) top = Math.max(top, a.bottom);
      });
      var room = r.bottom - top - 8;
      if (room < own) { legend.style.maxHeight = Math.max(room, 24) + 'px'; legend.style.overflow = 'auto'; }
    });
  };
  fit();
  window.addEventListener('resize', fit);
  document.querySelectorAll('details.hamji-fold').forEach(function(d) { d.addEventListener('toggle', fit); });"""
    "});</script>"
)

PAGE_CSS = """<style>
.hamji-header{position:fixed;top:10px;left:55px;z-index:1000;background:rgba(255,255,255,.93);padding:6px 10px;
  border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.35 sans-serif;max-width:46%}
.hamji-header h1{font-size:15px;margin:0 0 2px;display:inline}
.hamji-header summary{cursor:pointer}
.hamji-brief{display:block;font-size:12px;color:#495057}
.hamji-header[open] .hamji-brief{display:none}
.leaflet-container{background:#d4e4ef}
.leaflet-control-attribution{max-width:calc(100% - 130px)}
.hamji-no-tiles .leaflet-control-minimap{display:none}
@media (max-width:699px){
  .hamji-header{left:50px;right:60px;max-width:none;font-size:12px}
  .leaflet-control-attribution{font-size:9px;max-width:70%}
  .hamji-header h1{font-size:13px}
  .hamji-legend{bottom:64px;max-height:55vh;overflow:auto}
  .leaflet-control-minimap{display:none}
  .leaflet-popup-content{width:calc(100vw - 80px) !important;overflow-wrap:break-word;max-height:62vh;overflow-y:auto}
  .leaflet-control-search input.search-input{width:120px}
}
.hamji-demo{position:fixed;top:0;left:0;right:0;z-index:1001;background:#c92a2a;color:#fff;text-align:center;
  font:bold 14px/24px sans-serif;letter-spacing:.05em;pointer-events:none}
.hamji-demo ~ .hamji-header{top:32px}
.hamji-demo ~ .folium-map{top:24px !important;height:calc(100% - 24px) !important}
.hamji-legend{position:fixed;box-sizing:border-box;bottom:62px;left:10px;z-index:1000;
  background:rgba(255,255,255,.93);padding:6px 9px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
  font:12px/1.4 sans-serif}
.hamji-legend h2{font-size:12px;margin:0 0 3px}
.hamji-legend summary{cursor:pointer;font-weight:bold;color:#495057}
.hamji-legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-2px;border:1px solid #555}
.hamji-legend i.dot{border-radius:50%}
.hamji-legend .hamji-cols{display:grid;grid-template-columns:auto auto;column-gap:10px}
.hamji-legend i.line{height:0;border:0;border-top:4px solid #5f3dc4;vertical-align:3px}
.hamji-crossing{width:14px;height:14px;border:2px solid #fff;box-shadow:0 0 2px #000}
.hamji-crossing.rail{transform:rotate(45deg)}
.hamji-station{width:7px;height:7px;background:#fff;border:2px solid #343a40}
.hamji-legend i.rail{height:3px;border:1px solid #343a40;vertical-align:2px;
  background:repeating-linear-gradient(90deg,#343a40 0 4px,#fff 4px 8px)}
.hamji-legend i.station{width:7px;height:7px;border:2px solid #343a40;background:#fff}
.hamji-hub{width:14px;height:14px;border-radius:50%;background:#1864ab;border:3px solid #fff;box-shadow:0 0 2px #000}
.hamji-province-label{font:600 12px/1.2 sans-serif;color:#343a40;text-align:center;white-space:nowrap;width:max-content;
  transform:translate(-50%,-50%);text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;pointer-events:none}
.hamji-label span{font-weight:400;font-size:11px}
.hamji-crossing-label,.hamji-hub-label{position:absolute;top:-1px;left:calc(100% + 4px);white-space:nowrap;
  font:600 11px/1.15 sans-serif;pointer-events:none;text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff}
.hamji-crossing-label{color:#2b3a2f}
.hamji-label.hamji-left{left:auto;right:calc(100% + 4px);text-align:right}
.hamji-label.hamji-up,.hamji-label.hamji-down{left:50%;transform:translateX(-50%);text-align:center}
.hamji-label.hamji-up{top:auto;bottom:calc(100% + 3px)}
.hamji-label.hamji-down{top:calc(100% + 3px)}
.hamji-label.hamji-up.hamji-left,.hamji-label.hamji-down.hamji-left{left:auto;right:calc(100% + 2px);transform:none}
.hamji-label.hamji-up.hamji-right,.hamji-label.hamji-down.hamji-right{left:calc(100% + 2px);transform:none;
  text-align:left}
.hamji-far-out .hamji-crossing-label{display:none}
.leaflet-control-search .search-input{width:190px;font-size:13px}
.leaflet-control-search .search-tooltip{left:auto;right:0;max-width:calc(100vw - 40px)}
.leaflet-control-search .search-tip{font-size:13px;overflow:hidden;text-overflow:ellipsis}
.hamji-legend i.outline{background:none;height:0;border:0;border-top-width:3px;vertical-align:3px}
.hamji-hub-label{font-size:12px;color:#1864ab}
table.hamji-popup{border-collapse:collapse;font:12px sans-serif}
table.hamji-popup th{text-align:left;padding:1px 8px 1px 0;vertical-align:top;font-weight:600}
table.hamji-popup td{padding:1px 0;overflow-wrap:anywhere}
.leaflet-container .leaflet-tooltip{white-space:normal;width:max-content;max-width:min(360px,80vw);
  overflow-wrap:anywhere}
.hamji-title{position:absolute;left:0;right:0;bottom:0;z-index:1000;background:rgba(255,255,255,.93);padding:4px 8px;
  font:bold 14px/1.3 sans-serif;box-shadow:0 -1px 3px rgba(0,0,0,.25)}
@media (max-width:699px){.hamji-title{font-size:12px;padding:3px 6px}}
</style>"""
