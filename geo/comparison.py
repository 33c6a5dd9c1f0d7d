"""Border provinces against far ones: the ordering, and what a scenario changes.

Pure functions over reach tables and markets layers: whether every border
province is faster than every far province (:func:`orderings`), and how a
scenario differs from the baseline per market and per province.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import settings
from geo.io import markdown_literal
from geo.reach import format_hours, format_share
from geo.supply import SUPPLY_MODELS

__all__ = [
    "ORDERING_MEASURES",
    "border_far_ordering",
    "difference_summary",
    "market_differences",
    "orderings",
    "ordering_sentence",
    "province_differences",
    "province_order",
    "reordering",
    "reordering_sentence",
    "sensitivity_summary",
    "sensitivity_table",
    "supply_summary",
]


def market_differences(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """Per market: time to the nearest crossing and hub→market time before and after, and what serves it."""
    keys = ["osm_type", "osm_id"]
    columns = ["name", "province", "nearest_crossing", "crossing_h", "best_crossing", "total_h", "reachable"]
    joined = base[keys + columns].merge(
        scenario[keys + columns], on=keys, suffixes=("_base", "_scenario"), validate="one_to_one"
    )
    out = joined[keys + ["name_base", "province_base"]].rename(
        columns={"name_base": "name", "province_base": "province"}
    )
    for column in ("nearest_crossing", "crossing_h", "best_crossing", "total_h", "reachable"):
        out[f"{column}_base"] = joined[f"{column}_base"]
        out[f"{column}_scenario"] = joined[f"{column}_scenario"]
    out["crossing_change_h"] = out["crossing_h_scenario"] - out["crossing_h_base"]
    out["total_change_h"] = out["total_h_scenario"] - out["total_h_base"]
    out["nearest_crossing_changed"] = out["nearest_crossing_base"].fillna("") != out[
        "nearest_crossing_scenario"
    ].fillna("")
    out["lost_reach"] = out["crossing_h_base"].notna() & out["crossing_h_scenario"].isna()
    out["gained_reach"] = out["crossing_h_base"].isna() & out["crossing_h_scenario"].notna()
    return out


def province_differences(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """Per reach-table row: change in median time to a crossing, in hub→market median, and in share within 4 h."""
    keys = ["code", "name", "group", "markets"]
    measures = ["crossing_h_median", "crossing_within_4h", "hub_h_median", "hub_within_4h", "crossing_unreachable"]
    joined = base[keys + measures].merge(scenario[["code", *measures]], on="code", suffixes=("_base", "_scenario"))
    for m in measures:
        with np.errstate(invalid="ignore"):
            joined[f"{m}_change"] = joined[f"{m}_scenario"] - joined[f"{m}_base"]
    return joined


#: The reach-table medians the border-vs-far ordering is judged on: column prefix and words for each.
ORDERING_MEASURES = {
    "crossing_h_median": ("crossing", "time to a crossing"),
    "hub_h_median": ("hub", "hub→market time"),
}


def orderings(reach: pd.DataFrame) -> dict[str, dict]:
    """:func:`border_far_ordering` on every measure of :data:`ORDERING_MEASURES`."""
    return {measure: border_far_ordering(reach, measure) for measure in ORDERING_MEASURES}


def border_far_ordering(reach: pd.DataFrame, measure: str = "hub_h_median") -> dict:
    """Whether every border province is faster than every far province on ``measure``.

    Returns the slowest border province, the fastest far province, both
    group medians, and ``holds``; provinces without markets are left out.
    """
    rows = reach[~reach["code"].str.startswith("group:") & (reach["code"] != "KP") & (reach["markets"] > 0)]
    border, far = rows[rows["group"] == "border"], rows[rows["group"] == "far"]
    if border.empty or far.empty:
        return {"holds": None, "reason": "no markets in the " + ("border" if border.empty else "far") + " provinces"}
    slowest = border.loc[border[measure].astype(float).idxmax()]
    fastest = far.loc[far[measure].astype(float).idxmin()]
    groups = reach.set_index("code")
    slow, fast = float(slowest[measure]), float(fastest[measure])
    result = {
        "holds": bool(slow < fast),
        "slowest_border": str(slowest["name"]),
        "slowest_border_h": float(slowest[measure]),
        "fastest_far": str(fastest["name"]),
        "fastest_far_h": float(fastest[measure]),
        "border_median_h": float(groups.loc["group:border", measure]),
        "far_median_h": float(groups.loc["group:far", measure]),
    }
    if not (np.isfinite(slow) or np.isfinite(fast)):  # unreached on both sides: nothing is before anything
        result.update(
            holds=None,
            reason="the median markets of every far province and of at least one border province are not reached",
        )
    return result


def _median_words(hours: float) -> str:
    """A province's median time beside its name: ``3.2 h``, or ``(median market not reached)``, not "unreachable"."""
    return format_hours(hours) if np.isfinite(hours) else "(median market not reached)"


