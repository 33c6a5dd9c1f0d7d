"""Small static pictures of each map for ``index.html``, drawn from the same data as the maps (no browser).

Each thumbnail is an inline SVG in the measuring CRS (north up, metres to
pixels at one scale): province outlines by group, then what the map is about
— the overview's markets by time on the main roads, the comparison's
provinces and markets on the time scale, the side-by-side's two provinces
at the same scale. No outside text goes into them: they hold only shapes and colours.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo import settings
from geo.maps.base import MapInputs
from geo.maps.style import GROUP_OUTLINES, ROAD_STYLES, time_colour

__all__ = ["thumbnail_svg"]

WIDTH, HEIGHT, PAD = 240, 180, 6
#: Geometry detail in thumbnails (m): a pixel is a few km.
SIMPLIFY_M = 2_000


class _Frame:
    """Metres (UTM 52N) to SVG pixels for one panel."""

    def __init__(self, bounds: tuple[float, float, float, float], x0: float, width: float):
        minx, miny, maxx, maxy = bounds
        self.scale = min((width - 2 * PAD) / max(maxx - minx, 1), (HEIGHT - 2 * PAD) / max(maxy - miny, 1))
        self.left = x0 + (width - (maxx - minx) * self.scale) / 2 - minx * self.scale
        self.top = (HEIGHT + (maxy - miny) * self.scale) / 2 + miny * self.scale

    def path(self, geometry: shapely.Geometry) -> str:
        """SVG path data for a (multi)polygon or (multi)line."""
        parts = []
        for part in getattr(geometry, "geoms", [geometry]):
            rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
            for ring in rings:
                xy = np.asarray(ring.coords)[:, :2]
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in self.pixels(xy))
                parts.append("M" + points + ("Z" if part.geom_type == "Polygon" else ""))
        return "".join(parts)

    def pixels(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([self.left + xy[:, 0] * self.scale, self.top - xy[:, 1] * self.scale])


def _measured(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.empty:
        return frame
    return frame.to_crs(settings.MEASURE_CRS).assign(
        geometry=lambda f: f.geometry.simplify(SIMPLIFY_M, preserve_topology=True)
    )


def _outlines(view: _Frame, provinces: gpd.GeoDataFrame, fills: dict[str, str] | None = None) -> str:
    shapes = []
    for row in provinces.itertuples():
        style = GROUP_OUTLINES.get(row.group or "other", GROUP_OUTLINES["other"])[0]
        fill = (fills or {}).get(row.code, "#ffffff" if row.country == "KP" else "none")
        dash = f' stroke-dasharray="{style["dashArray"]}"' if style["dashArray"] else ""
        width = 1.6 if row.group in ("border", "far") else 0.7
        shapes.append(
            f'<path d="{view.path(row.geometry)}" fill="{fill}" fill-opacity="0.45" stroke="{style["color"]}" '
            f'stroke-width="{width}"{dash}/>'
        )
    return "".join(shapes)


def _markets(view: _Frame, markets: gpd.GeoDataFrame) -> str:
    if markets.empty:
        return ""
    xy = view.pixels(np.column_stack([markets.geometry.x, markets.geometry.y]))
    return "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{time_colour(h)}" stroke="#222" stroke-width="0.4"/>'
        for (x, y), h in zip(xy, markets["crossing_h"])
    )


def _lines(view: _Frame, frame: gpd.GeoDataFrame, colours: list[str], width: float) -> str:
    return "".join(
        f'<path d="{view.path(g)}" fill="none" stroke="{c}" stroke-width="{width}"/>'
        for g, c in zip(frame.geometry, colours)
        if not g.is_empty
    )


def _svg(body: str, demo: bool, label: str) -> str:
    stamp = (
        f'<text x="{WIDTH - 4}" y="14" text-anchor="end" font-family="sans-serif" font-size="11" font-weight="bold" '
        'fill="#c92a2a">DEMO</text>'
        if demo
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{label}" class="thumbnail"><rect width="{WIDTH}" height="{HEIGHT}" fill="#eceee9"/>'
        f"{body}{stamp}</svg>"
    )


def thumbnail_svg(inputs: MapInputs, kind: str) -> str:
    """An inline SVG of the map ``kind`` (overview, comparison, side_by_side)."""
    provinces = _measured(inputs.provinces[inputs.provinces["admin_level"] == 4])
    kp = provinces[provinces["country"] == "KP"]
    if kp.empty:
        return _svg("", inputs.synthetic, "no provinces to draw")
    markets = inputs.markets.to_crs(settings.MEASURE_CRS)
    if kind == "side_by_side":
        return _svg(_side_by_side(provinces, markets), inputs.synthetic, "two provinces side by side")
    view = _Frame(tuple(kp.total_bounds), 0, WIDTH)
    if kind == "comparison":
        reach = inputs.reach.set_index("code")
        fills = {c: time_colour(reach.loc[c, "crossing_h_median"]) for c in kp["code"] if c in reach.index}
        # The roads by class would be megabytes of SVG on a national network: the markets stand in for them.
        body = _outlines(view, provinces, fills) + _markets(view, markets)
        return _svg(body, inputs.synthetic, "provinces and markets by hours from a crossing")
    body = (
        _outlines(view, provinces) + _lines(view, _main_roads(inputs.roads), ["#868e96"], 0.6) + _markets(view, markets)
    )
    return _svg(body, inputs.synthetic, "markets by hours from a crossing")


def _main_roads(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """North Korea's main roads as one merged line: a national network would otherwise be megabytes of SVG."""
    main = roads[(roads["country"] == "KP") & roads["highway"].isin(ROAD_STYLES["main"][1])]
    merged = shapely.line_merge(shapely.multilinestrings(main.geometry.to_numpy())) if len(main) else None
    return _measured(gpd.GeoDataFrame(geometry=[merged] if merged is not None else [], crs=settings.STORE_CRS))


def _side_by_side(provinces: gpd.GeoDataFrame, markets: gpd.GeoDataFrame) -> str:
    """The two compared provinces, each in half the picture, at the scale that fits the larger."""
    chosen = [provinces[provinces["code"] == code] for code in settings.SIDE_BY_SIDE]
    chosen = [c for c in chosen if not c.empty]
    if not chosen:
        return ""
    half = WIDTH / len(chosen)
    extent = max(max(c.total_bounds[2] - c.total_bounds[0], c.total_bounds[3] - c.total_bounds[1]) for c in chosen)
    body = []
    for i, province in enumerate(chosen):
        cx, cy = shapely.box(*province.total_bounds).centroid.coords[0]
        view = _Frame((cx - extent / 2, cy - extent / 2, cx + extent / 2, cy + extent / 2), i * half, half)
        inside = markets[markets["province"] == province["code"].iloc[0]]
        body.append(_outlines(view, province) + _markets(view, inside))
    return "".join(body)
