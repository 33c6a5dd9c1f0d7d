"""Both real OSM paths: local extracts (XML, PBF, bz2, several) and Overpass through osmnx."""

import bz2
import shutil

import geopandas as gpd
import pytest
from conftest import digest
from fake_overpass import FakeOverpass

from geo import settings
from geo.cli import main
from geo.io import read_provenance
from geo.pipeline import layers_stage
from geo.sources import fixture

PROVINCES = fixture.province_codes()


def ids(gpkg, name):
    frame = gpd.read_file(gpkg, layer=name)
    return (
        sorted(zip(frame.get("osm_type", ["way"] * len(frame)), frame["osm_id"]))
        if "osm_id" in frame
        else sorted(frame["crossing_id"])
    )


@pytest.fixture
def overpass():
    server = FakeOverpass(fixture.to_overpass_json(fixture.build())["elements"])
    yield server
    server.stop()


def test_pbf_extract_gives_the_same_layers_as_xml(fixture_pbf, demo_gpkg, tmp_path):
    layers_stage(osm_paths=[fixture_pbf], regions=PROVINCES, out_dir=tmp_path)
    built = tmp_path / settings.LAYERS_GPKG
    for name in ("roads", "markets", "crossings"):
        assert ids(built, name) == ids(demo_gpkg, name), name
    meta = read_provenance(built, "roads")
    assert meta["inputs"][0]["path"].endswith("mini-hamji.osm.pbf") and len(meta["inputs"][0]["sha256"]) == 64
    # Synthetic data stays stamped DEMO whichever way it is read.
    assert meta["synthetic"] is True


def test_bz2_extract_and_the_same_data_twice_are_read_once(fixture_xml, demo_gpkg, tmp_path):
    packed = tmp_path / "mini-hamji.osm.bz2"
    packed.write_bytes(bz2.compress(fixture_xml.read_bytes()))
    layers_stage(osm_paths=[packed, fixture_xml], regions=PROVINCES, out_dir=tmp_path)
    assert ids(tmp_path / settings.LAYERS_GPKG, "roads") == ids(demo_gpkg, "roads")
    assert len(read_provenance(tmp_path / settings.LAYERS_GPKG, "roads")["inputs"]) == 2


def test_hamji_osm_environment_variable_selects_extracts(fixture_xml, tmp_path, monkeypatch):
    monkeypatch.setenv(settings.OSM_ENV_VAR, f"{fixture_xml}:")
    assert main(["layers", "--out", str(tmp_path), "--province", "border"]) == 0
    roads = gpd.read_file(tmp_path / settings.LAYERS_GPKG, layer="roads")
    # The border provinces and Jilin, and Liaoning, which the default supply model (all) needs.
    assert set(roads["province"]) == {"KP-09", "KP-10", "KP-13", "CN-JL", "CN-LN"}
    assert main(["layers", "--out", str(tmp_path), "--province", "border", "--supply", "hamji"]) == 0
    roads = gpd.read_file(tmp_path / settings.LAYERS_GPKG, layer="roads")
    assert set(roads["province"]) == {"KP-09", "KP-10", "KP-13", "CN-JL"}


def test_overpass_path_through_osmnx_matches_the_extract(overpass, demo_gpkg, tmp_path, isolated_cache, monkeypatch):
    # Cells of 200 km a side: each query is still split (and a feature in two cells must come once), in
    # a few dozen requests rather than the 250 of osmnx's 50 km cells (the same code path, a third of the time).
    monkeypatch.setenv("HAMJI_OVERPASS_MAX_QUERY_AREA_M2", str(200_000.0**2))
    assert (
        main(
            [
                "layers",
                "--overpass-url",
                overpass.url,
                "--out",
                str(tmp_path),
                *sum((["--province", p] for p in PROVINCES), []),
            ]
        )
        == 0
    )
    built = tmp_path / settings.LAYERS_GPKG
    for name in ("roads", "markets", "crossings"):
        assert ids(built, name) == ids(demo_gpkg, name), name
    meta = read_provenance(built, "markets")
    assert meta["source"] == "Overpass API" and meta["inputs"][0]["url"] == overpass.url
    assert meta["osm_timestamp"] == fixture.FIXTURE_TIMESTAMP and meta["synthetic"] is True
    # osmnx sent the explicit tag filters, and cached its answers.
    assert any("['amenity'='marketplace']" in q for q in overpass.queries)
    assert any("['highway'='trunk']" in q for q in overpass.queries)
    assert sum("['highway'='trunk']" in q for q in overpass.queries) > 1, "the roads query was not split"
    assert any(isolated_cache.iterdir())


def test_overpass_rerun_is_answered_from_the_cache(overpass, tmp_path, isolated_cache, monkeypatch):
    monkeypatch.setenv("HAMJI_OVERPASS_MAX_QUERY_AREA_M2", "1e13")  # one request a query: the split is tested above
    args = ["layers", "--overpass-url", overpass.url, "--out", str(tmp_path), "--province", "KP-13"]
    assert main(args) == 0
    first = len(overpass.queries)
    assert main(args) == 0
    # Only the data-date probe goes to the server again.
    assert len(overpass.queries) - first == 1


def test_unreachable_overpass_is_one_line_and_keeps_previous_layers(demo_gpkg, tmp_path, capsys, isolated_cache):
    out = tmp_path / "layers"
    out.mkdir()
    shutil.copy(demo_gpkg, out / settings.LAYERS_GPKG)
    before = digest(out / settings.LAYERS_GPKG)
    # Port 9 (discard) is closed on this machine: the connection is refused.
    code = main(["layers", "--overpass-url", "http://127.0.0.1:9/api", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("hamji: error: cannot reach Overpass at http://127.0.0.1:9/api")
    assert "or use a local extract; 'hamji build --demo' builds everything from the bundled demo data" in err[-1]
    assert err[-1].endswith("[--overpass-url]")
    assert digest(out / settings.LAYERS_GPKG) == before
