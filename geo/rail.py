"""Rail: the railways and stations layers, and rail legs as entries into the road routing.

OpenStreetMap's ``railway=rail`` ways become the ``railways`` layer (with
``usage``, ``service``, ``gauge`` and ``electrified`` as tagged) and
``railway=station``/``yard`` nodes the ``stations`` layer.

Routing (a supply model with the ``rail`` mode): goods are trucked from a
Chinese hub to an open rail crossing, loaded onto a train there, cross, and
ride the North Korean rail network to a station, where they are moved to a
truck. Each (rail crossing, station) pair reached is one more entry into the
road network, in the same multi-source search as the land crossings and the
sea links: its offset is the hub's road time, the loading and unloading
(:data:`settings.RAIL_TRANSFER_H` each), the rail time at
:data:`settings.RAIL_SPEED_KMH`, and the border penalty. The rail crossing
itself is an entry too (goods unloaded at the border station).

The Chinese leg of a rail crossing is by road to the crossing (loaded onto
the train at the border), or, where a Chinese hub has a station within
:data:`settings.HUB_STATION_MAX_M` joined by rail to the crossing, by road to
that station, loaded there, and by train to the crossing at the same speed
table (:func:`hub_station_entries`): one more row per (station, rail
crossing), and the faster wins in the same multi-source search.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.provinces import assign_regions
from geo.regions import Region
from geo.schema import bool_tag, conform

# The routing (geo.network, SciPy) is imported by the functions that route: the layers stage builds the
# railways and stations layers here and routes nothing, and SciPy's import cost it about 0.4 s of CPU.
if TYPE_CHECKING:
    from geo.network import Side, SpeedTable

__all__ = [
    "RAIL_NOT_USED",
    "allow_rail",
    "build_railways",
    "build_stations",
    "hub_station_entries",
    "rail_entries",
    "rail_side",
]

#: The reason a rail crossing gets when the supply model routes no rail.
RAIL_NOT_USED = "rail crossing: the supply model uses no rail"


def build_railways(raw: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame, selection: list[Region]) -> gpd.GeoDataFrame:
    """The railways layer: ``railway=rail`` ways in the selected provinces (and Chinese ones), in metres."""
    rail = raw[raw["railway"].isin(settings.RAIL_TAGS["railway"]) & (raw.geom_type == "LineString")].copy()
    rail["bridge"] = bool_tag(rail["bridge"]) if len(rail) else pd.Series(dtype=bool)
    rail = rail.rename(columns={"name:en": "name_en", "name:ko": "name_ko"})
    rail["length_m"] = rail.to_crs(settings.MEASURE_CRS).length
    rail = rail.join(assign_regions(rail.geometry, provinces))
    rail = rail[rail["province"].isin({r.code for r in selection}) | (rail["country"] == "CN")]
    return conform(rail.sort_values("osm_id").reset_index(drop=True), "railways")


def build_stations(raw: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame, selection: list[Region]) -> gpd.GeoDataFrame:
    """The stations layer: ``railway=station`` and ``yard`` nodes, where goods move between rail and road."""
    stations = raw[raw["railway"].isin(settings.STATION_TAGS["railway"]) & (raw.geom_type == "Point")].copy()
    stations = stations.rename(columns={"name:en": "name_en", "name:ko": "name_ko"})
    stations = stations.join(assign_regions(stations.geometry, provinces))
    stations = stations[stations["province"].isin({r.code for r in selection}) | (stations["country"] == "CN")]
    return conform(stations.sort_values("osm_id").reset_index(drop=True), "stations")


def rail_speeds() -> SpeedTable:
    """The rail speed table (one class, ``rail``) as routing reads it."""
    from geo.network import SpeedTable

    speeds = {country: {"rail": kmh} for country, kmh in settings.RAIL_SPEED_KMH.items()}
    return SpeedTable(speeds, dict.fromkeys(speeds, 1.0), "rail speeds (geo/settings.py, RAIL_SPEED_KMH)")


def rail_side(layers: dict[str, gpd.GeoDataFrame], keep: np.ndarray, country: str = "KP") -> Side | None:
    """One country's rail graph (border bridges left out), or None if the layers hold none of its rail."""
    from geo.network import build_side, split_at_border

    rail = layers.get("railways")
    if rail is None or rail.empty or not (rail["country"] == country).any():
        return None
    border = layers["border"].union_all() if len(layers["border"]) else None
    on_side = split_at_border(rail, border)[0] if border is not None else rail
    lines = on_side.assign(highway="rail", surface=None, oneway="no")
    side = build_side(lines, country, rail_speeds(), keep)
    return side if side.graph.shape[0] else None


