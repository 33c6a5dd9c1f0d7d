"""The ``hamji`` command: one subcommand per stage, and ``build`` for all."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from geo import __version__, settings
from geo.errors import HamjiError, clip
from geo.regions import UnknownRegionError


def _add_layer_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("OpenStreetMap source (default: Overpass)")
    source.add_argument("--osm", metavar="PATH", action="append", type=Path, default=[],
                        help=f"local extract (.osm.pbf, .osm, .osm.bz2); repeat for several. "
                             f"Default: the {settings.OSM_ENV_VAR} environment variable (paths separated by ':')")
    source.add_argument("--overpass-url", metavar="URL", default=None,
                        help=f"Overpass API endpoint (default {settings.OVERPASS_URL})")
    source.add_argument("--allow-empty", action="store_true",
                        help="accept an Overpass answer with no roads (by default an error: it usually means a "
                             "failed query)")
    source.add_argument("--demo", action="store_true",
                        help="build from the synthetic mini-HamJi fixture, stamped DEMO (works offline)")
    parser.add_argument("--province", metavar="NAME", action="append", default=None,
                        help="province code or name (KP-09, 'North Hamgyong'), or a group: border, far, all "
                             "(default all); repeatable. Jilin is always included")
    parser.add_argument("--out", metavar="DIR", type=Path, default=None,
                        help=f"folder for the layers (default {settings.LAYERS_DIR}/ in the current folder, or "
                             "HAMJI_LAYERS_DIR)")


def _run_layers(args: argparse.Namespace) -> None:
    from geo.pipeline import run_layers

    run_layers(osm_paths=args.osm, provinces=args.province, demo=args.demo,
               overpass_url=args.overpass_url, out_dir=args.out, force=args.force, allow_empty=args.allow_empty)


def _add_route_options(parser: argparse.ArgumentParser) -> None:
    routing = parser.add_argument_group("routing")
    routing.add_argument("--speeds", metavar="FILE", type=Path, default=None,
                         help="TOML speed table replacing the built-in one (see README)")
    routing.add_argument("--penalty", metavar="CROSSING_ID=HOURS", action="append", default=None,
                         help=f"hours at one crossing (default {settings.BORDER_PENALTY_H} h each); repeatable")


def _run_routes(args: argparse.Namespace) -> None:
    from geo.pipeline import run_routes

    run_routes(layers_dir=args.out, speeds_path=args.speeds, penalties=args.penalty, force=args.force)


def _run_reach(args: argparse.Namespace) -> None:
    from geo.pipeline import run_reach

    run_reach(layers_dir=args.out, force=args.force)


def _run_maps(args: argparse.Namespace) -> None:
    from geo.pipeline import run_maps

    if getattr(args, "reach", False):
        _run_reach(args)
    run_maps(layers_dir=args.out, maps_dir=args.maps, offline=args.offline, force=args.force)


def _add_map_options(parser: argparse.ArgumentParser) -> None:
    maps = parser.add_argument_group("maps")
    maps.add_argument("--maps", metavar="DIR", type=Path, default=None,
                      help=f"folder for the HTML maps (default {settings.MAPS_DIR}/ in the current folder, or "
                           "HAMJI_MAPS_DIR)")
    maps.add_argument("--offline", action="store_true",
                      help="inline Leaflet and its plugins so the maps open without internet (needs 'npm ci' "
                           "once in the project folder; basemap tiles still need internet)")


def _run_scenario(args: argparse.Namespace) -> None:
    from geo.pipeline import run_scenario
    from geo.scenarios import SCENARIO_DIR, load_scenario, shipped_scenarios

    if args.list or not args.name:
        for name in shipped_scenarios():
            scenario = load_scenario(name)
            print(f"{name}: {scenario.name}. {scenario.description}")
        print(f"(files in {SCENARIO_DIR}; give one of these names or the path of your own TOML file)")
        return
    run_scenario(args.name, layers_dir=args.out, maps_dir=args.maps, offline=args.offline)


def _run_sensitivity(args: argparse.Namespace) -> None:
    from geo.pipeline import run_sensitivity

    run_sensitivity(layers_dir=args.out, maps_dir=args.maps, names=args.scenario, offline=args.offline)


def check_output_folders(args: argparse.Namespace) -> None:
    """Prove every folder ``build`` will write is writable, before the first stage starts."""
    from geo.io import ensure_writable
    from geo.pipeline import extract_paths_from_env

    folders = _folders(args)
    folders += [f / "scenarios" for f in folders if (f / "scenarios").exists()]
    if not (args.demo or args.osm or extract_paths_from_env()):
        folders.append(settings.OVERPASS_CACHE_DIR)  # osmnx's HTTP cache
    for folder in folders:
        ensure_writable(folder)


def _run_build(args: argparse.Namespace) -> None:
    from geo.maps import check_assets
    from geo.network import load_speeds
    from geo.routes import parse_penalties

    # Bad configuration, and a folder that cannot be written, fail before any
    # stage replaces anything.
    load_speeds(args.speeds)
    parse_penalties(args.penalty, None)
    if args.offline:
        check_assets()
    check_output_folders(args)
    _run_layers(args)
    _run_routes(args)
    _run_reach(args)
    _run_maps(args)


def _add_out(parser: argparse.ArgumentParser, holds: str) -> None:
    parser.add_argument("--out", metavar="DIR", type=Path, default=None,
                        help=f"folder holding {holds} (default {settings.LAYERS_DIR}/ in the current folder)")


def _add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="rerun even if inputs, settings and code are unchanged")
    _add_wait(parser)


def _add_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true",
                        help="if another hamji run is writing the same folders, wait for it instead of stopping")


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hamji`` command."""
    parser = argparse.ArgumentParser(
        prog="hamji", description="HamJi Explorer: OpenStreetMap evidence on how cross-border trade from "
                                  "Jilin reaches North Korean markets.")
    parser.add_argument("--version", action="version", version=f"hamji {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    layers = commands.add_parser("layers", help="read OSM, write the crossings, roads and markets layers",
                                 description="Stage 1: read OpenStreetMap (Overpass or local extracts) and "
                                             "write layers/hamji_layers.gpkg.")
    _add_layer_options(layers)
    _add_force(layers)
    layers.set_defaults(func=_run_layers)
    routes = commands.add_parser("routes", help="route every market: hub -> crossing -> market",
                                 description="Stage 2: read layers/hamji_layers.gpkg, route every North Korean "
                                             "market and write layers/hamji_routes.gpkg.")
    _add_out(routes, "the layers, where the routes are written")
    _add_route_options(routes)
    _add_force(routes)
    routes.set_defaults(func=_run_routes)
    reach = commands.add_parser("reach", help="the reach table: border provinces against far ones",
                                description="Stage 3: read the layers and routes and write layers/hamji_reach.csv "
                                            "and layers/hamji_reach.md.")
    _add_out(reach, "the layers and routes, where the table is written")
    _add_force(reach)
    reach.set_defaults(func=_run_reach)
    maps = commands.add_parser("maps", help="write the HTML maps and index.html",
                               description="Stage 4: read the layers, routes and reach table and write the "
                                           "Folium maps and index.html into maps/.")
    _add_out(maps, "the layers, routes and reach table")
    maps.add_argument("--reach", action="store_true",
                      help="first rewrite the reach table from the routes on disk (as 'hamji reach')")
    _add_map_options(maps)
    _add_force(maps)
    maps.set_defaults(func=_run_maps)
    scenario = commands.add_parser(
        "scenario", help="what if: close or add crossings, change speeds or penalties",
        description="Rerun routes and reach for a scenario (a shipped name or a TOML file) from the layers on "
                    "disk, and compare it with the baseline: layers/scenarios/NAME/ and maps/scenarios/NAME.html.")
    scenario.add_argument("name", nargs="?", help="shipped scenario name or path of a TOML file")
    scenario.add_argument("--list", action="store_true", help="list the shipped scenarios")
    _add_out(scenario, "the baseline layers, routes and reach table")
    _add_map_options(scenario)
    _add_wait(scenario)
    scenario.set_defaults(func=_run_scenario)
    sensitivity = commands.add_parser(
        "sensitivity", help="does the border-vs-far ordering hold under other assumptions?",
        description="Run the baseline against the sensitivity scenarios (default: "
                    + ", ".join(settings.SENSITIVITY_SCENARIOS)
                    + ") and write layers/hamji_sensitivity.md with one sentence per scenario.")
    sensitivity.add_argument("--scenario", metavar="NAME", action="append", default=None,
                             help="scenario to include instead of the defaults; repeatable")
    _add_out(sensitivity, "the baseline layers, routes and reach table")
    _add_map_options(sensitivity)
    _add_wait(sensitivity)
    sensitivity.set_defaults(func=_run_sensitivity)
    build = commands.add_parser("build", help="run every stage in order",
                                description="Run every stage in order: layers, routes, reach, maps.")
    _add_layer_options(build)
    _add_route_options(build)
    _add_map_options(build)
    _add_force(build)
    build.set_defaults(func=_run_build)
    return parser


