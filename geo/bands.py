"""Travel-time bands: the land within each number of hours of a crossing, drawn along the roads."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo import settings
from geo.network import Side

__all__ = ["road_time_bands", "travel_time_bands"]


def travel_time_bands(
    side: Side,
    time_s: np.ndarray,
    hours: tuple[float, ...] | None = None,
    buffer_m: float | None = None,
    cell_m: float | None = None,
) -> gpd.GeoDataFrame:
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
    disk = np.hypot(*np.mgrid[-radius : radius + 1, -radius : radius + 1]) * cell_m <= buffer_m
    assert side.vertex_node is not None and side.vertex_xy is not None  # build_side fills every vertex field
    # A two-way road is two directed edges: count each vertex pair once.
    a, b, _, _, length_m = side.steps()
    full_s = side.vertex_times(time_s)
    on_graph = side.vertex_node >= 0
    on_graph[side.chain_vertices(np.arange(len(side.edge_u)))[0]] = True
    xy, vertex_s = side.vertex_xy[on_graph], full_s[on_graph]
    rows = []
    origin = xy.min(axis=0) - (radius + 1) * cell_m if len(xy) else np.zeros(2)
    for limit in hours:
        reached = vertex_s <= limit * 3600
        inside = (full_s[a] <= limit * 3600) & (full_s[b] <= limit * 3600)
        road_km = float(length_m[inside].sum() / 1000)
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


def road_time_bands(
    side: Side, time_s: np.ndarray, bins_h: tuple[float, ...] | None = None, piece_m: float = 1_000.0
) -> gpd.GeoDataFrame:
    """The roads cut into time classes: hours from the nearest crossing, ``bins_h`` apart.

    Each road edge is cut into pieces of at most ``piece_m``; a piece takes the
    time of its midpoint, reached from whichever end is sooner (edges are
    straight between their nodes). Drawn as lines of a fixed pixel width,
    these stay visible at any zoom, where areas around the roads shrink away.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per class that holds road: ``from_h``, ``to_h`` (``inf`` for
        the last; both ``inf`` for roads no crossing reaches), ``road_km`` and
        a MultiLineString, in the store CRS.
    """
    bins = np.asarray(bins_h or settings.MAP_TIME_BINS_H, dtype=float)
    # One road per vertex pair, passable a→b, b→a or both (one-way streets), in order along the roads.
    assert side.vertex_xy is not None  # build_side fills every vertex field
    u, v, forward, backward, length = side.steps()
    vertex_s = side.vertex_times(time_s)
    count = np.maximum(1, np.ceil(length / piece_m - 1e-6)).astype(int)  # 5000.0000001 m is 5 pieces
    edge = np.repeat(np.arange(len(u)), count)
    step = np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count)
    f0, f1 = step / count[edge], (step + 1) / count[edge]
    middle = (f0 + f1) / 2  # strictly inside (0, 1), so an impassable direction (inf) never meets a zero
    hours = (
        np.minimum(vertex_s[u][edge] + middle * forward[edge], vertex_s[v][edge] + (1 - middle) * backward[edge]) / 3600
    )
    start, end = side.vertex_xy[u][edge], side.vertex_xy[v][edge]
    starts, ends = start + (end - start) * f0[:, None], start + (end - start) * f1[:, None]
    piece_km = length[edge] / count[edge] / 1000
    classes = np.where(np.isfinite(hours), np.digitize(hours, bins) - 1, len(bins))
    lines, line_class = _runs(starts, ends, classes)
    rows = []
    for index in np.unique(classes):
        reached = index < len(bins)
        rows.append(
            {
                "from_h": float(bins[index]) if reached else np.inf,
                "to_h": float(bins[index + 1]) if index + 1 < len(bins) else np.inf,
                "road_km": float(piece_km[classes == index].sum()),
                "geometry": shapely.line_merge(shapely.multilinestrings(lines[line_class == index])),
            }
        )
    frame = gpd.GeoDataFrame(rows, columns=["from_h", "to_h", "road_km", "geometry"], geometry="geometry",
                             crs=settings.MEASURE_CRS)  # fmt: skip
    frame = frame.to_crs(settings.STORE_CRS)
    frame["geometry"] = [shapely.MultiLineString([g]) if g.geom_type == "LineString" else g for g in frame.geometry]
    return frame


def _runs(starts: np.ndarray, ends: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pieces that follow on from each other in the same class, as one line each (and its class).

    Pieces come in order along the roads, so a run of them is one line of
    many vertices: line_merge then joins far fewer lines (merging millions of
    two-point lines took longer than all the routing).
    """
    if not len(starts):
        return np.zeros(0, object), np.zeros(0, int)
    follows = np.r_[False, (classes[1:] == classes[:-1]) & np.all(starts[1:] == ends[:-1], axis=1)]
    run = np.cumsum(~follows) - 1
    last = np.r_[~follows[1:], True]
    points = np.concatenate([starts, ends[last]])
    owner = np.concatenate([run, run[last]])
    at = np.concatenate([np.arange(len(starts)) * 2.0, np.flatnonzero(last) * 2.0 + 1])
    order = np.lexsort((at, owner))
    lines = shapely.linestrings(points[order], indices=owner[order])
    return lines, classes[~follows]
