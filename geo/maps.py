"""Stage 4: the Folium maps researchers open in a browser.

- ``overview.html``: crossings, roads by class, the trade corridors, Chinese
  hubs, and markets coloured by time to the nearest crossing.
- ``comparison.html``: provinces shaded by median time to a crossing, with
  their row of the reach table, and travel-time bands around the crossings.
- ``side_by_side.html``: North Hamgyong and South Hwanghae at the same scale
  and on the same colour scale.
- ``index.html``: links to the maps, the data date, sources and assumptions.

Outside text (OSM tags, scenario files, file paths, Overpass metadata) is
untrusted. Every piece of it goes through :func:`escape` before it reaches a
map, and page text of our own goes in as :class:`StaticHtml`, never as a
template: branca recompiles whatever each folium element renders as a Jinja2
template, so ``{{ … }}`` left in a market's name would be executed.
"""

from __future__ import annotations

import base64
import json
import math
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium import plugins
from jinja2 import Template

from geo import settings
from geo.errors import HamjiError
from geo.reach import format_hours, format_share, headline

LEAFLET_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
LEAFLET_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")
#: folium's popups are built with jQuery; nothing else of folium's defaults
#: (Bootstrap, Font Awesome, awesome-markers) is used by these maps.
JQUERY_JS = ("jquery", "https://code.jquery.com/jquery-3.7.1.min.js")

#: CDN folders folium loads from -> folder inside :data:`settings.ASSETS_DIR`
#: (the npm packages of package.json, same versions).
ASSET_FOLDERS = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/": "leaflet/dist/",
    "https://code.jquery.com/": "jquery/dist/",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/": "leaflet-minimap/dist/",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/": "leaflet.fullscreen/",
}
#: Where the npm package names a file differently from the CDN.
ASSET_RENAMES = {"jquery-3.7.1.min.js": "jquery.min.js", "Control.MiniMap.js": "Control.MiniMap.min.js",
                 "Control.MiniMap.css": "Control.MiniMap.min.css",
                 "Control.FullScreen.min.js": "Control.FullScreen.js"}

