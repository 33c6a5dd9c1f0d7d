"""The ``hamji`` command: one subcommand per stage, and ``build`` for all."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from geo import settings
from geo.cli_parser import make_parser
from geo.console import error_line, interrupted_line
from geo.errors import HamjiError, clip

#: The staging of the command under way: what it prints names the user's folders, never the staging ones.
_STAGED: list = []


#: Characters a terminal acts on rather than shows (C0 and C1 controls but tab and line feed, and the
#: bidirectional overrides): an OSM name or a scenario's name could clear the screen or turn text around.
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _public(text: str) -> str:
    """``text`` as the user may read it: their own folder names, and outside text that cannot drive the terminal."""
    text = _STAGED[-1].public(text) if _STAGED else text
    return _TERMINAL_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _say(run) -> None:
    from geo.console import report

    print(_public(report(run)), flush=True)


@contextmanager
def _tqdm(quiet: bool, **options) -> Iterator[Any]:
    """A tqdm bar on stderr while a command runs, on a terminal only (pipes and logs stay clean); else None."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(total=1, leave=False, **options)
    try:
        yield bar
    finally:
        bar.close()


def _advance(bar, done: int, total: int, postfix: str | None = None) -> None:
    bar.total, bar.n = total, done
    if postfix is not None:
        bar.set_postfix_str(postfix, refresh=False)
    bar.refresh()


@contextmanager
def _progress_bar(quiet: bool) -> Iterator[Callable[[int, int, int], None] | None]:
    """A bar (bytes read, objects kept, elapsed and ETA) while an extract is read, on a terminal only."""
    with _tqdm(quiet, unit="B", unit_scale=True, unit_divisor=1024, desc="reading extract") as bar:
        yield None if bar is None else lambda done, total, kept: _advance(bar, done, total, f"{kept:,} objects kept")


