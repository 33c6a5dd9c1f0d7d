"""Shared test fixtures: the mini-HamJi extract, a demo build, real reference data."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import osmium
import pytest

from geo import settings
from geo.pipeline import layers_stage
from geo.sources import fixture

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_xdist_auto_num_workers(config) -> int:
    """One worker more than the cores, at most four: a worker waits on a ``hamji`` process or on Chromium for
    part of its time. On 2 cores, from a clean clone: 656 s on 2 workers, 618 s on 3; 4 gave 579 s in one run
    and 679 s in another (the suite is bound by the CPU, about 1,000 s of it, so more workers add little)."""
    return min(4, (os.cpu_count() or 1) + 1)


@contextmanager
def made_once_per_run(tmp_path_factory, name: str) -> Iterator[tuple[Path, bool]]:
    """A folder every xdist worker of this run shares, locked while held; and whether it was already made.

    For inputs that take long to make and are read only (a generated extract): made by the first worker that
    needs them, not once per worker. Without xdist the run's own temporary folder holds it.
    """
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"shared-{name}"
    folder.mkdir(exist_ok=True)
    with open(folder.parent / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = folder.parent / f"shared-{name}.made"  # beside it: the folder holds only what was made
        try:
            made = marker.exists()
            yield folder, made
            marker.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real reference geography in ../shared/data (present in CI, absent in a user's clone)."""
    if not (SHARED_DATA / "provinces_naturalearth.geojson").exists():
        pytest.skip(
            f"real reference geography not found at {SHARED_DATA} (it sits beside the repository "
            "in CI; a user's clone does not have it)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixture_xml(tmp_path_factory) -> Path:
    """The mini-HamJi fixture written as an .osm XML extract."""
    return fixture.write_osm_xml(tmp_path_factory.mktemp("osm") / "mini-hamji.osm")


@pytest.fixture(scope="session")
def fixture_pbf(fixture_xml, tmp_path_factory) -> Path:
    """The same fixture converted to .osm.pbf with libosmium (as a Geofabrik download would be)."""
    target = tmp_path_factory.mktemp("pbf") / "mini-hamji.osm.pbf"
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(fixture_xml)):
            writer.add(obj)
    return target


@pytest.fixture(scope="session")
def demo_gpkg(tmp_path_factory) -> Path:
    """A demo build (hamji build --demo) into a fresh folder; returns the GeoPackage."""
    out = tmp_path_factory.mktemp("demo-layers")
    layers_stage(demo=True, out_dir=out)
    return out / settings.LAYERS_GPKG


