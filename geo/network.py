"""Routable road networks, one per side of the border, from the roads layer.

Each side is a directed graph stored as a SciPy sparse matrix of travel
times in seconds, so one multi-source Dijkstra answers every market at once.
Ways sharing a vertex meet there. A node is a vertex routing needs — a
junction, a road end, or the vertex nearest a point that will be snapped
(crossings, hubs, markets) — and an edge is the chain of vertices between two
nodes along one road: OSM draws a vertex every few tens of metres, and
routing over each of them cost minutes and gigabytes at real density. A
market beside a long road still snaps to the road itself, not to a junction
kilometres away, and the times are those of the graph of every vertex
(``build_side(..., contract=False)``, tested). The chains' vertices stay in
numpy arrays, expanded only for the routes drawn and the bands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo import settings
from geo.documents import load_toml
from geo.errors import InputError
from geo.io import json_digest, read_text

#: Classes that need a speed; ``*_link`` roads take their parent's.
SPEED_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "track")
UNPAVED = {"unpaved", "gravel", "dirt", "ground", "earth", "sand", "mud", "compacted", "fine_gravel", "grass"}


@dataclass(frozen=True)
class SpeedTable:
    """Travel speeds in km/h by country and road class, and a factor for unpaved roads."""

    speeds: dict[str, dict[str, float]]
    unpaved_factor: dict[str, float]
    source: str = "built-in defaults (geo/settings.py)"
    #: SHA-256 (first 16 hex digits) of the table's values, so two tables with one name can be told apart.
    digest: str = ""

    def layout(self) -> dict[str, dict[str, float]]:
        """The table in its file layout: ``{"KP": {class: km/h, ..., "unpaved_factor": f}, "CN": {...}}``."""
        return {c: {**self.speeds[c], "unpaved_factor": self.unpaved_factor[c]} for c in ("KP", "CN")}

    def speed(self, country: str, highway: str, surface: str | None) -> float:
        """Speed in km/h of a road of this class and surface in this country."""
        base = self.speeds[country][highway.removesuffix("_link")]
        return base * (self.unpaved_factor[country] if surface in UNPAVED else 1.0)


def _speed(value, what: str, source: str, low: float, high: float, low_open: bool = True) -> float:
    """A number in its allowed range, or one line naming the key and the range."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low < value if low_open else low <= value) and value <= high
    if not ok:
        bound = f"{'more than' if low_open else 'at least'} {low:g} and at most {high:g}"
        raise InputError(f"speed table {source}: {what} = {value!r}; it must be a number {bound}")
    return float(value)


def validate_speeds(data: dict, source: str) -> SpeedTable:
    """Check a speed table (as parsed from TOML) and return it, or fail in one line.

    Speeds must be finite numbers in (0, :data:`settings.MAX_SPEED_KMH`] km/h
    (TOML allows ``nan`` and ``inf``), and ``unpaved_factor`` in (0, 1].
    """
    speeds: dict[str, dict[str, float]] = {}
    factors: dict[str, float] = {}
    for country in ("KP", "CN"):
        table = data.get(country)
        if not isinstance(table, dict):
            raise InputError(f"speed table {source}: no [{country}] section; give speeds for both KP and CN")
        speeds[country] = {}
        for highway in SPEED_CLASSES:
            value = table.get(highway)
            if value is None:
                raise InputError(f"speed table {source}: [{country}] has no speed for '{highway}'; add it (km/h)")
            speeds[country][highway] = _speed(value, f"[{country}] {highway} (km/h)", source, 0, settings.MAX_SPEED_KMH)
        factors[country] = _speed(table.get("unpaved_factor", 1.0), f"[{country}] unpaved_factor", source, 0, 1)
    values = {c: {**speeds[c], "unpaved_factor": factors[c]} for c in ("KP", "CN")}
    return SpeedTable(speeds, factors, source, json_digest(values))