def _run_layers(args: argparse.Namespace, regions: list[str] | None = None) -> None:
    from geo.pipeline import layers_stage

    with _progress_bar(args.quiet) as progress:
        run = layers_stage(
            osm_paths=args.osm,
            regions=regions or args.province,
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


def _model_regions(args: argparse.Namespace) -> list[str] | None:
    """The provinces to build: --province plus those the supply model routes through (the demo draws them all)."""
    from geo.supply import supply_model, supply_regions

    return args.province if args.demo else supply_regions(args.province, supply_model(args.supply))


def _run_extract(args: argparse.Namespace) -> None:
    from geo.sources.clip import extract_region

    with _progress_bar(args.quiet) as progress:
        info = extract_region(args.source, args.out, progress)
    print(
        f"wrote {args.out}: {info['target_bytes'] / 1e6:,.1f} MB from {info['source_bytes'] / 1e6:,.1f} MB "
        f"({info['objects']:,} objects and {info['relations']:,} relations chosen, with what they reference)"
    )


def _assumptions(args: argparse.Namespace):
    """The run's record of assumptions, made once here from the flags (bad ones fail before anything runs)."""
    from geo.api import run_assumptions
    from geo.routes import parse_penalties

    return run_assumptions(args.speeds, parse_penalties(args.penalty), args.supply, args.as_of, args.unknown_crossings)


def _run_routes(args: argparse.Namespace) -> None:
    from geo.pipeline import routes_stage

    _say(routes_stage(layers_dir=args.layers, out_dir=args.out, assumptions=_assumptions(args), force=args.force))


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
    dated = {"as_of": args.as_of, "unknown_crossings": args.unknown_crossings}
    _say(scenario_stage(args.name, layers_dir=args.layers, maps_dir=args.maps, offline=args.offline, **dated))


def _run_sensitivity(args: argparse.Namespace) -> None:
    from geo.pipeline import sensitivity_stage

    dated = {"as_of": args.as_of, "unknown_crossings": args.unknown_crossings}
    _say(
        sensitivity_stage(
            layers_dir=args.layers, maps_dir=args.maps, names=args.scenario, offline=args.offline, **dated
        )
    )


def _run_compare(args: argparse.Namespace) -> None:
    from geo.pipeline import compare_stage

    _say(compare_stage(args.before, args.after, out_dir=args.out, maps_dir=args.maps, offline=args.offline))


@contextmanager
def _draws_bar(quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A bar over the uncertainty draws, on a terminal only."""
    with _tqdm(quiet, unit="draw", desc="uncertainty") as bar:
        yield None if bar is None else lambda done, total: _advance(bar, done, total)


def _run_uncertainty(args: argparse.Namespace) -> None:
    from geo.pipeline import uncertainty_stage

    with _draws_bar(args.quiet) as progress:
        run = uncertainty_stage(
            layers_dir=args.layers, draws=args.draws, seed=args.seed, force=args.force, progress=progress
        )
    _say(run)


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


def _precheck_build(args: argparse.Namespace) -> None:
    """What ``build`` can check in a moment, before it locks, stages or imports anything heavy.

    An unknown province and a mistyped crossing in ``--penalty`` fail here,
    with the closest names, having written nothing (not even a lock file).
    """
    from geo.penalties import check_penalty_crossings, parse_penalties
    from geo.regions import resolve_selection
    from geo.sources.fixture_data import province_codes

    demo = province_codes()
    codes = [r.code for r in resolve_selection(args.province or (demo if args.demo else None))]
    # The demo holds only the fixture's provinces, whatever else is asked for.
    codes = [c for c in codes if c in demo] if args.demo else codes
    check_penalty_crossings(parse_penalties(args.penalty), codes)


def _run_build(args: argparse.Namespace) -> None:
    from geo.maps import check_assets
    from geo.pipeline import maps_stage, reach_stage, routes_stage, supply_stage
    from geo.sources.people_areas import read_people_areas
    from geo.supply import supply_regions
    from geo.uncertainty import check_draws

    # Bad configuration, and a folder that cannot be written, fail before any stage replaces anything.
    record = _assumptions(args)
    check_draws(args.draws, args.seed)
    areas = read_people_areas(args.people_areas) if args.people_areas is not None else None
    if args.offline:
        check_assets()
    check_output_folders(args)
    # The demo fixture draws every region; a real build adds the ones the supply model routes through.
    _run_layers(args, args.province if args.demo else supply_regions(args.province, record.supply))
    # Every later stage reads what the one before wrote into --out.
    _say(routes_stage(layers_dir=args.out, out_dir=args.out, assumptions=record, force=args.force))
    # The intervals too, so that the summary, index and maps of a build show them (docs/performance.md: the cost).
    with _draws_bar(args.quiet) as progress:
        reached = reach_stage(
            layers_dir=args.out,
            out_dir=args.out,
            force=args.force,
            people_areas=areas,
            draws=args.draws,
            seed=args.seed,
            progress=progress,
        )
    _say(reached)
    _say(supply_stage(layers_dir=args.out, force=args.force))
    _say(maps_stage(layers_dir=args.out, maps_dir=args.maps, offline=args.offline, force=args.force))


def _folders(args: argparse.Namespace) -> list[Path]:
    """The folders a command writes, to be locked and staged while it runs."""
    data = getattr(args, "out", None) or getattr(args, "layers", None) or settings.LAYERS_DIR
    if args.command == "compare":
        data = _compare_out(args)
    if args.command == "extract":
        return []  # one file, written under a temporary name and renamed
    folders = [Path(data)] if args.command != "maps" else []
    if args.command == "maps" and args.reach:
        folders.append(Path(args.layers or settings.LAYERS_DIR))
    if hasattr(args, "maps"):
        folders.append(Path(args.maps or settings.MAPS_DIR))
    return folders


def _compare_out(args: argparse.Namespace) -> Path:
    """Where ``hamji compare`` writes its data: ``--out``, or ``compare/`` in the layers folder."""
    return Path(args.out or Path(settings.LAYERS_DIR) / "compare")


class _StdoutHandler(logging.Handler):
    """Progress messages on whatever ``sys.stdout`` is at the time (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(_public(self.format(record)), flush=True)


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
    "layers": lambda args: _run_layers(args, _model_regions(args)),
    "routes": _run_routes,
    "reach": _run_reach,
    "maps": _run_maps,
    "scenario": _run_scenario,
    "sensitivity": _run_sensitivity,
    "compare": _run_compare,
    "uncertainty": _run_uncertainty,
    "extract": _run_extract,
    "build": _run_build,
}

#: Sub-command -> the checks of its arguments that run before anything is locked, staged or imported.
PRECHECKS = {"build": _precheck_build}


def _with_staging(args: argparse.Namespace, run) -> argparse.Namespace:
    """``args`` with every folder the command writes replaced by its staging folder (see :mod:`geo.staging`).

    Defaults are made explicit first, so that no stage falls back on the real folder.
    """
    staged = argparse.Namespace(**vars(args))
    layers = args.layers if getattr(args, "layers", None) else settings.LAYERS_DIR
    if hasattr(args, "layers"):
        staged.layers = run.staged_path(layers)
    if hasattr(args, "out"):
        writes_layers = args.command in ("layers", "build")
        out = args.out or (settings.LAYERS_DIR if writes_layers else layers)
        staged.out = run.staged_path(_compare_out(args) if args.command == "compare" else out)
    if hasattr(args, "maps"):
        staged.maps = run.staged_path(args.maps or settings.MAPS_DIR)
    return staged


def _run_staged(args: argparse.Namespace) -> None:
    """Run the command in staging folders; put its outputs in place only if every stage succeeded."""
    if args.command in PRECHECKS:
        PRECHECKS[args.command](args)
    from geo import lock, staging

    folders = _folders(args)
    with (
        staging.interrupts_noted(),
        lock.hold(*folders, wait=getattr(args, "wait", False)),
        staging.transaction(folders) as run,
    ):
        _STAGED.append(run)  # until the command's last line is printed (see _run)
        RUNNERS[args.command](_with_staging(args, run))


def _run(args: argparse.Namespace) -> int:
    try:
        return _outcome(args)
    finally:
        _STAGED.clear()


def _outcome(args: argparse.Namespace) -> int:
    """Run the command; every way it can end as an exit code and at most one line on stderr."""
    try:
        if getattr(args, "list", False) or args.command == "extract":
            RUNNERS[args.command](args)  # writes no folder (extract writes one file, renamed into place)
        else:
            _run_staged(args)
    except HamjiError as exc:
        print(_public(f"hamji: error: {error_line(exc)}"), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (``hamji … | head``): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print(_public(interrupted_line(_STAGED[-1].committed if _STAGED else [])), file=sys.stderr)
        return 130
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(_public(f"hamji: error: {exc.strerror or exc}{where}; no earlier output was changed"), file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("HAMJI_DEBUG"):
            raise
        print(
            _public(
                f"hamji: internal error: {type(exc).__name__}: {clip(exc, 600)}; no earlier output was changed; "
                "this is a bug, please report it (HAMJI_DEBUG=1 shows the traceback)"
            ),
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
