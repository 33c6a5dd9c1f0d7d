"""What the ``hamji`` command says after each stage: plain text made from a :class:`~geo.pipeline.StageRun`.

Kept apart from the library so that the library never prints and the
command's words are in one place; :mod:`geo.cli` prints what these return.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import settings
from geo.errors import MissingStageError, OverpassError, clip

# The stage modules (and geopandas under them) are imported where a report needs them: an error line
# (error_line) must not wait seconds for them, and the command checks its arguments before they load.
if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo.api import Layers, Routes, ScenarioResult
    from geo.pipeline import StageRun

DEMO_LINE = f"*** {settings.DEMO_STAMP} ***"


def report(run: StageRun) -> str:
    """Everything to print after ``run``: its summary, warnings, and the files it wrote."""
    if run.skipped:
        line = (
            f"{run.stage}: unchanged inputs, settings and code since {run.folder} was written; skipped "
            "(--force rebuilds)"
        )
        # A stage whose result is its text (the supply comparison) says it again when nothing changed.
        return f"{run.result.rstrip()}\n{line}" if isinstance(run.result, str) else line
    # Each stage's formatter takes its own result type: Any, as run.result is whichever the stage made.
    formatters: dict[str, Callable[[Any], str]] = {
        "layers": _layers,
        "routes": _routes,
        "reach": _reach,
        "maps": _maps,
        "scenario": _scenario,
        "compare": _compare,
        "sensitivity": str,
        "uncertainty": _uncertainty,
        "supply": str,
    }
    text = formatters[run.stage](run.result)
    return text.rstrip("\n") + "\n" + written(run.written)


def written(paths: list[Path]) -> str:
    """One line naming the files a stage wrote."""
    return "wrote " + ", ".join(str(p) for p in paths) if paths else "nothing written"


def _layers(layers: Layers) -> str:
    lines = [format_summary(layers.summary(), layers.provinces)]
    for report in layers.provenance.get("market_lists", []):
        lines.append(
            f"markets from {report['file']}: {report['kept']} kept ({report['snapped']} placed in the nearest "
            f"province, within {settings.PROVINCE_SNAP_M / 1000:g} km), {len(report['rejected'])} rejected"
            + (f" (listed in {settings.MARKETS_REJECTED_CSV})" if report["rejected"] else "")
        )
    if not (layers.markets["country"] == "KP").any():
        lines.append(
            f"warning: no markets (amenity=marketplace) in the North Korean provinces of "
            f"{layers.provenance.get('source')}; routes, reach and maps will have none"
        )
    return "\n".join(lines)


def format_summary(info: dict, provinces: gpd.GeoDataFrame) -> str:
    """The build summary as a table: crossings, roads, road km and markets per province."""
    names = dict(zip(provinces["code"], provinces["name"]))
    codes = sorted(set(names) | {c for counts in info["counts"].values() for c in counts})
    lines = [DEMO_LINE] if info["demo"] else []
    lines.append(f"OSM data date: {info['osm_timestamp'] or 'unknown'}")
    lines.append(f"{'province':<24}{'crossings':>10}{'roads':>8}{'road km':>10}{'markets':>9}")
    for code in codes:
        label = f"{code} {names.get(code, '')}".strip()
        lines.append(
            f"{label:<24}{info['counts']['crossings'].get(code, 0):>10}"
            f"{info['counts']['roads'].get(code, 0):>8}{info['road_km'].get(code, 0.0):>10.1f}"
            f"{info['counts']['markets'].get(code, 0):>9}"
        )
    if info.get("markets_repaired"):
        lines.append(
            f"{info['markets_repaired']} market polygon(s) had broken rings and were repaired "
            "(geometry_repaired in the markets layer)"
        )
    if info.get("areas_not_assembled"):
        lines.append(
            f"warning: {info['areas_not_assembled']} marketplace or boundary area(s) could not be "
            "assembled from their ways (broken or incomplete rings) and are missing"
        )
    return "\n".join(lines)


def _routes(routes: Routes) -> str:

    from geo.crossings import crossing_name

    lines = [DEMO_LINE] if routes.synthetic else []
    for country, side in routes.network.sides().items():
        lines.append(
            f"{country} network: {side.nodes:,} nodes, {side.edges:,} edges; dropped "
            f"{side.dropped_components} small components ({side.dropped_roads} roads, {side.dropped_nodes} nodes)"
        )
    for row in routes.crossings.itertuples():
        if not row.usable and row.reason_code == "no_road_near":
            # By name only: --penalty and scenario files take the name too, and the id is no word a reader uses.
            lines.append(
                f"warning: crossing {crossing_name(row._asdict())} left out of routing: {row.reason} "
                f"(North Korean side {_distance(row.kp_snap_m)}, Chinese side {_distance(row.cn_snap_m)} away)"
            )
    supply = routes.assumptions.supply
    lines.append(f"supply model: {supply.name} ({supply.description})")
    from geo.status import as_of_day, dated_lines

    day = as_of_day(routes.assumptions.as_of, routes.provenance.get("osm_timestamp"))
    shut = dated_lines(routes.crossings, day)
    if shut:
        lines.append(f"not usable on {day}: " + "; ".join(shut))
    lines += _after_the_data(day, routes.provenance.get("osm_timestamp"))
    if routes.network.missing_regions:
        lines.append(
            f"warning: the layers hold no {', '.join(routes.network.missing_regions)}: the {supply.name} model "
            "cannot use its hubs and crossings there (rebuild the layers with that province)"
        )
    per_province = routes.per_province()
    lines.append(
        _table(per_province.reset_index(), ROUTES_COLUMNS)
        if len(per_province)
        else "no markets to route: the layers hold no North Korean amenity=marketplace"
    )
    return "\n".join(lines)


def _after_the_data(day: str, osm_timestamp: str | None) -> list[str]:
    """A warning when the crossings are asked about after the data's date: the roads cannot be of that day."""
    from geo.status import data_day

    data = data_day(osm_timestamp)
    if data is None or day <= data:
        return []
    return [
        f"warning: crossings taken as of {day}, after the OpenStreetMap data date {data}: the roads are those "
        "of the data date, and each crossing's status that of its latest source"
    ]


