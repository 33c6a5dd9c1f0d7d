"""The hostile-input suite: everything a careless user or an attacker can feed the ``hamji`` command.

Every case runs ``hamji`` as its own process (as a user would) against a
folder pair that already holds a complete demo build, and checks: the exit
code, exactly one line on stderr (``hamji: error: …``), no traceback, and
every earlier output byte-for-byte as it was. Cases where failing would be
wrong (hostile names, a damaged cache record) check what was written instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ENV, digest, folder_args, hamji, refused, snapshot
from fake_overpass import FakeOverpass

from geo import settings
from geo.sources import fixture
from geo.staging import JOURNAL

# -- speed tables ------------------------------------------------------------------------------

SPEED_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "track")


def speed_table(primary: str = "40", factor: str = "0.6") -> str:
    rows = "".join(f"{k} = {primary if k == 'primary' else '30'}\n" for k in SPEED_CLASSES)
    return f"[KP]\n{rows}unpaved_factor = {factor}\n[CN]\n{rows}unpaved_factor = 0.6\n"


@pytest.mark.parametrize(
    "primary, factor, expected",
    [
        ("nan", "0.6", "[KP] primary (km/h) = nan; it must be a number more than 0 and at most 200"),
        ("inf", "0.6", "[KP] primary (km/h) = inf; it must be a number more than 0 and at most 200"),
        ("-40", "0.6", "[KP] primary (km/h) = -40; it must be a number more than 0 and at most 200"),
        ("0", "0.6", "[KP] primary (km/h) = 0; it must be a number more than 0 and at most 200"),
        ("1e308", "0.6", "[KP] primary (km/h) = 1e+308; it must be a number more than 0 and at most 200"),
        ("true", "0.6", "[KP] primary (km/h) = True; it must be a number"),
        ("40", "nan", "[KP] unpaved_factor = nan; it must be a number more than 0 and at most 1"),
    ],
)
def test_speed_table_numbers(previous, tmp_path, primary, factor, expected):
    table = tmp_path / "speeds.toml"
    table.write_text(speed_table(primary, factor))
    line = refused(previous, "routes", "--speeds", str(table), *folder_args("routes", previous))
    assert expected in line


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda t: t, "is a folder; give the file itself"),
        (lambda t: Path("/dev/zero"), "is not a regular file (a pipe or device?)"),
        (lambda t: _fifo(t / "speeds.toml"), "is not a regular file (a pipe or device?)"),
        (lambda t: t / "missing.toml", "does not exist; check the path [--speeds]"),
        (lambda t: (t / "bin.toml", (t / "bin.toml").write_bytes(b"\xff\xfe\x00garbage"))[0], "is not UTF-8 text"),
        (lambda t: (t / "bad.toml", (t / "bad.toml").write_text("[KP\nprimary = "))[0], "is not valid TOML"),
    ],
    ids=["folder", "dev-zero", "fifo", "missing", "not-utf8", "not-toml"],
)
def test_speed_table_paths(previous, tmp_path, make, expected):
    line = refused(previous, "routes", "--speeds", str(make(tmp_path)), *folder_args("routes", previous))
    assert line.startswith("hamji: error: speed table ") and expected in line


@pytest.mark.parametrize(
    "value, expected",
    [
        ("wonjong_quanhe=nan", "for 'wonjong_quanhe': nan is not a number of hours from 0 to 240 [--penalty]"),
        ("wonjong_quanhe=inf", "inf is not a number of hours from 0 to 240"),
        ("wonjong_quanhe=-1", "-1 is not a number of hours from 0 to 240"),
        ("wonjong_quanhe=1e308", "1e+308 is not a number of hours from 0 to 240"),
        ("wonjong_quanhe=two", "'two' is not a number of hours; write CROSSING=HOURS (its name or id) [--penalty]"),
        ("nowhere=1", "border penalty for 'nowhere': unknown crossing"),
    ],
)
def test_penalties(previous, value, expected):
    line = refused(previous, "routes", "--penalty", value, "--force", *folder_args("routes", previous))
    assert expected in line


# -- scenario files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "[speeds]\nscale = { KP = 1e308 }\n",
            "speeds.scale.KP = 1e+308; it must be a number more than 0 and at most 10",
        ),
        ("[speeds]\nscale = { KP = 0 }\n", "speeds.scale.KP = 0; it must be a number more than 0"),
        (
            "[speeds]\nscale = { KP = 9 }\n",
            "[KP] motorway (km/h) = 450.0; it must be a number more than 0 and at most 200",
        ),
        ("[speeds.KP]\nprimary = nan\n", "speeds.KP.primary = nan; it must be a number"),
        ("[penalties]\ndefault_h = inf\n", "penalties.default_h = inf; it must be a number at least 0 and at most 240"),
        ("[penalties]\ndefault_h = -2\n", "penalties.default_h = -2; it must be a number at least 0"),
        (
            '[[crossings.add]]\nid = "x"\nlon = 200.0\nlat = 42.0\nmode = "road"\n',
            "bad coordinates lon=200.0, lat=42.0",
        ),
        (
            '[[crossings.add]]\nid = "x"\nlon = 130.0\nlat = 95.0\nmode = "road"\n',
            "bad coordinates lon=130.0, lat=95.0",
        ),
        ('[[crossings.add]]\nid = "x"\nlon = nan\nlat = 42.0\nmode = "road"\n', "bad coordinates lon=nan"),
        (
            '[[crossings.add]]\nid = "x"\nlon = 126.0\nlat = 38.0\nmode = "road"\n',
            "km from the China–North Korea border",
        ),
        ('[crossings]\nclose = ["nowhere"]\n', "unknown crossing 'nowhere'"),
        ("name = " + json.dumps("x" * 100_000) + "\n", "name must be text of at most 200 characters"),
        ("name = 5\n", "name must be text of at most 200 characters"),
        ("colour = 'red'\n", "unknown key(s) colour"),
        ("name = 'unterminated\n", "is not valid TOML"),
    ],
    ids=[
        "scale-overflow",
        "scale-zero",
        "scale-past-max",
        "speed-nan",
        "penalty-inf",
        "penalty-negative",
        "lon-200",
        "lat-95",
        "lon-nan",
        "off-border",
        "unknown-crossing",
        "long-name",
        "name-not-text",
        "unknown-key",
        "bad-toml",
    ],
)
def test_scenario_contents(previous, tmp_path, body, expected):
    scenario = tmp_path / "evil.toml"
    scenario.write_text(body)
    line = refused(previous, "scenario", str(scenario), *folder_args("scenario", previous))
    assert expected in line
    assert not (previous / "layers" / "scenarios").exists()


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda t: (t / "s.toml").mkdir() or t / "s.toml", "is a folder"),
        (lambda t: Path("/dev/zero"), "is not a regular file (a pipe or device?)"),
        (lambda t: _fifo(t / "s.toml"), "is not a regular file (a pipe or device?)"),
        (lambda t: t / ("n" * 100_000 + ".toml"), "cannot be read (File name too long)"),
        (lambda t: t / "missing.toml", "does not exist"),
    ],
    ids=["folder", "dev-zero", "fifo", "long-file-name", "missing"],
)
def test_scenario_paths(previous, tmp_path, make, expected):
    line = refused(previous, "scenario", str(make(tmp_path)), *folder_args("scenario", previous))
    assert expected in line and len(line) < 1_000


# -- extracts and environment ------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda t: (t / "x.osm.pbf").mkdir() or t / "x.osm.pbf", "is a folder"),
        (lambda t: Path("/dev/zero"), "is not a regular file"),
        (lambda t: _fifo(t / "x.osm.pbf"), "is not a regular file"),
        (lambda t: (t / "h.osh.pbf", (t / "h.osh.pbf").write_bytes(b"x"))[0], "is a history or change file"),
        (lambda t: (t / "c.osc.gz", (t / "c.osc.gz").write_bytes(b"x"))[0], "is a history or change file"),
        (lambda t: t / ("n" * 100_000 + ".osm.pbf"), "(File name too long)"),
    ],
    ids=["folder", "dev-zero", "fifo", "history", "change", "long-name"],
)
def test_extract_paths(previous, tmp_path, make, expected):
    line = refused(previous, "layers", "--osm", str(make(tmp_path)), *folder_args("layers", previous))
    assert line.startswith("hamji: error: OSM extract ") and expected in line and len(line) < 1_000


def test_empty_hamji_osm_does_not_go_online(previous):
    line = refused(previous, "layers", *folder_args("layers", previous), env={"HAMJI_OSM": "::"})
    assert "HAMJI_OSM='::' names no extract" in line


# -- folders and files in the way --------------------------------------------------------------


def test_layers_file_that_is_a_folder(previous):
    gpkg = previous / "layers" / settings.LAYERS_GPKG
    gpkg.unlink()
    gpkg.mkdir()
    line = refused(previous, "routes", "--force", *folder_args("routes", previous))
    assert f"{gpkg} is a folder where HamJi keeps a file; move it away" in line


def test_routes_file_that_is_a_folder(previous):
    routes = previous / "layers" / settings.ROUTES_GPKG
    routes.unlink()
    routes.mkdir()
    line = refused(previous, "routes", "--force", *folder_args("routes", previous))
    assert f"{routes} is a folder where HamJi keeps a file; move it away" in line


def test_unwritable_overpass_cache(previous, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    line = refused(
        previous,
        "build",
        "--overpass-url",
        "http://127.0.0.1:9/api",
        *folder_args("build", previous),
        env={"HAMJI_CACHE_DIR": str(blocker / "cache")},
    )
    assert f"cannot write to output folder {blocker / 'cache'}" in line


def test_unwritable_maps_folder_stops_build_before_any_stage(previous, tmp_path):
    blocker = tmp_path / "maps-file"
    blocker.write_text("in the way")
    before = snapshot(previous / "layers")
    done = hamji("build", "--demo", "--force", "--out", str(previous / "layers"), "--maps", str(blocker / "maps"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "cannot write to output folder" in done.stderr
    assert snapshot(previous / "layers") == before


DAMAGED_RECORDS = ("{not json", "[]", '{"layers": 5}', '{"layers": {"key": 1, "outputs": []}}', "\xff\xfe")


def test_damaged_cache_record_just_reruns(previous):
    from geo import cache

    record = previous / "layers" / cache.RECORD
    assert cache._read(previous / "layers"), "the build recorded its stages"
    for text in DAMAGED_RECORDS:  # each read as no record at all: nothing is trusted, nothing fails
        record.write_text(text, encoding="latin-1")
        assert cache._read(previous / "layers") == {}, text
    # As a process: the damaged record names no stage, so every stage reruns; none is skipped.
    record.write_text('{"layers": 5}')
    done = hamji("build", "--demo", *folder_args("build", previous))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "skipped" not in done.stdout and "wrote" in done.stdout


# -- Overpass failing in every way a server can -------------------------------------------------


@pytest.fixture
def overpass():
    server = FakeOverpass(fixture.to_overpass_json(fixture.build())["elements"])
    yield server
    server.stop()


ROADS_QUERY = "['highway'="
OVERPASS_FAILURES = {
    "timeout-remark": (
        200,
        json.dumps({"elements": [], "remark": 'runtime error: Query timed out in "query" at line 3 after 26 seconds.'}),
        "application/json",
        "runtime error: Query timed out",
    ),
    "memory-remark": (
        200,
        json.dumps({"elements": [], "remark": "runtime error: Query run out of memory using about 2048 MB of RAM."}),
        "application/json",
        "run out of memory",
    ),
    "html-200": (
        200,
        "<html><body><h1>502 Bad Gateway</h1></body></html>",
        "text/html",
        "the answer is not JSON but text/html",
    ),
    "too-many": (429, "rate limited", "text/plain", "HTTP 429 (too many requests) after 2 retries"),
    "gateway-timeout": (504, "gateway timeout", "text/plain", "HTTP 504 (gateway timeout) after 2 retries"),
    "server-error": (500, "oops", "text/plain", "HTTP 500"),
    "empty-list": (200, "[]", "application/json", "JSON without an 'elements' list"),
    "malformed": (200, '{"elements": [', "application/json", "not valid JSON (expecting value at byte 14)"),
}


@pytest.mark.parametrize("case", list(OVERPASS_FAILURES))
def test_overpass_failures(previous, overpass, tmp_path, case):
    status, body, kind, expected = OVERPASS_FAILURES[case]
    overpass.failure = (status, body.encode(), kind, ROADS_QUERY)
    cache = tmp_path / "cache"
    line = refused(
        previous,
        "layers",
        "--overpass-url",
        overpass.url,
        "--province",
        "KP-13",
        *folder_args("layers", previous),
        env={"HAMJI_CACHE_DIR": str(cache)},
    )
    assert f"Overpass at {overpass.url} failed on the roads query: " in line and expected in line
    assert "try again later, or use a local extract" in line
    # Only good answers (the boundaries) were kept: no cache file holds the failure.
    for kept in cache.rglob("*.json"):
        assert "highway" not in kept.read_text() and "remark" not in kept.read_text()


def test_overpass_with_no_roads_is_an_error_unless_allowed(previous, overpass, tmp_path):
    overpass.failure = (200, json.dumps({"elements": []}).encode(), "application/json", ROADS_QUERY)
    env = {"HAMJI_CACHE_DIR": str(tmp_path / "cache")}
    args = ["layers", "--overpass-url", overpass.url, "--province", "KP-13", *folder_args("layers", previous)]
    assert "returned no roads for Rason" in refused(previous, *args, env=env)
    assert hamji(*args, "--allow-empty", env=env).returncode == 0


# -- two runs at once --------------------------------------------------------------------------


def _holder(folder: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the folder's lock for ``seconds``, as a running build would."""
    code = (
        f"import fcntl,os,time; fd=os.open({str(folder / '.hamji.lock')!r}, os.O_RDWR|os.O_CREAT); "
        "fcntl.flock(fd, fcntl.LOCK_EX); os.ftruncate(fd,0); os.write(fd, str(os.getpid()).encode()); "
        f"print('locked', flush=True); time.sleep({seconds})"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_run_names_the_process_holding_the_folder(previous):
    holder = _holder(previous / "layers", 60)
    try:
        line = refused(previous, "build", "--demo", "--force", *folder_args("build", previous))
        assert f"is being written by another hamji run (process {holder.pid})" in line and "--wait" in line
    finally:
        holder.kill()
        holder.wait()


def test_wait_queues_behind_the_other_run(previous):
    holder = _holder(previous / "maps", 3)
    start = time.monotonic()
    done = hamji("maps", "--force", "--wait", *folder_args("maps", previous))
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start >= 2.5
    holder.wait()


def test_sweep_leaves_a_live_runs_temporary_files(previous):
    folder = previous / "layers"
    live = folder / f".hamji-tmp-{os.getppid()}-abc-{settings.REACH_CSV}"  # pytest's parent: alive
    dead = folder / f".hamji-tmp-999999999-abc-{settings.REACH_CSV}"
    user = folder / f".{settings.REACH_CSV}-999999999-backup"  # the user's own, in the old temporary format
    for path in (live, dead, user):
        path.write_text("someone's")
    assert hamji("reach", "--force", *folder_args("reach", previous)).returncode == 0
    assert live.exists() and user.exists() and not dead.exists()


def test_two_builds_at_once_one_wins_cleanly(previous):
    args = [sys.executable, "-m", "geo.cli", "build", "--demo", "--force", *folder_args("build", previous)]
    runs = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)
    ]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 1]), results  # the second either queued after or was refused
    for code, err in results:
        assert "Traceback" not in err
        if code == 1:
            assert "is being written by another hamji run" in err and err.count("\n") == 1
    assert not [
        p
        for p in (previous / "maps").iterdir()
        if p.name.startswith(".") and p.name != ".hamji.lock" and p.name != ".hamji_cache.json"
    ]


