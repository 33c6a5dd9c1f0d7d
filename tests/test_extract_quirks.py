"""Real-file quirks, each on a small crafted extract: clipped relations and ways, versions across files,
negative ids, odd highway and maxspeed values, one-node ways, history and change files."""

import re
from pathlib import Path

import osmium
import pytest

import geo
from geo import settings
from geo.cli import main
from geo.errors import ClippedExtractError, InputError
from geo.sources import fixture
from geo.sources.extracts import read_extracts

PROVINCES = fixture.province_codes()


def _write(data: fixture.OsmData, path: Path, edit=None) -> Path:
    text = fixture.to_osm_xml(data)
    path.write_text(edit(text) if edit else text, encoding="utf-8")
    return path


def _relation(data: fixture.OsmData, name_en: str) -> dict:
    return next(r for r in data.relations if r["tags"].get("name:en") == name_en)


def _split_boundary(data: fixture.OsmData, name_en: str) -> tuple[dict, int]:
    """Make a province's boundary relation two member ways (as real ones are many); return it and the second."""
    relation = _relation(data, name_en)
    way = next(w for w in data.ways if w["id"] == relation["members"][0]["ref"])
    ring, half = way["nodes"], len(way["nodes"]) // 2
    way["nodes"] = ring[: half + 1]
    second = data.way(ring[half:], {})
    relation["members"].append({"type": "way", "ref": second, "role": "outer"})
    return relation, second


def test_boundary_split_over_two_ways_is_assembled(tmp_path):
    data = fixture.build()
    _split_boundary(data, "Jilin")
    layers = geo.layers_from_extracts([_write(data, tmp_path / "two-ways.osm")], PROVINCES)
    assert "CN-JL" in set(layers.provinces["code"])


def test_clipped_boundary_relation_is_named_with_the_fix(tmp_path, capsys):
    data = fixture.build()
    relation, second = _split_boundary(data, "Jilin")
    data.ways = [w for w in data.ways if w["id"] != second]  # what a plain bbox clip does
    clipped = _write(data, tmp_path / "clipped.osm")
    raw = read_extracts([clipped])
    members = len(relation["members"])  # Jilin's outer rings, one of them now in two ways
    assert raw.provenance["incomplete_relations"] == [
        {"osm_id": relation["id"], "name": "Jilin", "iso": "CN-JL", "admin_level": "4", "missing_ways": 1,
         "member_ways": members, "file": str(clipped)}
    ]  # fmt: skip
    with pytest.raises(ClippedExtractError) as caught:
        geo.layers_from_extracts([clipped], PROVINCES)
    assert (caught.value.relation_id, caught.value.missing, caught.value.members) == (relation["id"], 1, members)
    assert main(["layers", "--osm", str(clipped), "--out", str(tmp_path / "layers")]) == 1
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"hamji: error: Jilin's boundary relation {relation['id']} in {clipped} is missing 1 of")
    assert "osmium extract -s smart -S types=multipolygon,boundary" in line and "does not cover" not in line
    assert not (tmp_path / "layers" / settings.LAYERS_GPKG).exists()


def test_a_boundary_of_no_known_province_is_not_read(tmp_path):
    """A China file holds every province and prefecture of China. One HamJi does not know, clipped as
    it may be, is neither assembled nor reported as clipped: only the region's provinces are read."""
    data = fixture.build()
    a, b, c = (data.node(100.0 + i, 30.0 + (i == 1), {}) for i in range(3))
    ring = data.way([a, b, c, a], {})
    tags = {"type": "boundary", "boundary": "administrative", "admin_level": "4", "name": "四川省",
            "name:en": "Sichuan", "ISO3166-2": "CN-SC"}  # fmt: skip
    data.relation([("way", ring, "outer"), ("way", 999_999_999, "outer")], tags)
    raw = read_extracts([_write(data, tmp_path / "sichuan.osm")])
    assert raw.provenance["incomplete_relations"] == [] and raw.provenance["areas_not_assembled"] == 0
    assert "Sichuan" not in set(raw["boundaries"]["name:en"])
    assert set(geo.layers_from_extracts([tmp_path / "sichuan.osm"], PROVINCES).provinces["code"]) == set(PROVINCES)


def test_way_with_nodes_cut_off_keeps_what_is_there(tmp_path):
    data = fixture.build()
    a, b, c = (data.node(129.60 + 0.01 * i, 42.30, {"note": "only on this road"}) for i in range(3))
    road = data.way([a, b, c], {"highway": "tertiary", "name": "clipped road"})
    del data.nodes[c]  # the clip cut off the road's last node
    raw = read_extracts([_write(data, tmp_path / "cut.osm")])
    kept = raw["roads"].set_index("osm_id").loc[road]
    assert list(kept.geometry.coords) == [(129.60, 42.30), (129.61, 42.30)]
    assert raw.provenance["partial_ways"] == 1


