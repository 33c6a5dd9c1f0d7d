"""The ``hamji`` command's options: one sub-command per stage, flags named for what they do.

``--layers`` always reads, ``--out`` always writes data, ``--maps`` writes
maps; :mod:`geo.cli` runs the sub-command that was chosen.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from pathlib import Path
from typing import NoReturn

from geo import __version__, settings
from geo.status import UNKNOWN_CHOICES
from geo.supply import ALIASES, DEFAULT_SUPPLY, SUPPLY_MODELS


class HamjiParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, as every other ``hamji`` error, with exit code 1."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"hamji: error: {_with_suggestion(message)} (see {self.prog} --help)\n")
        sys.exit(1)


_INVALID_CHOICE = re.compile(
    r"invalid choice: (?P<given>'(?:[^'\\]|\\.)*'|\"[^\"]*\") \(choose from (?P<choices>.*)\)$"
)


def _with_suggestion(message: str) -> str:
    """argparse's "invalid choice" with the closest choice named ("hamji biuld": did you mean 'build'?)."""
    found = _INVALID_CHOICE.search(message)
    if not found:
        return message
    try:
        given = ast.literal_eval(found["given"])
        choices = [str(c) for c in ast.literal_eval(f"[{found['choices']}]")]
    except (ValueError, SyntaxError):
        return message
    close = difflib.get_close_matches(str(given), choices, n=1, cutoff=0.6)
    return f"{message}; did you mean {close[0]!r}?" if close else message


def _add_layer_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("OpenStreetMap source (default: Overpass)")
    source.add_argument(
        "--osm",
        metavar="PATH",
        action="append",
        type=Path,
        default=[],
        help=f"local extract (.osm.pbf, .osm, .osm.bz2); repeat for several. "
        f"Default: the {settings.OSM_ENV_VAR} environment variable (paths separated by ':')",
    )
    source.add_argument(
        "--overpass-url", metavar="URL", default=None, help=f"Overpass API endpoint (default {settings.OVERPASS_URL})"
    )
    source.add_argument(
        "--allow-empty",
        action="store_true",
        help="accept an Overpass answer with no roads (by default an error: it usually means a failed query)",
    )
    source.add_argument(
        "--demo", action="store_true", help="build from the synthetic mini-HamJi fixture, stamped DEMO (works offline)"
    )
    parser.add_argument(
        "--province",
        metavar="NAME",
        action="append",
        default=None,
        help="province code or name (KP-09, 'North Hamgyong'), or a group: border, far, all "
        "(default all); repeatable. Jilin is always included",
    )
    markets = parser.add_argument_group("markets from your own lists")
    markets.add_argument(
        "--markets",
        metavar="FILE",
        action="append",
        type=Path,
        default=[],
        help="a market list (CSV or GeoJSON: name, lon, lat; optional size or stalls, source); repeatable",
    )
    markets.add_argument(
        "--markets-mode",
        choices=("replace", "add"),
        default="replace",
        help="replace OSM's marketplaces with the lists (default) or add the lists beside them",
    )
    _add_out(
        parser,
        "the layers (and, for build, routes and reach)",
        f"{settings.LAYERS_DIR}/ in the current folder, or HAMJI_LAYERS_DIR",
    )


def _add_layers_in(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--layers",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"folder to read {what} from (default {settings.LAYERS_DIR}/ in the current folder, or HAMJI_LAYERS_DIR)",
    )


def _add_out(parser: argparse.ArgumentParser, what: str, default: str = "the --layers folder") -> None:
    parser.add_argument(
        "--out", metavar="DIR", type=Path, default=None, help=f"folder to write {what} into (default {default})"
    )


def _add_people_areas(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--people-areas",
        metavar="FILE",
        type=Path,
        default=None,
        help="areas with people counts (GeoJSON polygons with a 'population' property, e.g. counties with their "
        "census counts): weight the people-weighted shares by the market nearest each area's people",
    )


def _add_route_options(parser: argparse.ArgumentParser) -> None:
    routing = parser.add_argument_group("routing")
    routing.add_argument(
        "--supply",
        choices=(*SUPPLY_MODELS, *ALIASES),
        default=DEFAULT_SUPPLY,
        help="where goods come from: "
        + "; ".join(f"{model.name}: {model.description}" for model in SUPPLY_MODELS.values())
        + f" (default {DEFAULT_SUPPLY}; 'all-china' is the old name of 'land'; build adds the Chinese provinces "
        "a model needs to the layers)",
    )
    _add_date_options(routing)
    routing.add_argument(
        "--speeds",
        metavar="FILE",
        type=Path,
        default=None,
        help="TOML speed table replacing the built-in one (see 'Speed assumptions' in docs/data-and-sources.md)",
    )
    routing.add_argument(
        "--penalty",
        metavar="CROSSING=HOURS",
        action="append",
        default=None,
        help=f"hours at one crossing, named as on the maps (Wonjong–Quanhe) or by id "
        f"(wonjong_quanhe) (default {settings.BORDER_PENALTY_H} h each); repeatable",
    )