@pytest.fixture(scope="session")
def national(tmp_path_factory):
    """Layers of the generated national-size extract (116,000 km of roads, 450 markets; synthetic)."""
    import geo
    from benchmarks.pipeline import country_extract, write_pbf

    with made_once_per_run(tmp_path_factory, "national") as (folder, made):
        extract = folder / "national.osm.pbf"
        if not made:  # 11 s to generate and write: once a run, not once a worker
            write_pbf(country_extract()[0], extract)
    return geo.layers_from_extracts([extract], fixture.province_codes())


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """An empty osmnx HTTP cache, so a test never answers from another's responses."""
    monkeypatch.setattr(settings, "OVERPASS_CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def snapshot(*folders: Path) -> dict[str, str]:
    """SHA-256 of every file below ``folders`` (the run lock's pid record aside)."""
    from geo.lock import LOCK_FILE

    return {
        str(p.relative_to(folder.parent)): digest(p)
        for folder in folders
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and p.name != LOCK_FILE
    }


def digest(path: Path) -> str:
    """SHA-256 of a file, to prove a failed build left it byte-for-byte intact."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def demo_routes(demo_gpkg) -> Path:
    """The routes stage run on the demo layers; returns its GeoPackage."""
    from geo.pipeline import routes_stage

    routes_stage(layers_dir=demo_gpkg.parent)
    return demo_gpkg.parent / settings.ROUTES_GPKG


@pytest.fixture(scope="session")
def demo_reach(demo_routes) -> Path:
    """The reach stage run on the demo routes; returns the layers folder (the baseline of scenarios)."""
    from geo.pipeline import reach_stage

    reach_stage(layers_dir=demo_routes.parent)
    return demo_routes.parent


@pytest.fixture(scope="session")
def demo_maps(demo_routes, tmp_path_factory) -> Path:
    """Reach and maps run on the demo layers; returns the maps folder."""
    from geo.pipeline import maps_stage, reach_stage

    reach_stage(layers_dir=demo_routes.parent)
    maps = tmp_path_factory.mktemp("demo-maps")
    maps_stage(layers_dir=demo_routes.parent, maps_dir=maps)
    return maps


def write_elsewhere_extract(path: Path) -> Path:
    """A valid OSM extract with a road and a market in Paris: the wrong region entirely."""
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        "<node id='1' version='1' timestamp='2025-05-01T00:00:00Z' lat='48.85' lon='2.35'/>\n"
        "<node id='2' version='1' timestamp='2025-05-01T00:00:00Z' lat='48.86' lon='2.36'>"
        "<tag k='amenity' v='marketplace'/></node>\n"
        "<way id='1' version='1' timestamp='2025-05-01T00:00:00Z'><nd ref='1'/><nd ref='2'/>"
        "<tag k='highway' v='primary'/></way>\n</osm>\n"
    )
    return path


def folder_args(command: str, root: Path) -> list[str]:
    """The folder flags that point ``hamji COMMAND`` at ``root/layers`` and ``root/maps``.

    ``--out`` only ever writes: the stages that read the layers take them
    from ``--layers`` (and write beside them by default).
    """
    layers, maps = str(root / "layers"), str(root / "maps")
    return {
        "layers": ["--out", layers],
        "build": ["--out", layers, "--maps", maps],
        "routes": ["--layers", layers],
        "reach": ["--layers", layers],
        "maps": ["--layers", layers, "--maps", maps],
        "scenario": ["--layers", layers, "--maps", maps],
        "sensitivity": ["--layers", layers, "--maps", maps],
        "uncertainty": ["--layers", layers],
    }[command]


#: The environment of every ``hamji`` process a test starts: no pause between Overpass retries, no
#: extracts from the caller's ``HAMJI_OSM``, no bytecode written beside the sources. And one request
#: a query, as from a private Overpass server: split into osmnx's cells, the supply model's Chinese
#: provinces cost some 250 requests a query and 20 s a run. (test_sources checks the split path.)
ENV = {
    **os.environ,
    "HAMJI_OVERPASS_RETRY_PAUSE_S": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "HAMJI_OVERPASS_MAX_QUERY_AREA_M2": "1e13",
}
ENV.pop("HAMJI_OSM", None)


def hamji(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """``hamji ARGS`` as its own process, with no standard input."""
    return subprocess.run(
        [sys.executable, "-m", "geo.cli", *args],
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def refused(root: Path, *args: str, env: dict | None = None, code: int = 1) -> str:
    """Run ``hamji ARGS``; check it fails cleanly and changes nothing; return its error line."""
    before = snapshot(root / "layers", root / "maps")
    done = hamji(*args, env=env)
    lines = done.stderr.splitlines()
    assert done.returncode == code, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr + done.stdout
    assert len(lines) == 1 and lines[0].startswith("hamji: error: "), lines
    assert snapshot(root / "layers", root / "maps") == before
    return lines[0]


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A complete demo build (layers, routes, reach, supply comparison, maps) made by ``hamji build``, once a
    run; read only (a test that writes takes a copy: :func:`previous`)."""
    with made_once_per_run(tmp_path_factory, "built") as (root, made):
        if not made:
            done = hamji("build", "--demo", *folder_args("build", root))
            assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def previous(built, tmp_path) -> Path:
    """A private copy of the complete build, to fail against."""
    shutil.copytree(built, tmp_path / "build")
    return tmp_path / "build"