def ordering_sentence(label: str, ordering: dict) -> str:
    """One sentence: does every border province beat every far province, on both times?"""
    parts = []
    for measure, (_, what) in ORDERING_MEASURES.items():
        result = ordering[measure]
        if result["holds"] is None:
            parts.append(f"cannot be judged on {what} ({result['reason']})")
            continue
        verb = "holds" if result["holds"] else "does NOT hold"
        parts.append(
            f"{verb} on median {what} (slowest border province {result['slowest_border']} "
            f"{_median_words(result['slowest_border_h'])}, fastest far province {result['fastest_far']} "
            f"{_median_words(result['fastest_far_h'])})"
        )
    return f"{label}: the border-before-far ordering " + "; it ".join(parts) + "."


def difference_summary(
    info: dict,
    markets: pd.DataFrame,
    provinces: pd.DataFrame,
    ordering: dict,
    provenance: dict,
    short: bool = False,
    routed: str | None = None,
) -> str:
    """A scenario's differences as Markdown (or, ``short``, a few lines for the terminal).

    ``routed`` is what the scenario was routed under (:func:`geo.reach.assumptions_line`).
    """
    changed = int(markets["nearest_crossing_changed"].sum())
    lost, gained = int(markets["lost_reach"].sum()), int(markets["gained_reach"].sum())
    slower = int((markets["crossing_change_h"] > 0.05).sum())
    faster = int((markets["crossing_change_h"] < -0.05).sum())
    lines = [f"*** {settings.DEMO_STAMP} ***"] if provenance.get("synthetic") and short else []
    # Names and paths as they are: the terminal shows text, Markdown would read their marks.
    shown = str if short else markdown_literal
    head = f"Scenario {shown(info['name'])} ({shown(info['key'])})"
    lines += [head if short else f"# {head}", ""]
    if not short:
        if provenance.get("synthetic"):
            lines += [f"**{settings.DEMO_STAMP}.**", ""]
        lines += [
            info["description"],  # the scenario's own prose: its Markdown stays (markdown_safe keeps it inert)
            "",
            f"- Scenario file: {shown(info['file'])}",
            f"- Data: {shown(provenance.get('source'))}, OpenStreetMap data as of "
            f"{shown(provenance.get('osm_timestamp'))}.",
        ]
        lines += [f"- Routed under: {shown(routed)}."] if routed else []
    lines += [
        f"- {len(markets)} markets: nearest crossing changed for {changed}, {slower} slower and {faster} faster "
        f"by more than 3 minutes, {lost} no longer reachable, {gained} newly reachable.",
        "- " + ordering_sentence("In this scenario", ordering),
    ]
    if not short:
        lines += [
            "",
            "| Row | Median to crossing: before → after | Within 4 h: before → after | "
            "Median hub→market: before → after |",
            "|---|---|---|---|",
        ]
        for r in provinces.itertuples():
            lines.append(
                f"| {r.name} | {format_hours(r.crossing_h_median_base)} → "
                f"{format_hours(r.crossing_h_median_scenario)} | {format_share(r.crossing_within_4h_base)} → "
                f"{format_share(r.crossing_within_4h_scenario)} | {format_hours(r.hub_h_median_base)} → "
                f"{format_hours(r.hub_h_median_scenario)} |"
            )
    return "\n".join(lines) + "\n"


def province_order(reach: pd.DataFrame, measure: str = "hub_h_median") -> list[str]:
    """The provinces with markets by name, nearest first on ``measure`` (ties by code)."""
    rows = reach[~reach["code"].str.startswith("group:") & (reach["code"] != "KP") & (reach["markets"] > 0)]
    return list(rows.sort_values([measure, "code"], kind="stable")["name"])


def reordering(base_reach: pd.DataFrame, reach: pd.DataFrame, markets: pd.DataFrame) -> dict:
    """What a scenario moved: markets whose best or nearest crossing changed, and provinces that swapped places.

    ``markets`` is :func:`market_differences`; ``swapped`` lists (ahead before,
    ahead now) pairs of provinces by median hub→market time.
    """
    before, after = province_order(base_reach), province_order(reach)
    place = {name: i for i, name in enumerate(after)}
    swapped = [(a, b) for i, a in enumerate(before) for b in before[i + 1 :] if place.get(a, -1) > place.get(b, -1)]
    best = markets["best_crossing_base"].fillna("") != markets["best_crossing_scenario"].fillna("")
    provinces = [t[~t["code"].str.startswith("group:") & (t["code"] != "KP")] for t in (base_reach, reach)]
    reached = set().union(*(t.loc[np.isfinite(t["hub_h_median"].astype(float)), "name"] for t in provinces))
    return {
        "rerouted": int(best.sum()),
        "nearest_changed": int(markets["nearest_crossing_changed"].sum()),
        "swapped": swapped,
        # Provinces whose median market is reached in either run: with none, there is no order to keep.
        "reached": len(reached),
    }


