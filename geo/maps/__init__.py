"""Stage 4: the Folium maps researchers open in a browser.

- ``overview.html``: crossings, roads by class, the trade corridors, Chinese
  hubs, and markets coloured by time to the nearest crossing.
- ``comparison.html``: provinces shaded by median hub → market time (the headline), with
  their row of the reach table, and the roads coloured by hours from a crossing.
- ``side_by_side.html``: North Hamgyong and South Hwanghae at the same scale
  and on the same colour scale.
- ``index.html``: links to the maps, the data date, sources and assumptions.
- ``scenarios/NAME.html``: a scenario against the baseline.

Outside text (OSM tags, scenario files, file paths, Overpass metadata) is
untrusted. Every piece of it goes through :func:`escape` before it reaches a
map, and page text of our own goes in as :class:`~geo.maps.text.StaticHtml`,
never as a template: branca recompiles whatever each folium element renders
as a Jinja2 template, so ``{{ … }}`` left in a market's name would be executed.

Modules: :mod:`~geo.maps.text` (the escape), :mod:`~geo.maps.style` (colours,
file names), :mod:`~geo.maps.assets` (CDN and offline Leaflet),
:mod:`~geo.maps.base` (inputs and page furniture), :mod:`~geo.maps.layers`
(what is drawn), :mod:`~geo.maps.pages` (the maps), :mod:`~geo.maps.write`
(HTML, size budget, index page).
"""

from importlib import import_module
from typing import TYPE_CHECKING

# Each name is imported on first use, from its module: importing geo.maps.style (colours, for the QGIS
# styles the layers stage writes) must not load folium and branca, which only drawing uses.
if TYPE_CHECKING:
    from geo.maps.assets import check_assets, inline_assets, local_asset
    from geo.maps.base import MapInputs
    from geo.maps.layers import crossing_popup, market_popup
    from geo.maps.pages import comparison_map, difference_map, overview_map, side_by_side_map
    from geo.maps.style import INDEX_FILE, MAP_FILES, time_colour
    from geo.maps.text import escape
    from geo.maps.write import build_maps, fit_page, index_page, render

_MODULE_OF = {
    "check_assets": "assets",
    "inline_assets": "assets",
    "local_asset": "assets",
    "MapInputs": "base",
    "crossing_popup": "layers",
    "market_popup": "layers",
    "comparison_map": "pages",
    "difference_map": "pages",
    "overview_map": "pages",
    "side_by_side_map": "pages",
    "INDEX_FILE": "style",
    "MAP_FILES": "style",
    "time_colour": "style",
    "escape": "text",
    "build_maps": "write",
    "fit_page": "write",
    "index_page": "write",
    "render": "write",
}

__all__ = [
    "INDEX_FILE",
    "MAP_FILES",
    "MapInputs",
    "build_maps",
    "check_assets",
    "comparison_map",
    "crossing_popup",
    "difference_map",
    "escape",
    "fit_page",
    "index_page",
    "inline_assets",
    "local_asset",
    "market_popup",
    "overview_map",
    "render",
    "side_by_side_map",
    "time_colour",
]


def __getattr__(name: str) -> object:
    if name in _MODULE_OF:
        return getattr(import_module(f"geo.maps.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module 'geo.maps' has no attribute {name!r}")
