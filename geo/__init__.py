"""HamJi Explorer: how cross-border trade reaches North Korean markets, from OpenStreetMap.

The public API (see :mod:`geo.api`) is importable from here::

    import geo
    layers = geo.load_layers("layers")          # or geo.layers_from_extracts([...]), geo.demo_layers()
    routes = geo.route_markets(layers, penalties={"wonjong_quanhe": 4})
    table = geo.reach_table(routes, layers)

It is loaded on first use, so that ``hamji --help`` does not wait for
GeoPandas.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    # One place for the version: pyproject.toml, read back from the installed package's metadata.
    __version__ = version("hamji-explorer")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "BuildComparison",
    "HamjiError",
    "Layers",
    "Routes",
    "RunAssumptions",
    "ScenarioResult",
    "compare_builds",
    "crossing_catchments",
    "demo_layers",
    "draw_map",
    "layers_from_extracts",
    "layers_from_overpass",
    "load_catchments",
    "load_layers",
    "load_reach",
    "load_routes",
    "reach_table",
    "route_markets",
    "run_assumptions",
    "run_scenario",
    "with_market_lists",
    "write_catchments",
    "write_comparison",
    "write_layers",
    "write_maps",
    "write_reach",
    "write_routes",
    "write_scenario",
]

if TYPE_CHECKING:
    from geo.api import (
        BuildComparison,
        Layers,
        Routes,
        RunAssumptions,
        ScenarioResult,
        compare_builds,
        crossing_catchments,
        demo_layers,
        draw_map,
        layers_from_extracts,
        layers_from_overpass,
        load_catchments,
        load_layers,
        load_reach,
        load_routes,
        reach_table,
        route_markets,
        run_assumptions,
        run_scenario,
        with_market_lists,
        write_catchments,
        write_comparison,
        write_layers,
        write_maps,
        write_reach,
        write_routes,
        write_scenario,
    )
    from geo.errors import HamjiError


def __getattr__(name: str) -> object:
    if name == "HamjiError":
        from geo.errors import HamjiError

        return HamjiError
    if name in __all__:
        from geo import api

        return getattr(api, name)
    raise AttributeError(f"module 'geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