def reordering_sentence(moved: dict) -> str:
    """:func:`reordering` in words."""
    rerouted = moved["rerouted"]
    text = (
        f"Routes: the best crossing changes for {rerouted} market{'' if rerouted == 1 else 's'} and the nearest "
        f"for {moved['nearest_changed']}; by median hub→market time, "
    )
    if not moved.get("reached", 1):
        return text + "no province's median market is reached, before or after, so there is no order to keep."
    if not moved["swapped"]:
        return text + "the provinces keep their order."
    pairs = "; ".join(f"{b} now before {a}" for a, b in moved["swapped"])
    return text + f"provinces change places ({pairs})."


def sensitivity_table(results: list[tuple[str, str, dict]], moves: list[dict | None] | None = None) -> pd.DataFrame:
    """One row per scenario: whether the ordering holds on each measure, and the provinces that decide it.

    ``results`` are (scenario key, name, :func:`orderings` of its reach table),
    the baseline first; ``moves`` the :func:`reordering` of each (None for the
    baseline) adds how many markets were rerouted and which provinces swapped.
    """
    rows = []
    for number, (key, label, ordering) in enumerate(results):
        row: dict = {"scenario": key, "name": label}
        moved = (moves or [None] * len(results))[number]
        if moves is not None:
            row["markets_rerouted"] = moved["rerouted"] if moved else 0
            row["nearest_crossing_changed"] = moved["nearest_changed"] if moved else 0
            row["provinces_swapped"] = "; ".join(f"{b} before {a}" for a, b in moved["swapped"]) if moved else ""
        for measure, (prefix, _) in ORDERING_MEASURES.items():
            result = ordering[measure]
            row[f"{prefix}_ordering_holds"] = result["holds"]
            for field in (
                "slowest_border",
                "slowest_border_h",
                "fastest_far",
                "fastest_far_h",
                "border_median_h",
                "far_median_h",
            ):
                row[f"{prefix}_{field}"] = result.get(field)
        rows.append(row)
    return pd.DataFrame(rows)


def sensitivity_summary(
    results: list[tuple[str, str, dict]],
    synthetic: bool = False,
    baseline: str | None = None,
    moves: list[dict | None] | None = None,
) -> str:
    """The sensitivity run as Markdown: one sentence per scenario (see :func:`sensitivity_table`).

    ``baseline`` is what the baseline was routed under (:func:`geo.reach.assumptions_line`); with
    ``moves``, each scenario's sentence goes on to say what it rerouted and reordered.
    """
    intro = (
        "Each scenario reruns the routes from the same layers; the ordering holds when every border province's "
        "median is below every far province's."
    )
    if baseline:
        intro += (
            f" The baseline is routed under {markdown_literal(baseline)}; each scenario changes what its name says."
        )
    moved = moves or [None] * len(results)
    sentences = [
        ordering_sentence(markdown_literal(label), ordering) + (f" {reordering_sentence(m)}" if m else "")
        for (_, label, ordering), m in zip(results, moved)
    ]
    return _summary("Sensitivity of the border-against-far comparison", intro, sentences, synthetic)


def supply_summary(results: list[tuple[str, str, dict]], synthetic: bool = False, routed: str | None = None) -> str:
    """The comparison under every supply model as Markdown: what each measures, and one sentence each.

    ``results`` are (model, label, ordering) rows; each sentence ends with the
    two groups' median hub→market times, the figure a supply model moves.
    ``routed`` is the rest of what every model is routed with, the baseline's
    (:func:`geo.reach.assumptions_line` without the supply model).
    """
    intro = "What each supply model measures:\n\n" + "\n".join(
        f"- `{model.name}`: {model.description}." for model in SUPPLY_MODELS.values()
    )
    if routed:
        intro += f"\n\nEvery model is routed with the baseline's {markdown_literal(routed)}."
    sentences = []
    for _, label, ordering in results:
        hub = ordering["hub_h_median"]
        medians = (
            f" Median hub→market time: border {format_hours(hub['border_median_h'])}, "
            f"far {format_hours(hub['far_median_h'])}."
            if hub["holds"] is not None
            else ""
        )
        sentences.append(ordering_sentence(label, ordering) + medians)
    return _summary("Border against far under each supply model", intro, sentences, synthetic)


def _summary(title: str, intro: str, sentences: list[str], synthetic: bool) -> str:
    lines = [f"# {title}", ""]
    if synthetic:
        lines += [f"**{settings.DEMO_STAMP}.**", ""]
    lines += [intro, ""]
    lines += [f"- {sentence}" for sentence in sentences]
    return "\n".join(lines) + "\n"
