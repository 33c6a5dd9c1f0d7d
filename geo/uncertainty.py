"""How sure is the reach table? Monte Carlo over the routing assumptions, and a bootstrap over markets.

The speeds, the unpaved factor and the border penalties are assumptions, not
measurements (see :data:`settings.DEFAULT_SPEEDS`). Scaling all of one
side's speeds by one factor scales every time on that side and moves no
route, so each draw here changes each assumption on its own:

- each road class's speed on each side of the border, drawn independently;
- each side's unpaved factor;
- each crossing's border penalty;

each a multiple of the routes' own value drawn log-uniformly within
:class:`Ranges` (between ``1/k`` and ``k``: a factor and its inverse are
equally likely, so the median multiple is 1 and a time is as likely to be
drawn slower as faster; a uniform ×0.5–2 would have a median of 1.25 and lean
slower by construction). Each draw also resamples every province's markets with replacement (a
bootstrap: which markets OSM happens to map is a sample too), and a group
pools its provinces' resampled markets.

The graphs are built once; a draw only puts new times on their edges
(:class:`_Reweight`: the edges' CSR positions are found once, so a draw
sorts nothing) and runs the two multi-source passes the hub→market time
needs: China from every hub at once, then North Korea from a virtual
source joined to each crossing by its hub time plus its penalty.

Rail entries and sea links (the ``all`` model) are routed as the routes
stage routes them (:func:`geo.routes.ways_in`): their Chinese road leg is
redrawn with the Chinese speeds, and what the train with its transfers, or
the ship with its dwell and wait, adds beyond it (:class:`_Network`'s
``fixed_h``) is multiplied by one drawn factor per way in
(``Ranges.channel``, :attr:`Draw.channel`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo import settings
from geo.assumptions import RunAssumptions
from geo.network import SPEED_CLASSES, UNPAVED, Side, SpeedTable
from geo.reach import format_hours, format_share, quantile
from geo.regions import BORDER, FAR
from geo.schema import TABLE_SCHEMAS

__all__ = [
    "UNCERTAINTY_COLUMNS",
    "Draw",
    "Ranges",
    "draw_assumptions",
    "draws_phrase",
    "interval_sentence",
    "uncertainty_table",
]

#: Added to the virtual source's edges: SciPy reads a stored zero as "no edge" (as in geo.routes).
_EPS = 1e-6
#: Lower and upper percentiles of the intervals.
INTERVAL = (5, 95)


@dataclass(frozen=True)
class Ranges:
    """How far each assumption is drawn from the routes' own value: a factor ``k``, for ×1/k to ×k.

    Each draw multiplies the value by ``exp(U(-ln k, ln k))`` (log-uniform):
    the median multiple is 1, and so is the median of its inverse, the time
    factor of a speed. Assumptions, not measurements: speeds ×1/1.3–1.3
    (0.77–1.3) keep the ±30 % the sensitivity scenarios used before
    (issue 24) at the fast end; the unpaved factor's ×0.75–1.33 (0.45–0.8
    around 0.6, at most 1), the penalty's ×0.5–2 (1–4 h around 2 h) and the
    ×1/1.5–1.5 of what a train or a ship adds beyond the Chinese road leg
    (``channel``: rail and ship speeds, loading, unloading, port dwell and
    the wait for a sailing, one factor per way in) are this project's
    guesses, stated so that a reader can change them.
    """

    speed: float = 1.3
    unpaved: float = 4 / 3
    penalty: float = 2.0
    channel: float = 1.5

    def __post_init__(self) -> None:
        from geo.errors import InputError

        for name in ("speed", "unpaved", "penalty", "channel"):
            k = getattr(self, name)
            if not (isinstance(k, int | float) and math.isfinite(k) and k >= 1):
                raise InputError(f"Ranges.{name} = {k!r}: give a factor k of at least 1 (drawn from ×1/k to ×k)")

    def narrowed(self, width: float) -> Ranges:
        """The same ranges with each log-width multiplied by ``width`` (0: no spread, 1: these ranges)."""
        return Ranges(self.speed**width, self.unpaved**width, self.penalty**width, self.channel**width)

    def words(self) -> str:
        """The ranges in one line, for the CSV and the summaries."""

        def pair(k: float) -> str:
            return f"{1 / k:.2f}–{k:.2f}"

        return (
            f"each class's speed on each side × {pair(self.speed)}, each side's unpaved factor × "
            f"{pair(self.unpaved)} (at most 1), each crossing's penalty × {pair(self.penalty)}, "
            f"and what each train or ship way in adds beyond the road × {pair(self.channel)} "
            "(log-uniform: median ×1, as likely halved as doubled; independent)"
        )


def _factors(rng: np.random.Generator, k: float, size: int | None = None) -> np.ndarray:
    """Multiples ``exp(U(-ln k, ln k))``: log-symmetric around 1, so a factor and its inverse are equally likely."""
    return np.exp(rng.uniform(-math.log(k), math.log(k), size))


@dataclass
class Draw:
    """One draw of the assumptions: km/h by side and class, unpaved factor by side, hours by crossing."""

    speeds: dict[str, np.ndarray]  # side -> km/h in the order of SPEED_CLASSES
    unpaved: dict[str, float]
    penalty_h: np.ndarray  # in the order of the usable crossings
    channel: np.ndarray  # multiple of each way in's train or ship hours (fixed_h), same order


def draw_assumptions(rng: np.random.Generator, speeds: SpeedTable, penalty_h: np.ndarray, ranges: Ranges) -> Draw:
    """One independent draw of every assumption around ``speeds`` and ``penalty_h``."""
    drawn = {c: _base_kmh(speeds, c) * _factors(rng, ranges.speed, len(SPEED_CLASSES)) for c in ("KP", "CN")}
    unpaved = {c: min(1.0, speeds.unpaved_factor[c] * float(_factors(rng, ranges.unpaved))) for c in ("KP", "CN")}
    penalties = penalty_h * _factors(rng, ranges.penalty, len(penalty_h))
    return Draw(drawn, unpaved, penalties, _factors(rng, ranges.channel, len(penalty_h)))


def _base_kmh(speeds: SpeedTable, country: str) -> np.ndarray:
    return np.array([speeds.speeds[country][c] for c in SPEED_CLASSES], float)


@dataclass
class _Reweight:
    """One side's graph, ready to take other speeds without being built or sorted again.

    The edges are sorted by (u, v) once; a draw computes every edge's time,
    keeps the fastest of parallel edges (``np.minimum.reduceat``) and fills
    the CSR arrays found here, plus an optional virtual source as row ``n``.
    """

    side: Side
    klass: np.ndarray  # each edge's position in SPEED_CLASSES
    unpaved: np.ndarray  # whether each edge's road is unpaved
    order: np.ndarray = field(init=False)
    starts: np.ndarray = field(init=False)
    indices: np.ndarray = field(init=False)
    indptr: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        side, n = self.side, self.side.graph.shape[0]
        self.order = np.lexsort((side.edge_v, side.edge_u))
        u, v = side.edge_u[self.order], side.edge_v[self.order]
        new = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])] if len(u) else np.zeros(0, bool)
        self.starts = np.flatnonzero(new)
        self.indices = v[self.starts].astype(np.int32)
        self.indptr = np.searchsorted(u[self.starts], np.arange(n + 1)).astype(np.int32)

    def matrix(self, kmh: np.ndarray, unpaved_factor: float, source: tuple[np.ndarray, np.ndarray] | None = None):
        """The travel-time matrix (s) at these speeds; ``source`` (nodes, seconds) adds a virtual source row."""
        mps = kmh[self.klass] * np.where(self.unpaved, unpaved_factor, 1.0) / 3.6
        seconds = self.side.edge_length_m[self.order] / mps[self.order]
        data = np.minimum.reduceat(seconds, self.starts) if len(seconds) else seconds
        n = self.side.graph.shape[0]
        if source is None:
            return csr_matrix((data, self.indices, self.indptr), shape=(n, n))
        nodes, offsets = source
        return csr_matrix(
            (np.r_[data, offsets + _EPS], np.r_[self.indices, nodes], np.r_[self.indptr, self.indptr[-1] + len(nodes)]),
            shape=(n + 1, n + 1),
        )


def _edge_classes(side: Side, roads: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's road class (position in SPEED_CLASSES) and whether its road is unpaved."""
    highway = roads["highway"].to_numpy(object)[side.edge_road]
    surface = roads["surface"].to_numpy(object)[side.edge_road]
    position = {c: i for i, c in enumerate(SPEED_CLASSES)}
    klass = np.array([position[str(h).removesuffix("_link")] for h in highway], np.int64)
    return klass, np.array([s in UNPAVED for s in surface], bool)