MAP_FILES = {"overview": "overview.html", "comparison": "comparison.html", "side_by_side": "side_by_side.html"}
INDEX_FILE = "index.html"
OSM_ATTRIBUTION = ('Data &copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                   'contributors (ODbL)')
DEMO_ATTRIBUTION = "DEMO data: synthetic, not OpenStreetMap"

ROAD_STYLES = {  # layer name, classes, colour, weight, shown at start
    "main": ("Roads: motorway, trunk, primary", ("motorway", "trunk", "primary"), "#e8590c", 3, True),
    "secondary": ("Roads: secondary, tertiary", ("secondary", "tertiary"), "#f59f00", 2, True),
    "minor": ("Roads: unclassified, track", ("unclassified", "track"), "#868e96", 1, False),
}
CROSSING_COLOURS = {"open": "#2b8a3e", "closed": "#c92a2a", "unusable": "#868e96"}


#: Each character outside text could use to break out of where a map puts it,
#: as a numeric HTML entity: HTML markup (``&<>"'``); the JavaScript template
#: literals folium writes popups and tooltips into (backtick, ``$``,
#: backslash); and Jinja2's delimiters (``{``, ``}``, ``#``, ``%``), because
#: branca compiles every rendered element again as a template. Browsers show
#: the entities as the characters themselves.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'`$\\{}#%"})


def escape(text: object) -> str:
    """Outside text made safe for any HTML, popup, tooltip or element of a map.

    The one door every untrusted string goes through on its way into a map
    (a test builds the maps from hostile names and checks that no Jinja2
    template ever compiled contains them).

    Examples
    --------
    >>> escape("{{7*191}} <b>")
    '&#123;&#123;7*191&#125;&#125; &#60;b&#62;'
    """
    return str(text).translate(_ENTITIES)


class StaticHtml(Element):
    """Page text of our own, put into the page as it is, never compiled as a template."""

    def __init__(self, html: str):
        super().__init__()
        self._name = "StaticHtml"
        self.html = html

    def render(self, **kwargs) -> str:
        return self.html


# -- assets ---------------------------------------------------------------------------


def local_asset(url: str, assets_dir: Path | None = None) -> Path | None:
    """The file in the npm packages that serves a CDN ``url`` folium loads, or ``None``."""
    assets_dir = Path(assets_dir or settings.ASSETS_DIR)
    for prefix, folder in ASSET_FOLDERS.items():
        if url.startswith(prefix):
            rest = url[len(prefix):].split("?")[0]
            name = rest.rsplit("/", 1)[-1]
            rest = rest[: len(rest) - len(name)] + ASSET_RENAMES.get(name, name)
            return assets_dir / folder / rest
    return None


def check_assets(assets_dir: Path | None = None) -> None:
    """Fail in one line, before any drawing, if ``--offline`` cannot find the npm packages."""
    assets_dir = Path(assets_dir or settings.ASSETS_DIR)
    for _, url in (LEAFLET_JS, JQUERY_JS, LEAFLET_CSS):
        path = local_asset(url, assets_dir)
        if not path.exists():
            raise HamjiError(f"offline maps need {url} from the npm packages in {assets_dir}; run 'npm ci' in "
                             f"{settings.PROJECT_ROOT} (or set HAMJI_ASSETS_DIR to a folder holding them)")


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_assets(html: str, assets_dir: Path | None = None) -> str:
    """Replace every CDN ``<script src>`` and stylesheet link with the file's content.

    CSS ``url(...)`` references (Leaflet's control icons) become data URIs,
    so the page needs no network at all except for basemap tiles.
    """
    assets_dir = Path(assets_dir or settings.ASSETS_DIR)

    def read(url: str) -> tuple[Path, str]:
        path = local_asset(url, assets_dir)
        if path is None or not path.exists():
            raise HamjiError(f"offline maps need {url} from the npm packages in {assets_dir}; run 'npm ci' in "
                             f"{settings.PROJECT_ROOT} (or set HAMJI_ASSETS_DIR to a folder holding them)")
        return path, path.read_text(encoding="utf-8")

    def credit(path: Path) -> str:
        package = assets_dir / path.relative_to(assets_dir).parts[0] / "package.json"
        info = json.loads(package.read_text()) if package.exists() else {}
        return (f"/*! {info.get('name', path.name)} {info.get('version', '')}, licence: "
                f"{info.get('license', 'see the package')}; inlined by hamji maps --offline */\n")

    def script(match: re.Match) -> str:
        path, text = read(match.group(1))
        return "<script>" + credit(path) + text.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match) -> str:
        path, text = read(match.group(1))

        def embed(ref: re.Match) -> str:
            target = ref.group(2)
            if target.startswith(("data:", "#", "http")):
                return ref.group(0)
            local = (path.parent / target.split("?")[0].split("#")[0]).resolve()
            return f"url({_data_uri(local)})" if local.exists() else ref.group(0)

        text = re.sub(r"url\((['\"]?)([^)'\"]+)\1\)", embed, text)
        return "<style>" + credit(path) + text.replace("</style", "<\\/style") + "</style>"

    html = re.sub(r'<script src="(https?://[^"]+)"></script>', script, html)
    return re.sub(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/?>', style, html)


# -- shared pieces --------------------------------------------------------------------


def time_colour(hours: float) -> str:
    """Colour of a time to the nearest crossing, the same on every map."""
    if hours is None or pd.isna(hours) or not np.isfinite(hours):
        return settings.MAP_UNREACHABLE_COLOUR
    bins = settings.MAP_TIME_BINS_H
    for upper, colour in zip(bins[1:], settings.MAP_TIME_COLOURS):
        if hours < upper:
            return colour
    return settings.MAP_TIME_COLOURS[-1]


def time_bin_labels() -> list[tuple[str, str]]:
    """(colour, label) for each bin of the time scale, then unreachable."""
    bins = settings.MAP_TIME_BINS_H
    labels = [f"{low:g}–{high:g} h" for low, high in zip(bins, bins[1:])]
    labels.append(f"{bins[-1]:g} h or more")
    return list(zip(settings.MAP_TIME_COLOURS, labels)) + [(settings.MAP_UNREACHABLE_COLOUR, "unreachable")]


def _link(text: str) -> str:
    """Escape a source text, turning its web addresses into links."""
    parts = re.split(r"(https?://[^\s;,]+)", text or "")
    return "".join(f'<a href="{escape(p)}" target="_blank" rel="noopener">{escape(p)}</a>'
                   if i % 2 else escape(p) for i, p in enumerate(parts))


def _table(pairs: list[tuple[str, str]]) -> str:
    """Rows of already-escaped (label, value) HTML."""
    rows = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in pairs if value not in ("", None))
    return f'<table class="hamji-popup">{rows}</table>'


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def market_label(row: pd.Series) -> str:
    """A market's name for people (plain text, not yet escaped)."""
    for column in ("name", "name_en", "name_ko"):
        if _text(row.get(column)):
            return _text(row[column])
    return f"unnamed market ({row['osm_type']}/{row['osm_id']})"


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


PAGE_CSS = """<style>
.hamji-header{position:fixed;top:10px;left:55px;z-index:1000;background:rgba(255,255,255,.93);padding:6px 10px;
  border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.35 sans-serif;max-width:46%}
.hamji-header h1{font-size:15px;margin:0 0 2px}
.hamji-demo{position:fixed;top:0;left:0;right:0;z-index:1001;background:#c92a2a;color:#fff;text-align:center;
  font:bold 14px/24px sans-serif;letter-spacing:.05em;pointer-events:none}
.hamji-demo ~ .hamji-header{top:32px}
.hamji-demo ~ .folium-map .leaflet-top{margin-top:24px}
.hamji-legend{position:fixed;bottom:62px;left:10px;z-index:1000;background:rgba(255,255,255,.93);padding:6px 9px;
  border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.4 sans-serif}
.hamji-legend h2{font-size:12px;margin:0 0 3px}
.hamji-legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-2px;border:1px solid #555}
.hamji-legend i.dot{border-radius:50%}
.hamji-legend i.line{height:0;border:0;border-top:4px solid #5f3dc4;vertical-align:3px}
.hamji-crossing{width:14px;height:14px;border:2px solid #fff;box-shadow:0 0 2px #000}
.hamji-crossing.rail{transform:rotate(45deg)}
.hamji-hub{width:14px;height:14px;border-radius:50%;background:#1864ab;border:3px solid #fff;box-shadow:0 0 2px #000}
.hamji-hub-label{font:bold 12px sans-serif;color:#1864ab;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff}
table.hamji-popup{border-collapse:collapse;font:12px sans-serif}
table.hamji-popup th{text-align:left;padding:1px 8px 1px 0;vertical-align:top;font-weight:600}
table.hamji-popup td{padding:1px 0}
.hamji-title{position:fixed;bottom:64px;z-index:1000;background:rgba(255,255,255,.93);padding:4px 8px;
  border-radius:4px;font:bold 14px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}
</style>"""


