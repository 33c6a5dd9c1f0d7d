"""Bad input ends with one clear line, a non-zero exit, and the previous layers untouched."""

import shutil
import subprocess
import sys

import pytest

from geo import settings
from geo.cli import main

from conftest import snapshot, write_elsewhere_extract


@pytest.fixture
def previous(demo_gpkg, tmp_path):
    """An output folder that already holds a good build."""
    out = tmp_path / "layers"
    out.mkdir()
    shutil.copy(demo_gpkg, out / settings.LAYERS_GPKG)
    shutil.copy(demo_gpkg.parent / settings.LAYERS_META, out / settings.LAYERS_META)
    return out


def run_fails(args, out, capsys):
    """Run ``hamji`` and return its one error line, checking nothing in ``out`` changed."""
    before = snapshot(out)
    code = main(args)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("hamji:")]
    assert code == 1
    assert len(err) == 1
    assert snapshot(out) == before
    return err[0]


def test_missing_extract(previous, tmp_path, capsys):
    line = run_fails(["layers", "--osm", str(tmp_path / "nope.osm.pbf"), "--out", str(previous)], previous, capsys)
    assert line == f"hamji: error: OSM extract {tmp_path / 'nope.osm.pbf'} does not exist; check the path " \
                   f"given to --osm or {settings.OSM_ENV_VAR}"


def test_empty_extract(previous, tmp_path, capsys):
    empty = tmp_path / "empty.osm.pbf"
    empty.touch()
    line = run_fails(["layers", "--osm", str(empty), "--out", str(previous)], previous, capsys)
    assert "is empty; download it again" in line


def test_corrupt_extract(previous, tmp_path, capsys):
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 20)
    line = run_fails(["layers", "--osm", str(junk), "--out", str(previous)], previous, capsys)
    assert line.startswith(f"hamji: error: cannot read OSM extract {junk}:")
    assert line.endswith("the file is corrupt or truncated, download it again")


def test_truncated_pbf(previous, fixture_pbf, tmp_path, capsys):
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(fixture_pbf.read_bytes()[: fixture_pbf.stat().st_size * 2 // 3])
    line = run_fails(["layers", "--osm", str(cut), "--out", str(previous)], previous, capsys)
    assert "corrupt or truncated" in line


def test_not_an_extract(previous, tmp_path, capsys):
    text = tmp_path / "roads.csv"
    text.write_text("a,b\n")
    line = run_fails(["layers", "--osm", str(text), "--out", str(previous)], previous, capsys)
    assert "is not an .osm.pbf, .osm or .osm.bz2 file" in line


def test_extract_that_does_not_cover_a_requested_province(previous, fixture_xml, capsys):
    line = run_fails(["layers", "--osm", str(fixture_xml), "--province", "KP-03", "--out", str(previous)],
                     previous, capsys)
    assert line.startswith(f"hamji: error: the extract {fixture_xml} does not cover North Pyongan (KP-03)")


def test_extract_of_the_wrong_region(previous, tmp_path, capsys):
    # A valid extract with a road and a market somewhere else entirely.
    elsewhere = write_elsewhere_extract(tmp_path / "elsewhere.osm")
    line = run_fails(["layers", "--osm", str(elsewhere), "--province", "border", "--out", str(previous)],
                     previous, capsys)
    assert "does not cover North Hamgyong (KP-09), Rason (KP-13), Ryanggang (KP-10), Jilin (CN-JL)" in line


def test_unknown_province(previous, fixture_xml, capsys):
    line = run_fails(["layers", "--osm", str(fixture_xml), "--province", "Narnia", "--out", str(previous)],
                     previous, capsys)
    assert line.startswith("hamji: error: unknown province 'Narnia'; use one of: KP-09 North Hamgyong")


def test_unwritable_output_folder(fixture_xml, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = main(["layers", "--osm", str(fixture_xml), "--out", str(blocker / "layers")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"hamji: error: cannot write to output folder {blocker / 'layers'}")
    assert blocker.read_text() == "not a folder"


def test_demo_refuses_a_real_extract_too(previous, fixture_xml, capsys):
    line = run_fails(["layers", "--demo", "--osm", str(fixture_xml), "--out", str(previous)], previous, capsys)
    assert "do not combine it with --osm" in line


def test_console_script_help_and_exit_code(tmp_path):
    for args in (["--help"], ["layers", "--help"], ["build", "--help"]):
        done = subprocess.run([sys.executable, "-m", "geo.cli", *args], capture_output=True, text=True)
        assert done.returncode == 0 and "usage: hamji" in done.stdout
    done = subprocess.run([sys.executable, "-m", "geo.cli", "layers", "--osm", str(tmp_path / "x.osm"),
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1


@pytest.fixture
def previous_routes(demo_routes, tmp_path):
    """An output folder holding a good layers and routes build."""
    out = tmp_path / "built"
    out.mkdir()
    for name in (settings.LAYERS_GPKG, settings.LAYERS_META, settings.ROUTES_GPKG):
        shutil.copy(demo_routes.parent / name, out / name)
    return out


def test_routes_unknown_crossing_penalty(previous_routes, capsys):
    line = run_fails(["routes", "--out", str(previous_routes), "--penalty", "atlantis=3"], previous_routes, capsys)
    assert line.startswith("hamji: error: --penalty atlantis=3: unknown crossing 'atlantis'; known crossings:")


def test_routes_speed_table_with_a_missing_class(previous_routes, tmp_path, capsys):
    speeds = tmp_path / "speeds.toml"
    speeds.write_text("[KP]\nmotorway = 50\n[CN]\nmotorway = 90\n")
    line = run_fails(["routes", "--out", str(previous_routes), "--speeds", str(speeds)], previous_routes, capsys)
    assert line == f"hamji: error: speed table {speeds}: [KP] has no speed for 'trunk'; add it (km/h)"


def test_routes_without_layers_says_run_layers_first(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["routes", "--out", str(empty)]) == 1
    assert "run 'hamji layers' (or 'hamji build') first" in capsys.readouterr().err


def test_routes_rerun_regenerates_the_same_answers(previous_routes):
    import geopandas as gpd

    before = gpd.read_file(previous_routes / settings.ROUTES_GPKG, layer="markets")
    assert main(["routes", "--out", str(previous_routes)]) == 0
    after = gpd.read_file(previous_routes / settings.ROUTES_GPKG, layer="markets")
    assert after.drop(columns="geometry").equals(before.drop(columns="geometry"))