@dataclass
class _Network:
    """What every draw routes on: both reweightable sides, the usable hubs and crossings, the markets' nodes."""

    kp: _Reweight
    cn: _Reweight
    hub_nodes: np.ndarray
    crossing_kp: np.ndarray  # usable crossings' North Korean nodes
    crossing_cn: np.ndarray
    penalty_h: np.ndarray
    market_nodes: np.ndarray
    routable: np.ndarray  # market within reach of the road network
    #: Hours each way in adds beyond its Chinese road leg: rail and transfers, or a sea link's voyage.
    fixed_h: np.ndarray


def _network(layers, assumptions: RunAssumptions) -> tuple[_Network, pd.DataFrame]:
    """Build the graphs and every way in once, exactly as :func:`geo.routes.compute_routes` does."""
    from geo.routes import _networks, _snap, ways_in

    frames = layers.frames
    roads, _, kp, cn = _networks(frames, assumptions.speeds, None)
    crossings, hubs, _ = ways_in(frames, assumptions, kp, cn, layers.provenance.get("osm_timestamp"))
    markets = frames["markets"][frames["markets"]["country"] == "KP"].reset_index(drop=True)
    nodes, snap_m = _snap(kp, markets.to_crs(settings.MEASURE_CRS).geometry)
    usable = crossings[crossings["usable"].astype(bool)]
    # What a way in adds to the Chinese road leg, which the draws change: the train with its loading and
    # unloading for a rail entry; for a sea link, with no road leg, the whole voyage (both ×Draw.channel).
    road_h = usable["cn_road_h"] if "cn_road_h" in usable else usable["hub_crossing_h"]
    by_sea = usable["cn_node"].to_numpy(np.int64) < 0
    fixed_h = np.where(
        by_sea, usable["hub_crossing_h"], usable["hub_crossing_h"] - road_h.fillna(usable["hub_crossing_h"])
    )
    network = _Network(
        _Reweight(kp, *_edge_classes(kp, roads)),
        _Reweight(cn, *_edge_classes(cn, roads)),
        hubs.loc[hubs["usable"], "node"].to_numpy(np.int64),
        usable["kp_node"].to_numpy(np.int64),
        usable["cn_node"].to_numpy(np.int64),
        usable["penalty_h"].to_numpy(float),
        np.asarray(nodes, np.int64),
        np.asarray(snap_m) <= settings.SNAP_MAX_M,
        np.asarray(fixed_h, float),
    )
    return network, markets


