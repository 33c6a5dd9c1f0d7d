"""Stage 3: the reach table — is cross-border trade closer to markets in the border provinces?

One row per North Korean province, then one per comparison group (the HamJi
border provinces, the far provinces, all of North Korea), with each group's
markets pooled rather than its provinces' medians averaged.

Unreachable markets count as infinitely far: a median of ``inf`` means more
than half the markets cannot be reached, and a share "within 4 h" is a share
of all the province's markets, reachable or not. Hiding unreachable markets
would flatter the provinces with the worst roads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo import settings
from geo.crossings import penalty_text
from geo.errors import HamjiError, InputError
from geo.network import SPEED_CLASSES
from geo.regions import BORDER, BY_CODE, FAR, OTHER, regions_in_group
from geo.sources.population import PROVINCE_POPULATION, population_of
from geo.sources.published import PUBLISHED_COUNTS, published_for

#: Rows for the groups, after the provinces.
GROUP_ROWS = (
    (BORDER, "Border provinces (North Hamgyong, Rason, Ryanggang)"),
    (FAR, "Far provinces (South Hwanghae, North Hwanghae, Kangwon)"),
    ("all", "All of North Korea in this build"),
)
#: The two time measures: column prefix, markets-layer column, what it means.
MEASURES = (
    ("crossing", "crossing_h", "time from the nearest open crossing"),
    ("hub", "total_h", "time from a Chinese hub through the best crossing, border penalty included"),
)


def quantile(hours: np.ndarray, q: float) -> float:
    """The ``q`` quantile (linear between ranks) of times where ``nan`` means unreachable.

    Unreachable counts as ``inf``; NumPy's own interpolation would give
    ``nan`` between a finite time and ``inf``.
    """
    values = np.sort(np.where(np.isnan(hours), np.inf, hours))
    if len(values) == 0:
        return math.nan
    position = q * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    if low == high or not np.isfinite(values[high]):
        return float(values[low] if low == high else np.inf)
    return float(values[low] + (values[high] - values[low]) * (position - low))


def _measures(markets: pd.DataFrame) -> dict:
    row: dict = {}
    for prefix, column, _ in MEASURES:
        hours = markets[column].to_numpy(float)
        count = len(hours)
        row[f"{prefix}_h_median"] = quantile(hours, 0.5)
        row[f"{prefix}_h_p90"] = quantile(hours, 0.9)
        for limit in settings.REACH_THRESHOLDS_H:
            row[f"{prefix}_within_{limit}h"] = float((hours <= limit).sum() / count) if count else math.nan
        row[f"{prefix}_unreachable"] = float(np.isnan(hours).sum() / count) if count else math.nan
    return row


def province_reach(
    markets: pd.DataFrame,
    provinces: gpd.GeoDataFrame,
    groups: Mapping[str, Iterable[str]] | None = None,
    people_areas: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The reach table: one row per North Korean province in the build, then the groups.

    Parameters
    ----------
    markets
        The routes stage's ``markets`` layer (North Korean markets).
    provinces
        The layers stage's ``provinces`` layer (for ``area_km2``).
    groups
        More rows, after the border, far and all-of-North-Korea rows: a
        label -> province codes mapping (codes not in the build are ignored);
        their ``code`` is ``group:LABEL`` and their ``group`` ``custom``.
    people_areas
        Areas (polygons, lon/lat) with a ``population`` column, such as
        counties with their census counts (see
        :func:`geo.sources.people_areas.read_people_areas`). Each area's
        people get the times of the market nearest to it; a row whose
        provinces the areas cover (see :data:`settings.PEOPLE_AREAS_COVERAGE`)
        is weighted by them instead of by its markets.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``group``, ``markets``, ``area_km2``,
        ``markets_per_1000km2``, the published count beside OSM's, and for each
        measure (``crossing``, ``hub``): median and 90th percentile hours,
        share within each threshold, share unreachable; ``population`` (2008
        census), ``people_per_market``, each share weighted by people
        (``*_people``), and ``people_basis`` (``areas`` or ``markets``) with
        ``people_areas_coverage``, the areas' people over the census count.
    """
    kp = provinces[provinces["country"] == "KP"]
    order = {BORDER: 0, FAR: 1, OTHER: 2}
    kp = kp.assign(_order=kp["group"].map(order).fillna(3)).sort_values(["_order", "code"])
    rows = []

    def row(code: str, name: str, group: str, chosen: pd.DataFrame, area: float) -> dict:
        published = published_for(code)
        first = published[0] if published else None
        return {
            "code": code,
            "name": name,
            "group": group,
            "markets": len(chosen),
            "area_km2": area,
            "markets_per_1000km2": len(chosen) / area * 1000 if area else math.nan,
            "published_markets": first.markets if first else pd.NA,
            "published_year": first.year if first else pd.NA,
            "published_by": first.by if first else None,
            **_measures(chosen),
        }

    members = {}
    for code, name, group, area in zip(kp["code"], kp["name"], kp["group"], kp["area_km2"]):
        rows.append(row(code, name, group, markets[markets["province"] == code], area))
        members[code] = [code]
    built = set(kp["code"])
    for code, label, group, codes in _group_rows(groups, list(kp["code"])):
        codes = [c for c in codes if c in built]
        area = float(kp.loc[kp["code"].isin(codes), "area_km2"].sum())
        rows.append(row(code, label, group, markets[markets["province"].isin(codes)], area))
        members[code] = codes
    table = pd.DataFrame(rows)
    table["published_markets"] = table["published_markets"].astype("Int64")
    table["published_year"] = table["published_year"].astype("Int64")
    areas = None if people_areas is None else _area_hours(people_areas, markets, provinces)
    return _with_people(table, members, areas)


