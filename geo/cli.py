"""The ``hamji`` command: one subcommand per stage, and ``build`` for all."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from geo import settings
from geo.cli_parser import make_parser
from geo.console import error_line, interrupted_line
from geo.errors import HamjiError, clip


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
            market_lists=args.markets,
            markets_mode=args.markets_mode,
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
            layers_dir=args.layers,
            out_dir=args.out,
            speeds_path=args.speeds,
            penalties=args.penalty,
            force=args.force,
            supply=args.supply,
        )
    )


def _run_reach(args: argparse.Namespace) -> None:
    from geo.pipeline import reach_stage

    supply, areas = getattr(args, "supply", None), getattr(args, "people_areas", None)
    _say(reach_stage(layers_dir=args.layers, out_dir=args.out, force=args.force, supply=supply, people_areas=areas))


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
    from geo.pipeline import supply_stage
    from geo.routes import parse_penalties
    from geo.sources.people_areas import read_people_areas

    # Bad configuration, and a folder that cannot be written, fail before any
    # stage replaces anything.
    load_speeds(args.speeds)
    parse_penalties(args.penalty)
    if args.people_areas is not None:
        args.people_areas = read_people_areas(args.people_areas)  # read once, here, so that it fails first
    if args.offline:
        check_assets()
    check_output_folders(args)
    if (
        args.supply != settings.DEFAULT_SUPPLY
        and not args.demo  # the fixture draws Liaoning; a --province list without it is warned about when routing
        and not any(str(p).lower() in ("liaoning", "cn-ln") for p in args.province or [])
    ):
        # The model's Chinese provinces must be in the layers it routes on.
        args.province = [*(args.province or ["all"]), "liaoning"]
    # Every later stage reads what the one before wrote into --out.
    args.layers, args.reach = args.out, False
    _run_layers(args)
    _run_routes(args)
    _run_reach(args)
    _say(supply_stage(layers_dir=args.out, force=args.force))
    _run_maps(args)


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
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # a bare 'hamji': what it can do
        parser.print_help()
        return 0
    with _progress_on_stdout(getattr(args, "quiet", False)):
        return _run(args)


#: Sub-command -> what runs it.
RUNNERS = {
    "layers": _run_layers,
    "routes": _run_routes,
    "reach": _run_reach,
    "maps": _run_maps,
    "scenario": _run_scenario,
    "sensitivity": _run_sensitivity,
    "extract": _run_extract,
    "build": _run_build,
}


def _run(args: argparse.Namespace) -> int:
    from geo import lock

    try:
        if getattr(args, "list", False):
            RUNNERS[args.command](args)
        else:
            with lock.hold(*_folders(args), wait=getattr(args, "wait", False)):
                RUNNERS[args.command](args)
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