def _distance(metres: float) -> str:
    """A distance for people: metres below a kilometre, then kilometres to 0.1.

    Examples
    --------
    >>> _distance(424.2), _distance(115_288.0)
    ('424 m', '115.3 km')
    """
    return f"{metres:,.0f} m" if metres < 1000 else f"{metres / 1000:,.1f} km"


#: The columns printed after each stage: column -> (heading, how its values read: text, hours or a share).
ROUTES_COLUMNS = {
    "province": ("province", "province"),
    "markets": ("markets", "text"),
    "reachable": ("reachable", "text"),
    "median_crossing_h": ("median to crossing", "hours"),
    "median_total_h": ("median hub → market", "hours"),
}
REACH_COLUMNS = {
    "name": ("province", "text"),
    "markets": ("markets", "text"),
    "crossing_h_median": ("median to crossing", "hours"),
    "crossing_h_p90": ("90th pct", "hours"),
    "crossing_within_4h": ("within 4 h", "share"),
    "crossing_unreachable": ("unreachable", "share"),
    "hub_h_median": ("median hub → market", "hours"),
}


def _table(frame: pd.DataFrame, columns: dict) -> str:
    """Rows for people, in the units of every map and report (minutes below an hour, shares in %)."""
    import pandas as pd

    from geo.reach import format_hours, format_share
    from geo.regions import BY_CODE

    def province(code: object) -> str:  # people read names; KP-09 alone was shown after routing
        return BY_CODE[code].name if code in BY_CODE else str(code)

    reads = {"text": str, "hours": format_hours, "share": format_share, "province": province}
    shown = pd.DataFrame({heading: frame[column].map(reads[kind]) for column, (heading, kind) in columns.items()})
    return shown.to_string(index=False)


def _reach(result: tuple[pd.DataFrame, Routes, pd.DataFrame | None]) -> str:
    from geo.reach import headline
    from geo.uncertainty import interval_sentence

    table, routes, intervals = result
    lines = [DEMO_LINE] if routes.synthetic else []
    supply = routes.assumptions.supply
    lines += [
        _table(table, REACH_COLUMNS),
        f"supply model: {supply.name} ({supply.description})",
        headline(table, supply.name),
    ]
    return "\n".join(lines + ([interval_sentence(intervals)] if intervals is not None else []))


def _uncertainty(result: tuple[pd.DataFrame, Routes]) -> str:
    from geo.uncertainty import interval_sentence, interval_text, one_market_footnote, row_label

    table, routes = result
    lines = [DEMO_LINE] if routes.synthetic else []
    width = max(len(row_label(row)) for _, row in table.iterrows())
    lines.append(f"{'row':<{width}}  median hub→market (5–95 %)   markets within 4 h of a hub (5–95 %)")
    for _, row in table.iterrows():
        median, within = interval_text(row, "hub_h_median"), interval_text(row, "hub_within_4h")
        lines.append(f"{row_label(row):<{width}}  {median:<28} {within}")
    note = one_market_footnote(table)
    lines += [*([note] if note else []), interval_sentence(table), f"ranges: {table['ranges'].iloc[0]}"]
    lines.append("rerun 'hamji maps' to show them on the maps")
    return "\n".join(lines)