@dataclass
class MapInputs:
    """Everything the maps draw, read from the layers, routes and reach files."""

    provinces: gpd.GeoDataFrame
    border: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    crossings: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    markets: gpd.GeoDataFrame
    bands: gpd.GeoDataFrame
    reach: pd.DataFrame
    provenance: dict
    #: Roads used by market routes, merged by number of routes (made from ``roads`` when drawing).
    corridors: gpd.GeoDataFrame | None = None

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic"))

    def data_line(self) -> str:
        """'Source, data as of date' as escaped HTML."""
        source = self.provenance.get("source", "unknown source")
        return escape(f"{source}; OpenStreetMap data as of {self.provenance.get('osm_timestamp', 'unknown date')}")


def _prepare(frame: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify in metres and round coordinates, so the HTML stays small."""
    if frame.empty:
        return frame
    if tolerance_m > 0 and not (frame.geom_type == "Point").all():
        measured = frame.to_crs(settings.MEASURE_CRS)
        frame = frame.set_geometry(measured.simplify(tolerance_m, preserve_topology=True).to_crs(settings.STORE_CRS))
    decimals = settings.MAP_COORD_DECIMALS
    return frame.set_geometry(shapely.transform(frame.geometry.values, lambda xy: np.round(xy, decimals)))


def _page_furniture(root: Figure, inputs: MapInputs, title: str, subtitle_html: str,
                    index_href: str = INDEX_FILE) -> None:
    root.header.add_child(StaticHtml(PAGE_CSS), name="hamji_css")
    demo = f'<div class="hamji-demo">{escape(settings.DEMO_STAMP)}</div>' if inputs.synthetic else ""
    root.html.add_child(StaticHtml(
        f'{demo}<div class="hamji-header"><h1>{escape(title)}</h1>{subtitle_html}<br>'
        f'<small>{inputs.data_line()} · <a href="{index_href}">all maps, sources and assumptions</a></small></div>'),
        name="hamji_header")


def _legend(root: Figure, sections: list[tuple[str, list[str]]]) -> None:
    body = "".join(f"<h2>{escape(title)}</h2>" + "<br>".join(items) for title, items in sections)
    root.html.add_child(StaticHtml(f'<div class="hamji-legend">{body}</div>'), name="hamji_legend")


def _time_legend_items() -> list[str]:
    return [f'<i class="dot" style="background:{colour}"></i>{escape(label)}' for colour, label in time_bin_labels()]


def _symbol_legend_items() -> list[str]:
    return [f'<i style="background:{CROSSING_COLOURS["open"]}"></i>crossing, road (open)',
            f'<i style="background:{CROSSING_COLOURS["open"]};transform:rotate(45deg)"></i>crossing, rail',
            f'<i style="background:{CROSSING_COLOURS["closed"]}"></i>crossing closed',
            f'<i style="background:{CROSSING_COLOURS["unusable"]}"></i>crossing not routable',
            '<i class="dot" style="background:#1864ab"></i>Chinese wholesale hub',
            '<i class="line"></i>trade corridor (width: market routes)']


def _new_map(inputs: MapInputs, **kwargs) -> folium.Map:
    m = folium.Map(tiles="OpenStreetMap", control_scale=True, **kwargs)
    # Only Leaflet and jQuery: the CDN links are fewer, and --offline inlines them all.
    m.default_js = [LEAFLET_JS, JQUERY_JS]
    m.default_css = [LEAFLET_CSS]
    note = DEMO_ATTRIBUTION if inputs.synthetic else OSM_ATTRIBUTION
    _MapScript("{map}.attributionControl.addAttribution(" + _js_string(note) + ");").add_to(m)
    return m


def _js_string(text: str) -> str:
    return json.dumps(text).replace("</", "<\\/")


def _bounds(frame: gpd.GeoDataFrame) -> list[list[float]]:
    minx, miny, maxx, maxy = frame.total_bounds
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


# -- layers drawn on the maps -----------------------------------------------------------


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
        tips = [escape(f"{_text(name) or 'unnamed'} ({highway})") for name, highway in
                zip(chosen["name"], chosen["highway"])]
        data = gpd.GeoDataFrame({"tip": tips}, geometry=chosen.geometry.values, crs=settings.STORE_CRS)
        folium.GeoJson(data, name=label, show=show, style_function=lambda _, c=colour, w=weight: {
            "color": c, "weight": w, "opacity": 0.8},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False)).add_to(m)


def _add_corridors(m: folium.Map, corridors: gpd.GeoDataFrame) -> None:
    if corridors.empty:
        return
    counts = corridors["routes"].astype(int).to_numpy()
    tips = [escape(f"{count} market route{'' if count == 1 else 's'} use this road") for count in counts]
    data = gpd.GeoDataFrame({"tip": tips, "routes": counts}, geometry=corridors.geometry.values,
                            crs=settings.STORE_CRS)
    folium.GeoJson(data, name="Trade corridors (hub → crossing → market)",
                   style_function=lambda f: {"color": "#5f3dc4", "opacity": 0.75,
                                             "weight": 2 + 2 * math.log2(1 + f["properties"]["routes"])},
                   tooltip=folium.GeoJsonTooltip(["tip"], labels=False)).add_to(m)


def crossing_popup(row: pd.Series) -> str:
    """A crossing's gazetteer facts, sources and routing result as escaped HTML."""
    def with_source(value, source) -> str:
        text = escape(_text(value))
        return text + (f" <small>({_link(_text(source))})</small>" if _text(source) else "") if text else ""

    pairs = [("Crossing", escape(_text(row.get("name_en")) or _text(row.get("osm_name")) or row["crossing_id"])),
             ("Korean / Chinese", escape(" / ".join(t for t in (_text(row.get("name_ko")), _text(row.get("name_zh")))
                                                 if t))),
             ("Towns", escape(" – ".join(t for t in (_text(row.get("kp_town")), _text(row.get("cn_town"))) if t))),
             ("Mode", escape(_text(row.get("mode")))),
             ("Status", with_source(row.get("status"), row.get("status_source"))),
             ("Opened", with_source(row.get("year_opened"), row.get("year_opened_source"))),
             ("Rebuilt", with_source(row.get("year_rebuilt"), row.get("year_rebuilt_source"))),
             ("Location", with_source(f"±{_text(row.get('coord_precision_m'))} m"
                                      if _text(row.get("coord_precision_m")) else "", row.get("coord_source"))),
             ("Facts", _link(_text(row.get("facts_source")))),
             ("In OSM", escape(_text(row.get("osm_ids")) or "no")),
             ("Routing", escape("usable" if row.get("usable") else f"not used: {_text(row.get('reason'))}")),
             ("Fastest hub", escape(f"{_text(row.get('hub'))}, {format_hours(row.get('hub_crossing_h'))}"
                                    if _text(row.get("hub")) else "")),
             ("Border penalty", escape(format_hours(row.get("penalty_h")))),
             ("Markets served", escape(_text(row.get("markets_served"))))]
    return _table(pairs)


def _add_crossings(m: folium.Map, crossings: gpd.GeoDataFrame) -> None:
    group = folium.FeatureGroup(name="Border crossings")
    for _, row in crossings.iterrows():
        state = "closed" if row["status"] == "closed" else "open" if row.get("usable", True) else "unusable"
        shape = "rail" if row["mode"] == "rail" else "road"
        icon = folium.DivIcon(html=f'<div class="hamji-crossing {shape}" '
                                   f'style="background:{CROSSING_COLOURS[state]}"></div>',
                              icon_size=(18, 18), icon_anchor=(9, 9), class_name="hamji-crossing-icon")
        name = _text(row.get("name_en")) or _text(row.get("osm_name")) or row["crossing_id"]
        folium.Marker([row.geometry.y, row.geometry.x], icon=icon,
                      tooltip=escape(f"{name} ({row['mode']}, {state})"),
                      popup=folium.Popup(crossing_popup(row), max_width=420)).add_to(group)
    group.add_to(m)


def _add_hubs(m: folium.Map, hubs: gpd.GeoDataFrame) -> None:
    group = folium.FeatureGroup(name="Chinese wholesale hubs")
    for _, row in hubs.iterrows():
        label = escape(_text(row["hub"]))
        icon = folium.DivIcon(html=f'<div class="hamji-hub"></div><div class="hamji-hub-label">{label}</div>',
                              icon_size=(20, 20), icon_anchor=(10, 10), class_name="hamji-hub-icon")
        tip = escape(f"{_text(row['hub'])} ({_text(row.get('name_zh'))}), wholesale hub")
        folium.Marker([row.geometry.y, row.geometry.x], icon=icon, tooltip=tip).add_to(group)
    group.add_to(m)


def market_popup(row: pd.Series) -> str:
    """A market's route and times as escaped HTML."""
    route = ""
    if row.get("reachable"):
        route = (f"{_text(row['hub'])} → {_text(row['best_crossing'])} → market: {format_hours(row['total_h'])}, "
                 f"{row['total_km']:.0f} km (border {format_hours(row['penalty_h'])})")
    pairs = [("Market", escape(market_label(row))),
             ("Province", escape(f"{_text(row.get('province_name'))} ({_text(row.get('province'))})")),
             ("Nearest crossing", escape(_text(row.get("nearest_crossing")) or "none")),
             ("Time to it", escape(format_hours(row.get("crossing_h")))),
             ("Road distance", escape(f"{row['crossing_km']:.1f} km" if pd.notna(row.get("crossing_km")) else "")),
             ("Fastest from China", escape(route)),
             ("Not reached", escape(_text(row.get("reason")))),
             ("Distance to road", escape(f"{row['snap_m']:.0f} m" if pd.notna(row.get("snap_m")) else "")),
             ("OSM", escape(f"{row['osm_type']}/{row['osm_id']}"))]
    return _table(pairs)


def _add_markets(m: folium.Map, markets: gpd.GeoDataFrame, name: str = "Markets (colour: time to crossing)") -> None:
    group = folium.FeatureGroup(name=name)
    for _, row in markets.iterrows():
        hours = row.get("crossing_h")
        tip = f"<b>{escape(market_label(row))}</b><br>" + escape(
            f"{format_hours(hours)} to the nearest crossing" + (f" ({row['nearest_crossing']})"
                                                                 if _text(row.get("nearest_crossing")) else ""))
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=7, weight=1.5, color="#212529",
                            fill=True, fill_color=time_colour(hours), fill_opacity=0.9, class_name="hamji-market",
                            tooltip=folium.Tooltip(tip),
                            popup=folium.Popup(market_popup(row), max_width=420)).add_to(group)
    group.add_to(m)