def _area_hours(areas: gpd.GeoDataFrame, markets: pd.DataFrame, provinces: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each area's province and people, and the times of the market nearest to it (one row per area)."""
    from geo.provinces import assign_regions

    inside = areas.to_crs(settings.MEASURE_CRS).representative_point()
    placed = assign_regions(inside.to_crs(settings.STORE_CRS), provinces, countries=("KP",))
    frame = pd.DataFrame({"province": placed["province"].to_numpy(), "people": areas["population"].to_numpy(float)})
    for _, column, _ in MEASURES:
        frame[column] = math.nan  # no market at all: nobody is within any time
    if len(markets):
        where = gpd.GeoSeries(markets.geometry, crs=markets.crs).to_crs(settings.MEASURE_CRS)
        _, nearest = cKDTree(np.column_stack([where.x, where.y])).query(np.column_stack([inside.x, inside.y]))
        for _, column, _ in MEASURES:
            frame[column] = markets[column].to_numpy(float)[nearest]
    return frame[frame["province"].notna()]


def _people_by_areas(areas: pd.DataFrame, codes: list[str], census: int | None) -> tuple[float, dict[str, float]]:
    """The areas' people in ``codes`` over the census count, and the share within each threshold by them."""
    chosen = areas[areas["province"].isin(codes)]
    people = float(chosen["people"].sum())
    coverage = people / census if census else math.nan
    shares = {
        f"{prefix}_within_{limit}h_people": float(chosen.loc[chosen[column] <= limit, "people"].sum() / people)
        if people
        else math.nan
        for prefix, column, _ in MEASURES
        for limit in settings.REACH_THRESHOLDS_H
    }
    return coverage, shares


def _with_people(table: pd.DataFrame, members: dict[str, list[str]], areas: pd.DataFrame | None) -> pd.DataFrame:
    """Population (2008 census), people per market, and the shares within each threshold weighted by people.

    With only province totals, each province's people are taken to be
    spread like its markets: a province's people-weighted share is its market
    share, and a group's is the mean of its provinces' shares weighted by
    their populations (provinces without markets left out), so that a
    province OSM maps many markets in does not stand for the whole group.
    Where ``areas`` hold about as many people as the census counts in each of
    a row's provinces, the row is weighted by the areas instead: the share of
    their people whose nearest market is within each threshold.
    """
    by_code = table.set_index("code")
    people = {code: population_of(code) for code in by_code.index}
    population, per_market = [], []
    shares: dict[str, list[float]] = {}
    basis, coverages = [], []
    columns = [f"{p}_within_{t}h" for p, _, _ in MEASURES for t in settings.REACH_THRESHOLDS_H]
    for code in table["code"]:
        counts = [people[c].people for c in members[code] if people.get(c)]
        total = sum(counts) if len(counts) == len(members[code]) and counts else None
        population.append(total)
        markets = int(by_code.loc[code, "markets"])
        per_market.append(total / markets if total and markets else math.nan)
        coverage, area_shares = _people_by_areas(areas, members[code], total) if areas is not None else (math.nan, {})
        by_area = areas is not None and _covered(areas, members[code], people)
        coverages.append(coverage)
        basis.append("areas" if by_area else "markets")
        weighted = [(people[c].people, c) for c in members[code] if people.get(c) and by_code.loc[c, "markets"] > 0]
        weight = sum(w for w, _ in weighted)
        for column in columns:
            value = sum(w * by_code.loc[c, column] for w, c in weighted) / weight if weight else math.nan
            shares.setdefault(f"{column}_people", []).append(area_shares[f"{column}_people"] if by_area else value)
    table["population"] = pd.array(population, dtype="Int64")
    table["population_year"] = pd.array([2008 if p is not None else None for p in population], dtype="Int64")
    table["population_source"] = [
        (people[code].source if people.get(code) else "sum of its provinces' 2008 census counts")
        if total is not None
        else None
        for code, total in zip(table["code"], population)
    ]
    table["people_per_market"] = per_market
    for column, values in shares.items():
        table[column] = values
    table["people_basis"] = basis
    table["people_areas_coverage"] = coverages
    return table


def _covered(areas: pd.DataFrame, codes: list[str], people: dict) -> bool:
    """Whether the areas hold about the census count of people in each of ``codes`` (neither gaps nor overlaps)."""
    low, high = settings.PEOPLE_AREAS_COVERAGE
    for code in codes:
        census = people.get(code)
        held = float(areas.loc[areas["province"] == code, "people"].sum())
        if census is None or not low <= held / census.people <= high:
            return False
    return bool(codes)


def _group_rows(groups: Mapping[str, Iterable[str]] | None, built: list[str]) -> list[tuple[str, str, str, list[str]]]:
    """(code, label, group, member codes) of each group row: the standard ones, then ``groups``."""
    rows = [
        (
            "KP" if group == "all" else f"group:{group}",
            label,
            group,
            built if group == "all" else [r.code for r in regions_in_group(group)],
        )
        for group, label in GROUP_ROWS
    ]
    for label, members in (groups or {}).items():
        codes = [members] if isinstance(members, str) else list(members)
        unknown = [c for c in codes if c not in BY_CODE]
        if unknown:
            raise InputError(
                f"group {label!r}: unknown province code(s) {', '.join(map(repr, unknown))}; known: "
                + ", ".join(sorted(c for c in BY_CODE if c.startswith("KP"))),
                option="groups",
            )
        rows.append((f"group:{label}", label, "custom", codes))
    return rows


def read_reach(path) -> pd.DataFrame:
    """A reach table written by :func:`province_reach` (CSV), with a clear error if it cannot be read."""
    try:
        return pd.read_csv(path, dtype={"published_markets": "Int64", "published_year": "Int64"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise HamjiError(f"cannot read {path} ({str(exc).splitlines()[0]}); rerun the reach stage") from None


def headline(table: pd.DataFrame) -> str:
    """One sentence comparing the border and far groups' median time to a crossing."""
    by_group = table.set_index("code")
    border, far = by_group.loc[f"group:{BORDER}"], by_group.loc[f"group:{FAR}"]
    if border["markets"] == 0 or far["markets"] == 0:
        missing = "border" if border["markets"] == 0 else "far"
        return f"No comparison: this build has no markets in the {missing} provinces."
    b, f = border["crossing_h_median"], far["crossing_h_median"]
    text = (
        f"The median market in the border provinces is {format_hours(b)} from the nearest open crossing, "
        f"against {format_hours(f)} in the far provinces"
    )
    if np.isfinite(b) and np.isfinite(f) and b > 0:
        # Times compared, not distances: "as long", "shorter".
        text += f" ({f / b:.1f} times as long)" if f >= b else f" ({b / f:.1f} times shorter for the far provinces)"
    b4, f4 = border["crossing_within_4h"], far["crossing_within_4h"]
    return text + f"; {b4:.0%} of border markets and {f4:.0%} of far markets are within 4 h of a crossing."


def people_basis_text(basis: str, coverage: float) -> str:
    """What a row's people-weighted shares rest on, for readers.

    Examples
    --------
    >>> people_basis_text("areas", 0.994), people_basis_text("markets", float("nan"))
    ('people areas (99% of the census count)', 'its markets')
    """
    if basis == "areas":
        return f"people areas ({coverage:.0%} of the census count)"
    if isinstance(coverage, float) and math.isfinite(coverage) and coverage > 0:
        return f"its markets (people areas hold {coverage:.0%} of the census count)"
    return "its markets"


def format_hours(hours: float) -> str:
    """A time for people: whole minutes below an hour, then tenths of an hour.

    ``unreachable`` for ``inf``, ``–`` for none. Below an hour, ``0.0 h``
    would read as "no time at all" for a crossing two minutes away.

    Examples
    --------
    >>> format_hours(0.031), format_hours(0.999), format_hours(2.46), format_hours(float("inf"))
    ('2 min', '1.0 h', '2.5 h', 'unreachable')
    """
    if hours is None or (isinstance(hours, float) and math.isnan(hours)) or hours is pd.NA:
        return "–"
    if not np.isfinite(hours):
        return "unreachable"
    minutes = round(float(hours) * 60)
    return f"{minutes} min" if abs(minutes) < 60 else f"{hours:.1f} h"


def format_share(value: float) -> str:
    """A share for people: ``45%``, ``–`` for none."""
    return "–" if value is None or pd.isna(value) else f"{value:.0%}"


def markdown_summary(table: pd.DataFrame, provenance: dict) -> str:
    """The reach table as a short Markdown report with the data date and the assumptions used.

    Parameters
    ----------
    table
        From :func:`province_reach`.
    provenance
        The routes GeoPackage's provenance (source, OSM date, ``routes``
        report with speeds and penalties).
    """
    report = provenance.get("routes", {})
    lines = ["# HamJi Explorer — market reach to cross-border trade", ""]
    if provenance.get("synthetic"):
        lines += [
            f"**{settings.DEMO_STAMP}.** Every number below comes from the hand-built mini-HamJi "
            "fixture and says nothing about North Korea.",
            "",
        ]
    lines += [
        f"- Data: {provenance.get('source', 'unknown source')}, OpenStreetMap data as of "
        f"{provenance.get('osm_timestamp', 'unknown date')}.",
        f"- Supply model: {report.get('supply', {}).get('model', settings.DEFAULT_SUPPLY)} — "
        f"{report.get('supply', {}).get('description', settings.SUPPLY_MODELS[settings.DEFAULT_SUPPLY][1])}.",
        f"- {headline(table)}",
        "",
    ]
    lines += [
        "## Per province",
        "",
        "| Province | Group | Markets (OSM) | Published | Per 1,000 km² | Median to crossing | "
        "90th pct | Within 2 / 4 / 8 h | Unreachable | Median hub→market |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table.itertuples():
        published = "–" if pd.isna(r.published_markets) else f"{r.published_markets} ({r.published_year})"
        within = " / ".join(format_share(getattr(r, f"crossing_within_{h}h")) for h in settings.REACH_THRESHOLDS_H)
        name = f"**{r.name}**" if r.code.startswith("group:") or r.code == "KP" else f"{r.name} ({r.code})"
        lines.append(
            f"| {name} | {r.group} | {r.markets} | {published} | {r.markets_per_1000km2:.2f} | "
            f"{format_hours(r.crossing_h_median)} | {format_hours(r.crossing_h_p90)} | {within} | "
            f"{format_share(r.crossing_unreachable)} | {format_hours(r.hub_h_median)} |"
        )
    lines += ["", "Unreachable markets count as infinitely far in medians and percentiles.", ""]
    lines += [
        "## People, not only markets",
        "",
        "OSM maps more markets in some provinces than in others, so a share of markets is partly a share of "
        "mapping. Weighted by people instead (2008 census). Where people areas were given (county counts, "
        "say) and hold the census count of a row's provinces, each area's people count at the market nearest to "
        "them (*areas*); otherwise each province's people are taken to be spread like its markets, a group's "
        "share the population-weighted mean of its provinces' (*markets*):",
        "",
        "| Row | People (2008) | People per OSM market | Within 4 h of a hub: markets | people | Weighted by |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in table.itertuples():
        people = "–" if pd.isna(r.population) else f"{int(r.population):,}"
        per = "–" if pd.isna(r.people_per_market) else f"{r.people_per_market:,.0f}"
        lines.append(
            f"| {r.name} | {people} | {per} | {format_share(r.hub_within_4h)} | "
            f"{format_share(r.hub_within_4h_people)} | {people_basis_text(r.people_basis, r.people_areas_coverage)} |"
        )
    lines += ["", "Population: " + "; ".join(sorted({p.source for p in PROVINCE_POPULATION.values()})) + ".", ""]
    lines += [
        "## Published market counts",
        "",
        "OpenStreetMap maps only some markets; these published counts show how many there are thought "
        "to be (they count different things and disagree with each other).",
        "",
    ]
    sources = list(dict.fromkeys(p.source for p in PUBLISHED_COUNTS))
    for number, source in enumerate(sources, 1):
        counts = [p for p in PUBLISHED_COUNTS if p.source == source]
        figures = "; ".join(
            ("North Korea" if p.code == "KP" else f"{BY_CODE[p.code].name} ({p.code})")
            + f" {p.markets}"
            + (f" ({p.note})" if p.note else "")
            for p in counts
        )
        lines.append(f"{number}. {counts[0].by}, {counts[0].year}: {figures}. Source: {source}")
    speeds = report.get("speeds", {})
    lines += ["", "## Assumptions", ""]
    for country in ("KP", "CN"):
        if country in speeds:
            classes = ", ".join(f"{k} {speeds[country][k]:g}" for k in SPEED_CLASSES if k in speeds[country])
            lines.append(
                f"- Speeds in {country} (km/h): {classes}; unpaved × "
                f"{speeds.get('unpaved_factor', {}).get(country, '?')}."
            )
    penalties = report.get("penalties_h", {})
    if penalties:
        # By name (crossing ids stay out of what people read): the usual hours, then the exceptions.
        lines.append(f"- Border penalty: {penalty_text(penalties)}.")
    lines.append(f"- Speed table: {report.get('network', {}).get('speeds', 'built-in defaults')}.")
    return "\n".join(lines) + "\n"
