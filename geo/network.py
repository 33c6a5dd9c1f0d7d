"""Routable road networks, one per side of the border, from the roads layer.

Each side is a directed graph stored as a SciPy sparse matrix of travel
times in seconds, so one multi-source Dijkstra answers every market at once.
Every vertex of every road is a node (ways sharing a vertex meet there), and
an edge joins consecutive vertices: a market beside a long road then snaps to
the road itself, not to a junction kilometres away.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo import settings
from geo.errors import HamjiError

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


def validate_speeds(data: dict, source: str) -> SpeedTable:
    """Check a speed table (as parsed from TOML) and return it, or fail in one line."""
    speeds, factors = {}, {}
    for country in ("KP", "CN"):
        table = data.get(country)
        if not isinstance(table, dict):
            raise HamjiError(f"speed table {source}: no [{country}] section; give speeds for both KP and CN")
        speeds[country] = {}
        for highway in SPEED_CLASSES:
            value = table.get(highway)
            if value is None:
                raise HamjiError(f"speed table {source}: [{country}] has no speed for '{highway}'; add it (km/h)")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise HamjiError(f"speed table {source}: [{country}] {highway} = {value!r}; speeds must be "
                                 "positive numbers in km/h")
            speeds[country][highway] = float(value)
        factor = table.get("unpaved_factor", 1.0)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor <= 1:
            raise HamjiError(f"speed table {source}: [{country}] unpaved_factor = {factor!r}; it must be in (0, 1]")
        factors[country] = float(factor)
    return SpeedTable(speeds, factors, source)


def load_speeds(path: Path | None = None) -> SpeedTable:
    """The built-in speed table, or a user's TOML file replacing it."""
    if path is None:
        return validate_speeds(settings.DEFAULT_SPEEDS, "built-in defaults")
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HamjiError(f"speed table {path} does not exist; check the path given to --speeds") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HamjiError(f"speed table {path} is not valid TOML ({exc}); see the README for its format") from None
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
    edge_coords: list[np.ndarray]  # lon/lat vertices from u to v
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
    """The graph of one country's roads (rows of the roads layer), largest component only."""
    roads = roads[roads["country"] == country]
    lonlat = [np.asarray(g.coords) for g in roads.geometry]
    node_of: dict[tuple[float, float], int] = {}
    node_lonlat: list[tuple[float, float]] = []

    def node(key: tuple[float, float]) -> int:
        if key not in node_of:
            node_of[key] = len(node_lonlat)
            node_lonlat.append(key)
        return node_of[key]

    transformer = settings.to_measure_transformer()
    u, v, time_s, length_m, road_row, edge_coords = [], [], [], [], [], []
    for row, line, highway, surface, oneway in zip(roads.index, lonlat, roads["highway"], roads["surface"],
                                                  roads["oneway"]):
        keys = [tuple(p) for p in np.round(line, 7)]
        x, y = transformer.transform(line[:, 0], line[:, 1])
        step = np.hypot(np.diff(x), np.diff(y))
        mps = speeds.speed(country, highway, surface) / 3.6
        for i in range(1, len(keys)):
            a, b = node(keys[i - 1]), node(keys[i])
            piece = line[i - 1:i + 1]
            directions = [(a, b, piece)] if oneway == "yes" else [(b, a, piece[::-1])] if oneway == "-1" \
                else [(a, b, piece), (b, a, piece[::-1])]
            for p, q, coords in directions:
                if p != q:
                    u.append(p)
                    v.append(q)
                    time_s.append(step[i - 1] / mps)
                    length_m.append(float(step[i - 1]))
                    road_row.append(row)
                    edge_coords.append(coords)
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    n = len(node_lonlat)
    time_s, length_m = np.asarray(time_s), np.asarray(length_m)
    graph = time_matrix(u, v, time_s, n)
    xy = np.column_stack(transformer.transform(*np.asarray(node_lonlat).T)) if n else np.zeros((0, 2))
    side = Side(country, graph, xy, u, v, time_s, length_m, np.asarray(road_row), edge_coords)
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
    return Side(side.country, time_matrix(u, v, time_s, m), side.xy[keep_node], u, v, time_s,
                side.edge_length_m[keep_edge], side.edge_road[keep_edge],
                [c for c, k in zip(side.edge_coords, keep_edge) if k],
                {"nodes": int(n - m), "edges": int((~keep_edge).sum()), "roads": int(len(dropped_roads)),
                 "km_edges": round(dropped_km, 3), "components": int(count - 1)})


def split_at_border(roads: gpd.GeoDataFrame, border: shapely.Geometry) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Roads that stay on one side, and the mask of those that cross the border (bridges)."""
    crossing = roads.geometry.intersects(border).to_numpy() if not border.is_empty else np.zeros(len(roads), bool)
    return roads[~crossing], crossing