def province_popup_rows(row: pd.Series) -> list[tuple[str, str]]:
    """A province's reach-table row as escaped (label, text) pairs for its popup."""
    published = "–" if pd.isna(row["published_markets"]) else \
        f"{row['published_markets']} ({row['published_by']}, {row['published_year']})"
    pairs = [("Markets in OSM", f"{row['markets']}"), ("Published count", published),
             ("Markets per 1,000 km²", f"{row['markets_per_1000km2']:.2f}"),
             ("Median time to crossing", format_hours(row["crossing_h_median"])),
             ("90th percentile", format_hours(row["crossing_h_p90"]))]
    pairs += [(f"Within {h} h of a crossing", format_share(row[f"crossing_within_{h}h"]))
              for h in settings.REACH_THRESHOLDS_H]
    pairs += [("Unreachable", format_share(row["crossing_unreachable"])),
              ("Median hub → market", format_hours(row["hub_h_median"]))]
    return [(escape(label), escape(text)) for label, text in pairs]


def _add_outlines(m: folium.Map, inputs: MapInputs) -> None:
    if not inputs.provinces.empty:
        data = gpd.GeoDataFrame({"tip": [escape(f"{n} ({c})") for n, c in
                                         zip(inputs.provinces["name"], inputs.provinces["code"])]},
                                geometry=inputs.provinces.geometry.values, crs=settings.STORE_CRS)
        folium.GeoJson(data, name="Provinces", style_function=lambda _: {
            "color": "#495057", "weight": 1, "fill": False, "dashArray": "4 3"}).add_to(m)
    if not inputs.border.empty:
        folium.GeoJson(inputs.border[["geometry"]], name="China–North Korea border", style_function=lambda _: {
            "color": "#212529", "weight": 3, "opacity": 0.7}).add_to(m)


