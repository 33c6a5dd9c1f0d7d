"""Where a plain ``hamji build`` writes: the current folder, not the installed package."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo import settings


def _state(path: Path) -> tuple[int, int] | None:
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


def test_demo_build_from_an_empty_folder_writes_layers_and_maps_there(tmp_path):
    """Into the folder it runs in, and never into the checkout (which may hold the README's own demo build)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAMJI_")}
    checkout = [
        Path(settings.PROJECT_ROOT) / folder / name
        for folder, name in (("layers", settings.LAYERS_GPKG), ("maps", "index.html"))
    ]
    before = [_state(path) for path in checkout]
    done = subprocess.run(
        [sys.executable, "-m", "geo.cli", "build", "--demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "layers" / settings.LAYERS_GPKG).is_file()
    assert (tmp_path / "layers" / settings.REACH_CSV).is_file()
    assert (tmp_path / "layers" / settings.SUPPLY_MD).is_file()
    assert (tmp_path / "maps" / "index.html").is_file()
    assert [_state(path) for path in checkout] == before


def test_bare_hamji_prints_help_and_a_bad_flag_is_one_line():
    done = subprocess.run([sys.executable, "-m", "geo.cli"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("usage: hamji") and "build" in done.stdout
    done = subprocess.run([sys.executable, "-m", "geo.cli", "maps", "--layers"], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (
        1,
        "hamji: error: argument --layers: expected one argument (see hamji maps --help)\n",
    )


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [(["biuld"], "'build'"), (["scenaro", "x"], "'scenario'"), (["build", "--supply", "lnad"], "'land'")],
)
def test_a_mistyped_command_or_choice_gets_the_closest_one(typed, suggested):
    done = subprocess.run([sys.executable, "-m", "geo.cli", *typed], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert f"did you mean {suggested}?" in done.stderr, done.stderr


def test_a_penalty_takes_a_crossing_by_the_name_the_maps_show_and_suggests_close_names():
    import pytest

    import geo
    from geo.errors import InputError

    layers = geo.demo_layers()
    by_name = geo.route_markets(layers, penalties={"wonjong–quanhe": 4.0}).assumptions.penalties_h
    by_id = geo.route_markets(layers, penalties={"wonjong_quanhe": 4.0}).assumptions.penalties_h
    assert by_name == by_id and by_name["wonjong_quanhe"] == 4.0
    # As typed on a keyboard: a hyphen (or an em dash, or spaces around it) for the gazetteer's en dash.
    for typed in ("Wonjong-Quanhe", "WONJONG — QUANHE", "wonjong - quanhe"):
        assert geo.route_markets(layers, penalties={typed: 4.0}).assumptions.penalties_h == by_id, typed
    # Suggested by the name the maps show, never by its id (issue 26: no internal ids in front of readers).
    with pytest.raises(InputError, match=r"did you mean 'Wonjong–Quanhe'"):
        geo.route_markets(layers, penalties={"wonjong_quanh": 4.0})


def test_build_checks_a_crossing_typed_with_a_hyphen_as_the_gazetteer_name_it_is():
    """The check before any OSM is read takes hyphens, em dashes, spaces and case as the en dash it reads."""
    import pytest

    from geo.errors import InputError
    from geo.penalties import check_penalty_crossings

    check_penalty_crossings(["Namyang-Tumen (road)", "namyang — tumen (ROAD)", "Musan (Chilsong)-Nanping"], ["KP-09"])
    # Three crossings go by Namyang–Tumen: the bare name is not guessed, the three are named as the maps name them.
    with pytest.raises(
        InputError, match=r"did you mean 'Namyang–Tumen \(road\)' or 'Namyang–Tumen \(rail\)' or 'Namyang–Tumen \(new"
    ):
        check_penalty_crossings(["Namyang-Tumen"], ["KP-09"])


def _hamji_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAMJI_")}
    return subprocess.run(
        [sys.executable, "-m", "geo.cli", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


def test_in_an_empty_folder_every_error_points_to_the_demo(tmp_path):
    """A new user's first commands, in a folder with nothing built and no network: each says how to try the demo."""
    for args in (["routes"], ["reach"], ["maps"], ["scenario", "wonjong_closed"], ["sensitivity"]):
        done = _hamji_in(tmp_path, *args)
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, (args, done.stderr)
        assert "run that stage first" in done.stderr and "'hamji build --demo'" in done.stderr, (args, done.stderr)
        # The folder as it was: no layers/ or maps/ (nor a lock file in them) made on the way to failing.
        assert sorted(p.name for p in tmp_path.rglob("*")) == [], args
    # A folder that was there keeps only what it had: the lock file taken inside it goes too.
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "notes.txt").write_text("the user's")
    done = _hamji_in(tmp_path, "scenario", "wonjong_closed", "--maps", "maps", "--layers", "a/b/layers")
    assert done.returncode == 1, done.stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["maps", "maps/notes.txt"]


def test_a_mistyped_scenario_or_province_gets_the_closest_names(tmp_path):
    done = _hamji_in(tmp_path, "scenario", "wonjong_close")
    assert done.returncode == 1 and "did you mean wonjong_closed? shipped:" in done.stderr, done.stderr
    done = _hamji_in(tmp_path, "layers", "--demo", "--province", "Ryangang")
    assert done.returncode == 1 and "did you mean Ryanggang? use one of" in done.stderr, done.stderr
    assert done.stderr.endswith("[--province]\n") and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "layers" / settings.LAYERS_GPKG).exists()