def allow_rail(crossings: pd.DataFrame) -> pd.DataFrame:
    """Rail crossings become usable candidates (a rail supply model): the rail reason is taken away."""
    crossings = crossings.copy()
    rail = (crossings["mode"] == "rail").to_numpy() & (crossings["reason"] == RAIL_NOT_USED).to_numpy()
    far = (crossings[["kp_snap_m", "cn_snap_m"]].max(axis=1) > settings.CROSSING_SNAP_MAX_M).to_numpy()
    crossings.loc[rail & ~far, ["reason", "reason_code"]] = None
    crossings.loc[rail & far, "reason"] = f"no road within {settings.CROSSING_SNAP_MAX_M:,} m on one side of the border"
    crossings.loc[rail & far, "reason_code"] = "no_road_near"
    return crossings


def _from_border(rail: Side, point) -> tuple[np.ndarray, np.ndarray] | None:
    """Seconds and predecessors of the rail search from a rail crossing, or None if it is off the rails."""
    from scipy.sparse.csgraph import dijkstra

    start, start_m = rail.snap(_measured(gpd.GeoDataFrame(geometry=[point], crs=settings.STORE_CRS)))
    if start_m[0] > settings.CROSSING_SNAP_MAX_M:
        return None
    return dijkstra(rail.graph, directed=True, indices=int(start[0]), return_predecessors=True)


def _measured(frame: gpd.GeoDataFrame) -> np.ndarray:
    points = frame.to_crs(settings.MEASURE_CRS).geometry
    return np.column_stack([points.x, points.y]) if len(points) else np.zeros((0, 2))


def _rail_path(side: Side, pred: np.ndarray, target: int) -> tuple[float, shapely.LineString]:
    """Metres and line (store CRS) of the rail path to ``target`` walked back through ``pred``."""
    nodes = [target]
    while pred[nodes[-1]] >= 0:
        nodes.append(int(pred[nodes[-1]]))
    nodes = nodes[::-1]
    if len(nodes) < 2:
        return 0.0, shapely.LineString([side.lonlat[target], side.lonlat[target]])
    keys, fastest = side.edge_lookup()
    n = max(1, side.graph.shape[0])
    path = np.asarray(nodes, dtype=np.int64)
    edges = fastest[np.searchsorted(keys, path[:-1] * n + path[1:])]
    assert side.vertex_lonlat is not None  # build_side fills every vertex field
    vertex, owner = side.chain_vertices(edges)
    joint = np.r_[False, owner[1:] != owner[:-1]]
    return float(side.edge_length_m[edges].sum()), shapely.LineString(side.vertex_lonlat[vertex[~joint]])