def test_newest_version_wins_whatever_the_order(tmp_path):
    data = fixture.build()
    node_id = next(n["id"] for n in data.nodes.values() if n["tags"].get("name:en") == "Sariwon Market")
    old = _write(data, tmp_path / "old.osm")
    pattern = rf'(<node id="{node_id}" )version="1"(.*?)<tag k="name:en" v="Sariwon Market"/>'
    newer = _write(
        data,
        tmp_path / "new.osm",
        lambda t: re.sub(pattern, r'\1version="2"\2<tag k="name:en" v="Sariwon Central Market"/>', t, flags=re.S),
    )
    for order in ([old, newer], [newer, old]):
        markets = read_extracts(order)["markets"]
        names = set(markets.loc[markets["osm_id"] == node_id, "name:en"])
        assert names == {"Sariwon Central Market"}, order


def test_negative_ids_are_refused_in_one_line(tmp_path):
    josm = tmp_path / "josm.osm"
    josm.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='JOSM'>\n"
        "<node id='-1' action='modify' lat='42.40' lon='129.60'/>\n<node id='-2' action='modify' lat='42.41' "
        "lon='129.61'/>\n<way id='-3' action='modify'><nd ref='-1'/><nd ref='-2'/><tag k='highway' "
        "v='primary'/></way>\n</osm>\n"
    )
    with pytest.raises(InputError, match="negative ids .*renumber"):
        read_extracts([josm])


def test_odd_highway_and_maxspeed_values(tmp_path):
    data = fixture.build()
    ids = {}
    for i, (highway, maxspeed) in enumerate(
        [("road", "40 mph"), ("primary;secondary", "RU:urban"), ("construction", "none"), ("residential", "signals")]
    ):
        ends = [data.node(129.50 + 0.01 * i, 42.20), data.node(129.50 + 0.01 * i, 42.21)]
        ids[highway] = data.way(ends, {"highway": highway, "maxspeed": maxspeed})
    roads = read_extracts([_write(data, tmp_path / "odd.osm")])["roads"].set_index("osm_id")
    assert roads.loc[ids["road"], "highway"] == "unclassified"
    assert roads.loc[ids["primary;secondary"], "highway"] == "primary"
    assert roads.loc[ids["road"], "maxspeed"] == "40 mph"  # kept as text: speeds come from the class table
    assert ids["construction"] not in roads.index and ids["residential"] not in roads.index


def test_one_node_way_is_dropped(tmp_path):
    data = fixture.build()
    single = data.way([data.node(129.70, 42.25)], {"highway": "primary"})
    roads = read_extracts([_write(data, tmp_path / "one.osm")])["roads"]
    base = read_extracts([_write(fixture.build(), tmp_path / "base.osm")])["roads"]
    assert single not in set(roads["osm_id"]) and len(roads) == len(base)


@pytest.mark.parametrize("name", ["planet.osh.pbf", "changes.osc.gz", "day.osc"])
def test_history_and_change_files_are_refused_by_name(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"x")
    with pytest.raises(InputError, match="history or change file"):
        read_extracts([path])


def test_history_file_with_a_plain_name_is_refused_by_its_header(tmp_path, fixture_pbf):
    header = osmium.io.Header()
    header.has_multiple_object_versions = True
    disguised = tmp_path / "history.osm.pbf"  # written as a history PBF, named as a plain one
    with osmium.SimpleWriter(osmium.io.File(str(disguised), "osh.pbf"), header=header) as writer:
        for obj in osmium.FileProcessor(str(fixture_pbf)):
            writer.add(obj)
    with pytest.raises(InputError, match="is a history file"):
        read_extracts([disguised])


def test_progress_reports_bytes_up_to_the_file_size(fixture_pbf):
    calls = []
    read_extracts([fixture_pbf], progress=lambda done, total, kept: calls.append((done, total, kept)))
    size = fixture_pbf.stat().st_size
    assert calls and calls[-1][:2] == (size, size) and calls[-1][2] > 0
    assert all(0 <= done <= total == size for done, total, _ in calls)


def test_quiet_and_not_a_terminal_print_no_progress(fixture_xml, tmp_path):
    import subprocess
    import sys

    provinces = [arg for code in PROVINCES for arg in ("--province", code)]
    args = [sys.executable, "-m", "geo.cli", "layers", "--osm", str(fixture_xml), *provinces, "--out", str(tmp_path)]
    for extra, reading in (([], True), (["--quiet"], False)):
        done = subprocess.run([*args, *extra, "--force"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "\r" not in done.stdout + done.stderr  # no bar when not a terminal
        assert ("reading " in done.stdout) is reading
