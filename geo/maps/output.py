"""The maps from a build's results: one drawn for a notebook, or all of them written as HTML."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Figure

from geo import io, settings
from geo.errors import InputError
from geo.maps.assets import check_assets, inline_assets
from geo.maps.base import MapInputs
from geo.maps.pages import comparison_map, overview_map, side_by_side_map
from geo.maps.style import INDEX_FILE
from geo.maps.write import build_maps, index_page, simplified
from geo.results import Layers, Routes

log = logging.getLogger(__name__)

__all__ = ["MAP_KINDS", "draw_map", "map_inputs", "write_maps"]


MAP_KINDS = ("overview", "comparison", "side_by_side")


def map_inputs(
    layers: Layers,
    routes: Routes,
    reach: pd.DataFrame,
    catchments: gpd.GeoDataFrame | None = None,
    uncertainty: pd.DataFrame | None = None,
) -> MapInputs:
    """What the maps draw, from a build's layers, routes and reach table (the crossings' catchments, the intervals)."""
    return MapInputs(
        provinces=layers.provinces,
        border=layers.border,
        roads=routes.roads,
        crossings=routes.crossings,
        hubs=routes.hubs,
        markets=routes.markets,
        road_times=routes.road_times,
        reach=reach,
        assumptions=routes.assumptions,
        provenance=routes.provenance,
        catchments=catchments,
        uncertainty=uncertainty,
        railways=layers.railways,
        stations=layers.stations,
    )


def draw_map(layers: Layers, routes: Routes, reach: pd.DataFrame, kind: str = "overview") -> folium.Map | Figure:
    """One map as a folium object (shown inline in a notebook, self-contained: it needs no network).

    Parameters
    ----------
    kind
        ``overview``, ``comparison`` or ``side_by_side``.
    """
    builders: dict[str, Callable[[MapInputs], folium.Map | Figure]] = {
        "overview": overview_map,
        "comparison": comparison_map,
        "side_by_side": side_by_side_map,
    }
    if kind not in builders:
        raise InputError(f"no map called {kind!r}; choose one of {', '.join(builders)}", option="kind")
    check_assets()
    return _self_contained(builders[kind](simplified(map_inputs(layers, routes, reach), settings.MAP_SIMPLIFY_M)))


def _self_contained(element: folium.Map | Figure) -> folium.Map | Figure:
    """Make every rendering of ``element`` inline Leaflet and its plugins, as ``hamji maps`` does.

    A notebook shows a map by rendering its page (``_repr_html_``), and
    ``save()`` renders it too; both go through the root figure's ``render``,
    so the shipped assets are inlined there and the map draws with no network.
    """
    root = element.get_root()
    render = root.render
    # On this one figure only, not on the class (through its __dict__: mypy forbids assigning to a method).
    vars(root)["render"] = lambda **kwargs: inline_assets(render(**kwargs))
    return element


def write_maps(
    layers: Layers,
    routes: Routes,
    reach: pd.DataFrame,
    folder: str | Path | None = None,
    offline: bool = True,
    scenario_links: list[tuple[str, str]] | None = None,
    sensitivity: list[str] | None = None,
    supply: list[str] | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    uncertainty: pd.DataFrame | None = None,
) -> dict[str, dict]:
    """Write every map and ``index.html`` into ``folder`` (default :data:`settings.MAPS_DIR`).

    Parameters
    ----------
    offline
        Inline Leaflet and its plugins (the copies in :data:`settings.ASSETS_DIR`)
        so that the pages open without internet (the default); ``False`` links
        them from their CDN, for smaller pages.
    scenario_links, sensitivity, supply
        Scenario maps (file, title), sensitivity sentences and the ordering
        under each supply model, for the index.
    catchments
        The crossings' catchments as the reach stage wrote them
        (:func:`geo.api.crossing_catchments`), for the comparison map; made
        from the markets (census counts spread over them) if None.
    uncertainty
        The intervals of :func:`geo.api.reach_uncertainty` on these routes:
        the index and the comparison map show them.

    Returns
    -------
    dict
        File name -> ``{"bytes": size, "simplified_m": tolerance or None}``.
    """
    target = Path(folder or settings.MAPS_DIR)
    io.ensure_writable(target)
    if offline:
        check_assets()
    inputs = map_inputs(layers, routes, reach, catchments, uncertainty)
    log.info("drawing maps …")
    pages, tolerances = build_maps(inputs, offline=offline)
    sizes = {name: len(html.encode()) for name, html in pages.items()}
    compare = (target / settings.COMPARE_HTML).is_file()  # written by `hamji compare` into the same folder
    pages[INDEX_FILE] = index_page(inputs, sizes, scenario_links, sensitivity, supply, compare)
    written = {}
    for name, html in pages.items():
        io.write_text(html, target / name)
        written[name] = {"bytes": len(html.encode()), "simplified_m": tolerances.get(name)}
    return written