def _hub_stations(hubs: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, cn_rail: Side, cn: Side) -> pd.DataFrame:
    """The Chinese stations of the hubs: within :data:`settings.HUB_STATION_MAX_M` of a usable hub, on rail and road.

    Each with its rail and road nodes, and the hours from the hub fastest to it by road (one multi-source pass).
    """
    from scipy.sparse.csgraph import dijkstra

    chosen = hubs[hubs["usable"].astype(bool)]
    cn_stations = stations[stations["country"] == "CN"].reset_index(drop=True)
    if chosen.empty or cn_stations.empty:
        return pd.DataFrame()
    xy, hub_xy = _measured(cn_stations), _measured(chosen)
    to_hub = np.hypot(*(xy[:, None, :] - hub_xy[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    rail_node, rail_m = cn_rail.snap(xy)
    road_node, road_m = cn.snap(xy)
    time_s, _, source = dijkstra(
        cn.graph, directed=True, indices=chosen["node"].to_numpy(), min_only=True, return_predecessors=True
    )
    hub_at = dict(zip(chosen["node"], chosen["hub"]))
    found = pd.DataFrame(
        {
            "name": [_text_name(row) for _, row in cn_stations.iterrows()],
            "rail_node": rail_node,
            "road_node": road_node,
            "road_m": road_m,
            "road_h": time_s[road_node] / 3600,
            "hub": [hub_at.get(int(source[node])) for node in road_node],
        }
    )
    ok = (to_hub <= settings.HUB_STATION_MAX_M) & (rail_m <= settings.SNAP_MAX_M) & (road_m <= settings.SNAP_MAX_M)
    return found[ok & np.isfinite(found["road_h"].to_numpy(float))]


def _text_name(row: pd.Series) -> str:
    english = row.get("name_en")
    return str(english) if isinstance(english, str) and english else str(row.get("name") or "unnamed")


def hub_station_entries(
    crossings: pd.DataFrame, hubs: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, cn_rail: Side, cn: Side
) -> pd.DataFrame:
    """The crossings plus one row per (hub's station, usable rail crossing) the Chinese rail joins.

    Such a row is the rail crossing reached by train from the station: its
    Chinese road node is the station's (the truck from the hub ends there),
    ``hub_crossing_h`` the road to the station plus the train
    (``cn_rail_h``, ``cn_rail_km`` at :data:`settings.RAIL_SPEED_KMH`);
    loading and unloading are added by :func:`rail_entries` as for any train.
    """
    from scipy.sparse.csgraph import dijkstra

    found = _hub_stations(hubs, stations, cn_rail, cn)
    is_rail = (crossings["mode"] == "rail").to_numpy() & crossings["usable"].astype(bool).to_numpy()
    if found.empty or not is_rail.any():
        return crossings
    rail_crossings = crossings[is_rail]
    points = gpd.GeoDataFrame(geometry=list(rail_crossings["geometry"]), crs=settings.STORE_CRS)
    at_node, at_m = cn_rail.snap(_measured(points))
    rows = []
    for _, station in found.iterrows():
        seconds, pred = dijkstra(
            cn_rail.graph, directed=True, indices=int(station["rail_node"]), return_predecessors=True
        )
        for (_, crossing), node, metres_off in zip(rail_crossings.iterrows(), at_node, at_m):
            if metres_off > settings.CROSSING_SNAP_MAX_M or not np.isfinite(seconds[node]):
                continue
            metres, line = _rail_path(cn_rail, pred, int(node))
            rows.append(
                {
                    **crossing.to_dict(),
                    "cn_node": int(station["road_node"]),
                    "cn_snap_m": float(station["road_m"]),
                    "hub": station["hub"],
                    "hub_crossing_h": station["road_h"] + seconds[node] / 3600,
                    "cn_station": station["name"],
                    "cn_rail_km": metres / 1000,
                    "cn_rail_h": seconds[node] / 3600,
                    "cn_rail_line": line,
                }
            )
    if not rows:
        return crossings
    entries = gpd.GeoDataFrame(rows, geometry="geometry", crs=getattr(crossings, "crs", None) or settings.STORE_CRS)
    return pd.concat([crossings, entries], ignore_index=True)


def rail_entries(crossings: pd.DataFrame, stations: gpd.GeoDataFrame, rail: Side, road_snap) -> pd.DataFrame:
    """The rail crossings with their loading and unloading, plus one entry per (rail crossing, station) reached.

    Parameters
    ----------
    crossings
        Placed crossings with hubs (``hub_crossing_h``) and ``usable``.
    stations
        The stations layer (North Korean ones are used).
    rail
        The North Korean rail graph (:func:`rail_side`).
    road_snap
        The North Korean road side's :meth:`~geo.network.Side.snap`.
    """
    crossings = crossings.copy()
    transfers = 2 * settings.RAIL_TRANSFER_H
    is_rail = (crossings["mode"] == "rail").to_numpy()
    # The Chinese road leg: to the crossing, or to the hub's station for a train from there.
    train_in_china = crossings["cn_rail_h"].fillna(0.0) if "cn_rail_h" in crossings else 0.0
    crossings["cn_road_h"] = crossings["hub_crossing_h"] - train_in_china
    # Loaded onto the train in China, unloaded at the border station in North Korea.
    crossings.loc[is_rail, "hub_crossing_h"] = crossings.loc[is_rail, "hub_crossing_h"] + transfers
    kp_stations = stations[stations["country"] == "KP"].reset_index(drop=True)
    if kp_stations.empty:
        return crossings
    station_rail, station_rail_m = rail.snap(_measured(kp_stations))
    station_road, station_road_m = road_snap(_measured(kp_stations))
    ok = (station_rail_m <= settings.SNAP_MAX_M) & (station_road_m <= settings.SNAP_MAX_M)
    rows = []
    searched: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    for _, crossing in crossings[is_rail & crossings["usable"].astype(bool).to_numpy()].iterrows():
        # One search per rail crossing, shared by its rows (by road to the border, or by train from a station).
        if crossing["crossing_id"] not in searched:
            searched[crossing["crossing_id"]] = _from_border(rail, crossing["geometry"])
        search = searched[crossing["crossing_id"]]
        if search is None:
            continue
        seconds, pred = search
        for s in np.flatnonzero(ok):
            if not np.isfinite(seconds[station_rail[s]]):
                continue
            metres, line = _rail_path(rail, pred, int(station_rail[s]))
            rail_h = seconds[station_rail[s]] / 3600
            rows.append(
                {
                    **crossing.to_dict(),
                    "kp_node": int(station_road[s]),
                    "kp_snap_m": float(station_road_m[s]),
                    "hub_crossing_h": crossing["hub_crossing_h"] + rail_h,
                    "station": kp_stations.loc[s, "name_en"] or kp_stations.loc[s, "name"],
                    "rail_km": metres / 1000,
                    "rail_h": rail_h,
                    "rail_line": line,
                }
            )
    if not rows:
        return crossings
    entries = gpd.GeoDataFrame(rows, geometry="geometry", crs=getattr(crossings, "crs", None) or settings.STORE_CRS)
    return pd.concat([crossings, entries], ignore_index=True)
