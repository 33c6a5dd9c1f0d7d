"""What the stages return: typed results holding GeoDataFrames and their provenance."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.assumptions import NetworkReport, RunAssumptions
from geo.layers import summary
from geo.schema import LAYER_ORDER

__all__ = ["ROUTE_FRAMES", "Layers", "Routes", "ScenarioResult"]


@dataclass
class Layers:
    """What the layers stage makes from OpenStreetMap: one GeoDataFrame per layer (EPSG:4326).

    The columns of each are declared in :data:`geo.schema.SCHEMAS`.
    ``provenance`` records the source, the OSM data date, the tag filters,
    tool versions and whether the data is the synthetic demo. ``file_id`` is
    the identity (:func:`geo.lineage.file_id`) of the layers file they were
    read from, or None when they were built or changed in memory: routes made
    from them record it, so that later stages can tell they belong together.
    """

    provinces: gpd.GeoDataFrame
    border: gpd.GeoDataFrame
    crossings: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    markets: gpd.GeoDataFrame
    market_areas: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    railways: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    provenance: dict
    file_id: str | None = None

    @property
    def frames(self) -> dict[str, gpd.GeoDataFrame]:
        """Layer name -> GeoDataFrame, in the order they are written."""
        return {name: getattr(self, name) for name in LAYER_ORDER}

    @property
    def synthetic(self) -> bool:
        """True for the demo fixture: never to be read as OpenStreetMap."""
        return bool(self.provenance.get("synthetic"))

    def summary(self) -> dict:
        """Counts per layer and province, road km, the data date (see :func:`geo.layers.summary`)."""
        return summary(self.frames, self.provenance)


ROUTE_FRAMES = ("routes", "markets", "roads", "crossings", "hubs", "bands", "road_times")


@dataclass
class Routes:
    """Every North Korean market routed from a Chinese hub through a crossing.

    ``markets`` holds the times (``crossing_h``: from the nearest open
    crossing; ``total_h``: from a hub through the best crossing, border
    penalty included; NaN where unreachable); ``routes`` one line per market;
    ``roads`` and ``crossings`` how much each carries; ``bands`` the land
    within each number of hours of a crossing; ``road_times`` the North
    Korean roads cut into classes of hours from the nearest crossing (the
    map's time bins). ``assumptions`` is what they were routed under (supply
    model, speeds, penalties, date); ``network`` what routing found (network
    sizes, what was dropped, regions the supply model lacked).
    """

    routes: gpd.GeoDataFrame
    markets: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    crossings: gpd.GeoDataFrame
    hubs: gpd.GeoDataFrame
    bands: gpd.GeoDataFrame
    road_times: gpd.GeoDataFrame
    assumptions: RunAssumptions
    network: NetworkReport
    provenance: dict

    @property
    def frames(self) -> dict[str, gpd.GeoDataFrame]:
        """Layer name -> GeoDataFrame, as written to the routes GeoPackage."""
        return {name: getattr(self, name) for name in ROUTE_FRAMES}

    @property
    def synthetic(self) -> bool:
        return bool(self.provenance.get("synthetic"))

    def per_province(self) -> pd.DataFrame:
        """Markets, reachable markets and median times per province."""
        from geo.routes import per_province

        return per_province(self.markets)


@dataclass
class ScenarioResult:
    """A scenario rerun against a baseline.

    ``info`` names it (``key``, ``name``, ``description``, ``file``);
    ``routes`` and ``reach`` are its own; ``market_changes`` and
    ``province_changes`` the differences from the baseline (see :mod:`geo.comparison`); ``ordering``
    whether border provinces still beat far ones.
    """

    info: dict
    routes: Routes
    reach: pd.DataFrame
    market_changes: pd.DataFrame
    province_changes: pd.DataFrame
    ordering: dict
