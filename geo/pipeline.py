"""The stages as file-to-file steps: each reads the previous stage's files and writes its own.

This is the wiring behind the ``hamji`` command: it adds to :mod:`geo.api`
the skipping of unchanged reruns (:mod:`geo.cache`) and the files only a
whole build keeps (the scenario links of the index page). Nothing here
prints: each step returns a :class:`StageRun` that the command reports.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from geo import api, cache, io, lineage, settings
from geo.assumptions import RunAssumptions
from geo.errors import InputError
from geo.regions import resolve_selection
from geo.sources.extracts import Progress
from geo.sources.people_areas import PeopleAreas, read_people_areas
from geo.supply import SUPPLY_MODELS, SupplyModel, supply_model


@dataclass
class StageRun:
    """What one stage did: skipped (inputs unchanged) or ran, the files written, and its result."""

    stage: str
    skipped: bool = False
    written: list[Path] = field(default_factory=list)
    #: The stage's result (None when skipped): Layers, Routes, the reach table, map sizes …
    result: Any = None
    #: The folder whose files were found current, when skipped.
    folder: Path | None = None


def extract_paths_from_env() -> list[Path]:
    """Extracts named by the ``HAMJI_OSM`` environment variable (``:``-separated)."""
    value = os.environ.get(settings.OSM_ENV_VAR, "")
    paths = [Path(p) for p in value.split(":") if p.strip()]
    if value and not paths:
        # Set, yet naming no file: a typo, not a request to go online instead.
        raise InputError(
            f"{settings.OSM_ENV_VAR}={value[:80]!r} names no extract; give extract paths "
            "separated by ':', or unset it to use Overpass"
        )
    return paths


def _current(stage: str, key: str | None, outputs: list[Path], force: bool) -> bool:
    return key is not None and not force and cache.is_current(stage, key, outputs)


def layers_stage(
    osm_paths: list[Path] | None = None,
    regions: list[str] | None = None,
    demo: bool = False,
    overpass_url: str | None = None,
    out_dir: Path | None = None,
    force: bool = False,
    allow_empty: bool = False,
    progress: Progress | None = None,
    market_lists: list[Path] | None = None,
    markets_mode: str = "replace",
) -> StageRun:
    """Read OSM (extracts, ``HAMJI_OSM``, the demo fixture or Overpass) and write the layers GeoPackage.

    ``market_lists`` (CSV or GeoJSON) replace or join OSM's markets, as
    ``markets_mode`` says (see :func:`geo.api.with_market_lists`).

    An extract build is skipped when the extracts, regions, settings and
    code are unchanged since ``out_dir`` was written (``force`` reruns); an
    Overpass build always runs (osmnx's cache spares the downloads).
    """
    from geo.sources import fixture
    from geo.sources.extracts import check_extract_path

    osm_paths = list(osm_paths or []) or extract_paths_from_env()
    if demo and osm_paths:
        raise InputError(
            "the demo is built from the synthetic fixture, not from OSM extracts; give one or the other", option="demo"
        )
    osm_paths = [check_extract_path(p) for p in osm_paths]
    codes = [r.code for r in resolve_selection(regions or (fixture.province_codes() if demo else None))]
    target = io.layers_path(out_dir)
    io.ensure_writable(target.parent)
    outputs = [target, target.parent / settings.LAYERS_META]
    from geo.sources.market_lists import read_market_list

    list_paths = [Path(p) for p in market_lists or []]
    lists = [read_market_list(p) for p in list_paths]  # a broken list fails before OSM is read, not after
    params = {"demo": demo, "provinces": codes, "markets_mode": markets_mode if lists else None}
    key = cache.stage_key("layers", [*osm_paths, *list_paths], params) if demo or osm_paths else None
    if _current("layers", key, outputs, force):
        return StageRun("layers", skipped=True, folder=target.parent)
    if demo:
        layers = api.demo_layers(codes)
    elif osm_paths:
        layers = api.layers_from_extracts(osm_paths, codes, progress)
    else:
        layers = api.layers_from_overpass(overpass_url, codes, allow_empty)
    if lists:
        layers = api.with_market_lists(layers, lists, markets_mode)
    written = api.write_layers(layers, target.parent)
    if key is not None:
        cache.remember("layers", key, outputs)
    return StageRun("layers", written=written, result=layers)


def routes_stage(
    layers_dir: Path | None = None,
    out_dir: Path | None = None,
    assumptions: RunAssumptions | None = None,
    force: bool = False,
) -> StageRun:
    """Route every market from the layers in ``layers_dir``; write the routes GeoPackage into ``out_dir``.

    ``assumptions`` is what to route under (default: :func:`geo.api.run_assumptions`'s);
    ``out_dir`` defaults to ``layers_dir``.
    """
    source = io.check_stage_file(io.layers_path(layers_dir))
    target = Path(out_dir or source.parent)
    io.ensure_writable(target)
    record = assumptions or api.run_assumptions()
    outputs = [target / settings.ROUTES_GPKG]
    key = cache.stage_key("routes", [source], {"assumptions": _record_key(record)})
    if _current("routes", key, outputs, force):
        return StageRun("routes", skipped=True, folder=target)
    routes = api.route_markets(api.load_layers(source.parent), record)  # records the layers it was made from
    written = [api.write_routes(routes, target)]
    cache.remember("routes", key, outputs)
    return StageRun("routes", written=written, result=routes)


def _record_key(record: RunAssumptions) -> dict:
    """What of a record changes routes: everything but the speed table's name (its values are in the digest)."""
    return {
        "supply": record.supply.name,
        "speeds": record.speeds.digest,
        "penalties": dict(record.penalties_h),
        "default_penalty_h": record.default_penalty_h,
        "as_of": record.as_of,
        "unknown_crossings": record.unknown_crossings,
    }


def reach_stage(
    layers_dir: Path | None = None,
    out_dir: Path | None = None,
    force: bool = False,
    supply: str | SupplyModel | None = None,
    people_areas: Path | PeopleAreas | None = None,
    draws: int | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> StageRun:
    """The reach table from the layers and routes in ``layers_dir``; CSV and Markdown into ``out_dir``.

    ``supply`` asks for the table under that supply model: routes made under
    another are routed again (with their own speeds and penalties) and
    written into ``out_dir`` beside the table, so the two always agree.
    ``people_areas`` (a GeoJSON file, or what
    :func:`~geo.sources.people_areas.read_people_areas` read from one; see
    :func:`geo.api.reach_table`) weights the people-weighted shares by where
    people live; a copy is kept beside the table (``hamji_people_areas.geojson``)
    for the scenarios and comparisons made from it later.

    With ``draws`` (as ``hamji build`` runs it) the intervals of
    :func:`uncertainty_stage` are drawn too, from the routes and table in
    memory (``seed``; ``progress`` is called per draw), written beside the
    table and shown in its summary. The result is (table, routes, intervals
    or None).
    """
    if draws is not None:
        from geo.uncertainty import check_draws

        check_draws(draws, seed)
    layers_file = io.check_stage_file(io.layers_path(layers_dir))
    routes_file = io.check_stage_file(layers_file.parent / settings.ROUTES_GPKG)
    target = Path(out_dir or layers_file.parent)
    io.ensure_writable(target)
    model = supply_model(supply) if supply is not None else None  # an unknown model fails before anything is read
    areas = people_areas if isinstance(people_areas, PeopleAreas | None) else read_people_areas(Path(people_areas))
    outputs = [target / settings.REACH_CSV, target / settings.REACH_MD, target / settings.REACH_SVG]
    outputs += [target / settings.CATCHMENTS_GPKG]
    outputs += [target / settings.PEOPLE_AREAS_COPY] if areas is not None else []
    inputs = [layers_file, routes_file, *([areas.path] if areas is not None else [])]
    # The draws are not part of the table's key: a lone `hamji reach` after a build writes the same table,
    # summary and catchments (the summary shows the build's intervals while they are current), so it skips.
    key = cache.stage_key("reach", inputs, {"supply": model.name if model else None})
    if _current("reach", key, outputs, force) and _intervals_current(target, layers_file, draws, seed):
        return StageRun("reach", skipped=True, folder=target)
    lineage.check_routes(routes_file, layers_file)
    routes = api.load_routes(layers_file.parent)
    layers = api.load_layers(layers_file.parent)
    written = []
    if model is not None and model != routes.assumptions.supply:
        routes = api.route_markets(layers, routes.assumptions.with_changes(supply=model))
        routes_file = api.write_routes(routes, target)
        written.append(routes_file)
    if areas is not None:
        kept = io.copy_file(areas.path, target / settings.PEOPLE_AREAS_COPY)
        routes = replace(routes, assumptions=routes.assumptions.with_changes(people_areas=lineage.file_id(kept)))
        written.append(kept)
    table = api.reach_table(routes, layers, people_areas=areas)
    catchments = api.crossing_catchments(routes, layers, areas)
    made_from = lineage.made_from(layers_file, routes_file)
    if draws is None:
        uncertainty = current_uncertainty(target, layers_file, routes_file)
    else:
        drawn = api.reach_uncertainty(layers, routes, table, draws, seed, progress=progress)
        written.append(api.write_uncertainty(drawn.assign(**made_from), routes, target))
        # As written (rounded): the summary is then the very one a later reach or uncertainty stage writes.
        uncertainty = api.load_uncertainty(target)
    written += api.write_reach(table.assign(**made_from), routes, target, catchments, uncertainty)
    written.append(api.write_catchments(catchments, routes, target))
    cache.remember("reach", key, outputs)
    if draws is not None and target == layers_file.parent:
        # What `hamji uncertainty` with the same draws and seed would write: it need not draw them again.
        cache.remember("uncertainty", _uncertainty_key(target, draws, seed), _uncertainty_outputs(target))
    return StageRun("reach", written=written, result=(table, routes, uncertainty if draws is not None else None))


def _intervals_current(target: Path, layers_file: Path, draws: int | None, seed: int) -> bool:
    """Whether the intervals asked of a reach stage (none, or ``draws`` with ``seed``) are already in ``target``."""
    if draws is None:
        return True
    if target != layers_file.parent:
        return False  # the uncertainty stage's key is kept beside the layers only
    return _current("uncertainty", _uncertainty_key(target, draws, seed), _uncertainty_outputs(target), False)


def current_uncertainty(folder: Path, layers_file: Path, routes_file: Path) -> pd.DataFrame | None:
    """The uncertainty table in ``folder`` if it was made from these layers and routes, else None."""
    if not (Path(folder) / settings.UNCERTAINTY_CSV).is_file():
        return None
    table = api.load_uncertainty(folder)
    return table if lineage.made_from_same(table, layers_file, routes_file) else None


def _uncertainty_outputs(folder: Path) -> list[Path]:
    return [folder / settings.UNCERTAINTY_CSV, folder / settings.REACH_MD]


def _uncertainty_key(folder: Path, draws: int, seed: int) -> str:
    """The cache key of the intervals in ``folder``: its layers, routes and reach table, the draws and the seed."""
    inputs = [folder / name for name in (settings.LAYERS_GPKG, settings.ROUTES_GPKG, settings.REACH_CSV)]
    return cache.stage_key("uncertainty", inputs, {"draws": draws, "seed": seed})


def uncertainty_stage(
    layers_dir: Path | None = None,
    draws: int = settings.UNCERTAINTY_DRAWS,
    seed: int = 0,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> StageRun:
    """Intervals of the reach table: ``hamji_uncertainty.csv`` beside it, and its summary rewritten to show them.

    See :func:`geo.api.reach_uncertainty`. Skipped when the layers, routes,
    reach table, draws and seed are unchanged since it was written.
    """
    from geo.reach import markdown_summary
    from geo.uncertainty import check_draws

    check_draws(draws, seed)  # a bad number fails before anything is read
    layers_file = io.check_stage_file(io.layers_path(layers_dir))
    folder = layers_file.parent
    routes_file = io.check_stage_file(folder / settings.ROUTES_GPKG)
    io.check_stage_file(folder / settings.REACH_CSV)
    outputs = _uncertainty_outputs(folder)
    key = _uncertainty_key(folder, draws, seed)
    if _current("uncertainty", key, outputs, force):
        return StageRun("uncertainty", skipped=True, folder=folder)
    base = load_baseline(folder)
    # The reach table and catchments as the reach stage made them in memory (the CSV's figures are rounded),
    # so that the summary rewritten below is the reach stage's own, plus the intervals.
    reach = api.reach_table(base.routes, base.layers, people_areas=base.people_areas)
    catchments = api.crossing_catchments(base.routes, base.layers, base.people_areas)
    table = api.reach_uncertainty(base.layers, base.routes, reach, draws, seed, progress=progress)
    table = table.assign(**lineage.made_from(layers_file, routes_file))
    written = [api.write_uncertainty(table, base.routes, folder)]
    # The summary beside the table shows the intervals while the two agree (the reach stage keeps them),
    # from the table as written (rounded), so that a later reach stage writes the very same words.
    summary = markdown_summary(reach, base.routes, catchments, api.load_uncertainty(folder))
    written.append(io.write_markdown(summary, folder / settings.REACH_MD))
    cache.remember("uncertainty", key, outputs)
    return StageRun("uncertainty", written=written, result=(table, base.routes))


def supply_stage(layers_dir: Path | None = None, force: bool = False) -> StageRun:
    """The border-against-far ordering under every supply model; ``hamji_supply.md`` beside the reach table.

    When skipped (nothing changed), the result is still the text, read back.
    """
    folder = Path(layers_dir or settings.LAYERS_DIR)
    inputs = [io.check_stage_file(folder / n) for n in (settings.LAYERS_GPKG, settings.ROUTES_GPKG, settings.REACH_CSV)]
    output = folder / settings.SUPPLY_MD
    key = cache.stage_key("supply", inputs, {})
    if _current("supply", key, [output], force):
        return StageRun("supply", skipped=True, folder=folder, result=output.read_text(encoding="utf-8"))
    from geo import comparison
    from geo.reach import assumptions_line

    base = load_baseline(folder)
    routed = assumptions_line(base.routes, supply=False)
    # As written, so that a rerun that skips prints what this one does.
    text = io.markdown_safe(
        comparison.supply_summary(supply_orderings(base), synthetic=base.routes.synthetic, routed=routed)
    )
    written = [io.write_text(text, output)]
    cache.remember("supply", key, [output])
    return StageRun("supply", written=written, result=text)


def supply_orderings(base: Baseline) -> list[tuple[str, str, dict]]:
    """The border-against-far ordering of ``base`` under every supply model.

    The baseline's own model takes its reach table as it is; the others are
    routed again in memory with its speeds and penalties, and weighted by
    the same people areas. Returns (model, label, ordering) rows as
    :func:`comparison.supply_summary` reads them.
    """
    from geo import comparison

    rows = []
    for model in SUPPLY_MODELS.values():
        routes, reach = base.routes, base.reach
        if model != routes.assumptions.supply:
            routes = api.route_markets(base.layers, routes.assumptions.with_changes(supply=model))
            reach = api.reach_table(routes, base.layers, people_areas=base.people_areas)
        rows.append((model.name, f"Supply model {model.name}" + _missing_supply(routes), comparison.orderings(reach)))
    return rows


def _missing_supply(routes: api.Routes) -> str:
    """Why a model whose provinces the layers lack gives the same figures as another, or ''."""
    missing = routes.network.missing_regions
    return f" (the layers hold no {', '.join(missing)})" if missing else ""


def maps_stage(
    layers_dir: Path | None = None, maps_dir: Path | None = None, offline: bool = True, force: bool = False
) -> StageRun:
    """Every HTML map and ``index.html`` from the layers, routes and reach table in ``layers_dir``."""
    from geo.maps import INDEX_FILE, MAP_FILES, check_assets

    layers_file = io.check_stage_file(io.layers_path(layers_dir))
    folder = layers_file.parent
    routes_file = io.check_stage_file(folder / settings.ROUTES_GPKG)
    reach_file = io.check_stage_file(folder / settings.REACH_CSV)
    catchments_file = folder / settings.CATCHMENTS_GPKG
    target = Path(maps_dir or settings.MAPS_DIR)
    io.ensure_writable(target)
    if offline:
        check_assets()
    links, sensitivity, supply = _index_extras(folder, target)
    inlined = _inline_scenario_maps(target, links) if offline else []
    outputs = [target / name for name in (*MAP_FILES.values(), INDEX_FILE)]
    uncertainty = current_uncertainty(folder, layers_file, routes_file)
    intervals = [folder / settings.UNCERTAINTY_CSV] if uncertainty is not None else []
    key = cache.stage_key(
        "maps",
        [layers_file, routes_file, reach_file, *([catchments_file] if catchments_file.exists() else []), *intervals],
        {
            "offline": offline,
            "scenarios": links,
            "sensitivity": sensitivity,
            "supply": supply,
            "compare": (target / settings.COMPARE_HTML).is_file(),  # the index links it
        },
    )
    if _current("maps", key, outputs, force) and not inlined:
        return StageRun("maps", skipped=True, folder=target)
    reach = api.load_reach(folder)
    lineage.check_routes(routes_file, layers_file)
    lineage.check_reach(reach, reach_file, layers_file, routes_file)
    routes = api.load_routes(folder)
    # Written by the same reach stage as the table (older tables have none: the map makes them from the markets).
    catchments = api.load_catchments(folder) if catchments_file.exists() else None
    layers = api.load_layers(folder)
    sizes = api.write_maps(layers, routes, reach, target, offline, links, sensitivity, supply, catchments, uncertainty)
    cache.remember("maps", key, outputs)
    return StageRun("maps", written=[target / name for name in sizes] + inlined, result=(sizes, routes.synthetic))


def _inline_scenario_maps(maps_folder: Path, links: list[tuple[str, str]]) -> list[Path]:
    """Make the scenario maps the index links work offline too (they were written before, maybe online).

    Returns the pages rewritten; a page already offline is left as it is.
    """
    from geo.maps import inline_assets

    rewritten = []
    for href, _ in links:
        page = maps_folder / href
        html = page.read_text(encoding="utf-8")
        offline = inline_assets(html)
        if offline != html:
            rewritten.append(io.write_text(offline, page))
    return rewritten


def _index_extras(layers_folder: Path, maps_folder: Path) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Scenario maps, sensitivity sentences and supply-model sentences (for index.html) made from the current baseline.

    Anything written before the baseline routes were last rebuilt compares
    with a baseline that no longer exists (a demo one, say) and is left out.
    """
    baseline = (layers_folder / settings.ROUTES_GPKG).stat().st_mtime

    def current(path: Path) -> bool:
        # A regular file only: a FIFO in its place would block the read.
        return path.is_file() and path.stat().st_mtime >= baseline

    def sentences(path: Path, start: str) -> list[str]:
        text = path.read_text(encoding="utf-8") if current(path) else ""
        return [line[2:] for line in text.splitlines() if line.startswith("- " + start)]

    links = []
    for page in sorted((maps_folder / "scenarios").glob("*.html")):
        routes = layers_folder / "scenarios" / page.stem / settings.ROUTES_GPKG
        if current(routes) and current(page):
            info = io.read_provenance(routes, "markets").get("scenario", {})
            links.append((f"scenarios/{page.name}", f"Scenario: {info.get('name', page.stem)}"))
    return (
        links,
        sentences(layers_folder / settings.SENSITIVITY_MD, ""),
        sentences(layers_folder / settings.SUPPLY_MD, "Supply model "),
    )


@dataclass
class Baseline:
    """A finished run on disk that scenarios are compared with."""

    folder: Path
    layers: api.Layers
    routes: api.Routes
    reach: pd.DataFrame
    #: The people areas the reach table was weighted by, if any.
    people_areas: PeopleAreas | None = None


def _kept_people_areas(folder: Path, reach: pd.DataFrame) -> PeopleAreas | None:
    """The people areas a reach table was weighted by (its ``people_areas`` stamp), from the copy beside it."""
    stamp = reach["people_areas"].dropna().unique() if "people_areas" in reach else []
    if not len(stamp):
        return None
    kept = folder / settings.PEOPLE_AREAS_COPY
    if not kept.is_file() or lineage.file_id(kept) != stamp[0]:
        raise InputError(
            f"{folder / settings.REACH_CSV} was weighted by people areas that {kept} no longer holds; "
            "run `hamji reach --people-areas FILE` again",
            option="people_areas",
        )
    return read_people_areas(kept)


def load_baseline(layers_dir: Path | None = None) -> Baseline:
    """The layers, routes and reach table in ``layers_dir``, each required, and the people areas they used."""
    folder = Path(layers_dir or settings.LAYERS_DIR)
    why = ": a scenario is compared with the baseline"
    files = [
        io.check_stage_file(folder / name, why)
        for name in (settings.LAYERS_GPKG, settings.ROUTES_GPKG, settings.REACH_CSV)
    ]
    reach = api.load_reach(folder)
    lineage.check_routes(files[1], files[0])
    lineage.check_reach(reach, files[2], files[0], files[1])
    areas = _kept_people_areas(folder, reach)
    routes = api.load_routes(folder)
    if areas is not None:
        routes = replace(routes, assumptions=routes.assumptions.with_changes(people_areas=lineage.file_id(areas.path)))
    return Baseline(folder, api.load_layers(folder), routes, reach, areas)


def scenario_stage(
    name: str,
    layers_dir: Path | None = None,
    maps_dir: Path | None = None,
    baseline: Baseline | None = None,
    offline: bool = True,
    as_of: str | None = None,
    unknown_crossings: str | None = None,
) -> StageRun:
    """Rerun a scenario against the baseline in ``layers_dir``; write its folder and difference map.

    Writes ``LAYERS_DIR/scenarios/KEY/`` (routes, reach, differences) and
    ``MAPS_DIR/scenarios/KEY.html``. With ``as_of`` (or ``unknown_crossings``)
    the baseline is first routed again as of that date, so that both sides of
    the comparison ask about the same day.
    """
    from geo.maps import check_assets
    from geo.scenarios import load_scenario

    scenario = load_scenario(name)
    if offline:
        check_assets()
    base = dated_baseline(baseline or load_baseline(layers_dir), as_of, unknown_crossings)
    result = api.run_scenario(scenario, base.layers, base.routes, base.reach, people_areas=base.people_areas)
    written = api.write_scenario(result, base.layers, base.folder, maps_dir, offline)
    return StageRun("scenario", written=written, result=result)


def dated_baseline(base: Baseline, as_of: str | None, unknown_crossings: str | None = None) -> Baseline:
    """``base`` routed again in memory as of ``as_of`` (and with ``unknown_crossings``), if either changes it."""
    record = base.routes.assumptions
    changes = {"as_of": as_of} if as_of is not None and as_of != record.as_of else {}
    if unknown_crossings is not None and unknown_crossings != record.unknown_crossings:
        changes["unknown_crossings"] = unknown_crossings
    if not changes:
        return base
    # Made through run_assumptions so that a bad date or choice fails in one line, as from the CLI.
    dated = api.run_assumptions(
        record.speeds,
        dict(record.penalties_h),
        record.supply,
        changes.get("as_of", record.as_of),
        changes.get("unknown_crossings", record.unknown_crossings),
    )
    record = record.with_changes(as_of=dated.as_of, unknown_crossings=dated.unknown_crossings)
    routes = api.route_markets(base.layers, record)
    reach = api.reach_table(routes, base.layers, people_areas=base.people_areas)
    return replace(base, routes=routes, reach=reach)


def sensitivity_stage(
    layers_dir: Path | None = None,
    maps_dir: Path | None = None,
    names: list[str] | None = None,
    offline: bool = True,
    as_of: str | None = None,
    unknown_crossings: str | None = None,
) -> StageRun:
    """Does the headline survive other assumptions? Every sensitivity scenario against the baseline.

    Writes ``hamji_sensitivity.csv`` and ``hamji_sensitivity.md`` beside the
    reach table (one sentence per scenario), and each scenario's own files.
    """
    from geo import comparison
    from geo.reach import assumptions_line
    from geo.scenarios import load_scenario

    names = list(names or settings.SENSITIVITY_SCENARIOS)
    for name in names:
        load_scenario(name)  # a mistyped or broken one fails now, not after the others have run
    base = dated_baseline(load_baseline(layers_dir), as_of, unknown_crossings)
    results = [("baseline", "Baseline", comparison.orderings(base.reach))]
    moves: list[dict | None] = [None]
    written: list[Path] = []
    for name in names:
        run = scenario_stage(name, maps_dir=maps_dir, baseline=base, offline=offline)
        label = run.result.info["name"] + _missing_supply(run.result.routes)
        results.append((run.result.info["key"], label, run.result.ordering))
        moves.append(comparison.reordering(base.reach, run.result.reach, run.result.market_changes))
        written += run.written
    text = io.markdown_safe(
        comparison.sensitivity_summary(results, base.routes.synthetic, assumptions_line(base.routes), moves)
    )
    written += [
        io.write_csv(sensitivity_table(results, base, moves), base.folder / settings.SENSITIVITY_CSV),
        io.write_text(text, base.folder / settings.SENSITIVITY_MD),
    ]
    return StageRun("sensitivity", written=written, result=text)


def sensitivity_table(
    results: list[tuple[str, str, dict]], base: Baseline, moves: list[dict | None] | None = None
) -> pd.DataFrame:
    """:func:`comparison.sensitivity_table`, stamped with the baseline's data (DEMO) and in its declared columns."""
    from geo import comparison
    from geo.reach import data_stamps
    from geo.schema import conform_table

    table = comparison.sensitivity_table(results, moves)
    return conform_table(table.assign(**data_stamps(base.routes.provenance)), "sensitivity")


def compare_stage(
    before: Path, after: Path, out_dir: Path | None = None, maps_dir: Path | None = None, offline: bool = True
) -> StageRun:
    """Compare two builds' layers folders; write the tables, road changes and summary, and ``compare.html``.

    Data into ``out_dir`` (default ``LAYERS_DIR/compare``), the map into
    ``maps_dir`` (default :data:`settings.MAPS_DIR`). See :func:`geo.api.compare_builds`.
    """
    if Path(before).resolve() == Path(after).resolve():
        raise InputError(f"{before} is compared with itself; give the folders of two builds", option="before")
    result = api.compare_builds(before, after)
    written = api.write_comparison(result, after, out_dir, maps_dir, offline)
    return StageRun("compare", written=written, result=result)
