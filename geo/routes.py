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

from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from geo import settings
from geo.assumptions import NetworkReport, RunAssumptions, SideReport
from geo.bands import road_time_bands, travel_time_bands
from geo.errors import InputError
from geo.network import Side, SpeedTable, build_side, split_at_border
from geo.penalties import check_penalties, parse_penalties  # noqa: F401 (their old home: callers import them here)
from geo.rail import RAIL_NOT_USED, allow_rail, hub_station_entries, rail_entries, rail_side
from geo.schema import HUB_HOURS_HUBS, HUB_HOURS_PREFIX
from geo.sea import sea_crossings, sea_ports
from geo.sources.maritime import SEA_LINK_IDS
from geo.status import apply_dates, as_of_day
from geo.supply import apply_supply

#: Added to the virtual source's edges: SciPy reads a stored zero as "no edge".
_EPS = 1e-6
#: Why a crossing cannot be used, as a code (``reason_code``; ``reason`` says it in words).
CROSSING_REASONS = (
    "rail",
    "closed",
    "shut",
    "not_opened",
    "unknown_status",
    "no_road_near",
    "outside_supply",
    "no_hub",
)
#: Why a market is not reachable, as a code: no open crossing at all, no mapped road near it
#: (a data gap), or roads that no crossing or hub reaches (an access gap).
MARKET_REASONS = ("no_crossing", "no_road_near", "no_route_from_crossing", "no_route_from_hub")


class _Unreached(NamedTuple):
    """Why a market has no route: a code of :data:`MARKET_REASONS` and the same in words."""

    code: str
    text: str


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
        self.keys, self.fastest = self.side.edge_lookup()
        self.n = max(1, self.side.graph.shape[0])

    def edges(self, nodes: list[int]) -> list[int]:
        path = np.asarray(nodes, dtype=np.int64)
        wanted = path[:-1] * self.n + path[1:]
        return self.fastest[np.searchsorted(self.keys, wanted)].tolist()

    def length_m(self, edges: list[int]) -> float:
        return float(self.side.edge_length_m[edges].sum()) if edges else 0.0

    def coords(self, edges: list[int]) -> np.ndarray:
        """The road vertices along these edges (store CRS), each joint once: geometry only for routes drawn."""
        if not edges:
            return np.zeros((0, 2))
        assert self.side.vertex_lonlat is not None  # build_side fills every vertex field
        vertex, owner = self.side.chain_vertices(np.asarray(edges))
        joint = np.r_[False, owner[1:] != owner[:-1]]
        return self.side.vertex_lonlat[vertex[~joint]]


def _coords(line) -> np.ndarray:
    """A rail leg's coordinates, none for a route without that leg."""
    return np.asarray(line.coords) if isinstance(line, shapely.LineString) else np.zeros((0, 2))


