"""What every map page has: its inputs, the base map, header, legend and DEMO stamp."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from geo import settings
from geo.assumptions import RunAssumptions
from geo.maps.assets import JQUERY_JS, LEAFLET_CSS, LEAFLET_JS, SEARCH_CSS, SEARCH_JS
from geo.maps.style import (
    AVOIDED_LINE,
    BORDER_LINE,
    CROSSING_COLOURS,
    DEMO_ATTRIBUTION,
    FOLD_ON_SMALL_SCREENS,
    GROUP_OUTLINES,
    INDEX_FILE,
    LABEL_ZOOM,
    OSM_ATTRIBUTION,
    PAGE_CSS,
    ROAD_STYLES,
    SMALL_SCREEN_PX,
    time_bin_labels,
)
from geo.maps.text import StaticHtml, escape
from geo.status import data_day


class _MapScript(MacroElement):
    """JavaScript run after a map is created; ``{map}`` in the code is the map's variable."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "HamjiScript"
        self.code = code

    def render(self, **kwargs):
        self.code = self.code.replace("{map}", self._parent.get_name())
        super().render(**kwargs)


class _SearchBox(JSCSSMixin, MacroElement):
    """A box that finds markets and crossings by any of their names and opens the popup of the one chosen.

    leaflet-search (shipped in ``geo/data/assets/``) indexes the ``searchName``
    option each market and crossing marker carries (escaped text, like a
    popup: the tips are shown as HTML). Only layers shown when the page opens
    are searched: the box adds its layers to the map.
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")
    default_js = [SEARCH_JS]
    default_css = [SEARCH_CSS]

    def __init__(self, layers: Sequence[MacroElement]):
        super().__init__()
        self._name = "HamjiSearch"
        self.layers = layers
        self.code = ""

    def render(self, **kwargs):
        names = ", ".join(layer.get_name() for layer in self.layers)
        self.code = _SEARCH_SETUP_JS % {"map": self._parent.get_name(), "layers": names}
        super().render(**kwargs)


#: The box matches what is typed anywhere in a name, both folded alike: the entities of
#: :func:`geo.maps.text.escape` read as their characters, NFKC, no zero-width or other format
#: characters (as :func:`geo.maps.text.search_text`), any dash as a hyphen, any case. It searches on
#: every ``input`` too, not only on a key's release: a Korean or Chinese input method composes
#: characters with no key released for each, and pasted text has none.
_SEARCH_SETUP_JS = """
(function(map, layers) {
  var fold = function(text) {
    return text.replace(/&#(\\d+);/g, function(_, code) { return String.fromCharCode(+code); })
      .normalize('NFKC').replace(/[\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\ufeff]/g, '')
      .replace(/[\\u2010-\\u2015\\u2212]/g, '-').toLowerCase();
  };
  var search = new L.Control.Search({
    layer: L.featureGroup(layers), propertyName: 'searchName', initial: false, marker: false,
    position: 'topright', textPlaceholder: 'Find a market or crossing', textErr: 'Nothing of that name',
    // At once: a popup opened while the map still flew there was panned for the old view, under the controls.
    moveToLocation: function(latlng, title, map) {
      map.setView(latlng, Math.max(map.getZoom(), 11), {animate: false});
    },
    filterData: function(text, records) {
      var wanted = fold(text).trim(), found = {};
      if (!wanted) return found;
      Object.keys(records).forEach(function(key) { if (fold(key).indexOf(wanted) >= 0) found[key] = records[key]; });
      return found;
    }
  });
  // Enter on a name typed in part opens the first suggestion. The box's own completion (autoType) follows key
  // presses, which an input method composing Korean or Chinese does not make: "만포" matched no whole name.
  var wholeName = search._getLocation;
  search._getLocation = function(key) {
    var found = wholeName.call(this, key);
    if (found !== false) return found;
    var matches = this.options.filterData(key, this._recordsCache || {}), first = Object.keys(matches)[0];
    return first === undefined ? false : matches[first];
  };
  search.on('search:locationfound', function(e) { if (e.layer && e.layer.openPopup) e.layer.openPopup(); });
  map.addControl(search);
  L.DomEvent.on(search._input, 'input', function() { search._handleKeypress({keyCode: 0}); });
})(%(map)s, [%(layers)s]);
"""


@dataclass
class MapInputs:
    """Everything the maps draw, read from the layers, routes and reach files."""

    provinces: gpd.GeoDataFrame
    border: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    crossings: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    markets: gpd.GeoDataFrame
    road_times: gpd.GeoDataFrame
    reach: pd.DataFrame
    #: What the routes drawn were made under (supply model, speeds, penalties).
    assumptions: RunAssumptions
    provenance: dict
    #: Roads used by market routes, merged by number of routes (made from ``roads`` when drawing).
    corridors: gpd.GeoDataFrame | None = None
    #: Each crossing's catchment (the reach stage's ``hamji_catchments.gpkg``); made from the markets if None.
    catchments: gpd.GeoDataFrame | None = None
    #: The intervals of ``hamji uncertainty`` on the same routes, if current (:mod:`geo.uncertainty`).
    uncertainty: pd.DataFrame | None = None
    #: The layers' railways and stations (drawn with the crossings; None or empty: none drawn).
    railways: gpd.GeoDataFrame | None = None
    stations: gpd.GeoDataFrame | None = None

    @property
    def as_of_day(self) -> str:
        """The day the routes were asked about (``--as-of``, else the data date): a link's status is for that day."""
        from geo.status import as_of_day

        return as_of_day(self.assumptions.as_of, self.provenance.get("osm_timestamp"))

    def interval_html(self) -> str:
        """The uncertainty sentence (intervals and probability) as escaped HTML, or '' without one."""
        from geo.uncertainty import interval_sentence

        return "" if self.uncertainty is None else escape(interval_sentence(self.uncertainty))

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic"))

    def data_line(self) -> str:
        """'Source, data as of date' as escaped HTML."""
        source = self.provenance.get("source", "unknown source")
        return escape(f"{source}; OpenStreetMap data as of {self.provenance.get('osm_timestamp', 'unknown date')}")

    def as_of_line(self) -> str:
        """'Crossings and links as open on <day>' as escaped HTML: the day every crossing's status was taken on.

        Without ``--as-of`` the day is the OSM data's own, and is said to be: an
        all-unreachable table under ``--as-of 2021-06`` has its reason on the page.
        """
        if self.assumptions.as_of:
            note = ""
        elif data_day(self.provenance.get("osm_timestamp")):
            note = " (the OSM data date)"
        else:
            note = " (today: the OSM data has no date)"
        return escape(f"Crossings and links as open on {self.as_of_day}{note}")

    def supply_line(self) -> str:
        """'Supply model: name — what it measures' as escaped HTML."""
        supply = self.assumptions.supply
        return escape(f"Supply model: {supply.name} — {supply.description}")


def _prepare(frame: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify in metres and round coordinates, so the HTML stays small."""
    if frame.empty:
        return frame
    if tolerance_m > 0 and not (frame.geom_type == "Point").all():
        measured = frame.to_crs(settings.MEASURE_CRS)
        # Polygons must stay valid; lines have nothing to break, and the topology-preserving
        # simplifier takes minutes on a national network merged into a few long lines.
        polygons = bool(frame.geom_type.isin(["Polygon", "MultiPolygon"]).any())
        simple = measured.simplify(tolerance_m, preserve_topology=polygons)
        frame = frame.set_geometry(simple.to_crs(settings.STORE_CRS))
    decimals = settings.MAP_COORD_DECIMALS
    return frame.set_geometry(shapely.transform(frame.geometry.values, lambda xy: np.round(xy, decimals)))


def _page(m: folium.Map) -> Figure:
    """The page ``m`` is drawn on: folium.Map always puts itself on a branca Figure; get_root is typed Element."""
    root = m.get_root()
    if not isinstance(root, Figure):
        raise TypeError(f"folium map {m.get_name()} is on a {type(root).__name__}, not a branca Figure page")
    return root


def _page_furniture(
    root: Figure, inputs: MapInputs, title: str, subtitle_html: str, index_href: str = INDEX_FILE
) -> None:
    root.header.add_child(StaticHtml(PAGE_CSS + FOLD_ON_SMALL_SCREENS), name="hamji_css")
    demo = f'<div class="hamji-demo">{escape(settings.DEMO_STAMP)}</div>' if inputs.synthetic else ""
    # Folded (a phone), the summary is all that shows: it must still say what was routed, and as of when.
    brief = " · ".join(["DEMO"] * inputs.synthetic + [inputs.assumptions.supply.name, f"as of {inputs.as_of_day}"])
    root.html.add_child(
        StaticHtml(
            f'{demo}<details class="hamji-header hamji-fold" open><summary><h1>{escape(title)}</h1>'
            f'<span class="hamji-brief">{escape(brief)}</span></summary>'
            f"{subtitle_html}<br><small>{inputs.data_line()} · {inputs.as_of_line()} · {inputs.supply_line()} · "
            f'<a href="{index_href}">all maps, sources and assumptions</a></small></details>'
        ),
        name="hamji_header",
    )


def _legend(root: Figure, sections: list[tuple[str, list[str]]], folded: bool = False) -> None:
    """The legend, folded by a click on its summary when it covers part of the map; ``folded``: so at the start."""
    body = "".join(f"<h2>{escape(title)}</h2>" + "<br>".join(items) for title, items in sections)
    state = "" if folded else " open"
    root.html.add_child(
        StaticHtml(f'<details class="hamji-legend hamji-fold"{state}><summary>Legend</summary>{body}</details>'),
        name="hamji_legend",
    )


def _time_legend_items() -> list[str]:
    return [f'<i class="dot" style="background:{colour}"></i>{escape(label)}' for colour, label in time_bin_labels()]


def _tint(colour: str, opacity: float, under: str = "#ffffff") -> str:
    """``colour`` drawn at ``opacity`` over ``under``, as one hex colour (what a shaded area shows).

    >>> _tint("#000000", 0.25)
    '#bfbfbf'
    """
    top, bottom = (tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in (colour, under))
    return "#" + "".join(f"{round(t * opacity + b * (1 - opacity)):02x}" for t, b in zip(top, bottom))


def _columns(items: list[str]) -> str:
    """Legend items in two columns (a scale of eight classes in four lines)."""
    return '<div class="hamji-cols">' + "".join(f"<span>{item}</span>" for item in items) + "</div>"


def _area_legend_items(opacity: float, empty: str) -> list[str]:
    """The time scale as areas shaded at ``opacity`` show it, then ``empty``'s words for an area left white."""
    swatch = '<i style="background:{}"></i>{}'
    items = [swatch.format(_tint(colour, opacity), escape(label)) for colour, label in time_bin_labels()]
    return [*items, swatch.format("#ffffff", escape(empty))]


def _outline_legend_items() -> list[str]:
    """The province outlines by group, and the border line: what every map draws under its data."""
    items = [
        f'<i class="outline" style="border-top:3px {line} {style["color"]}"></i>{escape(label)}'
        for style, line, label in GROUP_OUTLINES.values()
    ]
    items.append(f'<i class="outline" style="border-top:4px solid {BORDER_LINE["color"]}"></i>China–North Korea border')
    return items


def _road_legend_items() -> list[str]:
    return [
        f'<i class="outline" style="border-top:{weight + 1}px solid {colour}"></i>'
        + escape(label.removeprefix("Roads: "))
        for label, _, colour, weight, _ in ROAD_STYLES.values()
    ]


def _crossing_legend_items() -> list[str]:
    return [
        f'<i style="background:{CROSSING_COLOURS["open"]}"></i>crossing, road (open)',
        f'<i style="background:{CROSSING_COLOURS["open"]};transform:rotate(45deg)"></i>crossing, rail',
        f'<i style="background:{CROSSING_COLOURS["closed"]}"></i>crossing closed',
        f'<i style="background:{CROSSING_COLOURS["unusable"]}"></i>crossing not routable or status unknown',
    ]


def _symbol_legend_items() -> list[str]:
    """Crossings, hubs and trade corridors: the overview's symbols."""
    return [
        *_crossing_legend_items(),
        '<i class="dot" style="background:#1864ab"></i>Chinese wholesale hub',
        '<i class="line"></i>trade corridor (width: market routes)',
    ]


#: Land, lakes and rivers from Natural Earth (geo/data/basemap/README.md), drawn under the tiles.
BASEMAP_FILE = Path(__file__).resolve().parent.parent / "data" / "basemap" / "natural_earth_base.geojson"
BASEMAP_PANE = "hamjiBase"
BASEMAP_STYLES = {
    "land": {"fillColor": "#f1efe8", "fillOpacity": 1, "stroke": False},
    # The sea's colour (the map's background, PAGE_CSS), edged like a river: water, not land.
    "lake": {"fillColor": "#d4e4ef", "fillOpacity": 1, "color": "#6fa8dc", "weight": 1, "opacity": 0.9},
    "river": {"color": "#6fa8dc", "weight": 2, "opacity": 0.9, "fill": False},
}
BASEMAP_CREDIT = "Land, lakes and rivers: Natural Earth (public domain)"

#: After the map is made: its credits; the minimap hidden while the tiles fail (it
#: would be an empty box); popups panned clear of the header, the DEMO bar and the
#: map's controls (the layer control lay over popups on a phone: Leaflet draws
#: controls over popups), scrolling if taller than the room between; on a small screen
#: the legend and header folded, and folded again when a popup opens. Labels:
#: crossings' only from zoom LABEL_ZOOM; then, at each zoom or pan (and when the
#: legend or header folds or a layer is switched), every label in order of rank
#: (provinces, hubs, crossings) is put where it covers no other label, no hub,
#: crossing or market, no line drawn with the class AVOIDED_LINE (routes, roads,
#: railways, sea links: a road crossed North Hamgyong's name, markets covered
#: Rason's), nothing lying over the map (the DEMO bar hid Jilin's name), and stays
#: inside the map: a province's on its point, else below, above, right or left of
#: it, on a diagonal or a little further; a hub's or crossing's right of its symbol, else left of it, above,
#: below or on a diagonal; else hidden until a zoom leaves it room. A hub's or crossing's name must stay by
#: its symbol, which lies where its roads run: where no place keeps off the lines it may cross them (and
#: nothing else).
_MAP_SETUP_JS = """
(function(map) {
  map.attributionControl.addAttribution(%(credit)s);
  var box = map.getContainer();
  var lying = function(selector, root) { return Array.prototype.slice.call(root.querySelectorAll(selector)); };
  var overlaps = function(r, rects) {
    return rects.some(function(t) {
      return r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom;
    });
  };
  // Does the segment [x0, y0, x1, y1] pass through the rectangle r? (Liang-Barsky clipping.)
  var crosses = function(r, s) {
    if (Math.max(s[0], s[2]) < r.left || Math.min(s[0], s[2]) > r.right
        || Math.max(s[1], s[3]) < r.top || Math.min(s[1], s[3]) > r.bottom) return false;
    var dx = s[2] - s[0], dy = s[3] - s[1], t0 = 0, t1 = 1;
    var p = [-dx, dx, -dy, dy], q = [s[0] - r.left, r.right - s[0], s[1] - r.top, r.bottom - s[1]];
    for (var i = 0; i < 4; i++) {
      if (p[i] === 0) { if (q[i] < 0) return false; continue; }
      var t = q[i] / p[i];
      if (p[i] < 0) { if (t > t1) return false; t0 = Math.max(t0, t); }
      else { if (t < t0) return false; t1 = Math.min(t1, t); }
    }
    return true;
  };
  // The segments, on screen, of every line shown that labels keep off (as Leaflet drew them, clipped to the view).
  var avoided = function() {
    var area = box.getBoundingClientRect(), out = [];
    map.eachLayer(function(layer) {
      if (!layer._parts || (' ' + (layer.options.className || '') + ' ').indexOf(' %(avoid)s ') < 0) return;
      layer._parts.forEach(function(part) {
        for (var i = 1; i < part.length; i++) {
          var a = map.layerPointToContainerPoint(part[i - 1]), b = map.layerPointToContainerPoint(part[i]);
          out.push([a.x + area.left, a.y + area.top, b.x + area.left, b.y + area.top]);
        }
      });
    });
    return out;
  };
  // Where a province's name may go, as CSS translations of its box (its point first); a hub's or crossing's.
  var shifts = [[-50, -50], [-50, 40], [-50, -140], [8, -50], [-108, -50], [8, 40], [-108, 40], [8, -140], [-108, -140],
    [-50, 130], [-50, -230], [66, -50], [-166, -50], [-20, 85], [-80, 85], [-20, -185], [-80, -185]];
  var sides = [[], ['hamji-left'], ['hamji-up'], ['hamji-down'], ['hamji-up', 'hamji-right'],
    ['hamji-down', 'hamji-right'], ['hamji-up', 'hamji-left'], ['hamji-down', 'hamji-left']];
  var declutter = function() {
    box.classList.toggle('hamji-far-out', map.getZoom() < %(label_zoom)d);
    var taken = [], lines = avoided();
    // Symbols, markets, and what lies over the map: the DEMO bar, header, legend, controls.
    var fixed = '.hamji-demo, .hamji-header, .hamji-legend';
    lying('.hamji-hub, .hamji-crossing, path.hamji-market, .leaflet-control, .hamji-title', box)
      .concat(lying(fixed, document))
      .forEach(function(el) { taken.push(el.getBoundingClientRect()); });
    var labels = Array.prototype.slice.call(box.querySelectorAll('.hamji-label'));
    labels.sort(function(a, b) { return b.dataset.rank - a.dataset.rank; });
    var area = box.getBoundingClientRect();
    var fits = function(r, strict) {
      var inside = r.left >= area.left && r.right <= area.right && r.top >= area.top && r.bottom <= area.bottom;
      return inside && !overlaps(r, taken) && !(strict && lines.some(function(s) { return crosses(r, s); }));
    };
    labels.forEach(function(el) {
      el.style.visibility = '';
      var province = el.dataset.rank >= 3;
      el.classList.remove('hamji-left', 'hamji-right', 'hamji-up', 'hamji-down');
      el.style.transform = '';
      if (!el.getBoundingClientRect().width) return;
      var tries = province ? [true] : [true, false];  // a hub's or crossing's name may cross lines if it must
      var free = tries.some(function(strict) {
        return (province ? shifts : sides).some(function(place) {
          if (province) el.style.transform = 'translate(' + place[0] + '%%,' + place[1] + '%%)';
          else place.forEach(function(side) { el.classList.add(side); });
          var r = el.getBoundingClientRect();
          if (fits(r, strict)) { taken.push(r); return true; }
          if (!province) place.forEach(function(side) { el.classList.remove(side); });
          return false;
        });
      });
      if (!free) { el.style.visibility = 'hidden'; el.style.transform = ''; }
    });
  };
  // Once the event is over: at zoomend the markets and lines are still drawn for the old zoom (scaled), and the
  // renderer redraws them on moveend, after this listener.
  var pending = null;
  var later = function() { clearTimeout(pending); pending = setTimeout(declutter, 0); };
  map.on('zoomend moveend overlayadd overlayremove resize', later);
  setTimeout(declutter, 0);
  document.querySelectorAll('details.hamji-fold').forEach(function(d) { d.addEventListener('toggle', declutter); });
  map.eachLayer(function(layer) {
    if (!(layer instanceof L.TileLayer)) return;
    layer.on('tileerror', function() { box.classList.add('hamji-no-tiles'); });
    layer.on('tileload', function() { box.classList.remove('hamji-no-tiles'); });
  });
  var small = function() { return window.innerWidth < %(small)d; };
  // Keeps the popup clear of what lies over the map, panning it in (Leaflet's autoPan with paddings).
  var fitPopup = function(popup) {
    if (!popup.isOpen()) return;
    var area = box.getBoundingClientRect(), top = 10, bottom = 10;
    var over = lying('.hamji-header, .hamji-demo' + (small() ? ', .hamji-legend' : ''), document)
      .concat(lying('.leaflet-control, .hamji-title', box));
    over.forEach(function(el) {
      var r = el.getBoundingClientRect();
      if (!r.width || !overlaps(r, [area])) return;
      if (r.top + r.bottom < area.top + area.bottom) top = Math.max(top, r.bottom - area.top + 10);
      else bottom = Math.max(bottom, area.bottom - r.top + 10);
    });
    popup.options.autoPanPaddingTopLeft = L.point(10, top);
    popup.options.autoPanPaddingBottomRight = L.point(10, bottom);
    // Taller than the room left, it scrolls (Leaflet's maxHeight; the tip and frame take about 50 px).
    popup.options.maxHeight = Math.max(100, area.height - top - bottom - 50);
    popup.update();
  };
  map.on('popupopen', function(e) {
    if (small()) document.querySelectorAll('details.hamji-fold').forEach(function(d) { d.open = false; });
    fitPopup(e.popup);
    // Once more when the pan is over, and after a moment if there was none: on a slow phone the pan could end
    // short, or the controls and folds change after the popup opened (CI saw one left 45 px under the zoom).
    map.once('moveend', function() { fitPopup(e.popup); });
    setTimeout(function() { fitPopup(e.popup); }, 400);
  });
})({map});
"""


@cache
def _basemap() -> dict:
    return json.loads(BASEMAP_FILE.read_text(encoding="utf-8"))


def _add_base_layer(m: folium.Map) -> None:
    """Land, lakes and rivers in a pane under the tiles: the map reads the same when no tile loads."""
    folium.map.CustomPane(BASEMAP_PANE, z_index=150, pointer_events=False).add_to(m)
    folium.GeoJson(
        _basemap(),
        name="Land, lakes and rivers (Natural Earth)",
        control=False,
        pane=BASEMAP_PANE,
        interactive=False,
        style_function=lambda f: BASEMAP_STYLES[f["properties"]["kind"]],
    ).add_to(m)


def _new_map(inputs: MapInputs, **kwargs) -> folium.Map:
    m = folium.Map(tiles="OpenStreetMap", control_scale=True, **kwargs)
    # Only Leaflet and jQuery: the CDN links are fewer, and the default inlines them all.
    m.default_js = [LEAFLET_JS, JQUERY_JS]
    m.default_css = [LEAFLET_CSS]
    _add_base_layer(m)
    note = (DEMO_ATTRIBUTION if inputs.synthetic else OSM_ATTRIBUTION) + "; " + BASEMAP_CREDIT
    setup = {"credit": _js_string(note), "small": SMALL_SCREEN_PX, "label_zoom": LABEL_ZOOM, "avoid": AVOIDED_LINE}
    _MapScript(_MAP_SETUP_JS % setup).add_to(m)
    return m


def _js_string(text: str) -> str:
    return json.dumps(text).replace("</", "<\\/")


#: The first view, fitted when the page is laid out: ``bounds`` whole and clear of a tall panel on the left (the
#: open legend; the sea links to Dalian and Longkou ran off the overview's west edge, or under the legend) and
#: of the controls on the right (the search box and the layer control).
#: After the small-screen fold (registered first), so a folded legend takes no room.
_FIT_JS = """
(function(map, bounds, markets) {
  var fit = function() {
    var box = map.getContainer(), area = box.getBoundingClientRect(), left = 10, right = 10;
    document.querySelectorAll('.hamji-legend').forEach(function(el) {
      var r = el.getBoundingClientRect();
      if (r.width && r.height > area.height / 3 && r.left - area.left < area.width / 3)
        left = Math.max(left, r.right - area.left + 10);
    });
    box.querySelectorAll('.leaflet-top.leaflet-right .leaflet-control').forEach(function(el) {
      var r = el.getBoundingClientRect();
      if (r.width) right = Math.max(right, area.right - r.left + 10);
    });
    var padding = {paddingTopLeft: [left, 10], paddingBottomRight: [right, 10], animate: false};
    // Everything if that costs no zoom level against the markets alone (on a phone it would: the markets first).
    var whole = map.getBoundsZoom(bounds, false, L.point(left + right, 20));
    var core = map.getBoundsZoom(markets, false, L.point(left + right, 20));
    map.fitBounds(whole >= core ? bounds : markets, padding);
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fit); else fit();
})({map}, %s, %s);
"""


def _fit_view(m: folium.Map, bounds: list[list[float]], markets: list[list[float]]) -> None:
    """Open ``m`` on ``bounds`` ([[south, west], [north, east]]), or on ``markets`` if that takes a zoom level more,
    clear of the legend and the controls (see :data:`_FIT_JS`)."""
    m.fit_bounds(markets)  # the view until the page is laid out
    _MapScript(_FIT_JS % (json.dumps(bounds), json.dumps(markets))).add_to(m)


def _bounds_with(frame: gpd.GeoDataFrame, points: Sequence[tuple[float, float]]) -> list[list[float]]:
    """:func:`_bounds` of ``frame`` grown to take in ``points`` (lat, lon)."""
    (south, west), (north, east) = _bounds(frame)
    lats, lons = [south, north, *(p[0] for p in points)], [west, east, *(p[1] for p in points)]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _bounds(frame: gpd.GeoDataFrame) -> list[list[float]]:
    minx, miny, maxx, maxy = frame.total_bounds
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]
