"""Routing benchmark on a generated road network of North Korea's size.

OSM holds about 116,000 km of roads in North Korea. The benchmark lays a
square grid of that total length (a few hundred thousand directed edges),
puts ~450 markets on it, ~10 crossings on its northern edge and hubs on a
small Chinese grid beyond, then times HamJi's multi-source routing against
one networkx Dijkstra per market on the same graph and checks both agree.
"""

from __future__ import annotations

import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point

from geo import routes, settings
from geo.assumptions import RunAssumptions
from geo.network import build_side, load_speeds
from geo.routes import compute_routes, route_points
from geo.supply import apply_supply, supply_model

ORIGIN = (300_000.0, 4_300_000.0)  # UTM 52N, inside North Korea


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return settings.to_measure_transformer().transform(ORIGIN[0] + x, ORIGIN[1] + y, direction="INVERSE")


def grid_layers(
    side: int = 350, road_km: float = 116_000, markets: int = 450, crossings: int = 10, seed: int = 7
) -> dict[str, gpd.GeoDataFrame]:
    """Layers (roads, crossings, markets, hubs, border) of a generated grid network."""
    rng = np.random.default_rng(seed)
    spacing = road_km * 1000 / (2 * side * (side - 1))
    gx, gy = np.meshgrid(np.arange(side) * spacing, -np.arange(1, side + 1) * spacing)
    lon, lat = _lonlat(gx, gy)
    rows, geoms = [], []
    for i in range(side):
        for j in range(side):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < side and j + dj < side:
                    highway = "primary" if (i % 10 == 0 or j % 10 == 0) else "tertiary"
                    rows.append((len(rows), highway, "unpaved" if rng.random() < 0.3 else None))
                    geoms.append(LineString([(lon[i, j], lat[i, j]), (lon[i + di, j + dj], lat[i + di, j + dj])]))
    roads = gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in rows],
            "highway": [r[1] for r in rows],
            "surface": [r[2] for r in rows],
            "oneway": "no",
            "country": "KP",
            "province": "KP-09",
        },
        geometry=geoms,
        crs=settings.STORE_CRS,
    )
    # China: a band 20 rows deep north of the border with the hubs on it.
    cx, cy = np.meshgrid(np.arange(side) * spacing, np.linspace(spacing, 40_000, 20))
    clon, clat = _lonlat(cx, cy)
    cn = [
        LineString([(clon[i, j], clat[i, j]), (clon[i + di, j + dj], clat[i + di, j + dj])])
        for i in range(20)
        for j in range(side)
        for di, dj in ((0, 1), (1, 0))
        if i + di < 20 and j + dj < side
    ]
    cn_roads = gpd.GeoDataFrame(
        {
            "osm_id": np.arange(len(cn)) + len(roads),
            "highway": "primary",
            "surface": None,
            "oneway": "no",
            "country": "CN",
            "province": "CN-JL",
        },
        geometry=cn,
        crs=settings.STORE_CRS,
    )
    roads = gpd.GeoDataFrame(
        pd.concat([roads, cn_roads], ignore_index=True), geometry="geometry", crs=settings.STORE_CRS
    )
    cross_x = np.linspace(0, (side - 1) * spacing, crossings)
    blon, blat = _lonlat(cross_x, np.zeros(crossings))
    crossing_frame = gpd.GeoDataFrame(
        {"crossing_id": [f"c{k}" for k in range(crossings)], "mode": "road", "status": "open", "osm_ids": None},
        geometry=[Point(p) for p in zip(blon, blat)],
        crs=settings.STORE_CRS,
    )
    pick = rng.choice(side * side, size=markets, replace=False)
    market_frame = gpd.GeoDataFrame(
        {
            "osm_type": "node",
            "osm_id": pick,
            "name": [f"m{k}" for k in pick],
            "country": "KP",
            "province": "KP-09",
            "area_m2": np.nan,
        },
        geometry=[Point(lon.flat[k], lat.flat[k]) for k in pick],
        crs=settings.STORE_CRS,
    )
    hub_lon, hub_lat = _lonlat(np.array([0.1, 0.5, 0.9]) * (side - 1) * spacing, np.array([40_000] * 3))
    hubs = gpd.GeoDataFrame(
        {"hub": ["h0", "h1", "h2"]}, geometry=[Point(p) for p in zip(hub_lon, hub_lat)], crs=settings.STORE_CRS
    )
    border_lon, border_lat = _lonlat(np.array([-5_000, side * spacing + 5_000]), np.zeros(2))
    border = gpd.GeoDataFrame(geometry=[LineString(zip(border_lon, border_lat))], crs=settings.STORE_CRS)
    return {"roads": roads, "crossings": crossing_frame, "markets": market_frame, "hubs": hubs, "border": border}