def _snap(side: Side, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    xy = np.column_stack([points.x, points.y]) if len(points) else np.zeros((0, 2))
    return side.snap(xy)


def route_points(layers: dict[str, gpd.GeoDataFrame]) -> np.ndarray:
    """The points routing snaps to a road graph (crossings, hubs, markets), measuring CRS.

    :func:`~geo.network.build_side` keeps the vertex nearest each as a node.
    """
    names = ("crossings", "hubs", "markets", "stations")
    parts = [layers[name] for name in names if name in layers and len(layers[name])]
    if not parts:
        return np.zeros((0, 2))
    measured = [part.to_crs(settings.MEASURE_CRS).geometry for part in [*parts, sea_ports()]]
    return np.concatenate([np.column_stack([g.x, g.y]) for g in measured])


def _networks(
    layers: dict[str, gpd.GeoDataFrame], speeds: SpeedTable, sides: tuple[Side, Side] | None
) -> tuple[gpd.GeoDataFrame, np.ndarray, Side, Side]:
    """The roads, which of them are border bridges, and the two graphs they make."""
    roads = layers["roads"].reset_index(drop=True)
    border = layers["border"].union_all() if len(layers["border"]) else None
    on_side, bridges = split_at_border(roads, border) if border is not None else (roads, np.zeros(len(roads), bool))
    keep = route_points(layers)
    kp, cn = sides or (build_side(on_side, "KP", speeds, keep), build_side(on_side, "CN", speeds, keep))
    if kp.graph.shape[0] == 0 or cn.graph.shape[0] == 0:
        missing = "North Korean" if kp.graph.shape[0] == 0 else "Chinese"
        raise InputError(
            f"the roads layer has no {missing} roads to route on; rebuild the layers with the "
            "provinces on both sides of the border",
            option="regions",
        )
    return roads, bridges, kp, cn


def _place_crossings(crossings: gpd.GeoDataFrame, kp: Side, cn: Side, assumptions: RunAssumptions) -> pd.DataFrame:
    """Crossings snapped to both networks, with their penalty and why any cannot be used."""
    crossings = crossings.reset_index(drop=True).copy()
    measured = crossings.to_crs(settings.MEASURE_CRS).geometry
    crossings["kp_node"], crossings["kp_snap_m"] = _snap(kp, measured)
    crossings["cn_node"], crossings["cn_snap_m"] = _snap(cn, measured)
    crossings["penalty_h"] = [assumptions.penalty_h(cid) for cid in crossings["crossing_id"]]
    reason = np.full(len(crossings), None, dtype=object)
    code = np.full(len(crossings), None, dtype=object)
    rail = (crossings["mode"] != "road").to_numpy()
    reason[rail], code[rail] = RAIL_NOT_USED, "rail"
    closed = (crossings["status"] == "closed").to_numpy()
    reason[closed], code[closed] = "closed", "closed"
    far = (crossings[["kp_snap_m", "cn_snap_m"]].max(axis=1) > settings.CROSSING_SNAP_MAX_M).to_numpy() & pd.isna(code)
    reason[far] = f"no road within {settings.CROSSING_SNAP_MAX_M:,} m on one side of the border"
    code[far] = "no_road_near"
    crossings["reason_code"] = code
    crossings["reason"] = reason
    return crossings


def _hubs_to_crossings(
    crossings: pd.DataFrame, hubs: gpd.GeoDataFrame, cn: Side
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, np.ndarray]:
    """China: one Dijkstra from all hubs gives each crossing its fastest hub.

    Returns the crossings (``hub``, ``hub_crossing_h``, ``usable``), the hubs
    as snapped, and the predecessors to walk each crossing's Chinese leg.
    """
    hubs = hubs.reset_index(drop=True).copy()
    hubs["node"], hubs["snap_m"] = _snap(cn, hubs.to_crs(settings.MEASURE_CRS).geometry)
    hubs["usable"] = (hubs["snap_m"] <= settings.SNAP_MAX_M) & hubs.get("in_supply", True)
    crossings["hub"], crossings["hub_crossing_h"] = None, np.inf
    usable_hubs = hubs[hubs["usable"]]
    pred = np.full(cn.graph.shape[0], -9999)
    if len(usable_hubs):
        time_s, pred, source = dijkstra(
            cn.graph, directed=True, indices=usable_hubs["node"].to_numpy(), min_only=True, return_predecessors=True
        )
        hub_at = dict(zip(usable_hubs["node"], usable_hubs["hub"]))
        # Closed and rail crossings keep their hub (a scenario may open them); one off the roads has none.
        off_road = crossings[["kp_snap_m", "cn_snap_m"]].max(axis=1) > settings.CROSSING_SNAP_MAX_M
        for i, node in enumerate(crossings["cn_node"]):
            if np.isfinite(time_s[node]) and not off_road[i]:
                crossings.loc[i, "hub"] = hub_at[source[node]]
                crossings.loc[i, "hub_crossing_h"] = time_s[node] / 3600
    no_hub = ~np.isfinite(crossings["hub_crossing_h"].to_numpy(float)) & crossings["reason_code"].isna()
    crossings.loc[no_hub, ["reason", "reason_code"]] = ("no hub reaches it by road", "no_hub")
    crossings["usable"] = crossings["reason"].isna()
    return crossings, hubs, pred


class _MarketRouter:
    """North Korea: the two multi-source searches, then each market's route walked back."""

    def __init__(self, kp: Side, cn: Side, crossings: pd.DataFrame, cn_pred: np.ndarray):
        self.kp, self.cn, self.cn_pred = kp, cn, cn_pred
        self.kp_walk, self.cn_walk = _Walk(kp), _Walk(cn)
        usable = crossings[crossings["usable"]]
        n = kp.graph.shape[0]
        # Pass A: nearest crossing by time, from all usable crossings at once (a station a train
        # reaches is an entry for whole routes, not a crossing).
        at_border = usable[usable["station"].isna()] if "station" in usable else usable
        first = at_border.drop_duplicates("kp_node")
        self.a_time, self.a_pred, self.a_source = dijkstra(
            kp.graph, directed=True, indices=first["kp_node"].to_numpy(), min_only=True, return_predecessors=True
        )
        self.crossing_at = dict(zip(first["kp_node"], first["crossing_id"]))
        # Pass B: a virtual source (node n) joined to each crossing by its hub time + penalty.
        offset = (usable["hub_crossing_h"] + usable["penalty_h"]) * 3600
        best_at = usable.assign(offset=offset).sort_values("offset").drop_duplicates("kp_node")
        augmented = _with_virtual_source(kp.graph, best_at["kp_node"].to_numpy(), best_at["offset"].to_numpy())
        self.b_time, self.b_pred = dijkstra(augmented, directed=True, indices=n, return_predecessors=True)
        # Each entry's row as a dict: a market's route reads a dozen fields of it (a Series lookup each, before).
        self.via = dict(zip(best_at["kp_node"], best_at.to_dict("records")))

    def nearest(self, node: int) -> dict | _Unreached:
        """Pass A's answer for one market node, or why there is none."""
        if not np.isfinite(self.a_time[node]):
            return _Unreached("no_route_from_crossing", "no road from any open crossing reaches it")
        edges = self.kp_walk.edges(_path(self.a_pred, node))
        return {
            "nearest_crossing": self.crossing_at[self.a_source[node]],
            "crossing_h": self.a_time[node] / 3600,
            "crossing_km": self.kp_walk.length_m(edges) / 1000,
        }

    def best(self, node: int) -> tuple[dict, list[int], list[int], dict] | _Unreached:
        """Pass B's whole route for one market node (numbers, both legs' edges, the crossing), or why not."""
        if not np.isfinite(self.b_time[node]):
            return _Unreached("no_route_from_hub", "no hub reaches a crossing that reaches it")
        nodes = _path(self.b_pred, node)[1:]  # without the virtual source
        crossing = self.via[nodes[0]]
        kp_edges = self.kp_walk.edges(nodes)
        # A sea link's Chinese end is the port itself: no Chinese road leg.
        sea = crossing["mode"] == "sea"
        cn_edges = [] if sea else self.cn_walk.edges(_path(self.cn_pred, int(crossing["cn_node"])))
        kp_km = self.kp_walk.length_m(kp_edges) / 1000
        other_km = crossing["sea_km"] if sea else _km(crossing.get("rail_km")) + _km(crossing.get("cn_rail_km"))
        numbers = {
            "best_crossing": crossing["crossing_id"],
            "hub": crossing["hub"],
            "hub_crossing_h": crossing["hub_crossing_h"],
            "penalty_h": crossing["penalty_h"],
            "total_h": (self.b_time[node] - _EPS) / 3600,
            "total_km": kp_km + self.cn_walk.length_m(cn_edges) / 1000 + (other_km if pd.notna(other_km) else 0.0),
            "entry_mode": crossing["mode"],
            "kp_road_km": kp_km,
            "kp_road_h": (self.b_time[node] - _EPS) / 3600 - crossing["hub_crossing_h"] - crossing["penalty_h"],
        }
        return numbers, kp_edges, cn_edges, crossing

    def line(self, kp_edges: list[int], cn_edges: list[int], crossing: dict) -> LineString:
        point = crossing["geometry"]
        # A sea link's line starts at the Chinese port (the sea leg drawn straight); a train's runs on the rails.
        start = [[crossing["cn_port_lon"], crossing["cn_port_lat"]]] if crossing["mode"] == "sea" else np.zeros((0, 2))
        on_rail, cn_rail = (_coords(crossing.get(leg)) for leg in ("rail_line", "cn_rail_line"))
        coords = np.concatenate(
            [
                start,
                self.cn_walk.coords(cn_edges),
                cn_rail,
                [[point.x, point.y]],
                on_rail,
                self.kp_walk.coords(kp_edges),
            ]
        )
        return shapely.linestrings(coords if len(coords) > 1 else np.repeat(coords, 2, axis=0))


def _km(value) -> float:
    """A leg's kilometres, 0 for a leg the route does not have (NaN or missing)."""
    return float(value) if value is not None and pd.notna(value) else 0.0


def hub_hours(
    kp: Side, cn: Side, crossings: pd.DataFrame, hubs: gpd.GeoDataFrame, market_nodes: np.ndarray
) -> dict[str, np.ndarray]:
    """Hours from each hub to each market node, through the way in best for that hub.

    The routes stage keeps only each market's best hub; a gravity index
    (:func:`geo.access.gravity_access`) sums over every hub, so it needs
    every hub's own time, over every way in of the run (:func:`ways_in`).
    A land hub: one Chinese pass to the crossings and rail entries, then one
    North Korean pass from a virtual source joined to each by that hub's
    road time to it, plus what the way in adds (loading, train, unloading)
    and its penalty. A sea link's Chinese port is a hub of its own (its
    goods start on the quay): its links enter at their Korean port, after
    the voyage and the customs penalty. NaN where the hub reaches no way in
    that reaches the market.
    """
    usable = crossings[crossings["usable"].astype(bool)]
    at_sea = usable["cn_node"].to_numpy(int) < 0
    by_land, by_sea = usable[~at_sea], usable[at_sea]
    # A train's legs (loading, rail, unloading) come on top of the hub's road time to the rail crossing.
    beyond = (by_land["hub_crossing_h"] - by_land["cn_road_h"]).fillna(0.0) if "cn_road_h" in by_land else 0.0
    beyond_s = (by_land["penalty_h"].to_numpy(float) + np.asarray(beyond, dtype=float)) * 3600
    hours = {}
    for hub, node in zip(hubs.loc[hubs["usable"], "hub"], hubs.loc[hubs["usable"], "node"]):
        to_crossing = dijkstra(cn.graph, directed=True, indices=int(node))[by_land["cn_node"].to_numpy(int)]
        hours[hub] = _hours_from_entries(kp, by_land["kp_node"].to_numpy(int), to_crossing + beyond_s, market_nodes)
    for port, links in by_sea.groupby("hub"):
        offset = (links["hub_crossing_h"] + links["penalty_h"]).to_numpy(float) * 3600
        hours[str(port)] = _hours_from_entries(kp, links["kp_node"].to_numpy(int), offset, market_nodes)
    return hours


def _with_virtual_source(graph: csr_matrix, nodes: np.ndarray, offset_s: np.ndarray) -> csr_matrix:
    """``graph`` plus a virtual source, node ``n``, joined to each of ``nodes`` (distinct) by its ``offset_s`` seconds.

    The source's edges are one more row at the end of the CSR arrays: nothing is sorted again (a rebuild
    through :func:`time_matrix` cost a sort of every edge for each hub). ``_EPS`` is added to each join:
    SciPy reads a stored zero as "no edge".
    """
    n = graph.shape[0]
    order = np.argsort(nodes, kind="stable")
    return csr_matrix(
        (
            np.r_[graph.data, np.asarray(offset_s, float)[order] + _EPS],
            np.r_[graph.indices, np.asarray(nodes)[order]],
            np.r_[graph.indptr, graph.indptr[-1] + len(nodes)],
        ),
        shape=(n + 1, n + 1),
    )


def _hours_from_entries(kp: Side, nodes: np.ndarray, offset_s: np.ndarray, market_nodes: np.ndarray) -> np.ndarray:
    """Hours to each market node from a virtual source joined to North Korean ``nodes`` by ``offset_s`` seconds."""
    entries = pd.DataFrame({"node": nodes, "offset": offset_s})
    entries = entries[np.isfinite(entries["offset"])].sort_values("offset").drop_duplicates("node")
    augmented = _with_virtual_source(kp.graph, entries["node"].to_numpy(), entries["offset"].to_numpy())
    time_s = dijkstra(augmented, directed=True, indices=kp.graph.shape[0])[market_nodes] - _EPS
    return np.where(np.isfinite(time_s), time_s / 3600, np.nan)


MARKET_RESULT_COLUMNS = (
    "nearest_crossing",
    "crossing_h",
    "crossing_km",
    "best_crossing",
    "hub",
    "hub_crossing_h",
    "penalty_h",
    "total_h",
    "total_km",
)


def _route_markets(
    markets: gpd.GeoDataFrame,
    router: _MarketRouter | None,
    crossings: pd.DataFrame,
    roads: gpd.GeoDataFrame,
    bridges: np.ndarray,
) -> tuple[gpd.GeoDataFrame, list[dict], dict]:
    """Each market's times and route line; how many routes (and market area) each road and crossing carries."""
    results: list[dict] = [{} for _ in range(len(markets))]
    reachable = np.zeros(len(markets), bool)
    why: list[_Unreached | None] = [None] * len(markets)
    routes: list[dict] = []
    usage: dict[str, Any] = {
        "count": np.zeros(len(roads)),
        "area": np.zeros(len(roads)),
        "served": dict.fromkeys(crossings["crossing_id"], 0),
    }
    bridge_rows = _bridge_rows(crossings, roads, bridges)
    weight = markets["area_m2"].fillna(markets["area_m2"].median() if markets["area_m2"].notna().any() else 0.0)
    weight = weight.to_numpy(float)
    named = markets[["osm_type", "osm_id", "name", "province"]].to_dict("records")
    for i, (node, snap) in enumerate(zip(markets["node"], markets["snap_m"])):
        if router is None:
            why[i] = _Unreached("no_crossing", "no open crossing can be used (see the crossings layer's reason column)")
            continue
        if snap > settings.SNAP_MAX_M:
            why[i] = _Unreached(
                "no_road_near", f"{snap:,.0f} m from the road network (more than {settings.SNAP_MAX_M} m)"
            )
            continue
        nearest = router.nearest(node)
        if isinstance(nearest, _Unreached):
            why[i] = nearest
            continue
        best = router.best(node)
        results[i] = nearest if isinstance(best, _Unreached) else {**nearest, **best[0]}
        if isinstance(best, _Unreached):
            why[i] = best
            continue
        numbers, kp_edges, cn_edges, crossing = best
        reachable[i] = True
        usage["served"][crossing["crossing_id"]] += 1
        used = (
            set(router.kp.edge_road[kp_edges])
            | set(router.cn.edge_road[cn_edges])
            | bridge_rows[crossing["crossing_id"]]
        )
        for row in used:
            usage["count"][row] += 1
            usage["area"][row] += weight[i]
        routes.append(
            {
                **named[i],
                "hub": numbers["hub"],
                "crossing": numbers["best_crossing"],
                **{k: numbers[k] for k in ("hub_crossing_h", "penalty_h", "total_h", "total_km")},
                "entry_mode": numbers["entry_mode"],
                "legs": route_legs(crossing, numbers),
                "geometry": router.line(kp_edges, cn_edges, crossing),
            }
        )
    frame = pd.DataFrame(results, columns=list(MARKET_RESULT_COLUMNS), index=markets.index)
    for column in MARKET_RESULT_COLUMNS:
        markets[column] = frame[column].to_numpy(float if column.endswith(("_h", "_km")) else object)
    markets["reachable"] = reachable
    markets["reason"] = [w.text if w else None for w in why]
    markets["reason_code"] = [w.code if w else None for w in why]
    return markets, routes, usage


def ways_in(
    layers: dict[str, gpd.GeoDataFrame], assumptions: RunAssumptions, kp: Side, cn: Side, data_date: str | None
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, np.ndarray]:
    """Every way goods enter North Korea under ``assumptions``: a row per crossing, rail entry and sea link.

    Each row has its North Korean node (``kp_node``), its Chinese road node
    (``cn_node``; -1 for a sea link, whose Chinese end is the port itself),
    its hours from the best hub (``hub_crossing_h``: the Chinese road leg,
    plus loading, the train and unloading for a rail entry, or the voyage
    for a sea link), its ``penalty_h`` and whether it is ``usable`` on the
    day asked about. Returns those rows, the hubs as snapped, and the
    Chinese predecessors to walk each road leg.
    """
    modes = assumptions.supply.modes
    crossings = _place_crossings(layers["crossings"], kp, cn, assumptions)
    crossings = allow_rail(crossings) if "rail" in modes else crossings
    day = as_of_day(assumptions.as_of, data_date)
    crossings = apply_dates(crossings, day, assumptions.unknown_crossings)
    crossings, supplied = apply_supply(crossings, layers["hubs"], layers.get("provinces"), assumptions.supply)
    crossings, hubs, cn_pred = _hubs_to_crossings(crossings, supplied, cn)
    if "rail" in modes:
        keep = route_points({k: layers[k] for k in ("crossings", "stations") if k in layers})
        cn_rail = rail_side(layers, keep, "CN")
        if cn_rail is not None:  # a hub's own station may send the goods by train to the rail crossing
            crossings = hub_station_entries(crossings, hubs, layers["stations"], cn_rail, cn)
        rail = rail_side(layers, keep)
        crossings = rail_entries(crossings, layers["stations"], rail, kp.snap) if rail is not None else crossings
    if "sea" in modes:
        penalties = {link: assumptions.penalty_h(link) for link in SEA_LINK_IDS}
        crossings = pd.concat([crossings, sea_crossings(kp.snap, day, penalties)], ignore_index=True)
    return crossings, hubs, cn_pred


def compute_routes(
    layers: dict[str, gpd.GeoDataFrame],
    assumptions: RunAssumptions,
    sides: tuple[Side, Side] | None = None,
    data_date: str | None = None,
) -> dict:
    """Route every North Korean market; return the output layers and a network report.

    Parameters
    ----------
    layers
        The layers stage's ``roads``, ``crossings``, ``markets``, ``hubs`` and
        ``border`` (and ``provinces``, to tell which Chinese province a
        crossing's far end is in).
    assumptions
        The supply model, speeds and border penalties to route under.
    sides
        The (North Korean, Chinese) graphs if already built from these roads
        with ``assumptions.speeds``.
    data_date
        The OSM data date of the layers: the day asked about when
        ``assumptions.as_of`` is None (today if this is None too). A crossing
        or link not yet opened or shut that day is not used (:mod:`geo.status`).

    Returns
    -------
    dict
        ``routes``, ``markets``, ``roads``, ``crossings``, ``hubs``, ``bands``,
        ``road_times`` frames and ``network`` (a :class:`~geo.assumptions.NetworkReport`).
    """
    roads, bridges, kp, cn = _networks(layers, assumptions.speeds, sides)
    crossings, hubs, cn_pred = ways_in(layers, assumptions, kp, cn, data_date)
    markets = layers["markets"].reset_index(drop=True)
    markets = markets[markets["country"] == "KP"].reset_index(drop=True).copy()
    markets["node"], markets["snap_m"] = _snap(kp, markets.to_crs(settings.MEASURE_CRS).geometry)
    router = _MarketRouter(kp, cn, crossings, cn_pred) if crossings["usable"].any() else None
    markets, routes, usage = _route_markets(markets, router, crossings, roads, bridges)
    on_road = markets["snap_m"].to_numpy(float) <= settings.SNAP_MAX_M
    reached = hub_hours(kp, cn, crossings, hubs, markets["node"].to_numpy(int))
    for hub in HUB_HOURS_HUBS:  # every hub, as the schema declares: NaN for one not in the supply model
        hours = reached.get(hub, np.full(len(markets), np.nan))
        markets[f"{HUB_HOURS_PREFIX}{hub}"] = np.where(on_road, hours, np.nan)  # as total_h: off-road is unrouted
    crossings["markets_served"] = crossings["crossing_id"].map(usage["served"])
    nearest_s = router.a_time if router is not None else np.full(kp.graph.shape[0], np.inf)
    present = layers["provinces"]["code"] if "provinces" in layers else []
    return {
        "routes": gpd.GeoDataFrame(
            routes, columns=[*ROUTE_COLUMNS, "geometry"], geometry="geometry", crs=settings.STORE_CRS
        ),
        "markets": markets.drop(columns=["node"]),
        "roads": roads.assign(routes=usage["count"].astype(int), routes_area_m2=usage["area"]),
        "crossings": _crossings_out(crossings),
        "hubs": hubs.drop(columns=["node"]),
        "bands": travel_time_bands(kp, nearest_s),
        "road_times": road_time_bands(kp, nearest_s),
        "network": NetworkReport(
            kp=_side_report(kp),
            cn=_side_report(cn),
            bridges_left_to_crossings=int(bridges.sum()),
            missing_regions=assumptions.supply.missing_regions(list(present)),
        ),
        "as_of_day": as_of_day(assumptions.as_of, data_date),
    }


def _side_report(side: Side) -> SideReport:
    dropped = side.dropped
    return SideReport(
        nodes=int(side.graph.shape[0]),
        edges=int(side.graph.nnz),
        dropped_components=int(dropped["components"]),
        dropped_roads=int(dropped["roads"]),
        dropped_nodes=int(dropped["nodes"]),
    )


def per_province(markets: pd.DataFrame) -> pd.DataFrame:
    """Markets, reachable markets and median times per province: the digest a routes run prints."""
    return (
        markets.groupby("province")
        .agg(
            markets=("reachable", "size"),
            reachable=("reachable", "sum"),
            median_crossing_h=("crossing_h", "median"),
            median_total_h=("total_h", "median"),
        )
        .round(3)
    )


ROUTE_COLUMNS = (
    "osm_type",
    "osm_id",
    "name",
    "province",
    "hub",
    "crossing",
    "hub_crossing_h",
    "penalty_h",
    "total_h",
    "total_km",
    # How goods enter North Korea (road, rail or sea) and each leg's mode, length and hours.
    "entry_mode",
    "legs",
)


def route_legs(crossing: dict | pd.Series, numbers: dict) -> str:
    """Each leg of a route as a reader sees it: ``sea Dalian–Nampo 326 km 41.6 h; customs 2.0 h; road 55 km 1.4 h``.

    A rail route reads ``road in China from Dandong 2 min; border or port 2.0 h; rail to Sariwon 226 km 9.0 h,
    loading and unloading 6.0 h; road in North Korea …``; one unloaded at the border station (the train goes no
    further) says so. Times as :func:`geo.reach.format_hours` gives them: minutes below an hour.
    """
    from geo.reach import format_hours as hours

    if crossing["mode"] == "sea":
        link = str(crossing.get("name_en", "")).removesuffix(" (sea)")
        first = f"sea {link} {crossing['sea_km']:.0f} km {hours(numbers['hub_crossing_h'])}"
    else:
        road_h = crossing.get("cn_road_h", numbers["hub_crossing_h"])
        first = f"road in China from {numbers['hub']} {hours(road_h)}"
        station = crossing.get("cn_station")
        if isinstance(station, str):
            first = (
                f"road in China from {numbers['hub']} to {station} station {hours(road_h)}; "
                f"rail in China {crossing['cn_rail_km']:.0f} km {hours(crossing['cn_rail_h'])}"
            )
    legs = [first, f"border or port {hours(numbers['penalty_h'])}"]
    if crossing["mode"] == "rail":
        station = crossing.get("station")
        to = (
            f"to {station} {crossing['rail_km']:.0f} km {hours(crossing['rail_h'])}"
            if isinstance(station, str)
            else f"across the border at {str(crossing.get('name_en', '')).removesuffix(' (rail)')}, unloaded there"
        )
        legs.append(f"rail {to}, loading and unloading {hours(2 * settings.RAIL_TRANSFER_H)}")
    legs.append(f"road in North Korea {numbers['kp_road_km']:.0f} km {hours(numbers['kp_road_h'])}")
    return "; ".join(legs)


def _crossings_out(crossings: pd.DataFrame) -> pd.DataFrame:
    """The crossings layer of the routes: one row per crossing or sea link (not the stations trains reach).

    A rail crossing's row gives its fastest hub over every way a train reaches
    it: a truck to the bridge and loading there, or a train from a hub's own
    station (``hub_via`` says which), so its popup agrees with the routes.
    """
    if "station" in crossings:  # a train's North Korean stations are entries, not crossings of their own
        crossings = crossings[crossings["station"].isna()]
    by_train = crossings["cn_station"].notna() if "cn_station" in crossings else pd.Series(False, crossings.index)
    crossings = crossings.assign(
        hub_via=np.where(
            by_train, "train from " + crossings.get("cn_station", pd.Series("", crossings.index)) + " station", None
        )
    )
    fastest = crossings.assign(_h=crossings["hub_crossing_h"].fillna(np.inf)).sort_values("_h", kind="stable")
    crossings = fastest.drop_duplicates("crossing_id").sort_index().drop(columns="_h")
    helpers = ["kp_node", "cn_node", "station", "rail_km", "rail_h", "rail_line", "cn_station", "cn_rail_km"]
    helpers += ["cn_rail_h", "cn_rail_line"]
    return crossings.drop(columns=[c for c in helpers if c in crossings]).reset_index(drop=True)


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
