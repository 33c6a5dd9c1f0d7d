"""The ``hamji`` command: one subcommand per stage, and ``build`` for all."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from geo import __version__, settings
from geo.console import error_line, interrupted_line
from geo.errors import HamjiError, clip


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


def _add_route_options(parser: argparse.ArgumentParser) -> None:
    routing = parser.add_argument_group("routing")
    routing.add_argument(
        "--speeds",
        metavar="FILE",
        type=Path,
        default=None,
        help="TOML speed table replacing the built-in one (see README)",
    )
    routing.add_argument(
        "--penalty",
        metavar="CROSSING_ID=HOURS",
        action="append",
        default=None,
        help=f"hours at one crossing (default {settings.BORDER_PENALTY_H} h each); repeatable",
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
    maps.add_argument(
        "--offline",
        action="store_true",
        help="inline Leaflet and its plugins so the maps open without internet (needs 'npm ci' "
        "once in the project folder; basemap tiles still need internet)",
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


def _say(run) -> None:
    from geo.console import report

    print(report(run), flush=True)


@contextmanager
def _progress_bar(quiet: bool) -> Iterator[Callable[[int, int, int], None] | None]:
    """A tqdm bar (bytes read, objects kept, elapsed and ETA) while an extract is read, on a terminal only."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=1, unit="B", unit_scale=True, unit_divisor=1024, desc="reading extract", leave=False)

    def update(done: int, total: int, kept: int) -> None:
        bar.total, bar.n = total, done
        bar.set_postfix_str(f"{kept:,} objects kept", refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _run_layers(args: argparse.Namespace) -> None:
    from geo.pipeline import layers_stage

    with _progress_bar(args.quiet) as progress:
        run = layers_stage(
            osm_paths=args.osm,
            regions=args.province,
            demo=args.demo,
            overpass_url=args.overpass_url,
            out_dir=args.out,
            force=args.force,
            allow_empty=args.allow_empty,
            progress=progress,
        )
    _say(run)


def _run_extract(args: argparse.Namespace) -> None:
    from geo.sources.clip import extract_region

    with _progress_bar(args.quiet) as progress:
        info = extract_region(args.source, args.out, progress)
    print(
        f"wrote {args.out}: {info['target_bytes'] / 1e6:,.1f} MB from {info['source_bytes'] / 1e6:,.1f} MB "
        f"({info['objects']:,} objects and {info['relations']:,} relations chosen, with what they reference)"
    )


def _run_routes(args: argparse.Namespace) -> None:
    from geo.pipeline import routes_stage

    _say(
        routes_stage(
            layers_dir=args.layers, out_dir=args.out, speeds_path=args.speeds, penalties=args.penalty, force=args.force
        )
    )


def _run_reach(args: argparse.Namespace) -> None:
    from geo.pipeline import reach_stage

    _say(reach_stage(layers_dir=args.layers, out_dir=args.out, force=args.force))


def _run_maps(args: argparse.Namespace) -> None:
    from geo.pipeline import maps_stage

    if args.reach:
        _run_reach(args)
    _say(maps_stage(layers_dir=args.layers, maps_dir=args.maps, offline=args.offline, force=args.force))


def _run_scenario(args: argparse.Namespace) -> None:
    from geo.pipeline import scenario_stage
    from geo.scenarios import SCENARIO_DIR, load_scenario, shipped_scenarios

    if args.list or not args.name:
        for name in shipped_scenarios():
            scenario = load_scenario(name)
            print(f"{name}: {scenario.name}. {scenario.description}")
        print(f"(files in {SCENARIO_DIR}; give one of these names or the path of your own TOML file)")
        return
    _say(scenario_stage(args.name, layers_dir=args.layers, maps_dir=args.maps, offline=args.offline))


def _run_sensitivity(args: argparse.Namespace) -> None:
    from geo.pipeline import sensitivity_stage

    _say(sensitivity_stage(layers_dir=args.layers, maps_dir=args.maps, names=args.scenario, offline=args.offline))


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
    parse_penalties(args.penalty)
    if args.offline:
        check_assets()
    check_output_folders(args)
    # Every later stage reads what the one before wrote into --out.
    args.layers, args.reach = args.out, False
    _run_layers(args)
    _run_routes(args)
    _run_reach(args)
    _run_maps(args)


def _command(commands, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    # No abbreviations: '--o' must not silently mean '--out' (or '--osm').
    return commands.add_parser(name, help=help_text, description=description, allow_abbrev=False)


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hamji`` command."""
    parser = argparse.ArgumentParser(
        prog="hamji",
        allow_abbrev=False,
        description="HamJi Explorer: OpenStreetMap evidence on how cross-border trade from Jilin reaches North "
        "Korean markets. Every command reads from --layers and writes data into --out and maps "
        "into --maps.",
    )
    parser.add_argument("--version", action="version", version=f"hamji {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    layers = _command(
        commands,
        "layers",
        "read OSM, write the crossings, roads and markets layers",
        "Stage 1: read OpenStreetMap (Overpass or local extracts) and write hamji_layers.gpkg.",
    )
    _add_layer_options(layers)
    _add_force(layers)
    layers.set_defaults(func=_run_layers)
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
    routes.set_defaults(func=_run_routes)
    reach = _command(
        commands,
        "reach",
        "the reach table: border provinces against far ones",
        "Stage 3: read the layers and routes and write hamji_reach.csv and hamji_reach.md.",
    )
    _add_layers_in(reach, "the layers and routes")
    _add_out(reach, "the reach table")
    _add_force(reach)
    reach.set_defaults(func=_run_reach)
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
    maps.set_defaults(func=_run_maps, out=None)
    scenario = _command(
        commands,
        "scenario",
        "what if: close or add crossings, change speeds or penalties",
        "Rerun routes and reach for a scenario (a shipped name or a TOML file) from the baseline in --layers, "
        "and compare with it: writes LAYERS/scenarios/NAME/ and MAPS/scenarios/NAME.html.",
    )
    scenario.add_argument("name", nargs="?", help="shipped scenario name or path of a TOML file")
    scenario.add_argument("--list", action="store_true", help="list the shipped scenarios")
    _add_layers_in(scenario, "the baseline (layers, routes, reach table; the scenario's files are written there)")
    _add_map_options(scenario)
    _add_wait(scenario)
    scenario.set_defaults(func=_run_scenario)
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
    _add_map_options(sensitivity)
    _add_wait(sensitivity)
    sensitivity.set_defaults(func=_run_sensitivity)
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
    extract.set_defaults(func=_run_extract)
    build = _command(
        commands,
        "build",
        "run every stage in order",
        "Run every stage in order (layers, routes, reach, maps): data into --out, maps into --maps.",
    )
    _add_layer_options(build)
    _add_route_options(build)
    _add_map_options(build)
    _add_force(build)
    build.set_defaults(func=_run_build)
    return parser


def _folders(args: argparse.Namespace) -> list[Path]:
    """The folders a command writes, to be locked while it runs."""
    data = getattr(args, "out", None) or getattr(args, "layers", None) or settings.LAYERS_DIR
    if args.command == "extract":
        return []  # one file, written under a temporary name and renamed
    folders = [Path(data)] if args.command != "maps" else []
    if args.command == "maps" and args.reach:
        folders.append(Path(args.layers or settings.LAYERS_DIR))
    if hasattr(args, "maps"):
        folders.append(Path(args.maps or settings.MAPS_DIR))
    return folders


class _StdoutHandler(logging.Handler):
    """Progress messages on whatever ``sys.stdout`` is at the time (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), flush=True)


@contextmanager
def _progress_on_stdout(quiet: bool) -> Iterator[None]:
    """The library's progress messages (logger ``geo``) on stdout while a command runs; stderr is for errors.

    Removed afterwards, so that ``main`` called from Python leaves the
    library as quiet as it found it.
    """
    logger, handler, level = logging.getLogger("geo"), _StdoutHandler(), logging.getLogger("geo").level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hamji`` console script; returns the exit code.

    Every failure the user can act on is one line on stderr and exit code 1;
    an unexpected one (a bug) is one line and exit code 2, with the
    traceback only when ``HAMJI_DEBUG`` is set.
    """
    args = make_parser().parse_args(argv)
    with _progress_on_stdout(getattr(args, "quiet", False)):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from geo import lock

    try:
        if getattr(args, "list", False):
            args.func(args)
        else:
            with lock.hold(*_folders(args), wait=getattr(args, "wait", False)):
                args.func(args)
    except HamjiError as exc:
        print(f"hamji: error: {error_line(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (``hamji … | head``): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(interrupted_line(), file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"hamji: error: {exc.strerror or exc}{where}; nothing after this point was written", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("HAMJI_DEBUG"):
            raise
        print(
            f"hamji: internal error: {type(exc).__name__}: {clip(exc, 600)}; this is a bug, please report "
            "it (HAMJI_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
