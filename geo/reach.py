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
from geo.errors import InputError
from geo.io import markdown_literal
from geo.network import SPEED_CLASSES
from geo.regions import BORDER, BY_CODE, FAR, OTHER, regions_in_group
from geo.schema import conform_table, read_table
from geo.sources.population import PROVINCE_POPULATION, population_of
from geo.sources.published import PUBLISHED_COUNTS, published_for
from geo.status import as_of_day, dated_lines

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


def _share_columns() -> list[str]:
    """The market shares within each threshold, for each measure (``crossing_within_2h`` …), as settings say now."""
    return [f"{p}_within_{t}h" for p, _, _ in MEASURES for t in settings.REACH_THRESHOLDS_H]


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
    return {**row, **unreachable_counts(markets), **gravity_means(markets)}


def gravity_means(markets: pd.DataFrame) -> dict[str, float]:
    """The markets' mean gravity access (:func:`geo.access.gravity_access`) at the chosen β and each other one.

    ``gravity_access`` at :data:`settings.GRAVITY_HALF_LIFE_H`, then
    ``gravity_half_2h`` … for :data:`settings.GRAVITY_SENSITIVITY_HALF_LIVES_H`.
    A market no hub reaches adds 0 to the mean, as it does to the sum. NaN
    when the markets carry no hours from each hub (routes from before they
    were recorded) or there are none.
    """
    from geo import access

    names = ["gravity_access", *(f"gravity_half_{h:g}h" for h in settings.GRAVITY_SENSITIVITY_HALF_LIVES_H)]
    if not len(markets) or not access.hub_columns(markets):
        return dict.fromkeys(names, math.nan)
    means = {"gravity_access": float(access.gravity_access(markets).mean())}
    return means | {name: float(values.mean()) for name, values in access.gravity_by_half_life(markets).items()}