def _add_date_options(group) -> None:
    group.add_argument(
        "--as-of",
        metavar="YYYY[-MM]",
        default=None,
        help="route as of this year or month: a crossing or sea link not yet opened or shut then (COVID closures, "
        "bridges built but not opened; every date sourced) is not used (default: the OSM data date)",
    )
    group.add_argument(
        "--unknown-crossings",
        choices=UNKNOWN_CHOICES,
        default="closed",
        help="crossings of unknown status (found only in OpenStreetMap, or like Shuangmufeng, a temporary port, "
        "no source saying it is open now): list them but do not route them (closed, the default), or route them "
        "as open",
    )


def _add_map_options(parser: argparse.ArgumentParser) -> None:
    maps = parser.add_argument_group("maps")
    maps.add_argument(
        "--maps",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"folder to write the HTML maps into (default {settings.MAPS_DIR}/ in the current "
        "folder, or HAMJI_MAPS_DIR)",
    )
    # Self-contained by default: Leaflet and its plugins are inlined, so a map opens with no network.
    maps.add_argument(
        "--cdn",
        dest="offline",
        action="store_false",
        default=True,
        help="smaller maps that load Leaflet and its plugins from the internet (by default they are inlined, "
        "which adds about 0.3 MB to each map, and a map opens with no network; only the basemap tiles need it)",
    )
    maps.add_argument(
        "--offline",
        dest="offline",
        action="store_true",
        help="the default since maps are self-contained; kept so that older commands still work",
    )


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="rerun even if inputs, settings and code are unchanged")
    _add_wait(parser)


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar or progress messages: only summaries, warnings and errors"
    )


def _add_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait",
        action="store_true",
        help="if another hamji run is writing the same folders, wait for it instead of stopping",
    )
    _add_quiet(parser)


def _add_draws(group) -> None:
    group.add_argument(
        "--draws",
        metavar="N",
        type=int,
        default=settings.UNCERTAINTY_DRAWS,
        help=f"number of uncertainty draws (default {settings.UNCERTAINTY_DRAWS}, at most "
        f"{settings.MAX_UNCERTAINTY_DRAWS:,})",
    )
    group.add_argument(
        "--seed", metavar="S", type=int, default=0, help="seed of the draws: one seed, one file (default 0)"
    )


