"""HamJi Explorer from Python: every stage as a function, every result a typed object.

Each stage works in memory (``layers_from_extracts``, ``route_markets``,
``reach_table``, ``draw_map``, ``run_scenario``), reads the previous run's
files (``load_layers``, ``load_routes``, ``load_reach``) or writes its own
(``write_layers``, ``write_routes``, ``write_reach``, ``write_maps``,
``write_scenario``), so a notebook can start from files the ``hamji``
command wrote, or build everything itself. Nothing here prints; progress
goes to the ``geo`` logger. Every failure a user can fix raises
:class:`~geo.errors.HamjiError`.

Examples
--------
>>> import geo
>>> layers = geo.demo_layers()                      # synthetic, stamped DEMO
>>> routes = geo.route_markets(layers)
>>> table = geo.reach_table(routes, layers, groups={"coast": ["KP-09", "KP-13"]})
>>> int(table.set_index("code").loc["group:coast", "markets"]) == int(
...     routes.markets["province"].isin(["KP-09", "KP-13"]).sum())
True
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import io, lineage, settings
from geo.assumptions import RunAssumptions
from geo.errors import InputError, clip
from geo.layers import build_layers
from geo.qgis import qgis_styles
from geo.regions import Region, resolve_selection
from geo.results import ROUTE_FRAMES, Layers, Routes, ScenarioResult
from geo.schema import LAYER_ORDER, conform, conform_routes, conform_table
from geo.sources.extracts import Progress
from geo.sources.market_lists import MarketList
from geo.sources.people_areas import PeopleAreas, read_people_areas
from geo.sources.raw import RawOsm
from geo.supply import DEFAULT_SUPPLY, SupplyModel, supply_model

# Routing (SciPy), the maps (folium, branca, Jinja2) and the comparisons are imported where they are used:
# importing them here cost the layers stage, which uses none of them, about 1.1 s of CPU in every process.
if TYPE_CHECKING:
    from geo.change import BuildComparison
    from geo.maps.output import draw_map, write_maps
    from geo.network import SpeedTable
    from geo.scenarios import Scenario
    from geo.uncertainty import Ranges

log = logging.getLogger(__name__)

__all__ = [
    "Layers",
    "BuildComparison",
    "Routes",
    "RunAssumptions",
    "ScenarioResult",
    "compare_builds",
    "crossing_catchments",
    "run_assumptions",
    "demo_layers",
    "draw_map",
    "layers_from_extracts",
    "layers_from_overpass",
    "load_catchments",
    "load_layers",
    "load_reach",
    "load_routes",
    "load_uncertainty",
    "reach_table",
    "reach_uncertainty",
    "route_markets",
    "run_scenario",
    "with_market_lists",
    "write_catchments",
    "write_comparison",
    "write_layers",
    "write_maps",
    "write_reach",
    "write_routes",
    "write_scenario",
    "write_uncertainty",
]

PathLike = str | Path

#: Public names loaded on first use (see the imports above): the module each comes from.
_LOADED_ON_USE = {"BuildComparison": "geo.change", "draw_map": "geo.maps.output", "write_maps": "geo.maps.output"}


def __getattr__(name: str) -> object:
    if name in _LOADED_ON_USE:
        from importlib import import_module

        return getattr(import_module(_LOADED_ON_USE[name]), name)
    raise AttributeError(f"module 'geo.api' has no attribute {name!r}")


# -- layers ------------------------------------------------------------------


def _selection(regions: Iterable[str] | None) -> list[Region]:
    return resolve_selection(list(regions) if regions is not None else None)


def _make_layers(raw: RawOsm, selection: list[Region], source: str) -> Layers:
    frames = build_layers(raw, selection, source)
    provenance = {**raw.provenance, "provinces": [r.code for r in selection]}
    # Never let synthetic markets pass for OpenStreetMap's.
    source = "demo fixture (synthetic)" if provenance.get("synthetic") else "OpenStreetMap"
    frames["markets"] = conform(frames["markets"].assign(source=source), "markets")  # declared dtype, as read back
    if provenance.get("synthetic"):
        provenance["stamp"] = settings.DEMO_STAMP
    return Layers(**frames, provenance=provenance)


def layers_from_extracts(
    osm_paths: Sequence[PathLike], regions: Iterable[str] | None = None, progress: Progress | None = None
) -> Layers:
    """Build the layers from local OSM extracts.

    Parameters
    ----------
    osm_paths
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` files (a country extract and a
        clip of its neighbour, say); objects in several are kept once.
    regions
        Province codes or names, or the groups ``border``, ``far``, ``all``
        (default all). Jilin is always included.
    progress
        Called now and then with (bytes read, file size, objects kept) while
        each file is read, to show progress on a large extract.

    Returns
    -------
    Layers
    """
    from geo.sources.extracts import read_extracts

    selection = _selection(regions)
    files = [Path(p) for p in osm_paths]
    raw = read_extracts(files, progress)
    source = "the extract" + ("s " if len(files) > 1 else " ") + ", ".join(str(p) for p in files)
    return _make_layers(raw, selection, source)


def demo_layers(regions: Iterable[str] | None = None) -> Layers:
    """The layers of the synthetic mini-HamJi fixture (stamped DEMO; works offline).

    Examples
    --------
    >>> layers = demo_layers()
    >>> layers.synthetic, sorted(layers.provinces["code"])[:3]
    (True, ['CN-JL', 'CN-LN', 'KP-01'])
    """
    from geo.sources import fixture
    from geo.sources.extracts import read_extracts

    selection = _selection(regions if regions is not None else fixture.province_codes())
    with tempfile.TemporaryDirectory(prefix="hamji-demo-") as scratch:
        raw = read_extracts([fixture.write_osm_xml(Path(scratch) / "mini-hamji.osm")])
    raw.provenance["source"] = "mini-HamJi demo fixture"
    raw.provenance["inputs"] = [{"fixture": "geo/sources/fixture.py", "osm_timestamp": fixture.FIXTURE_TIMESTAMP}]
    return _make_layers(raw, selection, "the demo fixture")


def layers_from_overpass(
    overpass_url: str | None = None, regions: Iterable[str] | None = None, allow_empty: bool = False
) -> Layers:
    """Build the layers from a live Overpass API server (answers cached in :data:`settings.OVERPASS_CACHE_DIR`).

    Parameters
    ----------
    overpass_url
        The endpoint (default :data:`settings.OVERPASS_URL`); named as in
        :func:`geo.pipeline.layers_stage` and as the errors about it name it.
    regions
        As for :func:`layers_from_extracts`.
    allow_empty
        Accept an answer with no roads, which otherwise is taken for a failed
        query and raises :class:`~geo.errors.SourceError`.
    """
    from geo.sources.overpass import read_overpass

    url = overpass_url or settings.OVERPASS_URL
    selection = _selection(regions)
    io.ensure_writable(settings.OVERPASS_CACHE_DIR)
    return _make_layers(read_overpass(url, selection, allow_empty), selection, f"Overpass at {url}")


def with_market_lists(
    layers: Layers, markets: Sequence[PathLike | MarketList], markets_mode: str = "replace"
) -> Layers:
    """The layers with markets from researchers' lists (CSV or GeoJSON) instead of or beside OSM's.

    Parameters
    ----------
    markets
        Lists with ``name``, ``lon``, ``lat`` and optionally ``size``/``stalls``
        and ``source`` (see :mod:`geo.sources.market_lists`), or lists already
        read with :func:`~geo.sources.market_lists.read_market_list`.
    markets_mode
        ``replace`` (the lists are the markets) or ``add`` (beside OSM's).

    Returns
    -------
    Layers
        ``provenance["market_lists"]`` reports per list what was kept, placed
        in the nearest province, or rejected and why.
    """
    from geo.sources.market_lists import apply_market_lists, read_market_list

    lists = [p if isinstance(p, MarketList) else read_market_list(Path(p)) for p in markets]
    kept, reports = apply_market_lists(layers.markets, layers.provinces, lists, markets_mode)
    provenance = {**layers.provenance, "market_lists": reports, "market_lists_mode": markets_mode}
    # No longer the layers file's contents: routes made from these must not claim to come from it.
    return replace(layers, markets=kept, provenance=provenance, file_id=None)


def write_layers(layers: Layers, folder: PathLike | None = None) -> list[Path]:
    """Write ``hamji_layers.gpkg`` and its metadata JSON into ``folder`` (default :data:`settings.LAYERS_DIR`).

    Market-list rows that could not be used go to ``hamji_markets_rejected.csv`` beside them.
    """
    target = io.layers_path(Path(folder) if folder else None)
    io.ensure_writable(target.parent)
    rejected = [row for report in layers.provenance.get("market_lists", []) for row in report["rejected"]]
    lists = [{k: v for k, v in r.items() if k != "rejected"} | {"rejected": len(r["rejected"])}
             for r in layers.provenance.get("market_lists", [])]  # fmt: skip
    record = {**layers.provenance, "summary": layers.summary(), **({"market_lists": lists} if lists else {})}
    io.write_gpkg(layers.frames, target, record, qgis_styles(layers.frames))
    io.write_json(record, target.parent / settings.LAYERS_META)
    written = [target, target.parent / settings.LAYERS_META]
    rejected_csv = target.parent / settings.MARKETS_REJECTED_CSV
    if rejected:
        written.append(io.write_csv(pd.DataFrame(rejected), rejected_csv))
    elif rejected_csv.exists():
        rejected_csv.unlink()  # from an earlier build: no longer true
    return written


def load_layers(folder: PathLike | None = None) -> Layers:
    """The layers a previous run wrote into ``folder`` (default :data:`settings.LAYERS_DIR`)."""
    path = io.check_stage_file(io.layers_path(Path(folder) if folder else None))
    # Conformed on read as on write, so the layers read back have the dtypes declared (a year stays Int64).
    frames = {name: conform(_read_layer(path, name), name) for name in LAYER_ORDER}
    return Layers(**frames, provenance=io.read_provenance(path, "roads"), file_id=lineage.file_id(path))


#: Layers that layers files written before rail was read do not hold: read as empty.
_LATER_LAYERS = ("railways", "stations")


def _read_layer(path: Path, name: str) -> gpd.GeoDataFrame:
    if name in _LATER_LAYERS and name not in {layer for layer, _ in pyogrio.list_layers(path)}:
        return conform(gpd.GeoDataFrame(geometry=[], crs=settings.STORE_CRS), name)
    return io.read_layer(path, name)


# -- routes ------------------------------------------------------------------


def run_assumptions(
    speeds: SpeedTable | PathLike | None = None,
    penalties: Mapping[str, float] | None = None,
    supply: str | SupplyModel = DEFAULT_SUPPLY,
    as_of: str | None = None,
    unknown_crossings: str = "closed",
) -> RunAssumptions:
    """The record of what a run assumes, made once from plain arguments (the CLI makes it from its flags).

    Parameters
    ----------
    speeds
        A :class:`~geo.network.SpeedTable`, a TOML file replacing the
        built-in table, or None for :data:`settings.DEFAULT_SPEEDS`.
    penalties
        Hours at the border by crossing id or name (names are matched to
        ids when routing); the others take :data:`settings.BORDER_PENALTY_H`.
    supply
        A supply model or its name: ``hamji`` (Jilin by road), ``land`` (every
        land crossing by road, Dandong-Sinuiju included; ``all-china`` is its
        old name) or ``all`` (every channel: road, rail and sea; the default):
        see :data:`geo.supply.SUPPLY_MODELS`.
    as_of
        The date the channels are taken as of (``YYYY`` or ``YYYY-MM``), or None
        for the OSM data date; a bad one is a one-line :class:`~geo.errors.InputError`.
    unknown_crossings
        ``closed`` (default): crossings of unknown status (found only in
        OpenStreetMap, or a gazetteer one no source says is open now) are
        listed but not routed; ``open``: they are routed as open.

    Examples
    --------
    >>> record = run_assumptions(penalties={"wonjong_quanhe": 4.0}, supply="all-china")
    >>> record.supply.name, record.penalty_h("wonjong_quanhe"), record.penalty_h("sinuiju_dandong")
    ('land', 4.0, 2.0)
    """
    from geo.network import SpeedTable, load_speeds
    from geo.routes import check_penalties
    from geo.status import parse_as_of

    table = speeds if isinstance(speeds, SpeedTable) else load_speeds(Path(speeds) if speeds else None)
    parse_as_of(as_of)  # a bad date fails here, in one line, before anything runs
    return RunAssumptions(
        supply=supply_model(supply),
        speeds=table,
        penalties_h=check_penalties(dict(penalties or {}), None),
        as_of=as_of if as_of is None else str(as_of).strip(),
        unknown_crossings=_unknown_choice(unknown_crossings),
    )


def _unknown_choice(value: str) -> str:
    from geo.status import UNKNOWN_CHOICES

    if value not in UNKNOWN_CHOICES:
        raise InputError(
            f"unknown crossings: {clip(value, 40)!r}; choose one of {', '.join(UNKNOWN_CHOICES)}",
            option="unknown_crossings",
        )
    return value


def route_markets(
    layers: Layers,
    assumptions: RunAssumptions | None = None,
    *,
    speeds: SpeedTable | PathLike | None = None,
    penalties: Mapping[str, float] | None = None,
    supply: str | SupplyModel = DEFAULT_SUPPLY,
) -> Routes:
    """Route every North Korean market: nearest crossing, and hub → crossing → market.

    Parameters
    ----------
    layers
        From :func:`load_layers` or a ``layers_from_*`` function.
    assumptions
        What to route under (from :func:`run_assumptions`). Without it, the
        keywords make one: ``speeds``, ``penalties`` and ``supply`` as in
        :func:`run_assumptions`.

    Examples
    --------
    >>> routes = route_markets(demo_layers(), penalties={"wonjong_quanhe": 4.0})
    >>> routes.assumptions.supply.name, len(routes.markets), bool(routes.markets["reachable"].all())
    ('all', 20, True)
    """
    from geo.crossings import crossing_name
    from geo.routes import check_penalties, compute_routes

    given = speeds is not None or penalties is not None or supply != DEFAULT_SUPPLY
    if assumptions is not None and given:
        raise TypeError("route_markets: give either an assumptions record or speeds/penalties/supply, not both")
    record = assumptions or run_assumptions(speeds, penalties, supply)
    names = {crossing_name(row): row["crossing_id"] for _, row in layers.crossings.iterrows()}
    ids = check_penalties(dict(record.penalties_h), list(layers.crossings["crossing_id"]), names)
    record = record.with_changes(penalties_h=ids)
    log.info("routing …")
    out = compute_routes(layers.frames, record, data_date=layers.provenance.get("osm_timestamp"))
    made_from = {"made_from": {"layers": layers.file_id}} if layers.file_id else {}
    return _routes(out, record, {**layers.provenance, **made_from})


def _routes(out: dict, record: RunAssumptions, provenance: dict) -> Routes:
    """Routing's output as :class:`Routes`, each frame conformed as the routes GeoPackage declares it.

    Conformed here and not only on write, so routes in memory have the columns and dtypes of the same
    routes read back.
    """
    frames = {name: conform_routes(out[name], name) for name in ROUTE_FRAMES}
    return Routes(**frames, assumptions=record, network=out["network"], provenance=provenance)


def write_routes(routes: Routes, folder: PathLike | None = None) -> Path:
    """Write ``hamji_routes.gpkg`` into ``folder`` (default :data:`settings.LAYERS_DIR`)."""
    target = Path(folder or settings.LAYERS_DIR) / settings.ROUTES_GPKG
    io.ensure_writable(target.parent)
    provenance = {**routes.provenance, "routes": io.assumptions_record(routes.assumptions, routes.network)}
    frames = {name: conform_routes(frame, name) for name, frame in routes.frames.items()}
    return io.write_gpkg(frames, target, provenance, qgis_styles(frames))


def load_routes(folder: PathLike | None = None) -> Routes:
    """The routes a previous run wrote into ``folder`` (default :data:`settings.LAYERS_DIR`)."""
    path = io.check_stage_file(Path(folder or settings.LAYERS_DIR) / settings.ROUTES_GPKG)
    provenance = io.read_provenance(path, "markets")
    record, network = io.read_assumptions(provenance.pop("routes", None), path)
    return Routes(
        **{name: conform_routes(io.read_layer(path, name), name) for name in ROUTE_FRAMES},
        assumptions=record,
        network=network,
        provenance=provenance,
    )


# -- reach ---------------------------------------------------------------------


def reach_table(
    routes: Routes,
    layers: Layers,
    groups: Mapping[str, Iterable[str]] | None = None,
    people_areas: PathLike | PeopleAreas | gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Reach per province, then per group: medians, 90th percentiles, shares within 2/4/8 h.

    Parameters
    ----------
    routes
        From :func:`route_markets` or :func:`load_routes`.
    layers
        The layers the routes were made from (for the provinces' areas).
    groups
        More group rows, as label -> province codes, after the border, far
        and all-of-North-Korea rows (which the headline and maps read).
    people_areas
        Areas with people counts (a GeoJSON file, or what
        :func:`geo.sources.people_areas.read_people_areas` read from one, or a
        GeoDataFrame with a ``population`` column), such as counties with
        their census counts: rows whose provinces they cover are weighted
        by people at their nearest market rather than spread like markets.

    Examples
    --------
    >>> layers = demo_layers()
    >>> table = reach_table(route_markets(layers), layers, groups={"coast": ["KP-08", "KP-09"]})
    >>> list(table["code"][-4:])
    ['group:border', 'group:far', 'KP', 'group:coast']
    """
    from geo.reach import province_reach, stamped

    if isinstance(people_areas, (str, Path)):
        people_areas = read_people_areas(Path(people_areas))
    table = province_reach(routes.markets, layers.provinces, groups, _areas_frame(people_areas))
    # Stamped and conformed here, so the table in memory has the columns of the one read back. It names the
    # areas it was weighted by (none: None), whatever the routes' record says, so that a scenario run on it
    # later weights by them too, or asks for them.
    record = routes.assumptions.with_changes(people_areas=_areas_digest(people_areas))
    return stamped(table, replace(routes, assumptions=record))


def _areas_digest(people_areas: PeopleAreas | gpd.GeoDataFrame | None) -> str | None:
    """The identity of the people areas a table is weighted by: their file's, or (no file) their contents'."""
    from geo.lineage import file_id

    if isinstance(people_areas, PeopleAreas):
        return file_id(people_areas.path)
    return None if people_areas is None else io.json_digest(people_areas.to_json(sort_keys=True))


def _areas_frame(people_areas: PathLike | PeopleAreas | gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """People areas as a GeoDataFrame with a ``population`` column, from any form :func:`reach_table` takes."""
    if isinstance(people_areas, (str, Path)):
        people_areas = read_people_areas(Path(people_areas))
    if isinstance(people_areas, PeopleAreas):
        areas, skipped = len(people_areas.areas), people_areas.skipped
        log.info(f"people areas: {areas} with a population, {skipped} without (left out)")
        people_areas = people_areas.areas
    return people_areas


def crossing_catchments(
    routes: Routes, layers: Layers, people_areas: PathLike | PeopleAreas | gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Each usable crossing's catchment: the markets and people whose best hub → market route uses it.

    People are the 2008 census counts spread over each province's markets,
    or, with ``people_areas`` (as for :func:`reach_table`) that hold the
    census count of every province with markets, each area's people at the
    market nearest it (``people_basis`` says which). See
    :func:`geo.access.crossing_catchments`.

    Examples
    --------
    >>> layers = demo_layers()
    >>> routes = route_markets(layers)
    >>> table = crossing_catchments(routes, layers).set_index("crossing_id")
    >>> int(table.loc["hyesan_changbai", "markets"]), int(table.loc["hyesan_changbai", "people"])
    (1, 719269)
    """
    from geo import access
    from geo.reach import covered, nearest_market_people

    areas = _areas_frame(people_areas)
    markets = routes.markets
    if areas is not None:
        nearest = nearest_market_people(areas, markets, layers.provinces)
        if covered(nearest, sorted(set(markets["province"].dropna()))):
            people = access.market_people(markets, nearest)
            return access.crossing_catchments(markets, routes.crossings, people, "areas")
    return access.crossing_catchments(markets, routes.crossings, access.market_people(markets), "markets")


def write_catchments(catchments: gpd.GeoDataFrame, routes: Routes, folder: PathLike | None = None) -> Path:
    """Write the crossings' catchments as ``hamji_catchments.gpkg`` (layer ``catchments``) into ``folder``."""
    target = Path(folder or settings.LAYERS_DIR) / settings.CATCHMENTS_GPKG
    io.ensure_writable(target.parent)
    return io.write_gpkg({"catchments": catchments}, target, routes.provenance)


def load_catchments(folder: PathLike | None = None) -> gpd.GeoDataFrame:
    """The catchments a previous reach stage wrote into ``folder`` (default :data:`settings.LAYERS_DIR`)."""
    return io.read_layer(Path(folder or settings.LAYERS_DIR) / settings.CATCHMENTS_GPKG, "catchments")


def write_reach(
    table: pd.DataFrame,
    routes: Routes,
    folder: PathLike | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    uncertainty: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the reach table as ``hamji_reach.csv``, its chart and a Markdown summary into ``folder``.

    Every row is stamped with what it comes from (supply model, source, data
    date, DEMO), so a CSV copied out of its folder still says so. Scenarios,
    the supply comparison and sensitivity write their tables through here too.
    ``catchments`` (:func:`crossing_catchments`) adds their section to the summary.
    With ``uncertainty`` (:func:`reach_uncertainty` on the same routes) the summary shows its intervals.
    """
    from geo.chart import reach_chart_svg
    from geo.reach import markdown_summary, stamped

    target = Path(folder or settings.LAYERS_DIR)
    io.ensure_writable(target)
    chart = reach_chart_svg(routes.markets, demo=routes.synthetic)
    return [
        io.write_csv(stamped(table, routes), target / settings.REACH_CSV),
        io.write_text(chart, target / settings.REACH_SVG),
        io.write_markdown(markdown_summary(table, routes, catchments, uncertainty), target / settings.REACH_MD),
    ]


def load_reach(folder: PathLike | None = None) -> pd.DataFrame:
    """The reach table a previous run wrote into ``folder`` (default :data:`settings.LAYERS_DIR`)."""
    from geo.reach import read_reach

    return read_reach(io.check_stage_file(Path(folder or settings.LAYERS_DIR) / settings.REACH_CSV))


# -- uncertainty -----------------------------------------------------------------


def reach_uncertainty(
    layers: Layers,
    routes: Routes,
    reach: pd.DataFrame | None = None,
    draws: int = settings.UNCERTAINTY_DRAWS,
    seed: int = 0,
    ranges: Ranges | None = None,
    bootstrap: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Monte Carlo over the routing assumptions, and a bootstrap over markets: 5–95 % intervals.

    Each draw puts new speeds (each class on each side), unpaved factors
    and border penalties (each crossing) on the graphs built once, routes
    every market again, and resamples each province's markets; see
    :mod:`geo.uncertainty`.

    Parameters
    ----------
    layers, routes
        A build and the routes made from it (the centre of every range).
    reach
        The reach table of ``routes`` (default: made from them).
    draws, seed
        How many draws; the seed makes the table reproducible.
    ranges
        A :class:`geo.uncertainty.Ranges` (default: its stated ranges).
    bootstrap
        Also resample each province's markets.
    progress
        Called with (draws done, draws) after each draw.

    Returns
    -------
    pandas.DataFrame
        :data:`geo.uncertainty.UNCERTAINTY_COLUMNS`, one row per reach-table row.

    Examples
    --------
    >>> layers = demo_layers()
    >>> table = reach_uncertainty(layers, route_markets(layers), draws=200, seed=1).set_index("code")
    >>> row = table.loc["group:border"]
    >>> bool(row["hub_h_median_p5"] <= row["hub_h_median"] <= row["hub_h_median_p95"])
    True
    """
    from geo.uncertainty import uncertainty_table

    log.info(f"uncertainty: {draws} draws …")
    table = reach if reach is not None else reach_table(routes, layers)
    return uncertainty_table(layers, routes, table, draws, seed, ranges, bootstrap, progress)


def write_uncertainty(table: pd.DataFrame, routes: Routes, folder: PathLike | None = None) -> Path:
    """Write ``hamji_uncertainty.csv`` into ``folder``, every row stamped like the reach table."""
    from geo.reach import stamped

    target = Path(folder or settings.LAYERS_DIR)
    io.ensure_writable(target)
    return io.write_csv(stamped(table, routes, "uncertainty"), target / settings.UNCERTAINTY_CSV)


def load_uncertainty(folder: PathLike | None = None) -> pd.DataFrame:
    """The uncertainty table a previous ``hamji uncertainty`` wrote into ``folder``."""
    from geo.reach import read_reach

    path = io.check_stage_file(Path(folder or settings.LAYERS_DIR) / settings.UNCERTAINTY_CSV)
    return read_reach(path, "uncertainty")


# -- scenarios -------------------------------------------------------------------


def run_scenario(
    scenario: str | Path | Scenario,
    layers: Layers,
    routes: Routes,
    reach: pd.DataFrame | None = None,
    people_areas: PathLike | PeopleAreas | gpd.GeoDataFrame | None = None,
) -> ScenarioResult:
    """Rerun routes and reach under a scenario and compare them with a baseline.

    Parameters
    ----------
    scenario
        A shipped scenario's name, a TOML file's path, or a
        :class:`~geo.scenarios.Scenario`.
    layers, routes
        The baseline (its assumptions are the ones the scenario changes).
    reach
        The baseline's reach table (default: made from ``routes``).
    people_areas
        The baseline's people areas (see :func:`reach_table`), so that the
        scenario's people-weighted shares are weighted the same way.
    """
    from geo import comparison
    from geo.routes import compute_routes
    from geo.scenarios import Scenario, apply_scenario, load_scenario

    chosen = scenario if isinstance(scenario, Scenario) else load_scenario(str(scenario))
    base_reach = reach if reach is not None else reach_table(routes, layers, people_areas=people_areas)
    frames, record = apply_scenario(chosen, layers.frames, routes.assumptions)
    log.info(f"routing scenario {chosen.key} …")
    out = compute_routes(frames, record, data_date=routes.provenance.get("osm_timestamp"))
    info = {"key": chosen.key, "name": chosen.name, "description": chosen.description, "file": chosen.source}
    changed = _routes(out, record, {**routes.provenance, "scenario": info})
    new_reach = reach_table(changed, layers, people_areas=people_areas)
    return ScenarioResult(
        info=info,
        routes=changed,
        reach=new_reach,
        market_changes=comparison.market_differences(routes.markets, changed.markets),
        province_changes=comparison.province_differences(base_reach, new_reach),
        ordering=comparison.orderings(new_reach),
    )


def write_scenario(
    result: ScenarioResult,
    layers: Layers,
    folder: PathLike | None = None,
    maps_folder: PathLike | None = None,
    offline: bool = True,
) -> list[Path]:
    """Write a scenario's files: ``FOLDER/scenarios/KEY/`` and ``MAPS_FOLDER/scenarios/KEY.html``.

    The data folder is replaced whole, so a reader never sees half of one run
    and half of another.
    """
    from geo import comparison
    from geo.maps import check_assets, difference_map, fit_page
    from geo.maps.output import map_inputs
    from geo.reach import assumptions_line, run_stamps

    if offline:
        check_assets()
    key = result.info["key"]
    data_parent = Path(folder or settings.LAYERS_DIR) / "scenarios"
    maps_parent = Path(maps_folder or settings.MAPS_DIR) / "scenarios"
    io.ensure_writable(data_parent)
    io.ensure_writable(maps_parent)
    inputs = map_inputs(layers, result.routes, result.reach)
    page, _ = fit_page(
        f"scenarios/{key}.html",
        lambda drawn: difference_map(drawn, result.market_changes, result.province_changes, result.info),
        inputs,
        offline,
    )
    summary_md = comparison.difference_summary(
        result.info,
        result.market_changes,
        result.province_changes,
        result.ordering,
        result.routes.provenance,
        routed=assumptions_line(result.routes),
    )
    staged = io.staging_folder(data_parent, key)
    try:
        write_routes(result.routes, staged)
        write_reach(result.reach, result.routes, staged)
        for table, kind, name in (
            (result.market_changes, "difference_markets", settings.DIFFERENCE_MARKETS_CSV),
            (result.province_changes, "difference_provinces", settings.DIFFERENCE_PROVINCES_CSV),
        ):  # stamped with the scenario's run, so a copy out of the folder still says what it is (DEMO)
            io.write_csv(conform_table(table.assign(**run_stamps(result.routes)), kind), staged / name)
        io.write_markdown(summary_md, staged / "hamji_difference.md")
        io.replace_folder(staged, data_parent / key)
    except BaseException:
        io.remove_folder(staged)
        raise
    return [data_parent / key, io.write_text(page, maps_parent / f"{key}.html")]


# -- change over time --------------------------------------------------------------


def compare_builds(before: PathLike, after: PathLike) -> BuildComparison:
    """Two builds' layers folders compared: hub → market time per market and province, roads added and removed.

    Each folder needs the layers and routes stages' files (from two dated
    extracts, say). Markets are matched by OSM id; roads by OSM way id. See
    :mod:`geo.change`, and its :data:`~geo.change.CAVEAT`: most OSM growth is
    new mapping, not new construction.

    Returns
    -------
    geo.change.BuildComparison
    """
    from geo import change, lineage
    from geo.change import BuildComparison

    builds = {}
    for label, folder in (("before", Path(before)), ("after", Path(after))):
        why = f": the {label} build of a comparison"
        layers_file = io.check_stage_file(io.layers_path(folder), why)
        routes_file = io.check_stage_file(folder / settings.ROUTES_GPKG, why)
        lineage.check_routes(routes_file, layers_file)
        builds[label] = (load_layers(folder), load_routes(folder))
    (old_layers, old_routes), (new_layers, new_routes) = builds["before"], builds["after"]
    markets = change.market_changes(old_routes.markets, new_routes.markets)
    roads = change.road_differences(old_layers.roads, new_layers.roads)
    info: dict = {
        label: {
            "folder": str(folder),
            "source": str(routes.provenance.get("source", "unknown source")),
            "date": str(routes.provenance.get("osm_timestamp") or "unknown date"),
        }
        for label, folder, (_, routes) in (("before", before, builds["before"]), ("after", after, builds["after"]))
    }
    info["synthetic"] = old_routes.synthetic or new_routes.synthetic
    info["assumptions_differ"] = _assumptions_differ(old_routes.assumptions, new_routes.assumptions)
    return BuildComparison(
        info=info,
        markets=markets,
        provinces=change.province_changes(markets, old_routes.markets, new_routes.markets),
        roads=roads,
        segments=change.segment_savings(roads, new_routes.routes, markets),
    )


def _assumptions_differ(before: RunAssumptions, after: RunAssumptions) -> list[str]:
    """What two builds' routes were made under differently: then a change is not the map's alone."""
    checks = {
        "supply model": (before.supply.name, after.supply.name),
        "speed table": (before.speeds.digest, after.speeds.digest),
        "border penalties": (
            (dict(before.penalties_h), before.default_penalty_h),
            (dict(after.penalties_h), after.default_penalty_h),
        ),
        "as-of date": (before.as_of, after.as_of),
    }
    return [name for name, (old, new) in checks.items() if old != new]


def write_comparison(
    result: BuildComparison,
    after: PathLike,
    folder: PathLike | None = None,
    maps_folder: PathLike | None = None,
    offline: bool = True,
) -> list[Path]:
    """Write a comparison's tables, road changes and summary into ``folder``, and its map into ``maps_folder``.

    ``folder`` defaults to ``LAYERS_DIR/compare``, ``maps_folder`` to
    :data:`settings.MAPS_DIR` (``compare.html``); ``after`` is the later
    build's folder, whose roads and markets the map draws.
    """
    from geo import change
    from geo.maps import check_assets, fit_page
    from geo.maps.change import change_map
    from geo.maps.output import map_inputs

    if offline:
        check_assets()
    target = Path(folder or Path(settings.LAYERS_DIR) / "compare")
    maps_target = Path(maps_folder or settings.MAPS_DIR)
    io.ensure_writable(target)
    io.ensure_writable(maps_target)
    layers, routes = load_layers(after), load_routes(after)
    inputs = map_inputs(layers, routes, reach_table(routes, layers))
    page, _ = fit_page(settings.COMPARE_HTML, lambda drawn: change_map(drawn, result), inputs, offline)
    metadata = {**routes.provenance, "comparison": result.info}
    return [
        io.write_csv(conform_table(result.markets, "compare_markets"), target / "hamji_compare_markets.csv"),
        io.write_csv(conform_table(result.provinces, "compare_provinces"), target / "hamji_compare_provinces.csv"),
        io.write_csv(conform_table(result.segments, "compare_segments"), target / "hamji_compare_segments.csv"),
        io.write_gpkg({"road_changes": result.roads}, target / settings.ROAD_CHANGES_GPKG, metadata),
        io.write_markdown(
            change.change_summary(result.info, result.markets, result.provinces, result.roads, result.segments),
            target / "hamji_compare.md",
        ),
        io.write_text(page, maps_target / settings.COMPARE_HTML),
    ]
