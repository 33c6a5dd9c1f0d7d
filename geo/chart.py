"""The headline as a picture: the share of markets within t hours of Chinese goods, border against far provinces.

A static SVG (no plotting library, no server): one cumulative curve per
group of the hub → market time, read straight from the routes' markets, so
that a reader takes in at a glance what the reach table says in numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import settings
from geo.maps.text import escape
from geo.regions import BORDER, FAR, regions_in_group

__all__ = ["GROUP_COLOURS", "cumulative_shares", "reach_chart_svg"]

#: Colour-blind-safe pair (Okabe–Ito vermilion and blue), the same groups' colours as on the maps' legend words.
GROUP_COLOURS = {BORDER: settings.MAP_GROUP_COLOURS["border"], FAR: settings.MAP_GROUP_COLOURS["far"]}
_WIDTH, _HEIGHT, _LEFT, _BOTTOM, _TOP, _RIGHT = 560, 300, 52, 40, 34, 150


def cumulative_shares(markets: pd.DataFrame, group: str, hours: np.ndarray, column: str = "total_h") -> np.ndarray:
    """Share of the group's markets reached within each number of ``hours`` (unreachable: never).

    Examples
    --------
    >>> m = pd.DataFrame({"province": ["KP-09"] * 4, "total_h": [1.0, 3.0, 5.0, float("nan")]})
    >>> cumulative_shares(m, "border", np.array([0.5, 3, 8])).tolist()
    [0.0, 0.5, 0.75]
    """
    codes = {r.code for r in regions_in_group(group)}
    times = markets.loc[markets["province"].isin(codes), column].to_numpy(float)
    if len(times) == 0:
        return np.full(len(hours), np.nan)
    reached = np.where(np.isnan(times), np.inf, times)
    return (reached[None, :] <= hours[:, None]).mean(axis=1)


def reach_chart_svg(markets: pd.DataFrame, max_hours: float = 24.0, title: str = "", demo: bool = False) -> str:
    """The chart as an SVG document (text; every label escaped)."""
    hours = np.linspace(0, max_hours, 241)
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def x(h: float) -> float:
        return _LEFT + h / max_hours * plot_w

    def y(share: float) -> float:
        return _TOP + (1 - share) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif" font-size="12" role="img">',
        f"<title>{escape(title or 'Share of markets within t hours of a Chinese hub')}</title>",
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="#fff"/>',
        f'<text x="{_LEFT}" y="20" font-size="13" font-weight="bold">'
        f"{escape(title or 'Markets within t hours of goods from a Chinese hub')}</text>",
    ]
    for share in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y(share):.1f}" y2="{y(share):.1f}" '
                     'stroke="#dee2e6"/>')  # fmt: skip
        parts.append(f'<text x="{_LEFT - 6}" y="{y(share) + 4:.1f}" text-anchor="end">{share:.0%}</text>')
    for h in range(0, int(max_hours) + 1, 4):
        parts.append(f'<text x="{x(h):.1f}" y="{_TOP + plot_h + 16}" text-anchor="middle">{h} h</text>')
    parts.append(f'<text x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 4}" text-anchor="middle">'
                 "hours from a Chinese hub, through the best crossing, to the market</text>")  # fmt: skip
    for n, (group, label) in enumerate(((BORDER, "border provinces"), (FAR, "far provinces"))):
        shares = cumulative_shares(markets, group, hours)
        count = int(markets["province"].isin({r.code for r in regions_in_group(group)}).sum())
        legend_y = _TOP + 14 + n * 36
        parts.append(f'<text x="{_LEFT + plot_w + 12}" y="{legend_y}" fill="{GROUP_COLOURS[group]}" '
                     f'font-weight="bold">{escape(label)}</text>')  # fmt: skip
        parts.append(f'<text x="{_LEFT + plot_w + 12}" y="{legend_y + 15}" fill="#495057">{count} markets</text>')
        if np.isnan(shares).all():
            continue
        points = " ".join(f"{x(h):.1f},{y(s):.1f}" for h, s in zip(hours, shares))
        parts.append(f'<polyline id="{group}" points="{points}" fill="none" stroke="{GROUP_COLOURS[group]}" '
                     'stroke-width="2.5"/>')  # fmt: skip
    if demo:
        parts.append(f'<text x="{_WIDTH - 8}" y="20" text-anchor="end" fill="#c92a2a" font-weight="bold">DEMO</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
