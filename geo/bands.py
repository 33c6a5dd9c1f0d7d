"""Travel-time bands: the land within each number of hours of a crossing, drawn along the roads."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo import settings
from geo.network import Side

__all__ = ["travel_time_bands"]


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