def _finish(m: folium.Map) -> None:
    plugins.MiniMap(toggle_display=True, position="bottomright").add_to(m)
    plugins.Fullscreen(position="topleft").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)


# -- the maps -------------------------------------------------------------------------


def overview_map(inputs: MapInputs) -> folium.Map:
    """Crossings, roads, corridors, hubs and markets of the whole build."""
    m = _new_map(inputs)
    m.fit_bounds(_bounds(inputs.markets if len(inputs.markets) else inputs.roads))
    _add_outlines(m, inputs)
    _add_roads(m, inputs.roads)
    _add_corridors(m, inputs.corridors)
    _add_hubs(m, inputs.hubs)
    _add_crossings(m, inputs.crossings)
    _add_markets(m, inputs.markets)
    _finish(m)
    root = m.get_root()
    _page_furniture(root, inputs, "HamJi Explorer — trade routes from Jilin into North Korea",
                    "Markets coloured by time to the nearest open crossing; purple lines are the roads the "
                    "fastest hub → crossing → market routes use.")
    _legend(root, [("Time to nearest crossing", _time_legend_items()), ("Symbols", _symbol_legend_items())])
    return m


def comparison_map(inputs: MapInputs) -> folium.Map:
    """Provinces shaded by median time to a crossing, with bands around the crossings."""
    m = _new_map(inputs)
    kp = inputs.provinces[inputs.provinces["country"] == "KP"]
    m.fit_bounds(_bounds(kp if len(kp) else inputs.provinces))
    reach = inputs.reach.set_index("code")
    rows = [reach.loc[c] if c in reach.index else None for c in kp["code"]]
    data = gpd.GeoDataFrame({
        "code": kp["code"].to_numpy(),
        "fill": [time_colour(r["crossing_h_median"]) if r is not None and r["markets"] else "#ffffff" for r in rows],
        "tip": [escape(f"{n}: median {format_hours(r['crossing_h_median'])} to a crossing, {r['markets']} markets")
                if r is not None else escape(n) for n, r in zip(kp["name"], rows)],
        "popup": [f"<b>{escape(n)} ({escape(c)})</b>" + (_table(province_popup_rows(r)) if r is not None else "")
                  for n, c, r in zip(kp["name"], kp["code"], rows)]},
        geometry=kp.geometry.values, crs=settings.STORE_CRS)
    folium.GeoJson(data, name="Provinces: median time to a crossing",
                   style_function=lambda f: {"fillColor": f["properties"]["fill"], "fillOpacity": 0.55,
                                             "color": "#343a40", "weight": 1.5},
                   tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
                   popup=folium.GeoJsonPopup(["popup"], labels=False)).add_to(m)
    band_colours = {2: "#1971c2", 4: "#4dabf7", 8: "#a5d8ff"}
    for _, band in inputs.bands.sort_values("hours", ascending=False).iterrows():
        hours = band["hours"]
        colour = band_colours.get(int(hours), "#74c0fc")
        tip = escape(f"Within {hours:g} h of a crossing by road: {band['road_km']:,.0f} km of road")
        frame = gpd.GeoDataFrame({"tip": [tip]}, geometry=[band.geometry], crs=settings.STORE_CRS)
        folium.GeoJson(frame, name=f"Within {hours:g} h of a crossing",
                       style_function=lambda _, c=colour: {"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.3},
                       tooltip=folium.GeoJsonTooltip(["tip"], labels=False)).add_to(m)
    if not inputs.border.empty:
        folium.GeoJson(inputs.border[["geometry"]], name="China–North Korea border", style_function=lambda _: {
            "color": "#212529", "weight": 3, "opacity": 0.7}).add_to(m)
    _add_crossings(m, inputs.crossings)
    _add_markets(m, inputs.markets)
    _finish(m)
    root = m.get_root()
    _page_furniture(root, inputs, "Border provinces against far provinces", escape(headline(inputs.reach)))
    bands = [f'<i style="background:{band_colours.get(int(h), "#74c0fc")};opacity:.6"></i>within {h:g} h by road'
             for h in sorted(inputs.bands["hours"])]
    _legend(root, [("Median time to crossing (province) and time per market", _time_legend_items()),
                   ("Travel-time bands around the crossings", bands)])
    return m


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
        _add_crossings(m, inputs.crossings)
        _add_markets(m, inputs.markets)
        plugins.Fullscreen(position="topleft").add_to(m)
        folium.LayerControl(collapsed=True).add_to(m)
        row = reach.loc[code] if code in reach.index else None
        name = province["name"].iloc[0] if len(province) else code
        title = f"{name} ({code})" + (f": median {format_hours(row['crossing_h_median'])} to a crossing, "
                                      f"{row['markets']} markets" if row is not None else ": not in this build")
        m.get_root().html.add_child(StaticHtml(
            f'<div class="hamji-title" style="left:calc({left} + 10px)">{escape(title)}</div>'))
        maps.append(m)
        views.append(_bounds(province if len(province) else inputs.provinces))
    # The same zoom on both sides: the one that fits the larger province, then
    # kept equal whenever either side zooms.
    a, b = (m.get_name() for m in maps)
    code = f"""
    (function() {{
      var maps = [{a}, {b}], bounds = {views};
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
    _page_furniture(figure, inputs, "North Hamgyong and South Hwanghae at the same scale",
                    "Same zoom and same colours on both sides; zooming one side zooms the other.")
    # A header strip across the top and both maps below it, so that nothing
    # covers either map's controls.
    top = 24 if inputs.synthetic else 0
    figure.header.add_child(StaticHtml(
        f"<style>.hamji-header{{left:0;right:0;top:{top}px !important;max-width:none;height:58px;border-radius:0;"
        f"box-sizing:border-box}} "
        f".folium-map{{top:{top + 58}px !important;height:calc(100% - {top + 58}px) !important}}"
        ".hamji-demo ~ .folium-map .leaflet-top{margin-top:0}"
        ".hamji-legend{left:auto;right:10px;bottom:64px}</style>"))
    _legend(figure, [("Time to nearest crossing", _time_legend_items())])
    return figure


#: Change in time to the nearest crossing (hours): upper bound, colour, label.
CHANGE_CLASSES = ((-0.05, "#1a9850", "faster"), (0.05, "#d9d9d9", "unchanged (within 3 min)"),
                  (1.0, "#fdae61", "slower by up to 1 h"), (4.0, "#f46d43", "slower by 1–4 h"),
                  (math.inf, "#a50026", "slower by more than 4 h"))
LOST_COLOUR, GAINED_COLOUR = "#000000", "#006837"


def change_colour(row: pd.Series) -> str:
    """Colour of a market on the difference map."""
    if row["lost_reach"]:
        return LOST_COLOUR
    if row["gained_reach"]:
        return GAINED_COLOUR
    change = row["crossing_change_h"]
    if pd.isna(change):
        return settings.MAP_UNREACHABLE_COLOUR
    return next(colour for upper, colour, _ in CHANGE_CLASSES if change < upper)


def _change_text(hours: float) -> str:
    return "–" if pd.isna(hours) else f"{hours:+.2f} h"


def difference_map(inputs: MapInputs, markets: pd.DataFrame, provinces: pd.DataFrame, info: dict) -> folium.Map:
    """A scenario against the baseline: each market coloured by the change in its time to a crossing."""
    m = _new_map(inputs)
    m.fit_bounds(_bounds(inputs.markets if len(inputs.markets) else inputs.roads))
    _add_outlines(m, inputs)
    _add_roads(m, inputs.roads)
    _add_crossings(m, inputs.crossings)
    diff = markets.set_index(["osm_type", "osm_id"])
    group = folium.FeatureGroup(name="Markets (colour: change in time to crossing)")
    for _, market in inputs.markets.iterrows():
        row = diff.loc[(market["osm_type"], market["osm_id"])]
        before, after = row["nearest_crossing_base"], row["nearest_crossing_scenario"]
        pairs = [("Market", escape(market_label(market))),
                 ("Province", escape(_text(market.get("province")))),
                 ("Nearest crossing", escape(f"{_text(before) or 'none'} → {_text(after) or 'none'}")),
                 ("Time to it", escape(f"{format_hours(row['crossing_h_base'])} → "
                                       f"{format_hours(row['crossing_h_scenario'])} "
                                       f"({_change_text(row['crossing_change_h'])})")),
                 ("Hub → market", escape(f"{format_hours(row['total_h_base'])} → "
                                         f"{format_hours(row['total_h_scenario'])} "
                                         f"({_change_text(row['total_change_h'])})")),
                 ("Best crossing", escape(f"{_text(row['best_crossing_base']) or 'none'} → "
                                          f"{_text(row['best_crossing_scenario']) or 'none'}"))]
        tip = f"<b>{escape(market_label(market))}</b><br>" + escape(
            "no longer reachable" if row["lost_reach"] else
            f"{_change_text(row['crossing_change_h'])} to the nearest crossing"
            + (f" (now {after})" if row["nearest_crossing_changed"] and _text(after) else ""))
        folium.CircleMarker([market.geometry.y, market.geometry.x], radius=7, weight=1.5, color="#212529",
                            fill=True, fill_color=change_colour(row), fill_opacity=0.9, class_name="hamji-market",
                            tooltip=folium.Tooltip(tip),
                            popup=folium.Popup(_table(pairs), max_width=420)).add_to(group)
    group.add_to(m)
    _finish(m)
    root = m.get_root()
    groups = provinces.set_index("code")
    sentence = ""
    if {"group:border", "group:far"} <= set(groups.index):
        b, f = groups.loc["group:border"], groups.loc["group:far"]
        sentence = (f"Median time to a crossing: border provinces {format_hours(b['crossing_h_median_base'])} → "
                    f"{format_hours(b['crossing_h_median_scenario'])}, far provinces "
                    f"{format_hours(f['crossing_h_median_base'])} → {format_hours(f['crossing_h_median_scenario'])}.")
    _page_furniture(root, inputs, f"Scenario: {info['name']}", escape(info["description"]) + "<br>" + escape(sentence),
                    index_href=f"../{INDEX_FILE}")
    items = [f'<i class="dot" style="background:{colour}"></i>{escape(label)}' for _, colour, label in CHANGE_CLASSES]
    items += [f'<i class="dot" style="background:{LOST_COLOUR}"></i>no longer reachable',
              f'<i class="dot" style="background:{GAINED_COLOUR}"></i>newly reachable']
    _legend(root, [("Change in time to nearest crossing", items), ("Symbols", _symbol_legend_items()[:4])])
    return m


# -- writing ----------------------------------------------------------------------------


def render(element: folium.Map | Figure, offline: bool = False) -> str:
    """The page as one HTML string; with ``offline``, every CDN asset inlined.

    folium names every element with a random id; they are renumbered in order
    of appearance, so the same inputs always give the same bytes.
    """
    html = element.get_root().render()
    ids: dict[str, str] = {}
    html = re.sub(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])",
                  lambda m: ids.setdefault(m.group(0), f"{len(ids) + 1:032x}"), html)
    return inline_assets(html) if offline else html


def fit_page(file_name: str, builder, inputs: MapInputs, offline: bool = False,
             drawn: dict[float, MapInputs] | None = None) -> tuple[str, float]:
    """Render ``builder(inputs)``, simplifying geometry until the page fits under :data:`settings.MAP_MAX_BYTES`.

    ``drawn`` keeps the simplified inputs per tolerance, for several pages
    drawn from the same inputs. Returns the HTML and the tolerance (m) applied.
    """
    drawn = {} if drawn is None else drawn
    tolerance = settings.MAP_SIMPLIFY_M
    for _ in range(8):
        if tolerance not in drawn:
            drawn[tolerance] = _simplified(inputs, tolerance)
        html = render(builder(drawn[tolerance]), offline)
        if len(html.encode()) <= settings.MAP_MAX_BYTES:
            return html, tolerance
        tolerance *= 2
    raise HamjiError(f"{file_name} is still {len(html.encode()) / 1e6:.1f} MB after simplifying to "
                     f"{tolerance / 2:.0f} m; build fewer provinces with --province")


def build_maps(inputs: MapInputs, offline: bool = False) -> tuple[dict[str, str], dict[str, float]]:
    """Every map as HTML, each simplified until it fits under :data:`settings.MAP_MAX_BYTES`.

    Returns
    -------
    tuple
        File name -> HTML text, and file name -> simplification tolerance (m)
        that was applied.
    """
    builders = {"overview": overview_map, "comparison": comparison_map, "side_by_side": side_by_side_map}
    pages, tolerances, drawn = {}, {}, {}
    for key, builder in builders.items():
        pages[MAP_FILES[key]], tolerances[MAP_FILES[key]] = fit_page(MAP_FILES[key], builder, inputs, offline, drawn)
    return pages, tolerances


def _simplified(inputs: MapInputs, tolerance_m: float) -> MapInputs:
    """The inputs as drawn: roads merged by name and class, corridors by use, all simplified."""
    roads = inputs.roads
    corridors = merge_lines(roads[roads["routes"] > 0], ["routes"]) if "routes" in roads else roads.iloc[:0]
    drawn = {"roads": merge_lines(roads, ["name", "highway"]), "corridors": corridors}
    frames = {name: _prepare(drawn.get(name, getattr(inputs, name)), tolerance_m)
              for name in ("provinces", "border", "roads", "corridors", "crossings", "hubs", "markets", "bands")}
    return MapInputs(**frames, reach=inputs.reach, provenance=inputs.provenance)


def index_page(inputs: MapInputs, sizes: dict[str, int], scenarios: list[tuple[str, str]] | None = None,
               sensitivity: list[str] | None = None) -> str:
    """``index.html``: the maps, the headline, the reach table, sources and assumptions.

    ``scenarios`` are (map file, title) of scenario maps already written;
    ``sensitivity`` the sentences of the last ``hamji sensitivity`` run.
    """
    from geo.published import PUBLISHED_COUNTS

    report = inputs.provenance.get("routes", {})
    demo = f'<p class="demo">{escape(settings.DEMO_STAMP)}</p>' if inputs.synthetic else ""
    maps = {"overview.html": "Overview: crossings, roads, trade corridors, hubs and markets",
            "comparison.html": "Comparison: provinces by median time to a crossing, with travel-time bands",
            "side_by_side.html": "Side by side: North Hamgyong and South Hwanghae at the same scale"}
    links = "".join(f'<li><a href="{f}">{escape(t)}</a> <small>({sizes.get(f, 0) / 1e6:.1f} MB)</small></li>'
                    for f, t in maps.items())
    columns = [("name", "Province"), ("markets", "Markets (OSM)"), ("published_markets", "Published"),
               ("crossing_h_median", "Median to crossing"), ("crossing_h_p90", "90th percentile"),
               ("crossing_within_4h", "Within 4 h"), ("crossing_unreachable", "Unreachable"),
               ("hub_h_median", "Median hub → market")]
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = ""
    for _, row in inputs.reach.iterrows():
        cells = []
        for column, _ in columns:
            value = row[column]
            if column.endswith(("_median", "_p90")):
                text = format_hours(value)
            elif column.endswith(("_4h", "_unreachable")):
                text = format_share(value)
            else:
                text = "–" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            cells.append(f"<td>{escape(text)}</td>")
        body += "<tr>" + "".join(cells) + "</tr>"
    scenario_html = ""
    if scenarios:
        scenario_html = "<h3>Scenarios</h3><ul>" + "".join(
            f'<li><a href="{escape(f)}">{escape(t)}</a></li>' for f, t in scenarios) + "</ul>"
    if sensitivity:
        scenario_html += "<h3>Sensitivity</h3><ul>" + "".join(f"<li>{escape(t)}</li>" for t in sensitivity) + "</ul>"
    speeds = report.get("speeds", {})
    speed_rows = "".join(f"<li>{escape(c)}: " + escape(", ".join(f"{k} {v:g} km/h" for k, v in speeds[c].items()))
                         + "</li>" for c in ("KP", "CN") if c in speeds)
    sources = "".join(f"<li>{escape(p.by)}, {p.year}: {p.markets} markets in "
                      f"{escape('North Korea' if p.code == 'KP' else p.code)}. {_link(p.source)}</li>"
                      for p in PUBLISHED_COUNTS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>HamJi Explorer maps</title>
<style>body{{font:15px/1.5 sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}.demo{{background:#c92a2a;color:#fff;padding:6px;font-weight:bold}}</style>
</head><body>{demo}
<h1>HamJi Explorer</h1>
<p>How long goods take from the Chinese wholesale cities of Yanbian, through a border crossing, to North Korean
markets, from OpenStreetMap data. {inputs.data_line()}.</p>
<p><b>{escape(headline(inputs.reach))}</b></p>
<h2>Maps</h2><ul>{links}</ul>
{scenario_html}
<h2>Reach table</h2><table><tr>{head}</tr>{body}</table>
<p>Unreachable markets count as infinitely far. The full table is <code>layers/{settings.REACH_CSV}</code>; the
summary with every column is <code>layers/{settings.REACH_MD}</code>.</p>
<h2>Assumptions</h2><ul>{speed_rows}
<li>Border penalty: {escape(", ".join(f"{k} {v:g} h" for k, v in sorted(report.get("penalties_h", {}).items())))}</li>
<li>Speeds are assumptions for laden trucks, not measurements (see the README).</li></ul>
<h2>Sources</h2><ul><li>{OSM_ATTRIBUTION if not inputs.synthetic else escape(DEMO_ATTRIBUTION)}</li>{sources}</ul>
</body></html>
"""