# -- the disk fills, the user presses Ctrl-C ---------------------------------------------------


def test_full_disk_keeps_the_previous_file(built, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    layers = built / "layers"
    need = sum(p.stat().st_size for p in layers.iterdir() if p.is_file())
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={need + 200_000}", "tmpfs", str(small)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the full-disk case is not tested")
    try:
        shutil.copytree(layers, small / "layers")
        (small / "maps").mkdir()
        line = refused(small, "routes", "--force", *folder_args("routes", small))
        assert "the disk is full" in line and "previous hamji_routes.gpkg is unchanged" in line
        assert not [p for p in (small / "layers").iterdir() if p.name.startswith(".hamji_routes")]
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_ctrl_c_replaces_nothing(previous):
    before = snapshot(previous / "layers", previous / "maps")
    run = subprocess.Popen(
        [sys.executable, "-m", "geo.cli", "build", "--demo", "--force", *folder_args("build", previous)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    for line in run.stdout:  # interrupt once the layers are in place
        if line.startswith("wrote") and settings.LAYERS_GPKG in line:
            run.send_signal(signal.SIGINT)
            break
    run.stdout.read()
    err = run.stderr.read()
    assert run.wait(timeout=120) == 130
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("hamji: interrupted; no output was replaced")
    assert snapshot(previous / "layers", previous / "maps") == before


def test_a_ctrl_c_python_dropped_still_stops_the_commit(tmp_path, monkeypatch):
    # Python loses the KeyboardInterrupt a Ctrl-C raises inside a finaliser; the handler's record stops
    # the commit all the same (CI saw a build go on to exit 0 after a Ctrl-C once).
    from geo import io, staging

    monkeypatch.setattr(staging, "_INTERRUPTED", [])
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt), staging.interrupts_noted(), staging.transaction([tmp_path]) as run:
        io.write_text("new", run.staged_path(tmp_path / "a.txt"))
        try:  # as a finaliser would: the exception is swallowed, the signal is not forgotten
            staging.interrupt_handler(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass
    assert (tmp_path / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # The record lasts the block: a later transaction in the same process (a notebook's) commits.
    assert staging._INTERRUPTED == []
    with staging.transaction([tmp_path]) as run:
        io.write_text("newer", run.staged_path(tmp_path / "a.txt"))
    assert (tmp_path / "a.txt").read_text() == "newer"


# -- hostile text that must be shown, never run -------------------------------------------------

EVIL_SCENARIO = {
    "name": "calc {{ 7*191 }} cwd {{ lipsum.__globals__.os.getcwd() }} {# {% raw %}",
    "description": "</script><script>window.__pwned=1</script> ${window.__pwned=2} `x` {{ 7*191 }} "
    "<img src=x onerror=alert(1)> [click](javascript:alert(1)) ![t](http://127.0.0.1:9/t.png)\n"
    "[r]: javascript:alert(2)\nsee [r]",
}


def test_hostile_scenario_text_is_shown_not_run(previous, tmp_path):
    scenario = tmp_path / "evil.toml"
    scenario.write_text(
        "".join(f"{k} = {json.dumps(v)}\n" for k, v in EVIL_SCENARIO.items()) + "[penalties]\ndefault_h = 3.0\n"
    )
    done = hamji("scenario", str(scenario), *folder_args("scenario", previous))
    assert done.returncode == 0, done.stderr
    page = (previous / "maps" / "scenarios" / "evil.html").read_text()
    assert "1337" not in page and str(Path.cwd()) not in page
    assert "calc &#123;&#123; 7*191 &#125;&#125; cwd" in page
    # The Markdown summary, rendered as a Markdown viewer would, shows the text and makes no tag or link of it.
    import markdown

    summary = (previous / "layers" / "scenarios" / "evil" / "hamji_difference.md").read_text()
    html = markdown.markdown(summary)
    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "[click](javascript:alert(1))" in html
    # The name is shown as written: its "__globals__" was bold ("<strong>globals</strong>") in the heading.
    assert "<h1>Scenario calc {{ 7*191 }} cwd {{ lipsum.__globals__.os.getcwd() }} {# {% raw %} (evil)</h1>" in html


def test_hostile_osm_names_do_not_start_spreadsheet_formulas(previous, tmp_path):
    scenario = tmp_path / "slow.toml"
    scenario.write_text("[penalties]\ndefault_h = 3.0\n")
    assert hamji("scenario", str(scenario), *folder_args("scenario", previous)).returncode == 0
    table = pd.read_csv(previous / "layers" / "scenarios" / "slow" / "hamji_difference_markets.csv")
    hamhung = fixture.HOSTILE_MARKET_NAMES["Hamhung Market"]
    assert "'" + hamhung in set(table["name"]) and hamhung not in set(table["name"])
    text = [table[c].astype(str) for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    assert not any(column.str.match(r"^[=+\-@\t\r]").any() for column in text)


def test_non_ascii_scenario_names_do_not_collide(previous, tmp_path):
    keys = []
    for stem in ("평양", "원산"):
        path = tmp_path / f"{stem}.toml"
        path.write_text("[penalties]\ndefault_h = 3.0\n")
        done = hamji("scenario", str(path), *folder_args("scenario", previous))
        assert done.returncode == 0, done.stderr
        keys.append(sorted(p.name for p in (previous / "layers" / "scenarios").iterdir() if not p.name.startswith(".")))
    assert len(keys[-1]) == 2 and keys[-1][0].startswith("scenario-")
    for folder in (previous / "layers" / "scenarios").iterdir():
        assert folder.stat().st_mode & 0o777 == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_gazetteer_crossings_without_osm_features_still_route(previous, fixture_xml, tmp_path):
    import re

    bare = tmp_path / "bare.osm"
    bare.write_text(re.sub(r'\s*<tag k="(barrier|bridge)" v="[^"]*"/>', "", fixture_xml.read_text()))
    provinces = [a for code in fixture.province_codes() for a in ("--province", code)]
    done = hamji("build", "--osm", str(bare), *provinces, *folder_args("build", previous))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "warning: crossing Hoeryong–Sanhe left out of routing: no road within 2,000 m" in done.stdout


def test_broken_market_ring_is_repaired_and_reported(previous, tmp_path):
    data = fixture.build()
    way = next(w for w in data.ways if w["tags"].get("name:en") == "Rajin Market")
    a, b, c, d, _ = way["nodes"]
    way["nodes"] = [a, c, b, d, a]  # a bow tie
    extract = fixture.write_osm_xml(tmp_path / "bowtie.osm", data)
    provinces = [arg for code in fixture.province_codes() for arg in ("--province", code)]
    done = hamji("layers", "--osm", str(extract), *provinces, *folder_args("layers", previous))
    assert done.returncode == 0, done.stderr
    assert "1 market polygon(s) had broken rings and were repaired" in done.stdout
    import geopandas as gpd

    markets = gpd.read_file(previous / "layers" / settings.LAYERS_GPKG, layer="markets").set_index("name_en")
    # Two triangles, each a quarter of the 150 m square.
    assert markets.loc["Rajin Market", "geometry_repaired"]
    assert markets.loc["Rajin Market", "area_m2"] == pytest.approx(150 * 150 / 2, rel=0.01)


# -- all or nothing: a failed run replaces nothing, and touches only its own files --------------


def test_lock_that_is_a_link_is_refused_and_its_target_untouched(previous, tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("the user's data")
    lock = previous / "layers" / ".hamji.lock"
    lock.unlink(missing_ok=True)  # a finished run removes the lock file it made
    lock.symlink_to(victim)
    line = refused(previous, "reach", "--force", *folder_args("reach", previous))
    assert "is a link, not HamJi's lock file" in line
    assert victim.read_text() == "the user's data"


def test_output_that_is_a_link_is_replaced_never_written_through(previous, tmp_path):
    victim = tmp_path / "precious.csv"
    victim.write_text("the user's data")
    reach = previous / "layers" / settings.REACH_CSV
    reach.unlink()
    reach.symlink_to(victim)
    assert hamji("reach", "--force", *folder_args("reach", previous)).returncode == 0
    assert victim.read_text() == "the user's data"
    assert reach.is_file() and not reach.is_symlink() and reach.read_text().startswith("code,")


@pytest.mark.parametrize(
    "failing",
    [
        # Each breaks one later stage of build after the earlier stages have run.
        ("--penalty", "osm_node_999=4"),  # routes: an OSM-only crossing id, known only once the layers exist
        ("--people-areas", "AREAS"),  # reach: areas whose people are more than every province holds
    ],
    ids=["routes", "reach"],
)
def test_build_failing_at_a_later_stage_replaces_nothing(previous, tmp_path, failing):
    areas = tmp_path / "areas.geojson"
    ring = [[129.0, 42.0], [130.0, 42.0], [130.0, 43.0], [129.0, 42.0]]
    areas.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"population": "lots"},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    args = [a.replace("AREAS", str(areas)) for a in failing]
    refused(previous, "build", "--demo", "--province", "border", "--force", *args, *folder_args("build", previous))
    assert not list(previous.glob("*/.hamji-tmp-*"))


def test_hand_copied_routes_from_another_run_are_refused(previous, tmp_path):
    other = tmp_path / "other"
    done = hamji("build", "--demo", "--province", "border", *folder_args("build", other))
    assert done.returncode == 0, done.stderr
    shutil.copy(other / "layers" / settings.ROUTES_GPKG, previous / "layers" / settings.ROUTES_GPKG)
    for command in ("maps", "reach", "scenario"):
        extra = ["wonjong_closed"] if command == "scenario" else ["--force"]
        line = refused(previous, command, *extra, *folder_args(command, previous))
        assert "belong to different runs" in line and settings.ROUTES_GPKG in line


def test_a_commit_killed_half_way_is_finished_by_the_next_run(previous):
    from geo import staging

    folder = previous / "layers"
    staged = folder / ".hamji-tmp-999999999-abc-stage"
    staged.mkdir()
    new_reach = (folder / settings.REACH_MD).read_text() + "\nfrom the killed run\n"
    (staged / settings.REACH_MD).write_text(new_reach)
    # A journal asking to move things out of the folder, or from elsewhere, is not obeyed.
    moves = [[f"{staged.name}/{settings.REACH_MD}", settings.REACH_MD], ["../x", "y"], ["/etc/passwd", "z"]]
    (folder / staging.JOURNAL).write_text(json.dumps({"pid": 999999999, "moves": moves, "removals": ["../../a"]}))
    # routes is current (skipped) and never writes the reach summary: what it holds now, recovery put there.
    assert hamji("routes", *folder_args("routes", previous)).returncode == 0
    assert (folder / settings.REACH_MD).read_text() == new_reach
    assert not (folder / staging.JOURNAL).exists() and not staged.exists()
    assert not (folder / "y").exists() and not (folder / "z").exists()


# -- failures injected into build: a stage fails, the disk fills, the process is killed ---------

#: What the injected builds change, so that a failure replacing anything would show: another penalty.
CHANGED_BUILD = ("build", "--demo", "--force", "--penalty", "Wonjong–Quanhe=5")


def hamji_with(patch: str, *args: str) -> subprocess.CompletedProcess:
    """``hamji ARGS`` as its own process, after the Python statements ``patch`` (an injected failure) ran."""
    code = f"import sys\n{patch}\nfrom geo.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL
    )


def after_stage(stage: str, then: str) -> str:
    """A patch running ``stage`` for real (it must write files) and then doing ``then``."""
    return (
        "import os, signal, geo.pipeline\n"
        "from geo.errors import OutputError\n"
        f"real = geo.pipeline.{stage}_stage\n"
        "def failing(*args, **kwargs):\n"
        "    run = real(*args, **kwargs)\n"
        "    assert run.written, 'the stage wrote nothing: the injected failure would prove nothing'\n"
        f"    {then}\n"
        f"geo.pipeline.{stage}_stage = failing\n"
    )


def settled(*folders: Path) -> dict[str, str]:
    """:func:`snapshot` without the temporary files a killed run leaves (swept by the next run)."""
    return {k: v for k, v in snapshot(*folders).items() if "/.hamji-tmp-" not in f"/{k}"}


def leftovers(root: Path) -> list[str]:
    return sorted(str(p) for p in root.glob("*/.hamji-*") if p.name not in (".hamji.lock", ".hamji_cache.json"))


BUILD_STAGES = ["layers", "routes", "reach", "supply", "maps"]


@pytest.mark.parametrize("stage", BUILD_STAGES)
def test_build_failing_after_each_stage_replaces_nothing(previous, stage):
    before = snapshot(previous / "layers", previous / "maps")
    fail = f"raise OutputError('injected failure after the {stage} stage wrote ' + str(run.written[0]))"
    patch = after_stage(stage, fail)
    done = hamji_with(patch, *CHANGED_BUILD, *folder_args("build", previous))
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith(f"hamji: error: injected failure after the {stage} stage wrote {previous}/")
    assert snapshot(previous / "layers", previous / "maps") == before
    assert leftovers(previous) == []


@pytest.mark.parametrize("stage", ["supply", "maps"])
def test_build_with_a_bug_in_a_late_stage_replaces_nothing(previous, stage):
    before = snapshot(previous / "layers", previous / "maps")
    bug = after_stage(stage, "raise RuntimeError('injected bug')")
    done = hamji_with(bug, *CHANGED_BUILD, *folder_args("build", previous))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("hamji: internal error: RuntimeError: injected bug; no earlier output was changed")
    assert snapshot(previous / "layers", previous / "maps") == before


@pytest.mark.parametrize("stage", BUILD_STAGES)
def test_build_killed_after_each_stage_replaces_nothing(previous, stage):
    before = snapshot(previous / "layers", previous / "maps")
    kill = after_stage(stage, "os.kill(os.getpid(), signal.SIGKILL)")
    done = hamji_with(kill, *CHANGED_BUILD, *folder_args("build", previous))
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert settled(previous / "layers", previous / "maps") == before
    assert list(previous.glob("*/.hamji-tmp-*-stage")), "the kill left no staging folder: it came too late"
    # The next run finds every output current (nothing was replaced) and sweeps what the killed one left.
    again = hamji("build", "--demo", *folder_args("build", previous))
    assert again.returncode == 0, again.stderr
    assert snapshot(previous / "layers", previous / "maps") == before
    assert leftovers(previous) == []


def _full_disk_at(name: str) -> str:
    """A patch making the write of the file ``name`` fail as on a full disk (after its bytes went to disk)."""
    return (
        "import errno, geo.io\n"
        "real = geo.io._put_in_place\n"
        "def full(tmp, path):\n"
        f"    if path.name == {name!r}:\n"
        "        raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "    real(tmp, path)\n"
        "geo.io._put_in_place = full\n"
    )


@pytest.mark.parametrize("name", [settings.REACH_CSV, settings.SUPPLY_MD, "index.html"])
def test_full_disk_during_a_build_replaces_nothing(previous, name):
    before = snapshot(previous / "layers", previous / "maps")
    done = hamji_with(_full_disk_at(name), *CHANGED_BUILD, *folder_args("build", previous))
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    folder = "maps" if name.endswith(".html") else "layers"
    assert lines[0] == (
        f"hamji: error: the disk is full: {previous / folder / name} could not be written, and the previous "
        f"{name} is unchanged; free some space and run again"
    )
    assert snapshot(previous / "layers", previous / "maps") == before
    assert leftovers(previous) == []


def _at_journal(number: int, then: str) -> str:
    """A patch doing ``then`` instead of writing the ``number``-th commit journal (1: maps/, 2: layers/)."""
    return (
        "import errno, os, signal, geo.io, geo.staging\n"
        "real, count = geo.io.write_json, []\n"
        "def journal(data, path):\n"
        "    if path.name == geo.staging.JOURNAL:\n"
        "        count.append(path)\n"
        f"        if len(count) == {number}:\n"
        f"            {then}\n"
        "    return real(data, path)\n"
        "geo.io.write_json = journal\n"
    )


@pytest.mark.parametrize("number", [1, 2])
def test_full_disk_while_recording_the_commit_replaces_nothing(previous, number):
    """The disk fills as the commit's journals are written: the one already written must not survive."""
    before = snapshot(previous / "layers", previous / "maps")
    full = "raise geo.io._failed_write(path, OSError(errno.ENOSPC, 'No space left on device'))"
    done = hamji_with(_at_journal(number, full), *CHANGED_BUILD, *folder_args("build", previous))
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("hamji: error: the disk is full: the new outputs could not be put in place")
    assert snapshot(previous / "layers", previous / "maps") == before and leftovers(previous) == []
    # Nothing is left for the next run to finish: it changes nothing either.
    assert hamji("reach", *folder_args("reach", previous)).returncode == 0
    assert snapshot(previous / "layers", previous / "maps") == before


def test_kill_before_the_commit_is_decided_is_discarded(previous):
    """Killed after maps/'s journal was written, before layers/'s (the decision): the next run discards it."""
    before = snapshot(previous / "layers", previous / "maps")
    kill = "os.kill(os.getpid(), signal.SIGKILL)"
    done = hamji_with(_at_journal(2, kill), *CHANGED_BUILD, *folder_args("build", previous))
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert (previous / "maps" / JOURNAL).exists() and not (previous / "layers" / JOURNAL).exists()
    assert hamji("maps", *folder_args("maps", previous)).returncode == 0  # locks maps/ only
    assert hamji("reach", *folder_args("reach", previous)).returncode == 0  # locks layers/ only
    assert snapshot(previous / "layers", previous / "maps") == before
    assert leftovers(previous) == []


def _kill_at_apply(number: int) -> str:
    """A patch killing the process as the commit starts its ``number``-th folder (1: layers/, 2: maps/)."""
    return (
        "import os, signal, geo.staging\n"
        "real, count = geo.staging._apply, []\n"
        "def apply(folder, moves, removals):\n"
        "    count.append(folder)\n"
        f"    if len(count) == {number}:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(folder, moves, removals)\n"
        "geo.staging._apply = apply\n"
    )


@pytest.mark.parametrize(
    "number, then",
    [
        (1, ("routes", "--penalty", "Wonjong–Quanhe=5")),  # nothing moved yet; layers/ (the decision) is locked next
        (2, ("maps",)),  # layers/ done, maps/ not; maps/ alone is locked next
    ],
    ids=["before-any-folder-then-layers", "between-the-folders-then-maps"],
)
def test_kill_during_the_commit_is_finished_in_both_folders(previous, number, then):
    done = hamji_with(_kill_at_apply(number), *CHANGED_BUILD, *folder_args("build", previous))
    assert done.returncode == -signal.SIGKILL, done.stderr
    promised = {}  # what each journal promises to put in place: the killed run's outputs
    for folder in ("layers", "maps"):
        journal = json.loads((previous / folder / JOURNAL).read_text())
        for staged, target in journal["moves"]:
            source = previous / folder / staged
            promised[f"{folder}/{target}"] = digest(source) if source.exists() else digest(previous / folder / target)
    assert f"layers/{settings.ROUTES_GPKG}" in promised and "maps/overview.html" in promised
    again = hamji(then[0], *then[1:], *folder_args(then[0], previous))
    assert again.returncode == 0, again.stderr
    now = snapshot(previous / "layers", previous / "maps")
    assert {name: now[name] for name in promised} == promised
    assert not list(previous.glob(f"*/{JOURNAL}"))
    # Layers, routes, reach and maps are one run's: the stages reading them accept them as they are.
    for command in ("reach", "maps"):
        assert hamji(command, *folder_args(command, previous)).returncode == 0
    assert leftovers(previous) == []


# -- build checks what it can before anything: a typo costs a moment and writes nothing -----------


@pytest.mark.parametrize(
    "args, expected",
    [
        (
            ("--penalty", "wonjong=4"),
            "border penalty for 'wonjong': no crossing has that name or id; did you mean "
            "'Wonjong–Quanhe'? (write CROSSING=HOURS with a crossing's name as the maps show it, or its id) "
            "[--penalty]",
        ),
        (("--penalty", "wonjong-quanh=4"), "did you mean 'Wonjong–Quanhe'?"),
        (("--penalty", "hyesan=2"), "did you mean 'Hyesan–Changbai'?"),
        (
            ("--penalty", "Sinuiju–Dandong (road)=3"),
            "Sinuiju–Dandong (road) is in North Pyongan (KP-03), which this build does not read; add --province "
            "KP-03 or leave the penalty out",
        ),
        (("--penalty", "Wonjong–Quanhe=two"), "'two' is not a number of hours"),
        (("--penalty", "Wonjong–Quanhe=300"), "300 is not a number of hours from 0 to 240"),
        (("--province", "North Hamgyung"), "unknown province 'North Hamgyung'; did you mean North Hamgyong or"),
    ],
    ids=["prefix", "hyphen-typo", "town-only", "province-not-built", "hours-text", "hours-range", "province-typo"],
)
def test_build_refuses_a_typo_before_it_locks_or_loads_anything(tmp_path, args, expected):
    # In-process, to see what was imported: the check runs before geopandas (seconds to load) is.
    code = (
        "import sys\nfrom geo.cli import main\ncode = main(sys.argv[1:])\n"
        "print('geopandas loaded' if 'geopandas' in sys.modules else 'geopandas not loaded')\nsys.exit(code)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, "build", "--demo", "--province", "border", *args, *folder_args("build", tmp_path)],
        capture_output=True,
        text=True,
        env=ENV,
    )
    elapsed = time.monotonic() - started
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and len(lines) == 1 and expected in lines[0], done.stderr
    assert done.stdout.strip() == "geopandas not loaded"
    assert sorted(tmp_path.iterdir()) == []  # no folder, no lock file
    assert elapsed < 20, elapsed  # about 0.9 s on a busy 2-core machine; a build reaching its layers takes more


def test_build_checks_a_crossing_found_only_in_osm_against_the_layers(previous):
    """An OSM-only crossing's id cannot be known before the layers exist: it is checked when routing."""
    args = ["build", "--demo", "--force", "--penalty", "osm_node_999=2"]
    line = refused(previous, *args, *folder_args("build", previous))
    assert "border penalty for 'osm_node_999': unknown crossing; known crossings: " in line


def test_sensitivity_refuses_a_mistyped_scenario_before_running_the_others(previous):
    args = ["sensitivity", "--scenario", "kp_main_roads_minus30", "--scenario", "wonjong_closd"]
    line = refused(previous, *args, *folder_args("sensitivity", previous))
    assert "scenario 'wonjong_closd' is neither a file nor a shipped scenario" in line
    assert "did you mean wonjong_closed?" in line
    assert not (previous / "layers" / "scenarios").exists()


# -- FIFOs where HamJi keeps its bookkeeping: read without blocking, or not at all ------------------


def _fifo_journal(root: Path) -> str:
    os.mkfifo(root / "layers" / JOURNAL)
    return "reach"


def _journal_deciding_by_a_fifo(root: Path) -> str:
    os.mkfifo(root / "fifo")
    record = {"commit": "x", "moves": [], "decided_by": str(root / "fifo")}
    (root / "maps" / JOURNAL).write_text(json.dumps(record))
    return "maps"


def _fifo_cache_record(root: Path) -> str:
    (root / "layers" / ".hamji_cache.json").unlink()
    os.mkfifo(root / "layers" / ".hamji_cache.json")
    return "reach"


def _fifo_sensitivity_summary(root: Path) -> str:
    os.mkfifo(root / "layers" / settings.SENSITIVITY_MD)  # index.html reads it
    return "maps"


@pytest.mark.parametrize(
    "make", [_fifo_journal, _journal_deciding_by_a_fifo, _fifo_cache_record, _fifo_sensitivity_summary]
)
def test_a_fifo_in_place_of_hamjis_bookkeeping_does_not_hang(previous, make):
    command = make(previous)
    done = hamji(command, "--force", *folder_args(command, previous), timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert not list(previous.glob(f"*/{JOURNAL}"))


# -- a user's own folders beside the outputs are theirs: never staged, copied, replaced or read -----


def test_a_users_folder_and_a_link_to_one_beside_the_outputs_are_left_alone(previous, tmp_path):
    big = tmp_path / "big-disk"
    (big / "deep").mkdir(parents=True)
    (big / "deep" / "survey.csv").write_text("the user's data")
    os.mkfifo(big / "pipe")  # staging it would fail ("is a named pipe"), reading it would hang
    (previous / "layers" / "data").symlink_to(big)
    (previous / "maps" / "notes").mkdir()
    (previous / "maps" / "notes" / "todo.txt").write_text("mine")
    done = hamji("build", "--demo", "--force", "--penalty", "Wonjong–Quanhe=5", *folder_args("build", previous))
    assert done.returncode == 0, done.stderr
    assert (previous / "layers" / "data").is_symlink() and os.readlink(previous / "layers" / "data") == str(big)
    assert sorted(p.name for p in big.rglob("*")) == ["deep", "pipe", "survey.csv"]
    assert (previous / "maps" / "notes" / "todo.txt").read_text() == "mine"
    assert leftovers(previous) == []


def test_a_linked_scenarios_folder_is_replaced_never_written_through(previous, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("the user's")
    (previous / "layers" / "scenarios").symlink_to(elsewhere)
    done = hamji("scenario", "wonjong_closed", *folder_args("scenario", previous))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in elsewhere.iterdir()] == ["keep.txt"]
    scenarios = previous / "layers" / "scenarios"
    assert scenarios.is_dir() and not scenarios.is_symlink()
    assert (scenarios / "wonjong_closed" / settings.ROUTES_GPKG).is_file()


def test_outside_text_cannot_drive_the_terminal(previous, tmp_path):
    """A scenario's name is printed in its summary: escape sequences and bidi overrides are shown, not obeyed."""
    scenario = tmp_path / "ansi.toml"
    scenario.write_text('name = "clear\\u001b[2J\\u001b]0;pwned\\u0007 flip\\u202eabc"\n[penalties]\ndefault_h = 3.0\n')
    done = hamji("scenario", str(scenario), *folder_args("scenario", previous))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\u202e" not in done.stdout
    assert "clear\\u001b[2J" in done.stdout and "flip\\u202eabc" in done.stdout