def _hub_hours(net: _Network, draw: Draw) -> np.ndarray:
    """Every market's hub→market hours under one draw (NaN where unreachable), as the routes stage finds them."""
    hours = np.full(len(net.market_nodes), np.nan)
    if not len(net.hub_nodes) or not len(net.crossing_kp):
        return hours
    cn_s = dijkstra(net.cn.matrix(draw.speeds["CN"], draw.unpaved["CN"]), indices=net.hub_nodes, min_only=True)
    by_road = net.crossing_cn >= 0
    leg_s = np.where(by_road, cn_s[np.where(by_road, net.crossing_cn, 0)], 0.0)
    offset = leg_s + (net.fixed_h * draw.channel + draw.penalty_h) * 3600
    # One edge per North Korean node: the best of the ways in that share it.
    nodes, at = np.unique(net.crossing_kp, return_inverse=True)
    best = np.full(len(nodes), np.inf)
    np.minimum.at(best, at.reshape(-1), offset)
    keep = np.isfinite(best)
    graph = net.kp.matrix(draw.speeds["KP"], draw.unpaved["KP"], (nodes[keep], best[keep]))
    kp_s = dijkstra(graph, indices=graph.shape[0] - 1)[net.market_nodes] - _EPS
    reached = net.routable & np.isfinite(kp_s)
    hours[reached] = kp_s[reached] / 3600
    return hours


