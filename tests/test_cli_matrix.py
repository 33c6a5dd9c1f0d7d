"""The bad-input matrix: the ``hamji`` command against everything a user can get wrong.

Each case runs a command-line entry point over a folder pair (layers, maps)
that already holds a complete build, and checks: one ``hamji: error:`` line
and exit 1 where the command must fail (or a flagged row where that is the
honest outcome), and every earlier output byte-for-byte intact.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from browser import MARKET_LAYERS_JS, chromium
from conftest import folder_args, made_once_per_run, snapshot, write_elsewhere_extract

from geo import cache, settings
from geo.cli import main
from geo.lock import LOCK_FILE
from geo.sources import fixture

DEMO = ["--demo"]
#: A non-demo build of the fixture names the provinces it draws.
FIXTURE_PROVINCES = [arg for code in fixture.province_codes() for arg in ("--province", code)]


def fails(args: list[str], root: Path, capsys) -> str:
    """Run ``hamji ARGS`` against ``root``; return its one error line; check nothing changed."""
    before = snapshot(root / "layers", root / "maps")
    code = main([*args, *folder_args(args[0], root)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("hamji:")]
    assert code == 1, err
    assert len(err) == 1, err
    assert err[0].startswith("hamji: error: ")
    assert snapshot(root / "layers", root / "maps") == before
    return err[0]


def variant(fixture_xml: Path, folder: Path, name: str, edit) -> Path:
    """The fixture extract with ``edit`` applied to its text."""
    target = folder / name
    target.write_text(edit(fixture_xml.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def unlabelled(text: str) -> str:
    """The fixture as if it were a real extract: no ``hamji:synthetic`` tags."""
    return re.sub(r'\s*<tag k="hamji:synthetic" v="yes"/>', "", text)


# -- must fail ------------------------------------------------------------------------------


def test_missing_extract(previous, tmp_path, capsys):
    line = fails(["build", "--osm", str(tmp_path / "nowhere.osm.pbf")], previous, capsys)
    assert "does not exist" in line and "--osm" in line


def test_empty_extract(previous, tmp_path, capsys):
    empty = tmp_path / "empty.osm.pbf"
    empty.touch()
    assert "is empty; download it again" in fails(["layers", "--osm", str(empty)], previous, capsys)


def test_not_an_extract(previous, tmp_path, capsys):
    text = tmp_path / "roads.csv"
    text.write_text("a,b\n")
    assert "is not an .osm.pbf, .osm or .osm.bz2 file" in fails(["layers", "--osm", str(text)], previous, capsys)


def test_extract_that_does_not_cover_a_requested_province(previous, fixture_xml, capsys):
    line = fails(["layers", "--osm", str(fixture_xml), "--province", "KP-14"], previous, capsys)
    assert line.startswith(f"hamji: error: the extract {fixture_xml} does not cover Nampo (KP-14)")
    assert line.endswith("leave it out of the provinces [--province]")


def test_demo_refuses_a_real_extract_too(previous, fixture_xml, capsys):
    line = fails(["layers", "--demo", "--osm", str(fixture_xml)], previous, capsys)
    assert "not from OSM extracts; give one or the other [--demo]" in line


def test_routes_unknown_crossing_penalty(previous, capsys):
    line = fails(["routes", "--penalty", "atlantis=3"], previous, capsys)
    assert line.startswith("hamji: error: border penalty for 'atlantis': unknown crossing; known crossings:")
    # The crossings by the names the maps show (issue 26), not by id.
    assert "Wonjong–Quanhe" in line and "wonjong_quanhe" not in line and "osm_node_" not in line
    assert line.endswith("[--penalty]")


def test_routes_without_layers_names_the_stage_to_run(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["routes", "--layers", str(empty)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"hamji: error: {empty / settings.LAYERS_GPKG} does not exist; the layers stage writes it: run that stage "
        "first ('hamji layers', or 'hamji build'; 'hamji build --demo' builds everything from the bundled demo data, "
        "with no network)"
    )


def test_reading_flags_are_not_writing_flags(previous, capsys):
    """``--out`` only writes: on ``maps``, which writes into --maps, it is refused, not taken as the input."""
    with pytest.raises(SystemExit) as stop:
        main(["maps", "--out", str(previous / "layers")])
    err = capsys.readouterr().err
    assert stop.value.code == 1 and err.count("\n") == 1, err  # one line, as every other error
    assert err == f"hamji: error: unrecognized arguments: --out {previous / 'layers'} (see hamji --help)\n"
    with pytest.raises(SystemExit):
        main(["routes", "--la", str(previous / "layers")])  # no abbreviations


def test_routes_write_where_out_says_reading_from_layers(previous, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    before = snapshot(previous / "layers")
    assert main(["routes", "--layers", str(previous / "layers"), "--out", str(elsewhere), "--force"]) == 0
    assert (elsewhere / settings.ROUTES_GPKG).is_file()
    assert snapshot(previous / "layers") == before
    built = gpd.read_file(previous / "layers" / settings.ROUTES_GPKG, layer="markets")
    again = gpd.read_file(elsewhere / settings.ROUTES_GPKG, layer="markets")
    assert again.drop(columns="geometry").equals(built.drop(columns="geometry"))


def test_console_script_help_and_exit_code(tmp_path):
    for args in (["--help"], ["layers", "--help"], ["build", "--help"]):
        done = subprocess.run([sys.executable, "-m", "geo.cli", *args], capture_output=True, text=True)
        assert done.returncode == 0 and "usage: hamji" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "geo.cli", "layers", "--osm", str(tmp_path / "x.osm"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stderr.count("\n") == 1


def test_truncated_pbf(previous, fixture_pbf, tmp_path, capsys):
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(fixture_pbf.read_bytes()[: fixture_pbf.stat().st_size // 2])
    line = fails(["build", "--osm", str(cut)], previous, capsys)
    assert line.startswith(f"hamji: error: cannot read OSM extract {cut}: ")
    assert line.endswith("; the file is corrupt or truncated, download it again")


def test_corrupt_pbf(previous, tmp_path, capsys):
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(os.urandom(4096))
    line = fails(["build", "--osm", str(junk)], previous, capsys)
    assert line.startswith(f"hamji: error: cannot read OSM extract {junk}: ")
    assert line.endswith("; the file is corrupt or truncated, download it again")


def test_a_damaged_large_pbf_is_one_line_too(previous, fixture_pbf, tmp_path, capsys, monkeypatch):
    """Read as a China-size file is (its kept nodes chosen first, by HamJi's own PBF reader)."""
    from geo.sources import extracts

    monkeypatch.setattr(extracts, "LARGE_EXTRACT_BYTES", 0)
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(fixture_pbf.read_bytes()[: fixture_pbf.stat().st_size // 2])
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(os.urandom(4096))
    for bad in (cut, junk):
        line = fails(["build", "--osm", str(bad)], previous, capsys)
        assert line.startswith(f"hamji: error: cannot read OSM extract {bad}: ")
        assert line.endswith("; the file is corrupt or truncated, download it again")


def test_valid_extract_of_the_wrong_region(previous, tmp_path, capsys):
    paris = write_elsewhere_extract(tmp_path / "paris.osm")
    line = fails(["build", "--osm", str(paris), "--province", "border"], previous, capsys)
    # Everything in it lies far outside the region, so the reader says so before any province is looked for.
    assert line == (
        f"hamji: error: OSM extract {paris} holds no roads, markets, boundaries or border controls in the HamJi "
        "region; check that it is an extract of North Korea or Jilin"
    )


def test_speed_table_with_a_missing_class(previous, tmp_path, capsys):
    speeds = tmp_path / "speeds.toml"
    speeds.write_text("[KP]\nmotorway = 50\ntrunk = 45\n[CN]\nmotorway = 90\n")
    # Checked before the layers stage replaces anything.
    line = fails(["build", *DEMO, "--speeds", str(speeds)], previous, capsys)
    assert "has no speed for 'primary'" in line


def test_unknown_province(previous, capsys):
    line = fails(["build", *DEMO, "--province", "Atlantis"], previous, capsys)
    assert "Atlantis" in line


def test_overpass_unreachable(previous, capsys, isolated_cache):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    line = fails(["build", "--overpass-url", f"http://127.0.0.1:{port}/api", "--province", "border"], previous, capsys)
    assert f"127.0.0.1:{port}" in line


def test_read_only_output_folder(built, tmp_path, capsys):
    """A folder the user cannot write to (a read-only mount: root ignores file permissions)."""
    source, mounted = tmp_path / "source", tmp_path / "readonly"
    shutil.copytree(built, source)
    mounted.mkdir()
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(mounted)], capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot make a read-only mount here: {done.stderr.decode().strip()}")
    else:
        shutil.rmtree(mounted)
        shutil.copytree(source, mounted)
        for folder in (mounted / "layers", mounted / "maps"):
            folder.chmod(0o555)
    try:
        line = fails(["build", *DEMO, "--force"], mounted, capsys)
        assert "cannot write to output folder" in line
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(mounted)], check=True)
        else:
            for folder in (mounted / "layers", mounted / "maps"):
                folder.chmod(0o755)