def load_speeds(path: Path | None = None) -> SpeedTable:
    """The built-in speed table, or a user's TOML file replacing it."""
    if path is None:
        return validate_speeds(settings.DEFAULT_SPEEDS, "built-in defaults")
    path = Path(path)
    text = read_text(path, "speed table", option="speeds")
    data = load_toml(text, "speed table", path, option="speeds", hint="see the README for its format")
    return validate_speeds(data, str(path))


@dataclass
class Side:
    """The road graph of one country, with the chains of road vertices between its nodes.

    Nodes are the vertices routing needs: junctions, road ends, and the points
    the graph was built to snap (``keep`` of :func:`build_side`). Each edge
    stands for a chain of road vertices between two nodes along one road;
    ``vertex_*`` hold every road vertex, and an edge's chain is
    ``vertex_*[edge_first[i]:edge_last[i] + 1]`` (walked backwards when
    ``edge_reverse[i]``).
    """

    country: str
    graph: csr_matrix  # travel time in seconds, graph[u, v]
    xy: np.ndarray  # node coordinates in the measuring CRS
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_time_s: np.ndarray
    edge_length_m: np.ndarray
    edge_road: np.ndarray  # row of the roads layer each edge belongs to
    lonlat: np.ndarray  # node coordinates in the store CRS
    dropped: dict = field(default_factory=dict)
    _tree: cKDTree | None = None
    vertex_lonlat: np.ndarray | None = None  # every road vertex, store CRS
    vertex_xy: np.ndarray | None = None  # every road vertex, measuring CRS
    vertex_m: np.ndarray | None = None  # metres along its road
    edge_first: np.ndarray = field(kw_only=True)  # vertex where an edge's chain starts (lower index)
    edge_last: np.ndarray = field(kw_only=True)
    edge_reverse: np.ndarray = field(kw_only=True)  # the edge runs from edge_last back to edge_first
    vertex_id: np.ndarray | None = None  # one id per distinct position (vertices shared by roads)
    vertex_node: np.ndarray | None = None  # the node at each vertex, -1 inside a chain
    _steps: tuple | None = None

    @property
    def tree(self) -> cKDTree:
        if self._tree is None:
            self._tree = cKDTree(self.xy)
        return self._tree

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node and its distance (m) for each point (measuring CRS).

        Exact (the nearest road vertex) for the points the side was built to
        keep; any other point snaps to the nearest node.
        """
        if len(xy) == 0:
            return np.zeros(0, int), np.zeros(0)
        distance, node = self.tree.query(xy)
        return node, distance

    def edge_lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """The fastest edge for each (u, v): sorted keys ``u * n + v`` and their edge ids."""
        n = max(1, self.graph.shape[0])
        order = np.lexsort((self.edge_time_s, self.edge_v, self.edge_u))
        keys = self.edge_u[order] * n + self.edge_v[order]
        first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, bool)
        return keys[first], order[first]

    def edge_index(self) -> dict[tuple[int, int], int]:
        """The fastest edge from u to v, for turning a node path into edges."""
        n = max(1, self.graph.shape[0])
        keys, edges = self.edge_lookup()
        return {(int(k // n), int(k % n)): int(e) for k, e in zip(keys, edges)}

    def chain_vertices(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertex indices of these edges' chains, in driving order, and which edge each belongs to."""
        edges = np.asarray(edges, dtype=np.int64)
        first, last = self.edge_first[edges], self.edge_last[edges]
        count = last - first + 1
        owner = np.repeat(np.arange(len(edges)), count)
        step = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
        forward = first[owner] + step
        backward = last[owner] - step
        return np.where(self.edge_reverse[edges][owner], backward, forward), owner

    def vertex_times(self, time_s: np.ndarray) -> np.ndarray:
        """Seconds to every road vertex (``inf`` if unreached), from seconds to every node.

        A vertex inside a chain is reached through one of the chain's two ends,
        in the directions the road may be driven.
        """
        assert self.vertex_m is not None and self.vertex_node is not None  # build_side fills every vertex field
        out = np.full(len(self.vertex_m), np.inf)
        vertex, owner = self.chain_vertices(np.arange(len(self.edge_u)))
        start = np.where(self.edge_reverse, self.edge_last, self.edge_first)[owner]
        along = np.abs(self.vertex_m[vertex] - self.vertex_m[start])
        speed = np.divide(
            self.edge_length_m, self.edge_time_s, out=np.ones(len(self.edge_u)), where=self.edge_time_s > 0
        )
        np.minimum.at(out, vertex, time_s[self.edge_u][owner] + along / speed[owner])
        node = self.vertex_node >= 0
        out[node] = time_s[self.vertex_node[node]]
        return out

    def steps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every pair of consecutive road vertices on the graph once, in order along the chains.

        Returns the two vertices ``a`` and ``b`` (positions in ``vertex_*``, in
        the order of a road that runs through them), the seconds a→b and b→a
        (``inf`` where one-way forbids it) and the length in metres.
        """
        if self._steps is None:
            self._steps = self._find_steps()
        return self._steps

    def _find_steps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        assert self.vertex_m is not None and self.vertex_id is not None  # build_side fills every vertex field
        vertex, owner = self.chain_vertices(np.arange(len(self.edge_u)))
        same = owner[1:] == owner[:-1]
        p, q, edge = vertex[:-1][same], vertex[1:][same], owner[:-1][same]
        length = np.abs(self.vertex_m[q] - self.vertex_m[p])
        speed = np.divide(
            self.edge_length_m, self.edge_time_s, out=np.ones(len(self.edge_u)), where=self.edge_time_s > 0
        )
        seconds = length / speed[edge]
        ahead = self.vertex_id[p] < self.vertex_id[q]
        a, b = np.where(ahead, p, q), np.where(ahead, q, p)
        key = self.vertex_id[a] * (int(self.vertex_id.max(initial=0)) + 1) + self.vertex_id[b]
        _, first, pair = np.unique(key, return_index=True, return_inverse=True)
        pair = pair.reshape(-1)
        forward, backward = np.full(len(first), np.inf), np.full(len(first), np.inf)
        np.minimum.at(forward, pair[ahead], seconds[ahead])
        np.minimum.at(backward, pair[~ahead], seconds[~ahead])
        order = np.argsort(first, kind="stable")  # back in order along the chains, each the way it was driven
        chosen = first[order]
        ahead = ahead[chosen]
        there = np.where(ahead, forward[order], backward[order])
        back = np.where(ahead, backward[order], forward[order])
        return p[chosen], q[chosen], there, back, length[chosen]


def time_matrix(u: np.ndarray, v: np.ndarray, time_s: np.ndarray, n: int) -> csr_matrix:
    """Sparse u→v travel-time matrix keeping the fastest of parallel edges.

    (``csr_matrix`` would add parallel edges' times together.)
    """
    order = np.lexsort((time_s, v, u))
    u, v, time_s = u[order], v[order], time_s[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])] if len(u) else np.zeros(0, bool)
    return csr_matrix((time_s[first], (u[first], v[first])), shape=(n, n))


def _vertex_ids(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One id per distinct vertex (equal to 1e-7 degrees), and the first occurrence of each id.

    The rounded coordinates are packed into one integer, so that one 1-D sort
    finds them (a sort of coordinate rows is many times slower).
    """
    if not len(coords):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    scaled = np.round(coords * 1e7).astype(np.int64)
    key = (scaled[:, 0] + 1_800_000_000) * 4_000_000_000 + (scaled[:, 1] + 900_000_000)
    _, first, vid = np.unique(key, return_index=True, return_inverse=True)
    return vid.reshape(-1), first


@dataclass
class _Chains:
    """Chains of vertices (positions in the roads' coordinate array) between kept vertices of one road."""

    first: np.ndarray
    last: np.ndarray
    u: np.ndarray  # vertex ids of the ends
    v: np.ndarray


def _chains(kept: np.ndarray, which: np.ndarray, vid: np.ndarray) -> _Chains:
    """Cut every road at its kept vertices (``kept`` per position; road ends must be kept)."""
    at = np.flatnonzero(kept)
    same = which[at[1:]] == which[at[:-1]]
    first, last = at[:-1][same], at[1:][same]
    return _Chains(first, last, vid[first], vid[last])


def _split_loops(kept: np.ndarray, which: np.ndarray, vid: np.ndarray) -> _Chains:
    """Chains, after keeping a middle vertex of every chain that closes on itself (a ring road)."""
    chains = _chains(kept, which, vid)
    loop = (chains.u == chains.v) & (chains.last - chains.first >= 2)
    if loop.any():
        kept[(chains.first[loop] + chains.last[loop]) // 2] = True
        chains = _chains(kept, which, vid)
    return chains


def _largest(chains: _Chains, nodes: np.ndarray, n_vid: int) -> tuple[np.ndarray, int]:
    """Which vertex ids lie in the largest weakly connected component, and how many components there are."""
    index = np.full(n_vid, -1, np.int64)
    index[nodes] = np.arange(len(nodes))
    link = csr_matrix((np.ones(len(chains.u)), (index[chains.u], index[chains.v])), shape=(len(nodes),) * 2)
    count, labels = connected_components(link, directed=False)
    inside = np.zeros(n_vid, bool)
    if len(nodes):
        inside[nodes[labels == np.bincount(labels).argmax()]] = True
    return inside, int(count)


def build_side(
    roads: gpd.GeoDataFrame,
    country: str,
    speeds: SpeedTable,
    keep: np.ndarray | None = None,
    contract: bool = True,
) -> Side:
    """The graph of one country's roads (rows of the roads layer), largest component only.

    Vectorised over every vertex at once: ways sharing a vertex (equal to
    1e-7 degrees) meet there. Chains of vertices between junctions and road
    ends are contracted into single edges (osmnx's ``simplify_graph`` idea),
    in one direction or both as ``oneway`` says; shortest times between nodes
    are those of the graph of every vertex.

    Parameters
    ----------
    keep
        Points (measuring CRS) that will be snapped to the graph: the road
        vertex nearest each one is kept as a node, so that :meth:`Side.snap`
        finds exactly the vertex it would on the uncontracted network.
    contract
        ``False`` keeps every vertex as a node (the graph routing was checked against).
    """
    roads = roads[roads["country"] == country]
    coords, which = shapely.get_coordinates(roads.geometry.values, return_index=True)
    vid, first = _vertex_ids(coords)
    x, y = settings.to_measure_transformer().transform(coords[:, 0], coords[:, 1]) if len(coords) else ([], [])
    vertex_xy = np.column_stack([x, y]) if len(coords) else np.zeros((0, 2))
    same_road = which[1:] == which[:-1]
    step = np.hypot(*(vertex_xy[1:] - vertex_xy[:-1]).T) * same_road
    vertex_m = np.r_[0.0, np.cumsum(step)] if len(coords) else np.zeros(0)
    # Kept: road ends, and every vertex met more than once (junctions, closed rings).
    kept = np.r_[True, ~same_road] | np.r_[~same_road, True] if len(coords) else np.zeros(0, bool)
    kept |= (np.bincount(vid, minlength=len(first)) > 1)[vid] | (not contract)
    chains = _split_loops(kept, which, vid)
    inside, count = _largest(chains, np.unique(vid[kept]), len(first))
    # A vertex inside a chain is in the component of the chain's first end.
    at = np.flatnonzero(kept)
    chain_start = at[np.searchsorted(at, np.arange(len(vid)), side="right") - 1] if len(at) else at
    inside[vid] = inside[vid[chain_start]]
    if keep is not None and len(keep) and inside.any():
        candidates = np.flatnonzero(inside[vid])
        _, nearest = cKDTree(vertex_xy[candidates]).query(np.asarray(keep, dtype=float))
        kept[candidates[nearest]] = True
        kept |= kept[first][vid]  # every occurrence of a kept vertex
        chains = _chains(kept, which, vid)
    node_vid = np.unique(vid[kept & inside[vid]])
    node_of = np.full(len(first), -1, np.int64)
    node_of[node_vid] = np.arange(len(node_vid))
    side = _directed(roads, country, speeds, chains, node_of, vertex_m, which)
    side.xy, side.lonlat = vertex_xy[first[node_vid]], coords[first[node_vid]]
    side.vertex_lonlat, side.vertex_xy, side.vertex_m = coords, vertex_xy, vertex_m
    side.vertex_id, side.vertex_node = vid, np.where(kept, node_of[vid], -1)
    side.dropped = _dropped(roads, inside, vid, which, step, count)
    return side


def _directions(roads: gpd.GeoDataFrame, road: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each road row (by position) is driven forwards, and backwards."""
    oneway = roads["oneway"].to_numpy()[road]
    forward = oneway != "-1"
    return forward, (oneway != "yes") & forward | (oneway == "-1")


def _directed(
    roads: gpd.GeoDataFrame,
    country: str,
    speeds: SpeedTable,
    chains: _Chains,
    node_of: np.ndarray,
    vertex_m: np.ndarray,
    which: np.ndarray,
) -> Side:
    """The directed edges of the chains inside the largest component, and their graph."""
    ok = (node_of[chains.u] >= 0) & (chains.u != chains.v)
    first, last = chains.first[ok], chains.last[ok]
    road = which[first]
    forward, backward = _directions(roads, road)
    mps = np.array([speeds.speed(country, h, s) / 3.6 for h, s in zip(roads["highway"], roads["surface"])])
    length = vertex_m[last] - vertex_m[first]
    a, b = node_of[chains.u[ok]], node_of[chains.v[ok]]
    u, v = np.r_[a[forward], b[backward]], np.r_[b[forward], a[backward]]
    pick = np.r_[np.flatnonzero(forward), np.flatnonzero(backward)]
    length_m, road_pos = length[pick], road[pick]
    time_s = length_m / mps[road_pos] if len(road_pos) else np.zeros(0)
    n = int(node_of.max()) + 1 if len(node_of) and node_of.max() >= 0 else 0
    return Side(
        country,
        time_matrix(u, v, time_s, n),
        np.zeros((0, 2)),
        u,
        v,
        time_s,
        length_m,
        roads.index.to_numpy()[road_pos],
        np.zeros((0, 2)),
        edge_first=first[pick],
        edge_last=last[pick],
        edge_reverse=np.r_[np.zeros(int(forward.sum()), bool), np.ones(int(backward.sum()), bool)],
    )


def _dropped(
    roads: gpd.GeoDataFrame, inside: np.ndarray, vid: np.ndarray, which: np.ndarray, step: np.ndarray, count: int
) -> dict:
    """What lies outside the largest component, counted as on the graph of every vertex."""
    out = ~inside[vid[:-1]] & (which[1:] == which[:-1]) & (vid[1:] != vid[:-1])
    forward, backward = _directions(roads, which[:-1])
    directed = np.r_[step[out & forward], step[out & backward]]
    return {
        "nodes": int((~inside).sum()),
        "edges": int(len(directed)),
        "roads": int(len(np.unique(which[:-1][out]))),
        "km_edges": round(float(directed.sum()) / 1000, 3),
        "components": int(max(count - 1, 0)),
    }


def split_at_border(roads: gpd.GeoDataFrame, border: shapely.Geometry) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Roads that stay on one side, and the mask of those that cross the border (bridges)."""
    crossing = roads.geometry.intersects(border).to_numpy() if not border.is_empty else np.zeros(len(roads), bool)
    return roads[~crossing], crossing
