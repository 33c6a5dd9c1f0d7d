"""``hamji extract``: a large extract cut down to what HamJi reads, reference-complete, without the osmium tool."""

from pathlib import Path

import osmium

from geo.cli import main
from geo.provinces import region_of_boundary
from geo.sources import fixture
from geo.sources.extracts import read_extracts


def _with_far_noise(path: Path) -> Path:
    """The fixture plus what a China extract holds far from the region: roads, buildings, another province."""
    data = fixture.build()
    for i in range(50):
        a, b = data.node(110 + i * 0.01, 30.0), data.node(110 + i * 0.01, 30.01)
        data.way([a, b], {"highway": "primary", "name": f"far road {i}"})
        square = [data.node(111 + i * 0.01 + dx, 31 + dy) for dx, dy in ((0, 0), (0.001, 0), (0.001, 0.001))]
        data.way([*square, square[0]], {"building": "yes"})
    ring = [data.node(x, y) for x, y in ((102, 28), (106, 28), (106, 32), (102, 32))]
    sichuan = data.way([*ring, ring[0]], {})
    data.relation([("way", sichuan, "outer")], {"type": "boundary", "boundary": "administrative", "admin_level": "4",
                                                "ISO3166-2": "CN-SC", "name:en": "Sichuan"})  # fmt: skip
    path.write_text(fixture.to_osm_xml(data), encoding="utf-8")
    return path


def test_extract_keeps_exactly_what_the_reader_keeps(tmp_path, capsys):
    big = _with_far_noise(tmp_path / "china-ish.osm")
    small = tmp_path / "region.osm.pbf"
    assert main(["extract", str(big), "--out", str(small), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {small}: ")
    whole, cut = read_extracts([big]), read_extracts([small])
    for kind, frame in whole.frames.items():
        if kind == "boundaries":  # the reader keeps every province boundary; the cut only the region's
            frame = frame[[region_of_boundary(row) is not None for _, row in frame.iterrows()]]
        assert sorted(cut[kind]["osm_id"]) == sorted(frame["osm_id"]), kind
    names = {obj.tags.get("name:en") for obj in osmium.FileProcessor(str(small)) if "name:en" in obj.tags}
    assert "Sichuan" not in names and "Jilin" in names
    ways = [dict(obj.tags) for obj in osmium.FileProcessor(str(small), osmium.osm.WAY)]
    assert not any(tags.get("building") or tags.get("name", "").startswith("far road") for tags in ways)
    assert cut.provenance["incomplete_relations"] == []  # every boundary came with all its members


def test_extract_refuses_to_overwrite_its_source_and_leaves_nothing_half_written(tmp_path, capsys):
    big = _with_far_noise(tmp_path / "china-ish.osm")
    assert main(["extract", str(big), "--out", str(tmp_path / "region.osm")]) == 1
    assert "name the clipped extract *.osm.pbf [--out]" in capsys.readouterr().err
    assert main(["extract", str(tmp_path / "missing.osm.pbf"), "-o", str(tmp_path / "r.osm.pbf")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["china-ish.osm"]
