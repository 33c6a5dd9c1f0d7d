"""Routable road networks, one per side of the border, from the roads layer.

Each side is a directed graph stored as a SciPy sparse matrix of travel
times in seconds, so one multi-source Dijkstra answers every market at once.
Every vertex of every road is a node (ways sharing a vertex meet there), and
an edge joins consecutive vertices: a market beside a long road then snaps to
the road itself, not to a junction kilometres away.
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
from geo.io import read_text

#: Classes that need a speed; ``*_link`` roads take their parent's.
SPEED_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "track")
UNPAVED = {"unpaved", "gravel", "dirt", "ground", "earth", "sand", "mud", "compacted", "fine_gravel", "grass"}


@dataclass(frozen=True)
class SpeedTable:
    """Travel speeds in km/h by country and road class, and a factor for unpaved roads."""

    speeds: dict[str, dict[str, float]]
    unpaved_factor: dict[str, float]
    source: str = "built-in defaults (geo/settings.py)"

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
    speeds, factors = {}, {}
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
    return SpeedTable(speeds, factors, source)


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
    """The road graph of one country."""

    country: str
    graph: csr_matrix  # travel time in seconds, graph[u, v]
    xy: np.ndarray  # node coordinates in the measuring CRS
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_time_s: np.ndarray
    edge_length_m: np.ndarray
    edge_road: np.ndarray  # row of the roads layer each edge belongs to
    lonlat: np.ndarray  # node coordinates in the store CRS; an edge runs straight from u to v
    dropped: dict = field(default_factory=dict)
    _tree: cKDTree | None = None

    @property
    def tree(self) -> cKDTree:
        if self._tree is None:
            self._tree = cKDTree(self.xy)
        return self._tree

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node and its distance (m) for each point (measuring CRS)."""
        if len(xy) == 0:
            return np.zeros(0, int), np.zeros(0)
        distance, node = self.tree.query(xy)
        return node, distance

    def edge_index(self) -> dict[tuple[int, int], int]:
        """The fastest edge from u to v, for turning a node path into edges."""
        best: dict[tuple[int, int], int] = {}
        for i, (u, v) in enumerate(zip(self.edge_u, self.edge_v)):
            key = (int(u), int(v))
            if key not in best or self.edge_time_s[i] < self.edge_time_s[best[key]]:
                best[key] = i
        return best


def time_matrix(u: np.ndarray, v: np.ndarray, time_s: np.ndarray, n: int) -> csr_matrix:
    """Sparse u→v travel-time matrix keeping the fastest of parallel edges.

    (``csr_matrix`` would add parallel edges' times together.)
    """
    order = np.lexsort((time_s, v, u))
    u, v, time_s = u[order], v[order], time_s[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])] if len(u) else np.zeros(0, bool)
    return csr_matrix((time_s[first], (u[first], v[first])), shape=(n, n))


def build_side(roads: gpd.GeoDataFrame, country: str, speeds: SpeedTable) -> Side:
    """The graph of one country's roads (rows of the roads layer), largest component only.

    Vectorised over every vertex at once: ways sharing a vertex (equal to
    1e-7 degrees) meet there, and each pair of consecutive vertices is an
    edge, in one direction or both as ``oneway`` says.
    """
    roads = roads[roads["country"] == country]
    coords, which = shapely.get_coordinates(roads.geometry.values, return_index=True)
    keys = np.round(coords, 7)
    node_lonlat, first, node = (
        np.unique(keys, axis=0, return_index=True, return_inverse=True)
        if len(keys)
        else (np.zeros((0, 2)), np.zeros(0, int), np.zeros(0, int))
    )
    node = node.reshape(-1)
    x, y = settings.to_measure_transformer().transform(coords[:, 0], coords[:, 1]) if len(coords) else ([], [])
    vertex_xy = np.column_stack([x, y]) if len(coords) else np.zeros((0, 2))
    same_road = which[1:] == which[:-1] if len(which) else np.zeros(0, bool)
    a, b = node[:-1][same_road], node[1:][same_road]
    step = np.hypot(*(vertex_xy[1:] - vertex_xy[:-1])[same_road].T) if len(a) else np.zeros(0)
    road_of_edge = which[:-1][same_road]
    mps = np.array([speeds.speed(country, h, s) / 3.6 for h, s in zip(roads["highway"], roads["surface"])])
    oneway = roads["oneway"].to_numpy()
    forward = oneway[road_of_edge] != "-1"
    backward = (oneway[road_of_edge] != "yes") & forward | (oneway[road_of_edge] == "-1")
    u = np.r_[a[forward], b[backward]]
    v = np.r_[b[forward], a[backward]]
    length_m = np.r_[step[forward], step[backward]]
    road_pos = np.r_[road_of_edge[forward], road_of_edge[backward]]
    keep = u != v
    u, v, length_m, road_pos = u[keep].astype(np.int64), v[keep].astype(np.int64), length_m[keep], road_pos[keep]
    time_s = length_m / mps[road_pos] if len(road_pos) else np.zeros(0)
    n = len(node_lonlat)
    graph = time_matrix(u, v, time_s, n)
    # A node's position is that of its first vertex (as read, not rounded).
    xy = vertex_xy[first] if n else np.zeros((0, 2))
    side = Side(
        country,
        graph,
        xy,
        u,
        v,
        time_s,
        length_m,
        roads.index.to_numpy()[road_pos],
        coords[first] if n else np.zeros((0, 2)),
    )
    return _largest_component(side)


def _largest_component(side: Side) -> Side:
    """Keep the largest weakly connected component; record what was dropped."""
    n = side.graph.shape[0]
    if n == 0:
        side.dropped = {"nodes": 0, "edges": 0, "roads": 0, "km_edges": 0.0, "components": 0}
        return side
    count, labels = connected_components(side.graph, directed=True, connection="weak")
    largest = np.bincount(labels).argmax()
    keep_node = labels == largest
    keep_edge = keep_node[side.edge_u]
    # Both directions of a two-way road count once in the dropped kilometres.
    dropped_km = float(side.edge_length_m[~keep_edge].sum() / 1000)
    dropped_roads = np.unique(side.edge_road[~keep_edge])
    new_id = np.cumsum(keep_node) - 1
    u, v = new_id[side.edge_u[keep_edge]], new_id[side.edge_v[keep_edge]]
    m = int(keep_node.sum())
    time_s = side.edge_time_s[keep_edge]
    return Side(
        side.country,
        time_matrix(u, v, time_s, m),
        side.xy[keep_node],
        u,
        v,
        time_s,
        side.edge_length_m[keep_edge],
        side.edge_road[keep_edge],
        side.lonlat[keep_node],
        {
            "nodes": int(n - m),
            "edges": int((~keep_edge).sum()),
            "roads": int(len(dropped_roads)),
            "km_edges": round(dropped_km, 3),
            "components": int(count - 1),
        },
    )


def split_at_border(roads: gpd.GeoDataFrame, border: shapely.Geometry) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Roads that stay on one side, and the mask of those that cross the border (bridges)."""
    crossing = roads.geometry.intersects(border).to_numpy() if not border.is_empty else np.zeros(len(roads), bool)
    return roads[~crossing], crossing
