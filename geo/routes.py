"""Stage 2: how long goods take from a Chinese hub, through a crossing, to each market.

One multi-source Dijkstra per question, not one search per market:

- China: from all hubs at once, the fastest hub for every crossing.
- North Korea, pass A: from all open crossings at once, each market's
  nearest crossing by time.
- North Korea, pass B: from a virtual source joined to every crossing by its
  hub time plus its border penalty, each market's best whole route
  hub → crossing → market.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from geo import settings
from geo.errors import HamjiError, InputError
from geo.network import Side, SpeedTable, build_side, split_at_border, time_matrix

#: Added to the virtual source's edges: SciPy reads a stored zero as "no edge".
_EPS = 1e-6


def parse_penalties(values: list[str] | None, crossing_ids: list[str] | None) -> dict[str, float]:
    """Turn ``--penalty ID=HOURS`` values into a dict, failing in one line on bad ones.

    With ``crossing_ids`` ``None`` only the form is checked (before the
    crossings are known).
    """
    penalties = {}
    for value in values or []:
        name, _, hours = value.partition("=")
        if crossing_ids is not None and name not in crossing_ids:
            raise InputError(f"--penalty {value}: unknown crossing {name!r}; known crossings: "
                             + ", ".join(sorted(crossing_ids)))
        try:
            penalties[name] = float(hours)
        except ValueError:
            penalties[name] = math.nan
        if not 0 <= penalties[name] <= settings.MAX_PENALTY_H:
            raise InputError(f"--penalty {value}: {hours!r} is not a border penalty; give a number of hours from "
                             f"0 to {settings.MAX_PENALTY_H:g}")
    return penalties


def _path(pred: np.ndarray, target: int) -> list[int]:
    nodes = [target]
    while pred[nodes[-1]] >= 0:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]


@dataclass
class _Walk:
    """Node paths turned into edges, coordinates, lengths and roads."""

    side: Side

    def __post_init__(self) -> None:
        self.index = self.side.edge_index()

    def edges(self, nodes: list[int]) -> list[int]:
        return [self.index[(a, b)] for a, b in zip(nodes, nodes[1:])]

    def length_m(self, edges: list[int]) -> float:
        return float(self.side.edge_length_m[edges].sum()) if edges else 0.0

    def coords(self, edges: list[int]) -> list[tuple[float, float]]:
        if not edges:
            return []
        nodes = np.r_[self.side.edge_u[edges[0]], self.side.edge_v[edges]]
        return [tuple(p) for p in self.side.lonlat[nodes].tolist()]


def _snap(side: Side, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    xy = np.column_stack([points.x, points.y]) if len(points) else np.zeros((0, 2))
    return side.snap(xy)


def compute_routes(layers: dict[str, gpd.GeoDataFrame], speeds: SpeedTable,
                   penalties: dict[str, float] | None = None, sides: tuple[Side, Side] | None = None) -> dict:
    """Route every North Korean market; return the output layers and a network report.

    Parameters
    ----------
    layers
        The layers stage's ``roads``, ``crossings``, ``markets``, ``hubs`` and
        ``border``.
    speeds
        Travel speeds by country and class.
    penalties
        Hours at the border per crossing id; others take
        :data:`settings.BORDER_PENALTY_H`.
    sides
        The (North Korean, Chinese) graphs if already built from these roads.

    Returns
    -------
    dict
        ``routes``, ``markets``, ``roads``, ``crossings``, ``hubs`` frames and
        ``network`` (what was dropped from each side).
    """
    penalties = penalties or {}
    roads = layers["roads"].reset_index(drop=True)
    border = layers["border"].union_all() if len(layers["border"]) else None
    on_side, bridges = split_at_border(roads, border) if border is not None else (roads, np.zeros(len(roads), bool))
    kp, cn = sides or (build_side(on_side, "KP", speeds), build_side(on_side, "CN", speeds))
    if kp.graph.shape[0] == 0 or cn.graph.shape[0] == 0:
        missing = "North Korean" if kp.graph.shape[0] == 0 else "Chinese"
        raise HamjiError(f"the roads layer has no {missing} roads to route on; rebuild the layers with the "
                         "provinces on both sides of the border")
    kp_walk, cn_walk = _Walk(kp), _Walk(cn)

    # -- crossings and hubs onto the networks ---------------------------------
    crossings = layers["crossings"].reset_index(drop=True).copy()
    c_measure = crossings.to_crs(settings.MEASURE_CRS).geometry
    crossings["kp_node"], crossings["kp_snap_m"] = _snap(kp, c_measure)
    crossings["cn_node"], crossings["cn_snap_m"] = _snap(cn, c_measure)
    crossings["penalty_h"] = [penalties.get(cid, settings.BORDER_PENALTY_H) for cid in crossings["crossing_id"]]
    reason = np.full(len(crossings), None, dtype=object)
    reason[(crossings["mode"] != "road").to_numpy()] = "rail crossing: not on the road network"
    reason[(crossings["status"] == "closed").to_numpy()] = "closed"
    far = (crossings[["kp_snap_m", "cn_snap_m"]].max(axis=1) > settings.CROSSING_SNAP_MAX_M).to_numpy()
    reason[far & (reason == None)] = (f"no road within {settings.CROSSING_SNAP_MAX_M:,} m on one side "  # noqa: E711
                                      "of the border")

    hubs = layers["hubs"].reset_index(drop=True).copy()
    hubs["node"], hubs["snap_m"] = _snap(cn, hubs.to_crs(settings.MEASURE_CRS).geometry)
    hubs["usable"] = hubs["snap_m"] <= settings.SNAP_MAX_M

    # -- China: fastest hub for every crossing -------------------------------
    crossings["hub"], crossings["hub_crossing_h"] = None, np.inf
    hub_nodes = hubs.loc[hubs["usable"], "node"].to_numpy()
    if len(hub_nodes):
        cn_time, cn_pred, cn_source = dijkstra(cn.graph, directed=True, indices=hub_nodes, min_only=True,
                                               return_predecessors=True)
        hub_at = dict(zip(hubs.loc[hubs["usable"], "node"], hubs.loc[hubs["usable"], "hub"]))
        for i, node in enumerate(crossings["cn_node"]):
            if np.isfinite(cn_time[node]) and not far[i]:
                crossings.loc[i, "hub"] = hub_at[cn_source[node]]
                crossings.loc[i, "hub_crossing_h"] = cn_time[node] / 3600
    no_hub = ~np.isfinite(crossings["hub_crossing_h"].to_numpy(float))
    reason[no_hub & (reason == None)] = "no hub reaches it by road"  # noqa: E711
    crossings["usable"] = reason == None  # noqa: E711
    crossings["reason"] = reason
    usable = crossings[crossings["usable"]]

    # -- markets onto the North Korean network --------------------------------
    markets = layers["markets"].reset_index(drop=True)
    markets = markets[markets["country"] == "KP"].reset_index(drop=True).copy()
    markets["node"], markets["snap_m"] = _snap(kp, markets.to_crs(settings.MEASURE_CRS).geometry)
    n = kp.graph.shape[0]
    result = {key: [None] * len(markets) for key in ("nearest_crossing", "hub", "best_crossing")}
    numbers = {key: np.full(len(markets), np.nan) for key in
               ("crossing_h", "crossing_km", "hub_crossing_h", "penalty_h", "total_h", "total_km")}
    reachable = np.zeros(len(markets), bool)
    why = np.full(len(markets), None, dtype=object)
    routes, usage_count, usage_area = [], np.zeros(len(roads)), np.zeros(len(roads))
    served = {cid: 0 for cid in crossings["crossing_id"]}
    bridge_rows = _bridge_rows(crossings, roads, bridges)
    weight = markets["area_m2"].fillna(markets["area_m2"].median() if markets["area_m2"].notna().any() else 0.0)

    if len(usable):
        # Pass A: nearest crossing by time.
        first = usable.drop_duplicates("kp_node")
        a_time, a_pred, a_source = dijkstra(kp.graph, directed=True, indices=first["kp_node"].to_numpy(),
                                            min_only=True, return_predecessors=True)
        crossing_at = dict(zip(first["kp_node"], first["crossing_id"]))
        # Pass B: a virtual source S joined to each crossing by hub time + penalty.
        offset = (usable["hub_crossing_h"] + usable["penalty_h"]) * 3600
        best_at = usable.assign(offset=offset).sort_values("offset").drop_duplicates("kp_node")
        graph = kp.graph.tocoo()
        augmented = time_matrix(np.r_[graph.row, np.full(len(best_at), n)],
                                np.r_[graph.col, best_at["kp_node"].to_numpy()],
                                np.r_[graph.data, best_at["offset"].to_numpy() + _EPS], n + 1)
        b_time, b_pred = dijkstra(augmented, directed=True, indices=n, return_predecessors=True)
        via = best_at.set_index("kp_node")

        for i, (node, snap) in enumerate(zip(markets["node"], markets["snap_m"])):
            if snap > settings.SNAP_MAX_M:
                why[i] = f"{snap:,.0f} m from the road network (more than {settings.SNAP_MAX_M} m)"
                continue
            if not np.isfinite(a_time[node]):
                why[i] = "no road from any open crossing reaches it"
                continue
            path_a = kp_walk.edges(_path(a_pred, node))
            result["nearest_crossing"][i] = crossing_at[a_source[node]]
            numbers["crossing_h"][i] = a_time[node] / 3600
            numbers["crossing_km"][i] = kp_walk.length_m(path_a) / 1000
            if not np.isfinite(b_time[node]):
                why[i] = "no hub reaches a crossing that reaches it"
                continue
            nodes_b = _path(b_pred, node)[1:]  # drop the virtual source
            crossing = via.loc[nodes_b[0]]
            kp_edges = kp_walk.edges(nodes_b)
            cn_edges = cn_walk.edges(_path(cn_pred, int(crossing["cn_node"])))
            reachable[i] = True
            result["best_crossing"][i] = crossing["crossing_id"]
            result["hub"][i] = crossing["hub"]
            numbers["hub_crossing_h"][i] = crossing["hub_crossing_h"]
            numbers["penalty_h"][i] = crossing["penalty_h"]
            numbers["total_h"][i] = (b_time[node] - _EPS) / 3600
            numbers["total_km"][i] = (kp_walk.length_m(kp_edges) + cn_walk.length_m(cn_edges)) / 1000
            served[crossing["crossing_id"]] += 1
            used = set(kp.edge_road[kp_edges]) | set(cn.edge_road[cn_edges]) | bridge_rows[crossing["crossing_id"]]
            for row in used:
                usage_count[row] += 1
                usage_area[row] += weight.iloc[i]
            point = crossing["geometry"]
            line = cn_walk.coords(cn_edges) + [(point.x, point.y)] + kp_walk.coords(kp_edges)
            routes.append({"osm_type": markets.loc[i, "osm_type"], "osm_id": markets.loc[i, "osm_id"],
                           "name": markets.loc[i, "name"], "province": markets.loc[i, "province"],
                           "hub": crossing["hub"], "crossing": crossing["crossing_id"],
                           "hub_crossing_h": crossing["hub_crossing_h"], "penalty_h": crossing["penalty_h"],
                           "total_h": numbers["total_h"][i], "total_km": numbers["total_km"][i],
                           "geometry": LineString(line) if len(line) > 1 else LineString([line[0], line[0]])})
    else:
        why[:] = "no open crossing can be used (see the crossings layer's reason column)"
        a_time = np.full(n, np.inf)

    for key, values in {**result, **numbers}.items():
        markets[key] = values
    markets["reachable"], markets["reason"] = reachable, why
    roads = roads.assign(routes=usage_count.astype(int), routes_area_m2=usage_area)
    crossings["markets_served"] = crossings["crossing_id"].map(served)
    route_frame = gpd.GeoDataFrame(routes, columns=[*ROUTE_COLUMNS, "geometry"], geometry="geometry",
                                   crs=settings.STORE_CRS)
    return {"routes": route_frame,
            "markets": markets.drop(columns=["node"]),
            "roads": roads,
            "crossings": crossings.drop(columns=["kp_node", "cn_node"]),
            "hubs": hubs.drop(columns=["node"]),
            "bands": travel_time_bands(kp, a_time),
            "network": {"KP": {"nodes": int(kp.graph.shape[0]), "edges": int(kp.graph.nnz), "dropped": kp.dropped},
                        "CN": {"nodes": int(cn.graph.shape[0]), "edges": int(cn.graph.nnz), "dropped": cn.dropped},
                        "bridges_left_to_crossings": int(bridges.sum()), "speeds": speeds.source}}


def travel_time_bands(side: Side, time_s: np.ndarray, hours: tuple[float, ...] | None = None,
                      buffer_m: float | None = None, cell_m: float | None = None) -> gpd.GeoDataFrame:
    """Areas within each number of hours of a crossing, drawn along the roads.

    A band is every ``cell_m`` grid cell within ``buffer_m`` of a road vertex
    reached in time: the land a truck can serve from the road, not a
    straight-line circle. Working on a grid (a dilation, then a union of
    edge-sharing squares) keeps this linear in the size of the country; a
    buffer of every road segment took over 24 GB on a national network.

    Parameters
    ----------
    side
        The North Korean graph.
    time_s
        Seconds from the nearest crossing for each node (``inf`` if none).
    hours
        Thresholds (default :data:`settings.REACH_THRESHOLDS_H`).
    buffer_m
        Distance from a reached vertex (default :data:`settings.BAND_BUFFER_M`).
    cell_m
        Grid cell size (default :data:`settings.BAND_CELL_M`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per threshold: ``hours``, ``road_km`` reached, ``area_km2``, geometry.
    """
    from scipy.ndimage import binary_dilation

    hours = hours or settings.REACH_THRESHOLDS_H
    buffer_m = settings.BAND_BUFFER_M if buffer_m is None else buffer_m
    cell_m = cell_m or settings.BAND_CELL_M
    radius = int(np.ceil(buffer_m / cell_m))
    disk = np.hypot(*np.mgrid[-radius:radius + 1, -radius:radius + 1]) * cell_m <= buffer_m
    # A two-way road is two directed edges: count each vertex pair once.
    pairs = np.column_stack([np.minimum(side.edge_u, side.edge_v), np.maximum(side.edge_u, side.edge_v)])
    once = np.unique(pairs, axis=0, return_index=True)[1] if len(pairs) else np.zeros(0, int)
    rows = []
    xy = side.xy
    origin = xy.min(axis=0) - (radius + 1) * cell_m if len(xy) else np.zeros(2)
    for limit in hours:
        reached = time_s <= limit * 3600
        inside = reached[side.edge_u[once]] & reached[side.edge_v[once]]
        road_km = float(side.edge_length_m[once][inside].sum() / 1000)
        area = shapely.MultiPolygon()
        if reached.any():
            cells = np.floor((xy[reached] - origin) / cell_m).astype(int)
            shape = cells.max(axis=0) + radius + 2
            mask = np.zeros(shape, bool)
            mask[cells[:, 0], cells[:, 1]] = True
            mask = binary_dilation(mask, structure=disk)
            ix, iy = np.nonzero(mask)
            x0, y0 = origin[0] + ix * cell_m, origin[1] + iy * cell_m
            squares = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
            area = shapely.coverage_union_all(squares)
        rows.append({"hours": float(limit), "road_km": road_km, "area_km2": area.area / 1e6, "geometry": area})
    bands = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.MEASURE_CRS).to_crs(settings.STORE_CRS)
    bands["geometry"] = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in bands.geometry]
    return bands


ROUTE_COLUMNS = ("osm_type", "osm_id", "name", "province", "hub", "crossing", "hub_crossing_h", "penalty_h",
                 "total_h", "total_km")


def _bridge_rows(crossings: pd.DataFrame, roads: gpd.GeoDataFrame, bridges: np.ndarray) -> dict[str, set[int]]:
    """Rows of the roads layer that are a crossing's own border bridge."""
    by_osm_id = {int(osm_id): row for row, osm_id in zip(roads.index[bridges], roads.loc[bridges, "osm_id"])}
    rows: dict[str, set[int]] = {}
    for cid, refs in zip(crossings["crossing_id"], crossings["osm_ids"]):
        # A gazetteer crossing with no OSM feature has no refs (None, or NaN as read back).
        refs = refs if isinstance(refs, str) else ""
        ways = [int(r.split("/")[1]) for r in refs.split(";") if r.startswith("way/")]
        rows[cid] = {by_osm_id[w] for w in ways if w in by_osm_id}
    return rows