def _maps(result: tuple[dict[str, dict], bool]) -> str:
    from geo.maps.style import MAP_TITLES

    sizes, synthetic = result
    lines = [DEMO_LINE] if synthetic else []
    for name, info in sizes.items():
        simplified = info["simplified_m"]
        lines.append(
            f"{name}: {info['bytes'] / 1e6:.2f} MB — {MAP_TITLES.get(name, name)}"
            + (f" (geometry simplified to {simplified:g} m)" if simplified else "")
        )
    return "\n".join(lines)


def _scenario(result: ScenarioResult) -> str:
    from geo.comparison import difference_summary

    return difference_summary(
        result.info,
        result.market_changes,
        result.province_changes,
        result.ordering,
        result.routes.provenance,
        short=True,
    )


#: How each API parameter an error can be about is spelled on the command line.
FLAGS = {
    "osm_paths": "--osm",
    "regions": "--province",
    "speeds": "--speeds",
    "penalties": "--penalty",
    "allow_empty": "--allow-empty",
    "wait": "--wait",
    "overpass_url": "--overpass-url",
    "demo": "--demo",
    "offline": "--cdn",  # the parameter to turn off (offline=False): the flag that does it
    "target": "--out",
    "supply": "--supply",
    "markets": "--markets",
    "markets_mode": "--markets-mode",
    "people_areas": "--people-areas",
    "as_of": "--as-of",
    "unknown_crossings": "--unknown-crossings",
    "draws": "--draws",
    "seed": "--seed",
}


def _compare(result) -> str:
    """A few lines on two builds compared: the caveat first, then the figures."""
    from geo.change import CAVEAT, UNCHANGED_H

    added = result.roads[result.roads["change"] == "added"]
    change_h = result.markets["change_h"]
    lines = [DEMO_LINE] if result.info.get("synthetic") else []
    # why: builds routed differently can change every time with no road changed; the terminal
    # must say so as the summary does, and count the slower markets, not only the faster
    differ = result.info.get("assumptions_differ")
    lines += [
        f"compared {result.info['before']['folder']} ({result.info['before']['date']}) with "
        f"{result.info['after']['folder']} ({result.info['after']['date']})",
        *(
            [
                f"warning: the builds were routed under different assumptions ({', '.join(differ)}): "
                "part of every change comes from them, not from the map"
            ]
            if differ
            else []
        ),
        f"roads: {len(added)} ways added ({added['length_km'].sum():,.1f} km), "
        f"{int((result.roads['change'] == 'removed').sum())} removed, "
        f"{int((result.roads['change'] == 'retagged').sum())} retagged, "
        f"{int((result.roads['change'] == 'extended').sum())} drawn longer, "
        f"{int((result.roads['change'] == 'shortened').sum())} drawn shorter",
        f"markets in both builds: {len(result.markets)}, {int((change_h < -UNCHANGED_H).sum())} faster and "
        f"{int((change_h > UNCHANGED_H).sum())} slower from a hub, "
        f"{result.markets['hours_cut'].sum():,.1f} market-hours cut",
    ]
    for r in result.segments.head(3).itertuples():
        lines.append(f"  way/{r.osm_id} ({r.highway}): {r.market_hours_cut:,.2f} market-hours, {r.markets} routes")
    return "\n".join([*lines, f"note: {CAVEAT}"])


#: Where a new user meets an error first (an empty folder, no network), the way to see the tool work at once.
TRY_DEMO = "'hamji build --demo' builds everything from the bundled demo data, with no network"


def error_line(exc: Exception) -> str:
    """A library error as the one line after ``hamji: error:``, naming the flag or command to act with."""
    text = clip(exc, 600)
    if isinstance(exc, MissingStageError):
        return f"{text} ('hamji {exc.stage}', or 'hamji build'; {TRY_DEMO})"
    if isinstance(exc, OverpassError) or getattr(exc, "option", None) == "overpass_url":
        text = f"{text}; {TRY_DEMO}"
    flag = FLAGS.get(getattr(exc, "option", None) or "")
    return f"{text} [{flag}]" if flag else text


def interrupted_line(committed: list[Path]) -> str:
    """What Ctrl-C leaves behind, as the one line the command ends with.

    A command's outputs are put in place together at its end (see
    :mod:`geo.staging`), so an interruption leaves all of them as they were,
    unless it came during that last step, when ``committed`` names what was put in place.
    """
    if not committed:
        return "hamji: interrupted; no output was replaced, every earlier output is as it was"
    names = ", ".join(str(p) for p in committed)
    return f"hamji: interrupted after every output was put in place ({len(committed)} file(s): {names})"