# -- honest outcomes --------------------------------------------------------------------------


def test_demo_then_real_build_leaves_no_demo_stamp(previous, fixture_xml, tmp_path, capsys):
    assert settings.DEMO_STAMP in (previous / "maps" / "overview.html").read_text()
    real = variant(fixture_xml, tmp_path, "real.osm", unlabelled)
    assert (
        main(
            [
                "build",
                "--osm",
                str(real),
                *FIXTURE_PROVINCES,
                "--out",
                str(previous / "layers"),
                "--maps",
                str(previous / "maps"),
            ]
        )
        == 0
    )
    assert "DEMO" not in capsys.readouterr().out
    for path in [*(previous / "layers").iterdir(), *(previous / "maps").glob("*.html")]:
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert settings.DEMO_STAMP not in text and "DEMO data" not in text, path.name
    assert "contributors (ODbL)" in (previous / "maps" / "overview.html").read_text()


def test_no_markets_in_the_extract(previous, fixture_xml, tmp_path, capsys):
    bare = variant(
        fixture_xml, tmp_path, "no-markets.osm", lambda t: t.replace('<tag k="amenity" v="marketplace"/>', "")
    )
    assert (
        main(
            [
                "build",
                "--osm",
                str(bare),
                *FIXTURE_PROVINCES,
                "--out",
                str(previous / "layers"),
                "--maps",
                str(previous / "maps"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "no markets" in out
    reach = pd.read_csv(previous / "layers" / settings.REACH_CSV).set_index("code")
    assert (reach["markets"] == 0).all()
    assert "No comparison: this build has no markets" in (previous / "layers" / settings.REACH_MD).read_text()
    assert 'class="hamji-market' not in (previous / "maps" / "overview.html").read_text()


def test_crossing_beyond_the_snap_threshold_is_a_flagged_row(built):
    crossings = gpd.read_file(built / "layers" / settings.ROUTES_GPKG, layer="crossings").set_index("crossing_id")
    # The fixture's Paektu Border Post sits on the border 2.7 km from any road.
    far = crossings[crossings["osm_name"] == "Paektu Border Post"].iloc[0]
    # Found only in OSM, so of unknown status: said first, then the road it lacks.
    assert not far["usable"] and far["reason"] == (
        "status unknown (found only in OpenStreetMap): routed only if taken as open; also no road within 2,000 m "
        "on one side of the border"
    )
    assert far["markets_served"] == 0
    assert (
        "; besides, no road within 2,000 m on one side of the border" in (built / "maps" / "overview.html").read_text()
    )


def test_osm_name_with_html_and_script(previous, fixture_xml, tmp_path):
    evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`${window.__pwned=3}`'
    escaped = evil.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    # The Hoeryong market's Korean name, as an OSM mapper could have typed it.
    extract = variant(fixture_xml, tmp_path, "evil.osm", lambda t: t.replace('v="회령시장"', f'v="{escaped}"', 1))
    assert escaped in extract.read_text()
    assert (
        main(
            [
                "build",
                "--osm",
                str(extract),
                *FIXTURE_PROVINCES,
                "--out",
                str(previous / "layers"),
                "--maps",
                str(previous / "maps"),
            ]
        )
        == 0
    )
    with chromium() as visit:
        seen = visit(previous / "maps" / "overview.html")
        assert seen.js_errors == []
        assert seen.page.evaluate("window.__pwned") is None
        tips = seen.page.evaluate(
            "() => { " + MARKET_LAYERS_JS + " return marketLayers().map(m => m.getTooltip().getContent()); }"
        )
        assert any("&#60;script&#62;" in tip for tip in tips)


# -- interrupted builds -------------------------------------------------------------------------


def _build(extract: Path, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geo.cli",
            "build",
            "--osm",
            str(extract),
            *FIXTURE_PROVINCES,
            "--out",
            str(root / "layers"),
            "--maps",
            str(root / "maps"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _same_outputs(a: Path, b: Path) -> None:
    for name in (settings.LAYERS_GPKG, settings.ROUTES_GPKG):
        for layer in gpd.list_layers(a / "layers" / name)["name"]:
            left = gpd.read_file(a / "layers" / name, layer=layer)
            right = gpd.read_file(b / "layers" / name, layer=layer)
            pd.testing.assert_frame_equal(left, right, obj=f"{name}:{layer}")
    # The reach table names the files it was made from by their digests, and GeoPackages carry the time
    # they were written: every other cell is the same.
    made_from = ["made_from_layers", "made_from_routes"]
    left, right = (pd.read_csv(f / "layers" / settings.REACH_CSV).drop(columns=made_from) for f in (a, b))
    pd.testing.assert_frame_equal(left, right)
    assert (a / "layers" / settings.REACH_MD).read_bytes() == (b / "layers" / settings.REACH_MD).read_bytes()
    pages = sorted(p.name for p in (a / "maps").glob("*.html"))
    assert pages == sorted(p.name for p in (b / "maps").glob("*.html")) and len(pages) == 4
    for name in pages:
        assert (a / "maps" / name).read_bytes() == (b / "maps" / name).read_bytes(), name


@pytest.fixture
def uninterrupted(fixture_xml, tmp_path_factory) -> tuple[Path, Path]:
    """The unlabelled fixture and a build of it left to finish: made once a run, read only by the tests."""
    with made_once_per_run(tmp_path_factory, "uninterrupted") as (folder, made):
        extract, reference = folder / "real.osm", folder / "reference"
        if not made:
            variant(fixture_xml, folder, "real.osm", unlabelled)
            assert _build(extract, reference).wait(timeout=300) == 0
    return extract, reference


@pytest.mark.parametrize("kill_when", ["layers written", "routes written"])
def test_interrupted_build_reruns_to_the_same_outputs(uninterrupted, tmp_path, kill_when):
    extract, reference = uninterrupted
    interrupted = tmp_path / "interrupted"
    name = settings.LAYERS_GPKG if kill_when == "layers written" else settings.ROUTES_GPKG
    process = _build(extract, interrupted)
    deadline = time.monotonic() + 120
    # The run writes into its staging folder (geo.staging); kill it once the file is there.
    while not list(interrupted.glob(f"layers/.hamji-tmp-*-stage/{name}")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not (interrupted / "maps" / "index.html").exists(), "killed too late to test"
    assert not (interrupted / "layers" / name).exists(), "a killed run put an output in place"
    assert _build(extract, interrupted).wait(timeout=300) == 0
    _same_outputs(reference, interrupted)
    leftovers = [
        p
        for p in (interrupted / "layers").iterdir()
        if p.name.startswith(".") and p.name not in (cache.RECORD, LOCK_FILE)
    ]
    assert leftovers == []


def test_temporary_files_of_a_killed_write_are_swept(tmp_path):
    """What a killed run left (HamJi's temporary marker, a dead pid) goes; a user's own hidden files stay."""
    from geo import io

    (tmp_path / ".hamji-tmp-999999999-k1ll3d-hamji_layers.meta.json").write_text("half a file")
    (tmp_path / ".hamji-tmp-999999999-k1ll3d-stage").mkdir()
    (tmp_path / ".hamji-tmp-999999999-k1ll3d-stage" / "x").write_text("a killed run's staging")
    users = [".hamji_reach.csv-backup", ".hamji_layers-mycopy.gpkg", ".hamji-tmp-notapid-mine"]
    for name in users:
        (tmp_path / name).write_text("the user's own")
    io.ensure_writable(tmp_path)
    io.write_json({"a": 1}, tmp_path / settings.LAYERS_META)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*users, settings.LAYERS_META])
