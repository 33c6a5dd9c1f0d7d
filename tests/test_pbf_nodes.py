"""geo.sources.pbf_nodes: the numpy reader of a PBF file's node locations and way references, checked
against libosmium reading the same files, and the kept-node path of the extract reader end to end."""

import zlib
from pathlib import Path

import numpy as np
import osmium
import pytest

from geo.sources import extracts, pbf_nodes
from geo.sources.extracts import read_extracts
from geo.sources.passes import wanted_tags

RNG = np.random.default_rng(7)


def _random_nodes(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Today's node ids reach 1.3e10; coordinates over the whole globe, both signs.
    ids = np.unique(RNG.integers(1, 13_000_000_000, n))
    x = RNG.integers(-1_800_000_000, 1_800_000_000, ids.size).astype(np.int32)
    y = RNG.integers(-900_000_000, 900_000_000, ids.size).astype(np.int32)
    return ids, x, y


def _libosmium_nodes(path: Path) -> dict[int, tuple[int, int]]:
    return {n.id: (n.location.x, n.location.y) for n in osmium.FileProcessor(str(path), osmium.osm.NODE)}


def _write_with_libosmium(path: Path, ids, x, y, ways=()) -> None:
    """A zlib-compressed PBF written by libosmium itself, as Geofabrik's are."""
    with osmium.SimpleWriter(str(path), overwrite=True) as writer:
        for ident, lon, lat in zip(ids.tolist(), x.tolist(), y.tolist()):
            writer.add_node(osmium.osm.mutable.Node(id=ident, location=(lon / 1e7, lat / 1e7), tags={"k": "v"}))
        for ident, refs in ways:
            writer.add_way(osmium.osm.mutable.Way(id=ident, nodes=refs, tags={"highway": "primary"}))


def test_written_nodes_read_back_through_libosmium_unchanged(tmp_path):
    ids, x, y = _random_nodes(20_000)
    order = RNG.permutation(ids.size)  # given out of order: the file is sorted all the same
    pbf_nodes.write_nodes(tmp_path / "k.osm.pbf", ids[order], x[order], y[order])
    read = _libosmium_nodes(tmp_path / "k.osm.pbf")
    assert list(read) == ids.tolist()
    assert [read[i] for i in ids.tolist()] == list(zip(x.tolist(), y.tolist()))


def test_kept_locations_are_libosmiums_for_the_wanted_ids_only(tmp_path):
    ids, x, y = _random_nodes(30_000)
    path = tmp_path / "z.osm.pbf"
    _write_with_libosmium(path, ids, x, y)
    truth = _libosmium_nodes(path)
    wanted = np.unique(np.concatenate([ids[::5], [3, 13_000_000_001]]))  # two ids not in the file
    got_ids, got_x, got_y = pbf_nodes.kept_locations(path, wanted)
    assert sorted(got_ids.tolist()) == ids[::5].tolist()
    assert all(truth[i] == (a, b) for i, a, b in zip(got_ids.tolist(), got_x.tolist(), got_y.tolist()))
    assert pbf_nodes.kept_locations(path, np.zeros(0, np.int64))[0].size == 0


def test_way_refs_are_every_reference_of_every_way(tmp_path):
    ids, x, y = _random_nodes(2_000)
    ways = [(w, RNG.choice(ids, int(RNG.integers(2, 300))).tolist()) for w in range(1, 900)]
    ways.append((5_000_000_000, [13_000_000_000, 1, 13_000_000_000]))  # deltas of both signs, 64-bit ids
    path = tmp_path / "w.osm.pbf"
    _write_with_libosmium(path, ids, x, y, ways)
    expected = sorted(ref for _, refs in ways for ref in refs)
    assert sorted(pbf_nodes.way_refs(path).tolist()) == expected


def _frame(kind: bytes, payload: bytes) -> bytes:
    key = lambda field, wire: bytes([(field << 3) | wire])  # noqa: E731
    header = key(1, 2) + pbf_nodes._small_varint(len(kind)) + kind + key(3, 0) + pbf_nodes._small_varint(len(payload))
    return len(header).to_bytes(4, "big") + header + payload


def _raw_header(*required: str) -> bytes:
    block = b"".join(b"\x22" + pbf_nodes._small_varint(len(f)) + f.encode() for f in required)
    return _frame(b"OSMHeader", b"\x0a" + pbf_nodes._small_varint(len(block)) + block)


def _zlib_blob(data: bytes, claimed: int) -> bytes:
    compressed = zlib.compress(data)
    return b"\x10" + pbf_nodes._small_varint(claimed) + b"\x1a" + pbf_nodes._small_varint(len(compressed)) + compressed


@pytest.mark.parametrize(
    "case",
    ["truncated", "bomb", "zstd", "not pbf", "needs history"],
)
def test_a_file_this_reader_does_not_know_is_refused_in_one_exception(tmp_path, case):
    ids, x, y = _random_nodes(100)
    good = tmp_path / "good.osm.pbf"
    pbf_nodes.write_nodes(good, ids, x, y)
    raw_header = _raw_header("OsmSchema-V0.6")
    data = {
        "truncated": good.read_bytes()[:-7],
        # A block that claims 100 bytes and inflates to 64 MiB: stopped at the format's 32 MiB.
        "bomb": raw_header + _frame(b"OSMData", _zlib_blob(b"\0" * (64 << 20), 100)),
        "zstd": raw_header + _frame(b"OSMData", b"\x3a\x03abc"),
        "not pbf": b"<?xml version='1.0'?><osm></osm>",
        "needs history": _raw_header("OsmSchema-V0.6", "HistoricalInformation"),
    }[case]
    path = tmp_path / "bad.osm.pbf"
    path.write_bytes(data)
    with pytest.raises(pbf_nodes.UnreadablePbf):
        pbf_nodes.kept_locations(path, ids)


def test_kept_node_path_reads_the_same_layers(fixture_pbf, monkeypatch):
    """A PBF over the size limit has only its kept ways' nodes stored; every layer must come out the same.

    It caught a lost-node bug: a second location handler on the same index adds the tagged nodes without
    sorting the index again, and the markets drawn as ways after them lost their geometry.
    """
    whole = read_extracts([fixture_pbf])
    monkeypatch.setattr(extracts, "LARGE_EXTRACT_BYTES", 0)
    stored = []
    real = pbf_nodes.kept_locations
    monkeypatch.setattr(pbf_nodes, "kept_locations", lambda *a: stored.append(a[1].size) or real(*a))
    kept = read_extracts([fixture_pbf])
    assert stored and 0 < stored[0] < sum(1 for _ in osmium.FileProcessor(str(fixture_pbf), osmium.osm.NODE))
    for kind, frame in whole.frames.items():
        assert len(frame) and kept.frames[kind].equals(frame), kind


def test_a_large_file_in_another_form_keeps_every_node_on_disk(fixture_xml, fixture_pbf, monkeypatch, tmp_path):
    """XML, or a PBF this reader does not know (zstd blocks, say): libosmium's index on disk, same layers."""
    whole = read_extracts([fixture_pbf])
    monkeypatch.setattr(extracts, "LARGE_EXTRACT_BYTES", 0)
    used = []
    real = extracts.node_index
    monkeypatch.setattr(extracts, "node_index", lambda *a: used.append(real(*a)) or used[-1])

    def unknown(*_):
        raise pbf_nodes.UnreadablePbf("a block compressed other than by zlib")

    monkeypatch.setattr(pbf_nodes, "kept_locations", unknown)
    for path in (fixture_xml, fixture_pbf):
        read = read_extracts([path])
        for kind, frame in whole.frames.items():
            assert read[kind].geometry.geom_equals(frame.geometry).all(), kind
    assert len(used) == 2 and all(u.startswith("sparse_file_array,") for u in used)


def test_first_refs_and_the_refs_of_kept_ways(tmp_path):
    ids, x, y = _random_nodes(50)
    ways = [(1, [ids[3], ids[4]]), (2, [ids[9], ids[1], ids[9]]), (3, [ids[0], ids[5]])]
    path = tmp_path / "w.osm.pbf"
    _write_with_libosmium(path, ids, x, y, [(w, [int(r) for r in refs]) for w, refs in ways])
    assert pbf_nodes.first_refs(path).tolist() == [ids[3], ids[9], ids[0]]
    kept = pbf_nodes.way_refs(path, keep=np.array([False, True, True]))
    assert kept.tolist() == [ids[9], ids[1], ids[9], ids[0], ids[5]]


def test_only_the_nodes_of_ways_that_start_near_the_region_are_stored(tmp_path):
    """Two primary roads: one starts in Hamgyong, one in Guangdong (far outside the box and its 2-degree
    margin, as most of a China file is). Only the first road's three nodes, and the far one's first
    node (so that the far road is told far as on the whole file), are stored; the far road's other node
    only as a member of a relation."""
    near = [(1, 129.5, 41.8), (2, 129.6, 41.9), (3, 129.7, 42.0)]
    far = [(4, 113.3, 23.1), (5, 113.4, 23.2)]
    path = tmp_path / "two.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        for ident, lon, lat in near + far:
            writer.add_node(osmium.osm.mutable.Node(id=ident, location=(lon, lat)))
        writer.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 2, 3], tags={"highway": "primary"}))
        writer.add_way(osmium.osm.mutable.Way(id=11, nodes=[4, 5], tags={"highway": "primary"}))
        writer.add_way(osmium.osm.mutable.Way(id=12, nodes=[5, 4], tags={"building": "yes"}))
    from geo import settings

    pairs = [list(pair) for pair in wanted_tags()]
    ways = extracts._copy(path, tmp_path / "ways.osm.pbf", entities="nw", keys=list(extracts.TAG_KEYS), tags=pairs)
    none = extracts._copy(path, tmp_path / "none.osm.pbf", entities="w")
    members = extracts._copy(path, tmp_path / "members.osm.pbf", entities="w", way_ids=[12])
    assert [w.id for w in osmium.FileProcessor(str(members))] == [12]
    assert extracts._way_nodes(path, settings.REGION_BBOX, ways, none).tolist() == [1, 2, 3, 4]
    assert extracts._way_nodes(path, settings.REGION_BBOX, ways, members).tolist() == [1, 2, 3, 4, 5]