def unreachable_counts(markets: pd.DataFrame) -> dict[str, int | None]:
    """How many markets goods from a hub cannot reach, split by why.

    ``unreachable_no_road``: no mapped road within :data:`settings.SNAP_MAX_M`
    of the market, a gap in the map rather than in access;
    ``unreachable_no_route``: on a road, but no hub reaches it through an open
    crossing (an access gap). Both None when the markets carry no
    ``snap_m`` (not made by the routes stage), rather than guessed.

    Examples
    --------
    >>> markets = pd.DataFrame({"snap_m": [10.0, 5000.0, 20.0, 30.0], "total_h": [2.0, None, None, 3.0]})
    >>> unreachable_counts(markets)
    {'unreachable_no_road': 1, 'unreachable_no_route': 1}
    """
    if "snap_m" not in markets.columns:
        return {"unreachable_no_road": None, "unreachable_no_route": None}
    off_road = markets["snap_m"].to_numpy(float) > settings.SNAP_MAX_M
    unreached = np.isnan(markets["total_h"].to_numpy(float))
    return {"unreachable_no_road": int(off_road.sum()), "unreachable_no_route": int((unreached & ~off_road).sum())}


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
        ``people_areas_coverage``, the areas' people over the census count;
        ``people_counted`` (the denominator of every ``*_people`` share: the
        population beside it, or the areas' people) and
        ``population_without_markets``; ``hub_people_within_{2,4,8}h``
        (people within each threshold of a hub); ``unreachable_no_road`` and
        ``unreachable_no_route`` (:func:`unreachable_counts`);
        ``gravity_access`` and ``gravity_half_{2,4,8}h`` (:func:`gravity_means`).
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
    for column in ("unreachable_no_road", "unreachable_no_route"):
        table[column] = pd.array(table[column].tolist(), dtype="Int64")
    areas = None if people_areas is None else _area_hours(people_areas, markets, provinces)
    return _with_people(table, members, areas)


def nearest_market_people(areas: gpd.GeoDataFrame, markets: pd.DataFrame, provinces: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each people area's province and people, and the times and index label (``market``) of the market nearest it.

    One row per area placed in a North Korean province; ``market`` is
    missing when there are no markets at all.
    """
    return _area_hours(areas, markets, provinces)


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
        frame["market"] = markets.index.to_numpy()[nearest]
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
    their populations, so that a province OSM maps many markets in does not
    stand for the whole group. The people of a province with no mapped
    market are within no time of anything (as an unreachable market is
    infinitely far), so every share is over the whole population printed
    beside it: ``people_counted`` is that denominator, and
    ``population_without_markets`` says how much of it has no market.
    Where ``areas`` hold about as many people as the census counts in each of
    a row's provinces, the row is weighted by the areas instead: the share of
    their people whose nearest market is within each threshold, over the
    areas' people (``people_counted``).
    """
    by_code = table.set_index("code")
    people = {code: population_of(code) for code in by_code.index}
    rows = [_people_row(code, members[code], by_code, people, areas) for code in table["code"]]
    frame = pd.DataFrame(rows, index=table.index)
    for column in ("population", "population_year", "population_without_markets"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    return pd.concat([table, frame], axis=1)


def _census_total(codes: list[str], people: dict) -> int | None:
    """The 2008 census count of ``codes`` together, or None if any of them has none."""
    counts = [people[c].people for c in codes if people.get(c)]
    return sum(counts) if counts and len(counts) == len(codes) else None


def _census_shares(codes: list[str], by_code: pd.DataFrame, people: dict, total: int | None) -> dict[str, float]:
    """Each share within a threshold, weighting every province's market share by its people, over ``total``.

    A province without markets adds its people to ``total`` and none to any
    share: they are within no time of a market.
    """
    shares = {}
    for column in _share_columns():
        within = sum(people[c].people * by_code.loc[c, column] for c in codes if by_code.loc[c, "markets"] > 0)
        shares[f"{column}_people"] = float(within / total) if total else math.nan
    return shares


def _people_row(code: str, codes: list[str], by_code: pd.DataFrame, people: dict, areas: pd.DataFrame | None) -> dict:
    """One row's population columns and people-weighted shares (see :func:`_with_people`)."""
    total = _census_total(codes, people)
    markets = int(by_code.loc[code, "markets"])
    without = sum(people[c].people for c in codes if by_code.loc[c, "markets"] == 0) if total is not None else None
    coverage, area_shares = _people_by_areas(areas, codes, total) if areas is not None else (math.nan, {})
    by_area = areas is not None and _covered(areas, codes, people)
    if by_area and areas is not None:
        counted = float(areas.loc[areas["province"].isin(codes), "people"].sum())
        shares = area_shares
    else:
        counted = float(total) if total is not None else math.nan
        shares = _census_shares(codes, by_code, people, total)
    source = None
    if total is not None:
        source = people[code].source if people.get(code) else "sum of its provinces' 2008 census counts"
    return {
        "population": total,
        "population_year": 2008 if total is not None else None,
        "population_source": source,
        "population_without_markets": without,
        "people_per_market": total / markets if total and markets else math.nan,
        **shares,
        "people_basis": "areas" if by_area else "markets",
        "people_areas_coverage": coverage,
        "people_counted": counted,
        **{
            f"hub_people_within_{limit}h": shares[f"hub_within_{limit}h_people"] * counted
            for limit in settings.REACH_THRESHOLDS_H
        },
    }


def covered(areas: pd.DataFrame, codes: list[str]) -> bool:
    """Whether people areas (one row per area, ``province`` and ``people``) hold the census count of each of ``codes``.

    Within :data:`settings.PEOPLE_AREAS_COVERAGE`: fewer leaves people out,
    more means areas overlap.
    """
    return _covered(areas, codes, {code: population_of(code) for code in codes})


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


def read_reach(path, kind: str = "reach") -> pd.DataFrame:
    """A reach table as :func:`geo.api.write_reach` wrote it (CSV, declared columns), or one line if it cannot be.

    ``kind`` ``uncertainty`` reads ``hamji uncertainty``'s table (its declared columns) instead.
    """
    try:
        return read_table(path, kind)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError) as exc:
        raise InputError(f"cannot read {path} ({str(exc).splitlines()[0]}); rerun the {kind} stage") from None


def headline(table: pd.DataFrame, supply: str | None = None) -> str:
    """The border and far groups compared on the hub→market time, then on the time to a crossing, in words.

    The headline measure is the time goods take from a Chinese wholesale hub
    through the best crossing (its border penalty included) to a market, under
    the supply model (``table``'s ``supply_model`` column, else ``supply``);
    the time from the nearest open crossing follows as the secondary one.
    """
    from geo.supply import DEFAULT_SUPPLY, supply_model

    by_group = table.set_index("code")
    border, far = by_group.loc[f"group:{BORDER}"], by_group.loc[f"group:{FAR}"]
    if border["markets"] == 0 or far["markets"] == 0:
        missing = "border" if border["markets"] == 0 else "far"
        return f"No comparison: this build has no markets in the {missing} provinces."
    if "supply_model" in table and table["supply_model"].notna().any():
        supply = str(table["supply_model"].dropna().iloc[0])
    model = supply_model(supply or DEFAULT_SUPPLY)  # an old name (all-china) is its model's (land)
    b, f = border["hub_h_median"], far["hub_h_median"]
    text = (
        f"Under the {model.name} supply model ({model.description}), goods from a wholesaler in a "
        f"Chinese hub {_hub_words(b, f)}{_ratio(b, f)}; "
        f"{border['hub_within_4h']:.0%} of border markets and {far['hub_within_4h']:.0%} of far markets are "
        "within 4 h of a hub."
    )
    bc, fc = border["crossing_h_median"], far["crossing_h_median"]
    return text + (
        " From the nearest open crossing alone (the secondary measure: no hub, no penalty) the median market "
        f"{_crossing_words(bc, fc)}."
    )


#: Why a group's median market is not reached, whatever the cause (shut crossings, markets far from any road).
_NOT_REACHED_WHY = "at least half their markets are not reached; each market's popup and row say why"


def _hub_words(border: float, far: float) -> str:
    """The headline's comparison of the two median hub→market times, in words fit for unreachable ones too."""
    if np.isfinite(border):
        words = (
            f"reach the median market of the border provinces in {format_hours(border)}, through the best "
            "crossing with its border penalty,"
        )
        if np.isfinite(far):
            return f"{words} against {format_hours(far)} in the far provinces"
        return f"{words} but cannot reach that of the far provinces ({_NOT_REACHED_WHY})"
    words = "cannot reach the median market of the border provinces"
    if np.isfinite(far):
        return f"{words} ({_NOT_REACHED_WHY}), while they reach that of the far ones in " + (format_hours(far))
    return f"{words} or that of the far provinces: in both groups {_NOT_REACHED_WHY}"


def _crossing_words(border: float, far: float) -> str:
    """``is 2 min away in the border provinces and 1.2 h in the far ones``, or which group's is not reached."""

    def one(hours: float, group: str) -> str:
        if np.isfinite(hours):
            return f"is {format_hours(hours)} away in the {group} provinces"
        return f"is not reached in the {group} provinces"

    if np.isfinite(border) and np.isfinite(far):
        return f"is {format_hours(border)} away in the border provinces and {format_hours(far)} in the far ones"
    return f"{one(border, 'border')} and {one(far, 'far')}"


def _ratio(border: float, far: float) -> str:
    """`` (3.2 times as long)``, or the other way round, when both times are finite."""
    if not (np.isfinite(border) and np.isfinite(far) and border > 0 and far > 0):
        return ""
    # Times compared, not distances: "as long", "shorter".
    if far >= border:
        return f" ({far / border:.1f} times as long)"
    return f" ({border / far:.1f} times shorter for the far provinces)"


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


def data_stamps(provenance: dict) -> dict:
    """The values of :data:`geo.schema.DATA_STAMPS`: the data's source and date, and whether it is the demo."""
    return {
        "data_source": str(provenance.get("source", "unknown")),
        "osm_data_date": str(provenance.get("osm_timestamp") or "unknown"),
        "demo": bool(provenance.get("synthetic")),
    }


def run_stamps(routes) -> dict:
    """The values of :data:`geo.schema.STAMPS` for a table made from ``routes`` (a :class:`~geo.results.Routes`)."""
    record = routes.assumptions
    return {
        "supply_model": record.supply.name,
        "crossings_as_of": as_of_day(record.as_of, routes.provenance.get("osm_timestamp")),
        "speed_table": f"{record.speeds.source} ({record.speeds.digest})",
        **data_stamps(routes.provenance),
        "people_areas": record.people_areas,
    }


def stamped(table: pd.DataFrame, routes, kind: str = "reach") -> pd.DataFrame:
    """``table`` with the stamps of :data:`geo.schema.STAMPS` and the declared columns of ``kind``, as written to CSV.

    ``routes`` is the :class:`~geo.results.Routes` the table was made from. A table that already
    names the people areas it was weighted by (:func:`geo.api.reach_table` stamps them) keeps them.
    """
    stamps = run_stamps(routes)
    if "people_areas" in table:
        stamps["people_areas"] = table["people_areas"]
    return conform_table(table.assign(**stamps), kind)


def markdown_summary(
    table: pd.DataFrame, routes, catchments: pd.DataFrame | None = None, uncertainty: pd.DataFrame | None = None
) -> str:
    """The reach table as a short Markdown report with the data date and the assumptions used.

    Parameters
    ----------
    table
        From :func:`province_reach`.
    routes
        The :class:`~geo.results.Routes` it was made from (source, OSM date, assumptions).
    catchments
        The crossings' catchments (:func:`geo.access.crossing_catchments`), if made.
    uncertainty
        From :func:`geo.uncertainty.uncertainty_table` on the same routes:
        adds its intervals and the probability that the border median is the lower.
    """
    provenance, record = routes.provenance, routes.assumptions
    lists = provenance.get("market_lists") or []
    lines = ["# HamJi Explorer — market reach to cross-border trade", ""]
    if provenance.get("synthetic"):
        # With a market list the markets are the user's; the rest is still the fixture's.
        what = "The roads, crossings and provinces below come" if lists else "Every number below comes"
        says = "say" if lists else "says"
        lines += [
            f"**{settings.DEMO_STAMP}.** {what} from the hand-built mini-HamJi fixture and {says} nothing about "
            "North Korea.",
            "",
        ]
    lines += [
        f"- Data: {markdown_literal(provenance.get('source', 'unknown source'))}, OpenStreetMap data as of "
        f"{markdown_literal(provenance.get('osm_timestamp', 'unknown date'))}.",
        *_market_list_lines(lists, provenance.get("market_lists_mode")),
        f"- Supply model: {record.supply.name} — {record.supply.description}.",
        f"- {headline(table, record.supply.name)}",
        "",
    ]
    if uncertainty is not None:
        from geo.uncertainty import markdown_lines

        lines += markdown_lines(uncertainty)
    sections = (_province_section, _people_section, _published_section)
    for section in sections:
        lines += section(table)
        if section is _people_section:
            lines += access_sections(table, catchments)
    lines += _assumptions_section(routes)
    return "\n".join(lines) + "\n"


def _market_list_lines(lists: list[dict], mode: str | None) -> list[str]:
    """Where the markets came from when a market list was given: each list, and whether it replaced OSM's."""
    if not lists:
        return []
    files = "; ".join(f"{markdown_literal(r.get('file'))} ({r.get('kept')} kept of {r.get('read')})" for r in lists)
    how = "in place of OpenStreetMap's" if mode == "replace" else "added to OpenStreetMap's"
    return [f"- Markets: from the market list{'s' if len(lists) > 1 else ''} {files}, {how}."]


def _province_section(table: pd.DataFrame) -> list[str]:
    lines = [
        "## Per province",
        "",
        "| Province | Group | Markets (this build) | Published | Per 1,000 km² | Median hub→market | "
        "Markets within 2 / 4 / 8 h of a hub | Median to crossing | 90th pct to crossing | "
        "Markets within 2 / 4 / 8 h of a crossing | Unreachable from a crossing |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table.itertuples():
        published = "–" if pd.isna(r.published_markets) else f"{r.published_markets} ({r.published_year})"
        name = f"**{r.name}**" if r.code.startswith("group:") or r.code == "KP" else f"{r.name} ({r.code})"
        lines.append(
            f"| {name} | {r.group} | {r.markets} | {published} | {r.markets_per_1000km2:.2f} | "
            f"{format_hours(r.hub_h_median)} | {_within(r, 'hub')} | "
            f"{format_hours(r.crossing_h_median)} | {format_hours(r.crossing_h_p90)} | {_within(r, 'crossing')} | "
            f"{format_share(r.crossing_unreachable)} |"
        )
    return [
        *lines,
        "",
        "*Markets within 2 / 4 / 8 h of a hub*: the share of the row's markets whose hub→market time (from a "
        "Chinese hub through the best crossing, border penalty included) is at most 2, 4 and 8 hours; *of a "
        "crossing*: the same for the time from the nearest open crossing (no hub, no penalty). Unreachable markets "
        "count as infinitely far in medians and percentiles.",
        "",
    ]


def _within(row, measure: str) -> str:
    """A row's shares of markets within each threshold of ``measure`` (hub, crossing): ``88% / 88% / 100%``."""
    return " / ".join(format_share(getattr(row, f"{measure}_within_{h}h")) for h in settings.REACH_THRESHOLDS_H)


def _people_section(table: pd.DataFrame) -> list[str]:
    lines = [
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
    return [*lines, "", "Population: " + "; ".join(sorted({p.source for p in PROVINCE_POPULATION.values()})) + ".", ""]


def _published_section(table: pd.DataFrame) -> list[str]:
    lines = [
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
    return lines


def assumptions_line(routes, supply: bool = True) -> str:
    """What ``routes`` were routed under, in one line: supply model, speed table, penalties, date, people areas.

    For the summaries of tables made from routes (differences, sensitivity, supply models), which
    have no room for :func:`markdown_summary`'s whole section; ``supply=False`` leaves the model out.
    """
    from geo.crossings import penalty_text

    record = routes.assumptions
    parts = [f"supply model {record.supply.name}"] if supply else []
    parts.append(f"speed table {record.speeds.source} (digest {record.speeds.digest})")
    parts.append(f"border penalty {penalty_text(record, routes.crossings)}")
    if record.as_of:
        parts.append(f"crossings and links as of {record.as_of}")
    if record.people_areas:
        parts.append(f"people areas {record.people_areas}")
    return "; ".join(parts)


def _assumptions_section(routes) -> list[str]:
    from geo.crossings import penalty_text

    record = routes.assumptions
    speeds = record.speeds
    lines = ["", "## Assumptions", ""]
    for country in ("KP", "CN"):
        classes = ", ".join(f"{k} {speeds.speeds[country][k]:g}" for k in SPEED_CLASSES)
        lines.append(f"- Speeds in {country} (km/h): {classes}; unpaved × {speeds.unpaved_factor[country]:g}.")
    lines.append(f"- Border penalty (hours at the crossing): {penalty_text(record, routes.crossings)}.")
    lines.append(f"- Speed table: {speeds.source} (digest {speeds.digest}).")
    day = as_of_day(record.as_of, routes.provenance.get("osm_timestamp"))
    when = f"{record.as_of} (taken as {day})" if record.as_of else f"{day} (the OSM data date)"
    lines.append(f"- Crossings and links as of {when}.")
    lines.append(
        f"- Crossings of unknown status (found only in OpenStreetMap, or no source says they are open now): "
        f"{'routed as open' if record.unknown_crossings == 'open' else 'listed, not routed'}."
    )
    shut = dated_lines(routes.crossings, day)
    if shut:
        lines += ["", f"## Not usable on {day}", "", *[f"- {line}" for line in shut]]
    return lines


def _count(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{int(round(float(value))):,}"


def access_sections(table: pd.DataFrame, catchments: pd.DataFrame | None = None) -> list[str]:
    """The summary's sections on the standard access measures: why markets are unreachable, people within
    t hours of a hub, the gravity index and its sensitivity to β, and the crossings' catchments (Markdown lines).
    """
    limits = settings.REACH_THRESHOLDS_H
    lines = [
        "## Standard access measures",
        "",
        "*Unreachable* is split by why: **no road** (no mapped road within "
        f"{settings.SNAP_MAX_M:,} m of the market: a gap in the map) and **no route** (on a road, but no hub reaches "
        "it through an open crossing: a gap in access). *People within* counts the people of each row within "
        "2, 4 and 8 h of a Chinese hub (hub → crossing → market, border penalty included), over the people counted "
        "beside it: the 2008 census count of its provinces (the people of a province with no mapped market are "
        "within no time), or the people areas' own count where they weight the row. *Gravity access* is "
        f"Hansen's (1959) index: per market the sum over hubs of exp(−β × hours), β = ln 2 / "
        f"{settings.GRAVITY_HALF_LIFE_H:g} h = {math.log(2) / settings.GRAVITY_HALF_LIFE_H:.3f} per hour (a hub "
        f"{settings.GRAVITY_HALF_LIFE_H:g} h away counts half as much as one at the door; every hub weighs the same), "
        "averaged over the row's markets; an unreachable market adds 0.",
        "",
        "| Row | No road | No route | People counted | People within "
        + " / ".join(f"{h} h" for h in limits)
        + " | Gravity access |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in table.itertuples():
        within = " / ".join(_count(getattr(r, f"hub_people_within_{h}h")) for h in limits)
        lines.append(
            f"| {r.name} | {_count(r.unreachable_no_road)} | {_count(r.unreachable_no_route)} | "
            f"{_count(r.people_counted)} | {within} | {_gravity_text(r.gravity_access)} |"
        )
    lines += ["", *_gravity_sensitivity(table), *_catchment_lines(catchments)]
    return lines


def _gravity_text(value: float) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.3f}"


def _gravity_sensitivity(table: pd.DataFrame) -> list[str]:
    """The border and far groups' mean gravity access under each half-life, and which is higher."""
    rows = table.set_index("code")
    if not {f"group:{BORDER}", f"group:{FAR}"} <= set(rows.index):
        return []
    border, far = rows.loc[f"group:{BORDER}"], rows.loc[f"group:{FAR}"]
    lines = [
        "How the gravity index's border-against-far ordering depends on β (the half-life chosen):",
        "",
        "| Half-life | β per hour | Border provinces | Far provinces | Border ÷ far |",
        "|---:|---:|---:|---:|---:|",
    ]
    for half in settings.GRAVITY_SENSITIVITY_HALF_LIVES_H:
        b, f = border[f"gravity_half_{half:g}h"], far[f"gravity_half_{half:g}h"]
        ratio = f"{b / f:.1f}" if pd.notna(b) and pd.notna(f) and f > 0 else "–"
        lines.append(f"| {half:g} h | {math.log(2) / half:.3f} | {_gravity_text(b)} | {_gravity_text(f)} | {ratio} |")
    return [*lines, ""]


def _share_words(catchments: pd.DataFrame) -> str:
    """What the catchments' shares are of, with the totals: all markets, and all the people they stand for."""
    totals = []
    for what in ("markets", "people"):
        shared = catchments[catchments[f"{what}_share"] > 0]
        row = shared.iloc[0] if len(shared) else None
        totals.append(None if row is None else round(float(row[what]) / float(row[f"{what}_share"])))
    if None in totals:
        return "shares of all markets, and of all the people the markets stand for"
    return f"shares of all {totals[0]:,} markets, and of the {totals[1]:,} people the markets stand for"


def _catchment_lines(catchments: pd.DataFrame | None) -> list[str]:
    """Each crossing's catchment: the markets and people whose best route uses it."""
    if catchments is None or not len(catchments):
        return []
    basis = (
        "people areas nearest each market"
        if (catchments["people_basis"] == "areas").any()
        else ("2008 census counts spread over each province's markets")
    )
    lines = [
        "### Crossing catchments",
        "",
        f"The markets and people whose best hub → market route uses each open crossing (people: {basis}; "
        f"{_share_words(catchments)}: people in provinces with no mapped market and at unreachable markets are "
        "in no catchment).",
        "",
        "| Crossing | Markets | Share | People | Share | Median hub → market |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in catchments.sort_values(["markets", "crossing_id"], ascending=[False, True]).itertuples():
        lines.append(
            f"| {r.crossing_name} | {r.markets} | {format_share(r.markets_share)} | {_count(r.people)} | "
            f"{format_share(r.people_share)} | {format_hours(r.hub_h_median)} |"
        )
    return [*lines, ""]