def _command(commands, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    # No abbreviations: '--o' must not silently mean '--out' (or '--osm').
    return commands.add_parser(name, help=help_text, description=description, allow_abbrev=False)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hamji`` command."""
    parser = HamjiParser(
        prog="hamji",
        allow_abbrev=False,
        description="HamJi Explorer: OpenStreetMap evidence on how cross-border trade from Jilin reaches North "
        "Korean markets. Every command reads from --layers and writes data into --out and maps "
        "into --maps.",
    )
    parser.add_argument("--version", action="version", version=f"hamji {__version__}")
    # A bare 'hamji' prints this help (geo.cli), so the command is not required here.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    layers = _command(
        commands,
        "layers",
        "read OSM, write the crossings, roads and markets layers",
        "Stage 1: read OpenStreetMap (Overpass or local extracts) and write hamji_layers.gpkg.",
    )
    _add_layer_options(layers)
    layers.add_argument(
        "--supply",
        choices=(*SUPPLY_MODELS, *ALIASES),
        default=DEFAULT_SUPPLY,
        help=f"the supply model the layers are for: the Chinese provinces it needs are added to --province "
        f"(default {DEFAULT_SUPPLY}, which needs Liaoning; hamji needs only Jilin), so that 'layers' then "
        "'routes' does what 'build' does",
    )
    _add_force(layers)
    routes = _command(
        commands,
        "routes",
        "route every market: hub -> crossing -> market",
        "Stage 2: read hamji_layers.gpkg, route every North Korean market and write hamji_routes.gpkg.",
    )
    _add_layers_in(routes, "the layers")
    _add_out(routes, "hamji_routes.gpkg")
    _add_route_options(routes)
    _add_force(routes)
    reach = _command(
        commands,
        "reach",
        "the reach table: border provinces against far ones",
        "Stage 3: read the layers and routes and write hamji_reach.csv and hamji_reach.md.",
    )
    _add_layers_in(reach, "the layers and routes")
    _add_out(reach, "the reach table")
    reach.add_argument(
        "--supply",
        choices=tuple(SUPPLY_MODELS),
        default=None,
        help="the table under this supply model: routes made under another are routed again (same speeds and "
        "penalties) and written beside it (default: the routes' own model)",
    )
    _add_people_areas(reach)
    _add_force(reach)
    maps = _command(
        commands,
        "maps",
        "write the HTML maps and index.html",
        "Stage 4: read the layers, routes and reach table and write the Folium maps and index.html.",
    )
    _add_layers_in(maps, "the layers, routes and reach table")
    maps.add_argument(
        "--reach", action="store_true", help="first rewrite the reach table from the routes on disk (as 'hamji reach')"
    )
    _add_map_options(maps)
    _add_force(maps)
    maps.set_defaults(out=None)
    scenario = _command(
        commands,
        "scenario",
        "what if: close or add crossings, change speeds or penalties",
        "Rerun routes and reach for a scenario (a shipped name or a TOML file) from the baseline in --layers, "
        "and compare with it: writes LAYERS/scenarios/NAME/ and MAPS/scenarios/NAME.html.",
    )
    scenario.add_argument("name", nargs="?", help="shipped scenario name or path of a TOML file")
    scenario.add_argument("--list", action="store_true", help="list the shipped scenarios")
    _add_date_options(scenario.add_argument_group("date (the baseline is routed again as of it)"))
    _add_layers_in(scenario, "the baseline (layers, routes, reach table; the scenario's files are written there)")
    _add_map_options(scenario)
    _add_wait(scenario)
    sensitivity = _command(
        commands,
        "sensitivity",
        "does the border-vs-far ordering hold under other assumptions?",
        "Run the baseline against the sensitivity scenarios (default: "
        + ", ".join(settings.SENSITIVITY_SCENARIOS)
        + ") and write hamji_sensitivity.md beside the reach table, one sentence per scenario.",
    )
    sensitivity.add_argument(
        "--scenario",
        metavar="NAME",
        action="append",
        default=None,
        help="scenario to include instead of the defaults; repeatable",
    )
    _add_layers_in(sensitivity, "the baseline (layers, routes, reach table; results are written there)")
    _add_date_options(sensitivity.add_argument_group("date (the baseline is routed again as of it)"))
    _add_map_options(sensitivity)
    _add_wait(sensitivity)
    uncertainty = _command(
        commands,
        "uncertainty",
        "how sure is the reach table? intervals over the assumptions",
        "Monte Carlo over the routing assumptions (each road class's speed on each side, the unpaved factor, "
        "each crossing's penalty, what each train or ship adds, drawn independently) and a bootstrap over "
        "each province's markets: writes "
        f"{settings.UNCERTAINTY_CSV} beside the reach table (point estimates and 5-95 %% intervals of the "
        "hub->market median and of the shares within 2, 4, 8 h, and the probability that the border median is "
        "the lower) and adds them to its summary; the maps show them after 'hamji maps'.",
    )
    _add_layers_in(uncertainty, "the layers, routes and reach table (results are written there)")
    _add_draws(uncertainty)
    _add_force(uncertainty)
    compare = _command(
        commands,
        "compare",
        "change over time: two builds (from two dated extracts) compared",
        "Compare two builds' layers folders (each with the layers and routes stages' files, for example built "
        "from two dated Geofabrik extracts): the change in hub -> market time per market and province, the roads "
        "in one build and not the other, and the new roads that cut the most market-hours. Writes OUT/ (default "
        f"{settings.LAYERS_DIR}/compare/) and MAPS/compare.html. Most OSM growth is new mapping, not new "
        "construction: the summary says so.",
    )
    compare.add_argument("before", type=Path, help="the earlier build's layers folder")
    compare.add_argument("after", type=Path, help="the later build's layers folder (its roads and markets are drawn)")
    _add_out(compare, "the comparison's tables and summary", f"{settings.LAYERS_DIR}/compare/")
    _add_map_options(compare)
    _add_wait(compare)
    extract = _command(
        commands,
        "extract",
        "cut a large extract (China) down to what HamJi reads",
        "Write the part of a large extract HamJi reads (North Korea's and Jilin's province boundaries, and the "
        "roads, markets, crossings and towns near them), with every node and member they reference, so that "
        "later builds read a small file. Needs no osmium tool.",
    )
    extract.add_argument("source", type=Path, help="the large extract (.osm.pbf, .osm, .osm.bz2)")
    extract.add_argument("-o", "--out", metavar="FILE", type=Path, required=True, help="the file to write (.osm.pbf)")
    _add_quiet(extract)
    build = _command(
        commands,
        "build",
        "run every stage in order",
        "Run every stage in order (layers, routes, reach with its uncertainty intervals, maps): data into --out, "
        "maps into --maps.",
    )
    _add_layer_options(build)
    _add_route_options(build)
    _add_people_areas(build)
    _add_draws(build.add_argument_group("uncertainty (as 'hamji uncertainty')"))
    _add_map_options(build)
    _add_force(build)

    return parser