def _statistics(hours: np.ndarray) -> np.ndarray:
    """Per draw (row of ``hours``), the hub-time median and the shares within each threshold (NaN: unreachable).

    The median is :func:`geo.reach.quantile`'s, row by row: unreachable counts
    as ``inf``, and halfway between a time and ``inf`` is ``inf``.
    """
    count = hours.shape[1]
    ordered = np.sort(np.where(np.isnan(hours), np.inf, hours), axis=1)
    low, high = ordered[:, (count - 1) // 2], ordered[:, count // 2]
    with np.errstate(invalid="ignore"):
        median = np.where(np.isfinite(high), (low + high) / 2, np.inf)
    shares = [(hours <= limit).sum(axis=1) / count for limit in settings.REACH_THRESHOLDS_H]
    return np.column_stack([median, *shares])


#: The statistics given a point estimate and an interval, in column order.
STATISTICS = ("hub_h_median", *(f"hub_within_{t:g}h" for t in settings.REACH_THRESHOLDS_H))
#: The columns of the table, in order: those declared for ``hamji_uncertainty.csv``
#: (:data:`geo.schema.TABLE_SCHEMAS`) up to ``ranges``; the file adds the ``made_from_*`` columns and the stamps.
UNCERTAINTY_COLUMNS = tuple(TABLE_SCHEMAS["uncertainty"])[: list(TABLE_SCHEMAS["uncertainty"]).index("ranges") + 1]


def _rows(reach: pd.DataFrame, markets: pd.DataFrame) -> list[tuple[pd.Series, list[np.ndarray]]]:
    """Each reach-table row and its provinces' market positions (a group pools its provinces)."""
    codes = list(reach["code"])
    provinces = [c for c in codes if not c.startswith("group:") and c != "KP"]
    where = {c: np.flatnonzero(markets["province"].to_numpy(object) == c) for c in provinces}
    members = {
        f"group:{BORDER}": [c for c, g in zip(reach["code"], reach["group"]) if g == BORDER and c in where],
        f"group:{FAR}": [c for c, g in zip(reach["code"], reach["group"]) if g == FAR and c in where],
        "KP": provinces,
    }
    return [(r, [where[c] for c in members.get(r["code"], [r["code"]]) if c in where]) for _, r in reach.iterrows()]


def _resample(rng: np.random.Generator, positions: list[np.ndarray], draws: int) -> np.ndarray:
    """Per draw, each province's markets drawn with replacement, as many as it has (a row per draw)."""
    return np.hstack(
        [p[rng.integers(0, len(p), (draws, len(p)))] for p in positions if len(p)] or [np.zeros((draws, 0), int)]
    )


def _interval(values: np.ndarray) -> tuple[float, float]:
    """The 5th and 95th percentiles over the draws (``inf`` counts, as in the reach table; NaN: no markets)."""
    if np.isnan(values).all():
        return math.nan, math.nan
    return quantile(values, INTERVAL[0] / 100), quantile(values, INTERVAL[1] / 100)


@dataclass
class _Config:
    draws: int
    seed: int
    ranges: Ranges
    bootstrap: bool


def check_draws(draws: int, seed: int) -> None:
    """Fail in one line unless ``draws`` and ``seed`` are whole numbers in range."""
    from geo.errors import InputError

    if not isinstance(draws, int) or isinstance(draws, bool) or not 1 <= draws <= settings.MAX_UNCERTAINTY_DRAWS:
        raise InputError(
            f"draws = {draws!r}: give a whole number of draws from 1 to {settings.MAX_UNCERTAINTY_DRAWS:,}",
            option="draws",
        )
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= settings.MAX_UNCERTAINTY_SEED:
        raise InputError(
            f"seed = {seed!r}: give a whole number from 0 to {settings.MAX_UNCERTAINTY_SEED:,}", option="seed"
        )


def uncertainty_table(
    layers,
    routes,
    reach: pd.DataFrame,
    draws: int = settings.UNCERTAINTY_DRAWS,
    seed: int = 0,
    ranges: Ranges | None = None,
    bootstrap: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Point estimates and 5–95 % intervals of the hub→market reach per province and group.

    The parameters are those of :func:`geo.api.reach_uncertainty` (``reach``
    required here). Returns :data:`UNCERTAINTY_COLUMNS`: per row the point
    estimate (the reach table's), ``_p5`` and ``_p95`` of each of
    :data:`STATISTICS`, and on the border and far group rows the share of
    draws in which the border group's median is below the far group's.
    """
    check_draws(draws, seed)
    config = _Config(draws, seed, ranges or Ranges(), bootstrap)
    speeds = routes.assumptions.speeds
    net, markets = _network(layers, routes.assumptions)
    rows = _rows(reach, markets)
    rng = np.random.default_rng(seed)
    hours = np.empty((draws, len(markets)))
    for d in range(draws):
        hours[d] = _hub_hours(net, draw_assumptions(rng, speeds, net.penalty_h, config.ranges))
        if progress is not None:
            progress(d + 1, draws)
    return _table(reach, rows, _drawn_statistics(rng, hours, rows, bootstrap), config)


def _drawn_statistics(rng: np.random.Generator, hours: np.ndarray, rows: list, bootstrap: bool) -> np.ndarray:
    """Each row's statistics in each draw (draw, row, statistic), its markets resampled per draw if ``bootstrap``."""
    draws = hours.shape[0]
    drawn = np.full((draws, len(rows), len(STATISTICS)), np.nan)
    for r, (_, positions) in enumerate(rows):
        if not sum(len(p) for p in positions):
            continue  # no markets: no estimate
        chosen = _resample(rng, positions, draws) if bootstrap else np.concatenate(positions)[None, :]
        drawn[:, r] = _statistics(np.take_along_axis(hours, np.broadcast_to(chosen, (draws, chosen.shape[1])), 1))
    return drawn


def _table(reach: pd.DataFrame, rows: list, drawn: np.ndarray, config: _Config) -> pd.DataFrame:
    """The draws as the declared columns, the reach table's values as the point estimates."""
    codes = [r["code"] for r, _ in rows]
    border, far = codes.index(f"group:{BORDER}"), codes.index(f"group:{FAR}")
    # inf < inf is False: a draw where neither group's median market is reached does not count for the border.
    compared = rows[border][0]["markets"] > 0 and rows[far][0]["markets"] > 0
    below = float(np.mean(drawn[:, border, 0] < drawn[:, far, 0])) if compared else math.nan
    out = []
    for r, (row, _) in enumerate(rows):
        line = {k: row[k] for k in ("code", "name", "group", "markets")}
        for s, stat in enumerate(STATISTICS):
            low, high = _interval(drawn[:, r, s])
            line.update({stat: float(row[stat]), f"{stat}_p5": low, f"{stat}_p95": high})
        line["p_border_median_below_far"] = below if r in (border, far) else math.nan
        line.update(draws=config.draws, seed=config.seed, bootstrap=config.bootstrap, ranges=config.ranges.words())
        out.append(line)
    return pd.DataFrame(out, columns=list(UNCERTAINTY_COLUMNS))


#: The statistics' headings wherever the intervals are shown as a table (summary, index, popups).
STATISTIC_HEADINGS = (
    "Median hub→market",
    *(f"Markets within {t:g} h of a hub" for t in settings.REACH_THRESHOLDS_H),
)
#: Said beside the interval of a row with one market: resampling one market gives that market every time.
ONE_MARKET_NOTE = "one market: the interval is the assumptions' spread only (resampling one market cannot vary it)"


def interval_text(row: pd.Series, stat: str) -> str:
    """A point estimate and its 5–95 % interval for people: ``3.1 h (2.6 h to 4.0 h)``, ``45% (30% to 60%)``."""
    fmt = format_hours if stat.endswith("median") else format_share
    if pd.isna(row[stat]) and pd.isna(row[f"{stat}_p5"]):
        return fmt(row[stat])  # no markets: no estimate, no interval
    if never_reached(row, stat):  # not "unreachable (unreachable to unreachable)"
        return "unreachable in every draw"
    return f"{fmt(row[stat])} ({fmt(row[f'{stat}_p5'])} to {fmt(row[f'{stat}_p95'])})"


#: Marks a row with one market; :func:`one_market_footnote` explains it under the table.
ONE_MARKET_MARK = "†"


def one_market(row: pd.Series) -> bool:
    """Whether a row's bootstrap cannot vary: one market, resampled, is that market every time."""
    return row["markets"] == 1 and bool(row["bootstrap"])


def row_label(row: pd.Series) -> str:
    """A row's name, marked :data:`ONE_MARKET_MARK` when a bootstrap of its markets cannot vary."""
    return f"{row['name']} {ONE_MARKET_MARK}" if one_market(row) else str(row["name"])


def one_market_footnote(uncertainty: pd.DataFrame) -> str:
    """The note under a table of intervals with a marked row, or ''."""
    marked = any(one_market(row) for _, row in uncertainty.iterrows())
    return f"{ONE_MARKET_MARK} {ONE_MARKET_NOTE[0].upper()}{ONE_MARKET_NOTE[1:]}." if marked else ""


def draws_phrase(share: float, draws: int) -> str:
    """How many draws a share of ``draws`` is, in words: ``in all 200 draws``, ``in 187 of 200 draws``."""
    count = round(share * draws)
    if count == draws:
        return f"in all {draws} draws" if draws > 1 else "in the one draw"
    return f"in none of the {draws} draws" if count == 0 else f"in {count} of {draws} draws"


#: Said after the probability when neither group's median market is reached in most draws (as of a date every
#: crossing was shut, say): then "the border median is the lower in none of the draws" is no win for the far ones.
NEITHER_REACHED = "in most draws neither group's median market is reached from a hub"


def neither_reached(border: pd.Series, far: pd.Series) -> bool:
    """Whether both groups' median hub→market time is unreachable in at least 95 % of the draws."""
    return bool(np.isinf(border["hub_h_median_p5"]) and np.isinf(far["hub_h_median_p5"]))


def never_reached(row: pd.Series, stat: str = "hub_h_median") -> bool:
    """Whether a row's ``stat`` (a median time) is unreachable in every draw: the estimate and its interval."""
    return bool(np.isinf(row[[stat, f"{stat}_p5", f"{stat}_p95"]].astype(float)).all())


def interval_sentence(uncertainty: pd.DataFrame) -> str:
    """One sentence: both groups' hub→market medians with their intervals, and the probability."""
    by_code = uncertainty.set_index("code")
    border, far = by_code.loc[f"group:{BORDER}"], by_code.loc[f"group:{FAR}"]
    draws = int(border["draws"])
    if not (border["markets"] > 0 and far["markets"] > 0):
        missing = "border" if not border["markets"] > 0 else "far"
        return f"No intervals to compare over {draws} draws: this build has no markets in the {missing} provinces."
    over = f"Over {draws} draws of the speeds, unpaved factor and border penalties" + (
        " and resamples of each province's markets" if bool(border["bootstrap"]) else ""
    )
    if never_reached(border) and never_reached(far):  # "unreachable (unreachable to unreachable)" says nothing
        return f"{over}, neither group's median market is reached from a hub in any draw: there is nothing to compare."
    return (
        over + f", the median hub→market time is {interval_text(border, 'hub_h_median')} in the border provinces "
        f"and {interval_text(far, 'hub_h_median')} in the far provinces (5–95 % intervals); the border "
        f"provinces' median is the lower {draws_phrase(float(border['p_border_median_below_far']), draws)}"
        + (f": {NEITHER_REACHED}." if neither_reached(border, far) else ".")
    )


def markdown_lines(uncertainty: pd.DataFrame) -> list[str]:
    """The intervals as a Markdown section: the sentence, the ranges, and a row per province and group."""
    first = uncertainty.iloc[0]
    lines = [
        "## How sure: intervals over the assumptions",
        "",
        interval_sentence(uncertainty),
        "",
        f"Ranges: {first['ranges']}. Seed {int(first['seed'])}; the same seed gives the same intervals "
        f"(`hamji uncertainty`, `{settings.UNCERTAINTY_CSV}`).",
        "",
        "| Row | " + " | ".join(STATISTIC_HEADINGS) + " |",
        "|---|" + "---:|" * len(STATISTIC_HEADINGS),
    ]
    for _, row in uncertainty.iterrows():
        cells = " | ".join(interval_text(row, stat) for stat in STATISTICS)
        lines.append(f"| {row_label(row)} | {cells} |")
    note = one_market_footnote(uncertainty)
    return [*lines, *(["", note] if note else []), ""]