def run(sample: int = 60) -> dict:
    """Time both methods; the networkx baseline runs on ``sample`` markets and is scaled to all."""
    layers = grid_layers()
    speeds = load_speeds()
    # Land crossings only: the grid's ten. The default model ("all") adds the real sea links, whose ports
    # lie far from this made-up grid (unusable), and a pass for them that networkx would not be asked for.
    record = RunAssumptions(supply=supply_model("land"), speeds=speeds)
    started = time.perf_counter()
    keep = route_points(layers)
    kp, cn = build_side(layers["roads"], "KP", speeds, keep), build_side(layers["roads"], "CN", speeds, keep)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    out = compute_routes(layers, record, sides=(kp, cn))
    whole_s = time.perf_counter() - started
    fast_s = _routing_only(layers, record, kp, cn)
    if not out["crossings"]["usable"].all():
        raise RuntimeError("benchmark network: some crossings are unusable, the comparison would be unfair")

    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(kp.edge_u.tolist(), kp.edge_v.tolist(), kp.edge_time_s.tolist()))
    markets = layers["markets"].to_crs(settings.MEASURE_CRS)
    market_nodes, _ = kp.snap(np.column_stack([markets.geometry.x, markets.geometry.y]))
    crossings = layers["crossings"].to_crs(settings.MEASURE_CRS)
    crossing_nodes, _ = kp.snap(np.column_stack([crossings.geometry.x, crossings.geometry.y]))
    chosen = np.random.default_rng(1).choice(len(market_nodes), size=min(sample, len(market_nodes)), replace=False)
    started = time.perf_counter()
    slow = {}
    for k in chosen:
        length, _ = nx.multi_source_dijkstra(graph, set(crossing_nodes.tolist()), target=int(market_nodes[k]))
        slow[k] = length
    slow_s = (time.perf_counter() - started) * len(market_nodes) / len(chosen)
    fast = out["markets"]["crossing_h"].to_numpy() * 3600
    worst = max(abs(fast[k] - slow[k]) for k in chosen)
    return {
        "roads": len(layers["roads"]),
        "kp_nodes": out["network"].kp.nodes,
        "kp_edges": out["network"].kp.edges,
        "markets": len(markets),
        "crossings": len(crossings),
        "build_s": build_s,
        "hamji_s": fast_s,
        "compute_routes_s": whole_s,
        "networkx_s": slow_s,
        "sampled": len(chosen),
        "max_diff_s": worst,
    }


def _routing_only(layers: dict, record: RunAssumptions, kp, cn) -> float:
    """Seconds for what networkx is compared with: snapping, the three passes, every market's route walked back.

    The same steps as :func:`geo.routes.compute_routes`, without the bands and road
    times it also draws (networkx does not draw them either).
    """
    started = time.perf_counter()
    crossings = routes._place_crossings(layers["crossings"], kp, cn, record)
    crossings, supplied = apply_supply(crossings, layers["hubs"], layers.get("provinces"), record.supply)
    crossings, _, cn_pred = routes._hubs_to_crossings(crossings, supplied, cn)
    markets = layers["markets"].reset_index(drop=True).copy()
    markets["node"], markets["snap_m"] = routes._snap(kp, markets.to_crs(settings.MEASURE_CRS).geometry)
    router = routes._MarketRouter(kp, cn, crossings, cn_pred)
    roads = layers["roads"].reset_index(drop=True)
    routes._route_markets(markets, router, crossings, roads, np.zeros(len(roads), bool))
    return time.perf_counter() - started