def _folders(args: argparse.Namespace) -> list[Path]:
    """The output folders a command writes, to be locked while it runs."""
    layers = getattr(args, "out", None) or settings.LAYERS_DIR
    folders = [Path(layers)]
    if hasattr(args, "maps"):
        folders.append(Path(args.maps or settings.MAPS_DIR))
    return folders


class _StdoutHandler(logging.Handler):
    """Progress messages on whatever ``sys.stdout`` is at the time (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), flush=True)


def _show_progress() -> None:
    """The library's progress messages (logging, logger ``geo``) on stdout; stderr is kept for errors."""
    logger = logging.getLogger("geo")
    if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        logger.addHandler(_StdoutHandler())
    logger.setLevel(logging.INFO)


def _interrupted() -> str:
    from geo import io

    if not io.WRITTEN:
        return "hamji: interrupted before anything was written; earlier outputs are unchanged"
    names = ", ".join(str(p) for p in io.WRITTEN)
    return (f"hamji: interrupted after writing {len(io.WRITTEN)} file(s): {names}; every other output is as it "
            "was before this run (rerun to finish)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hamji`` console script; returns the exit code.

    Every failure the user can act on is one line on stderr and exit code 1;
    an unexpected one (a bug) is one line and exit code 2, with the
    traceback only when ``HAMJI_DEBUG`` is set.
    """
    from geo import lock

    args = make_parser().parse_args(argv)
    _show_progress()
    try:
        if getattr(args, "list", False):
            args.func(args)
        else:
            with lock.hold(*_folders(args), wait=getattr(args, "wait", False)):
                args.func(args)
    except (HamjiError, UnknownRegionError) as exc:
        print(f"hamji: error: {clip(exc, 600)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(_interrupted(), file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"hamji: error: {exc.strerror or exc}{where}; nothing after this point was written", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("HAMJI_DEBUG"):
            raise
        print(f"hamji: internal error: {type(exc).__name__}: {clip(exc, 600)}; this is a bug, please report "
              "it (HAMJI_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