def test_a_damaged_file_gives_that_exception_or_a_reading_never_a_crash(tmp_path):
    """Bytes changed at random in a PBF (raw blocks, so the damage reaches the parsers, not only zlib):
    every reader function returns or raises UnreadablePbf, and the caller then falls back to libosmium,
    whose own error names the file as damaged."""
    rng = np.random.default_rng(11)
    ids, x, y = _random_nodes(800)
    path = tmp_path / "raw.osm.pbf"
    ways = [(w, rng.choice(ids, 6).tolist()) for w in range(1, 120)]
    _write_with_libosmium(tmp_path / "z.osm.pbf", ids, x, y, ways)
    with osmium.SimpleWriter(osmium.io.File(str(path), "pbf,pbf_compression=none")) as writer:
        for obj in osmium.FileProcessor(str(tmp_path / "z.osm.pbf")):
            writer.add(obj)
    data = path.read_bytes()
    bad = tmp_path / "bad.osm.pbf"
    for _ in range(150):
        damaged = bytearray(data)
        for at in rng.integers(0, len(damaged), int(rng.integers(1, 6))):
            damaged[at] = int(rng.integers(0, 256))
        bad.write_bytes(bytes(damaged[: int(rng.integers(len(data) // 2, len(data) + 1))]))
        for read in (pbf_nodes.check_readable, pbf_nodes.first_refs, pbf_nodes.way_refs):
            try:
                read(bad)
            except pbf_nodes.UnreadablePbf:
                pass
        try:
            pbf_nodes.kept_locations(bad, ids)
        except pbf_nodes.UnreadablePbf:
            pass


def test_a_copy_onto_a_full_disk_is_one_error_not_a_crash(fixture_pbf, tmp_path):
    """libosmium's writer ends the process from its destructor after a failed write (exit 134); the copy
    runs in a child, so here it is an OutputError naming the file (/dev/full fails every write with
    ENOSPC), and this process goes on."""
    from geo.errors import OutputError, SourceError
    from geo.sources.osm_copy import CopySpec, copy_osm

    spec = CopySpec(str(fixture_pbf), "/dev/full", entities="n", keys=["place"], raw=True)  # raw: says "pbf"
    with pytest.raises(OutputError, match=r"cannot write the-cut\.osm\.pbf \(Write failed: No space left on device\)"):
        copy_osm(spec, name="the-cut.osm.pbf")
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 40)
    with pytest.raises(SourceError, match=rf"cannot read OSM extract {junk}: .*corrupt or truncated"):
        copy_osm(CopySpec(str(junk), str(tmp_path / "out.osm.pbf"), keys=["place"]))
    good = tmp_path / "places.osm.pbf"
    copy_osm(CopySpec(str(fixture_pbf), str(good), entities="n", keys=["place"]))
    places = [("place" in n.tags) for n in osmium.FileProcessor(str(good))]
    assert places and all(places)


def test_nodes_after_ways_are_read_though_the_header_says_sorted(tmp_path):
    """`osmium cat --output-header=sorting=Type_then_ID` sets the claim on any file, and nothing checks
    it: a reader that stopped at the first block of ways lost 90 % of the roads without a word."""
    header = osmium.io.Header()
    header.set("sorting", "Type_then_ID")
    path = tmp_path / "claims-sorted.osm.pbf"
    with osmium.SimpleWriter(str(path), header=header) as writer:
        for ident in range(1, 8_001):
            writer.add_node(osmium.osm.mutable.Node(id=ident, location=(129.0, 42.0)))
        writer.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2], tags={"highway": "primary"}))
        for ident in range(8_001, 200_001):  # 24 blocks more, past every block in flight
            writer.add_node(osmium.osm.mutable.Node(id=ident, location=(129.5, 42.5)))
    ids, x, _ = pbf_nodes.kept_locations(path, np.array([5, 150_000, 200_000]))
    assert ids.tolist() == [5, 150_000, 200_000] and x.tolist() == [1_290_000_000, 1_295_000_000, 1_295_000_000]


def test_a_node_given_twice_takes_its_last_location(tmp_path):
    path = tmp_path / "twice.osm.pbf"
    with osmium.SimpleWriter(str(path)) as writer:
        writer.add_node(osmium.osm.mutable.Node(id=7, version=1, location=(129.0, 42.0)))
        writer.add_node(osmium.osm.mutable.Node(id=7, version=2, location=(129.1, 42.0)))
    ids, x, _ = pbf_nodes.kept_locations(path, np.array([7]))
    assert ids.tolist() == [7] and x.tolist() == [1_291_000_000]


def test_boundaries_are_assembled_from_a_large_file_with_no_road(fixture_xml, tmp_path, monkeypatch):
    """No way passes the tag filters: nothing sorted the index after its tagged nodes, and pass 3 lost a
    boundary (Yanbian) without counting it."""
    from geo.sources.passes import road_class, way_kinds

    plain = tmp_path / "no-roads.osm.pbf"
    with osmium.SimpleWriter(str(plain)) as writer:
        for obj in osmium.FileProcessor(str(fixture_xml)):
            if not (obj.is_way() and any(way_kinds(obj, road_class(obj.tags.get("highway"))))):
                writer.add(obj)
    whole = read_extracts([plain])
    monkeypatch.setattr(extracts, "LARGE_EXTRACT_BYTES", 0)
    kept = read_extracts([plain])
    assert len(whole["boundaries"]) >= 14 and whole["roads"].empty
    assert kept["boundaries"].geometry.geom_equals(whole["boundaries"].geometry).all()
    assert kept.provenance["areas_not_assembled"] == whole.provenance["areas_not_assembled"] == 0


def test_a_copy_killed_by_the_system_is_not_called_a_corrupt_file(monkeypatch, tmp_path):
    import subprocess

    from geo.errors import OutputError
    from geo.sources import osm_copy

    killed = subprocess.CompletedProcess([], -9, "", "")
    monkeypatch.setattr(osm_copy.subprocess, "run", lambda *a, **k: killed)
    spec = osm_copy.CopySpec("/data/china.osm.pbf", str(tmp_path / "x.osm.pbf"), keys=["place"])
    with pytest.raises(OutputError, match=r"was killed \(signal 9; out of memory\?\); nothing was written"):
        osm_copy.copy_osm(spec)
