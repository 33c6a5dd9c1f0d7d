"""A China-size extract: the real-density benchmark input inside a file of Geofabrik's China size.

Geofabrik's ``china-latest.osm.pbf`` is about 1.6 GB (Geofabrik's download
index, 2026-10) and holds about 190 M nodes, nearly all of them buildings,
land use and roads far from Jilin. No such file can be had offline, so
:func:`write_china_file` makes one of that size and makeup: the generated
real-density extract (:mod:`benchmarks.dense`: the HamJi region, a road
vertex every few tens of metres, stamped DEMO by its ``hamji:synthetic``
tag) merged with noise of four kinds over China's extent:

- buildings: closed 5-node ways (4 nodes each), also inside the HamJi
  region, as in Jilin's towns;
- roads of every class, 12 nodes a way; the classes HamJi keeps only
  outside the region box (a share just west of it, so the exact box test
  runs), residential, service and footways anywhere;
- land use: multipolygon relations of an outer and an inner ring;
- points of interest: tagged nodes (shops, restaurants) that no filter keeps.

Every noise object carries real-looking metadata, as a Geofabrik file's
does: a version (mostly 1, a few into the tens), a timestamp between 2008
and 2026, a changeset number that grows with it, and a user name and id from
a pool of mappers. The noise is written as OPL text straight into
``osmium cat`` (osmium-tool), so the text never touches the disk, and merged
with the dense extract by ``osmium merge``; ids of the two never meet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.floor import _PEAK_REPORT, FLOOR, HAMJI, measure_child
from benchmarks.opl import Lines, Table, interleave
from geo import settings
from geo.sources.extracts import LARGE_EXTRACT_BYTES

#: Noise ids: between the fixture's (below) and the dense grid's (nodes from 1e10, ways from 1e9), spread
#: as a real file's are: one apart inside an upload, a jump between uploads (others' edits elsewhere).
FIRST_ID = {"node": 20_000_000, "way": 2_000_000, "relation": 100_000}
#: Mean jump between uploads: about 9e9 node ids over 190 M nodes, 8e8 way ids, as China's ids spread.
ID_JUMP = {"node": 2_200, "way": 1_300, "relation": 40}
#: Objects in one upload (one changeset, one mapper, one time), on average.
UPLOAD = 50
#: China's extent (lon, lat).
CHINA = (73.5, 18.2, 134.8, 53.5)
#: Shares of the noise nodes: buildings, roads, land use (the rest are points of interest).
SHARES = {"buildings": 0.55, "roads": 0.30, "landuse": 0.10}
#: Nodes of one object: a building's 4 corners, a road's vertices, a land use's outer and inner rings.
ROAD_NODES, OUTER, INNER = 12, 24, 12
NODES_PER = {"buildings": 4, "roads": ROAD_NODES, "landuse": OUTER + INNER, "points": 1}
KEPT_CLASSES = ("primary", "secondary", "tertiary", "unclassified", "track", "trunk", "motorway")
OTHER_CLASSES = ("residential", "service", "footway", "path", "living_street", "cycleway")
BUILDINGS = ("yes",) * 12 + ("house", "residential", "apartments", "industrial", "commercial", "school", "retail")
POINTS = ("shop=convenience", "amenity=restaurant", "amenity=school", "shop=supermarket", "amenity=bank",
          "amenity=pharmacy", "tourism=hotel", "amenity=fuel", "amenity=toilets", "shop=clothes")  # fmt: skip
SURFACES = ("asphalt", "concrete", "unpaved", "gravel")
LANDUSE = ("farmland", "forest", "residential", "meadow", "industrial", "orchard")
#: Pinyin syllables for street and shop names (ASCII: OPL needs no escaping beyond ``%20%`` for a space).
_SYLLABLES = ("zhong", "shan", "jie", "fang", "ren", "min", "jian", "she", "xin", "hua", "dong", "xi", "nan",
              "bei", "he", "ping", "chang", "an", "yan", "tai", "hong", "qi", "guang", "ming", "wen")  # fmt: skip
#: Nodes per chunk of text handed to osmium at once (about 100 MB of text).
CHUNK_NODES = 1_000_000
START, END = np.datetime64("2008-01-01T00:00:00"), np.datetime64("2026-09-30T00:00:00")
_SPAN_S = int((END - START) / np.timedelta64(1, "s"))
_M_PER_DEGREE = 111_320.0


def _names(rng: np.random.Generator, n: int, last: tuple[str, ...]) -> list[str]:
    """``n`` pinyin names such as ``Zhongshan Lu`` (OPL-escaped)."""
    parts = rng.integers(0, len(_SYLLABLES), (n, 2)).tolist()
    ends = rng.integers(0, len(last), n).tolist()
    return [f"{_SYLLABLES[a].title()}{_SYLLABLES[b]}%20%{last[e]}" for (a, b), e in zip(parts, ends)]


class _Mappers:
    """The file's users: names and ids (ids grow with sign-up), a few very active ones (Zipf), as in OSM."""

    def __init__(self, rng: np.random.Generator, users: int = 20_000):
        stems = ("zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "mapper", "gis", "osm", "geo")
        picks = rng.integers(0, len(stems), (users, 2)).tolist()
        self.names = [f"{stems[a]}_{stems[b]}{k}" for k, (a, b) in enumerate(picks)]
        self.ids = np.sort(rng.choice(25_000_000, users, replace=False)) + 1


def _uploads(rng: np.random.Generator, n: int) -> np.ndarray:
    """Which upload each of ``n`` consecutive objects came in: runs of about :data:`UPLOAD`."""
    sizes = rng.geometric(1 / UPLOAD, n // UPLOAD + 16)
    while sizes.sum() < n:
        sizes = np.r_[sizes, rng.geometric(1 / UPLOAD, n // UPLOAD + 16)]
    return np.repeat(np.arange(len(sizes)), sizes)[:n]


class _Ids:
    """Ids of one object type in file order: one apart inside an upload, a jump between uploads."""

    def __init__(self, kind: str):
        self.first = self.next = FIRST_ID[kind]
        self.jump = ID_JUMP[kind]

    def take(self, rng: np.random.Generator, upload: np.ndarray, start: int | None = None) -> np.ndarray:
        """Ids for objects of these uploads, after ``start`` (default: after the last taken)."""
        steps = np.ones(len(upload), np.int64)
        new = np.r_[True, upload[1:] != upload[:-1]]
        steps[new] = rng.geometric(1 / self.jump, int(new.sum()))
        ids = (self.next if start is None else start) + np.cumsum(steps)
        if start is None and len(ids):
            self.next = int(ids[-1])
        return ids


class _Noise:
    """China's noise as OPL text in file order, a chunk at a time: nodes, then ways, then relations.

    Each chunk draws from its own seeded generator, so the ways can draw their nodes' ids again instead of
    keeping 190 M of them in memory.
    """

    def __init__(self, nodes: int, region: tuple[float, float, float, float], seed: int):
        self.seed, self.region = seed, region
        rng = self._rng("setup")
        self.mappers = _Mappers(rng)
        self.street_names = _names(rng, 2_000, ("Lu", "Jie", "Dadao", "Xiang", "Gonglu"))
        self.shop_names = _names(rng, 2_000, ("Shangdian", "Fandian", "Chaoshi", "Yinhang", "Binguan"))
        # The optional tags, each a table whose first row (index 0) is the tag's absence.
        self.tags = {
            "point": Table(list(POINTS)),
            "building": Table([f"building={b}" for b in BUILDINGS]),
            "levels": Table(["", *(f",building:levels={v}" for v in range(1, 33))]),
            "street": Table(["", *(f",addr:street={n}" for n in self.street_names)]),
            "number": Table(["", *(f",addr:housenumber={v}" for v in range(1, 400))]),
            "highway": Table([f"highway={c}" for c in (*KEPT_CLASSES, *OTHER_CLASSES)]),
            "surface": Table(["", *(f",surface={v}" for v in SURFACES)]),
            "oneway": Table(["", ",oneway=yes"]),
            "lanes": Table(["", *(f",lanes={v}" for v in range(1, 7))]),
            "name": Table(["", *(f",name={n}" for n in self.street_names)]),
            "name:en": Table(["", *(f",name:en={n.split('%20%')[0]}%20%Road" for n in self.street_names)]),
            "shop": Table(["", *(f",name={n}" for n in self.shop_names)]),
            "opening": Table(["", ",opening_hours=24/7", ",opening_hours=Mo-Su%20%08:00-22:00"]),
        }
        self.objects = {kind: int(nodes * share) // NODES_PER[kind] for kind, share in SHARES.items()}
        used = sum(k * NODES_PER[kind] for kind, k in self.objects.items())
        self.objects["points"] = max(0, nodes - used)
        # Towns of about 500 objects over China (8 % of them in the HamJi region, as in Jilin's towns).
        towns = sum(self.objects.values()) // 500 + 1
        inside = rng.random(towns) < 0.08
        self.towns = np.stack(
            [
                np.where(inside, rng.uniform(region[0], region[2], towns), rng.uniform(CHINA[0], CHINA[2], towns)),
                np.where(inside, rng.uniform(region[1], region[3], towns), rng.uniform(CHINA[1], CHINA[3], towns)),
            ],
            1,
        )
        self.ids = {kind: _Ids(kind) for kind in FIRST_ID}
        self.chunk_first_node: dict[tuple[str, int], int] = {}
        self.landuse_ways: list[np.ndarray] = []  # (k, 2) outer and inner way ids, for the relations
        counts = {
            "node": sum(k * NODES_PER[kind] for kind, k in self.objects.items()),
            "way": self.objects["buildings"] + self.objects["roads"] + 2 * self.objects["landuse"],
            "relation": self.objects["landuse"],
        }
        # The id range each type will span, to date its objects by id.
        self.span = {kind: counts[kind] * (1 + ID_JUMP[kind] / UPLOAD) for kind in FIRST_ID}

    def _rng(self, *key: object) -> np.random.Generator:
        return np.random.default_rng(
            [self.seed, *(zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in key)]
        )

    def _chunks(self, kind: str) -> Iterator[tuple[int, int]]:
        """(chunk number, objects in it) over the objects of ``kind``."""
        per = max(1, CHUNK_NODES // NODES_PER[kind])
        total = self.objects[kind]
        for number, start in enumerate(range(0, total, per)):
            yield number, min(per, total - start)

    def _age(self, kind: str, ids: np.ndarray) -> np.ndarray:
        """0–1 over 2008–2026: ids grow with time."""
        return np.clip((ids - FIRST_ID[kind]) / self.span[kind], 0, 1)

    def _metadata(self, lines: Lines, rng: np.random.Generator, upload: np.ndarray, age: np.ndarray) -> Lines:
        """`` v… dV c… t… i… u…``: each object's version; its upload's changeset, time and mapper.

        An upload's objects share a changeset and a mapper and are timed seconds apart, as in a real file
        (which is also what lets PBF's delta coding compress a real file as it does); a version above 1 is an
        edit some years later.
        """
        version = np.minimum(rng.geometric(0.6, len(upload)), 60)
        first = np.r_[0, np.flatnonzero(upload[1:] != upload[:-1]) + 1]
        starts = np.zeros(len(upload), np.int64)
        starts[first] = 1
        run = np.cumsum(starts) - 1  # the upload of each line, counted from this chunk's first
        later = np.maximum.reduceat(version, first) > 1
        when = age[first] + later * (1 - age[first]) * rng.random(len(first))
        seconds = (when * _SPAN_S).astype(np.int64)
        # Changesets are numbered in time order: about 150 M by 2026.
        changeset = seconds * 150_000_000 // _SPAN_S + rng.integers(1, 5_000, len(first))
        # Within an upload, a second passes every few objects.
        ticks = np.cumsum(rng.random(len(upload)) < 0.6)
        at = np.minimum(seconds[run] + ticks - ticks[first][run], _SPAN_S)
        stamps = np.datetime_as_string(START + at.astype("timedelta64[s]"), unit="s").astype("S19")
        user = (rng.zipf(1.3, len(first)) - 1) % len(self.mappers.names)
        lines.same(" v").number(version).same(" dV c").number(changeset[run])
        lines.same(" t").block(stamps.view(np.uint8).reshape(-1, 19)).same("Z")
        lines.same(" i").number(self.mappers.ids[user][run])
        return lines.same(" u").pick([self.mappers.names[u] for u in user.tolist()], run)

    def _node_ids(self, kind: str, number: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ids of a chunk's nodes and their uploads; the same on every call for the chunk."""
        rng = self._rng(kind, number, "node ids")
        upload = _uploads(rng, n)
        key = (kind, number)
        if key not in self.chunk_first_node:
            self.chunk_first_node[key] = self.ids["node"].next
            return self.ids["node"].take(rng, upload), upload
        return self.ids["node"].take(rng, upload, start=self.chunk_first_node[key]), upload

    def _node_text(self, kind: str, number: int, lon: np.ndarray, lat: np.ndarray, tags: Lines | None = None) -> bytes:
        ids, upload = self._node_ids(kind, number, len(lon))
        lines = Lines(len(ids)).same("n").number(ids)
        self._metadata(lines, self._rng(kind, number, "node meta"), upload, self._age("node", ids))
        lines.same(" T")
        if tags is not None:
            lines.extend(tags)
        return lines.same(" x").degrees(lon).same(" y").degrees(lat).text()

    @staticmethod
    def _some(rng: np.random.Generator, k: int, share: float, choices: int) -> np.ndarray:
        """An optional tag's row for ``k`` objects: 0 (absent) but for ``share`` of them, 1..``choices``."""
        return np.where(rng.random(k) < share, rng.integers(1, choices + 1, k), 0)

    def _near(self, rng: np.random.Generator, k: int, spread_m: float = 2_000) -> tuple[np.ndarray, np.ndarray]:
        """``k`` points in towns: consecutive objects in one town, as one upload maps them; the next elsewhere."""
        run = _uploads(rng, k)
        town = rng.integers(0, len(self.towns), int(run[-1]) + 1)[run]
        lon, lat = self.towns[town, 0], self.towns[town, 1]
        scale = rng.lognormal(0, 0.6, k) * spread_m / _M_PER_DEGREE
        return lon + rng.normal(0, 1, k) * scale / np.cos(np.radians(lat)), lat + rng.normal(0, 1, k) * scale

    @staticmethod
    def _offsets(lon: np.ndarray, lat: np.ndarray, east_m: np.ndarray, north_m: np.ndarray) -> np.ndarray:
        """(k, m, 2) lon/lat of offsets in metres around (k,) points."""
        dlon = east_m / (_M_PER_DEGREE * np.cos(np.radians(lat)))[:, None]
        return np.stack([lon[:, None] + dlon, lat[:, None] + north_m / _M_PER_DEGREE], 2)

    # -- nodes ----------------------------------------------------------------------------------------------

    def _buildings(self, number: int, k: int) -> bytes:
        rng = self._rng("buildings", number, "shape")
        lon, lat = self._near(rng, k)
        # Rectangles of 6–50 m by 5–30 m, each turned its own way, their corners surveyed to ~0.3 m.
        half = np.stack([rng.uniform(3, 25, k), rng.uniform(2.5, 15, k)], 1)
        corner = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]])
        x, y = corner[None, :, 0] * half[:, :1], corner[None, :, 1] * half[:, 1:]
        turn = rng.uniform(0, np.pi, k)[:, None]
        east = x * np.cos(turn) - y * np.sin(turn) + rng.normal(0, 0.3, (k, 4))
        north = x * np.sin(turn) + y * np.cos(turn) + rng.normal(0, 0.3, (k, 4))
        points = self._offsets(lon, lat, east, north).reshape(-1, 2)
        return self._node_text("buildings", number, points[:, 0], points[:, 1])

    def _road_classes(self, number: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each road's class (an index into kept, then other classes) and whether HamJi keeps that class."""
        rng = self._rng("roads", number, "class")
        kept = rng.random(k) < 0.4
        cls = np.where(
            kept, rng.integers(0, len(KEPT_CLASSES), k), len(KEPT_CLASSES) + rng.integers(0, len(OTHER_CLASSES), k)
        )
        return cls, kept

    def _roads(self, number: int, k: int) -> bytes:
        rng = self._rng("roads", number, "shape")
        lon, lat = self._near(rng, k)
        _, kept = self._road_classes(number, k)
        # A kept class in or near the region would change HamJi's layers: such roads move west, a few just
        # west of the box (inside the margin, so that the exact box test drops them), the rest far away.
        box = self.region
        move = kept & ~_far_from(box, lon, lat, 2.0)
        west = rng.random(k) < 0.05
        lon = np.where(move, np.where(west, rng.uniform(box[0] - 1.9, box[0] - 0.1, k), rng.uniform(75, 118, k)), lon)
        # Vertices 10–80 m apart along a bending line, as OSM follows a road's curves.
        heading = rng.uniform(0, 2 * np.pi, k)[:, None] + np.cumsum(rng.normal(0, 0.25, (k, ROAD_NODES)), 1)
        step = rng.uniform(10, 80, (k, ROAD_NODES))
        step[:, 0] = 0
        east, north = np.cumsum(step * np.cos(heading), 1), np.cumsum(step * np.sin(heading), 1)
        points = self._offsets(lon, lat, east, north).reshape(-1, 2)
        return self._node_text("roads", number, points[:, 0], points[:, 1])

    def _landuse(self, number: int, k: int) -> bytes:
        rng = self._rng("landuse", number, "shape")
        lon, lat = self._near(rng, k, spread_m=5_000)
        radius = rng.lognormal(np.log(400), 0.5, k)[:, None]
        rings = []
        for points, share in ((OUTER, 1.0), (INNER, 0.35)):
            angle = np.linspace(0, 2 * np.pi, points, endpoint=False)[None, :] + rng.normal(0, 0.05, (k, points))
            r = radius * share * rng.uniform(0.8, 1.2, (k, points))
            rings.append(self._offsets(lon, lat, r * np.cos(angle), r * np.sin(angle)))
        points = np.concatenate(rings, 1).reshape(-1, 2)
        return self._node_text("landuse", number, points[:, 0], points[:, 1])

    def _points(self, number: int, k: int) -> bytes:
        rng = self._rng("points", number, "shape")
        lon, lat = self._near(rng, k)
        tags = Lines(k).joined(
            (self.tags["point"], rng.integers(0, len(POINTS), k)),
            (self.tags["shop"], self._some(rng, k, 0.6, len(self.shop_names))),
            (self.tags["opening"], self._some(rng, k, 0.2, 2)),
        )
        return self._node_text("points", number, lon, lat, tags)

    def nodes(self) -> Iterator[bytes]:
        for kind, make in (("buildings", self._buildings), ("roads", self._roads), ("landuse", self._landuse),
                           ("points", self._points)):  # fmt: skip
            for number, k in self._chunks(kind):
                yield make(number, k)

    # -- ways and relations ---------------------------------------------------------------------------------

    def _way_lines(self, kind: str, number: int, n: int) -> Lines:
        """``w… meta T`` for the chunk's ``n`` ways, in id order."""
        rng = self._rng(kind, number, "way meta")
        upload = _uploads(rng, n)
        ids = self.ids["way"].take(rng, upload)
        if kind == "landuse":
            self.landuse_ways.append(ids.reshape(-1, 2))
        lines = Lines(n).same("w").number(ids)
        self._metadata(lines, rng, upload, self._age("way", ids))
        return lines.same(" T")

    @staticmethod
    def _refs(lines: Lines, refs: np.ndarray) -> Lines:
        lines.same(" Nn").number(refs[:, 0])
        for column in range(1, refs.shape[1]):
            lines.same(",n").number(refs[:, column])
        return lines

    def _building_ways(self, number: int, k: int) -> bytes:
        refs = self._node_ids("buildings", number, 4 * k)[0].reshape(k, 4)
        rng = self._rng("buildings", number, "tags")
        street = self._some(rng, k, 0.2, len(self.street_names))
        lines = self._way_lines("buildings", number, k).joined(
            (self.tags["building"], rng.integers(0, len(BUILDINGS), k)),
            (self.tags["levels"], self._some(rng, k, 0.15, 32)),
            (self.tags["street"], street),
            (self.tags["number"], np.where(street > 0, rng.integers(1, 400, k), 0)),
        )
        return self._refs(lines, np.c_[refs, refs[:, 0]]).text()

    def _road_ways(self, number: int, k: int) -> bytes:
        refs = self._node_ids("roads", number, ROAD_NODES * k)[0].reshape(k, ROAD_NODES)
        rng = self._rng("roads", number, "tags")
        cls, _ = self._road_classes(number, k)
        name = self._some(rng, k, 0.5, len(self.street_names))
        lines = self._way_lines("roads", number, k).joined(
            (self.tags["highway"], cls),
            (self.tags["surface"], self._some(rng, k, 0.3, len(SURFACES))),
            (self.tags["oneway"], self._some(rng, k, 0.1, 1)),
            (self.tags["lanes"], self._some(rng, k, 0.15, 6)),
            (self.tags["name"], name),
            (self.tags["name:en"], np.where(rng.random(k) < 0.4, name, 0)),
        )
        return self._refs(lines, refs).text()

    def _landuse_ways(self, number: int, k: int) -> bytes:
        """One line a ring, outer then inner, each closed by its first node."""
        nodes = self._node_ids("landuse", number, (OUTER + INNER) * k)[0].reshape(k, OUTER + INNER)
        # The ways' fields up to their (empty) tags, one row a ring: the rings' node lists differ in length.
        head = self._way_lines("landuse", number, 2 * k).matrix()[:, :-1]
        outer = self._refs(Lines(k).block(head[0::2]), np.c_[nodes[:, :OUTER], nodes[:, 0]])
        inner = self._refs(Lines(k).block(head[1::2]), np.c_[nodes[:, OUTER:], nodes[:, OUTER]])
        return interleave(outer.matrix(), inner.matrix())

    def ways(self) -> Iterator[bytes]:
        for kind, make in (("buildings", self._building_ways), ("roads", self._road_ways),
                           ("landuse", self._landuse_ways)):  # fmt: skip
            for number, k in self._chunks(kind):
                yield make(number, k)

    def relations(self) -> Iterator[bytes]:
        """The land uses: multipolygons of an outer and an inner ring."""
        for number, members in enumerate(self.landuse_ways):
            rng = self._rng("landuse", number, "relations")
            upload = _uploads(rng, len(members))
            ids = self.ids["relation"].take(rng, upload)
            lines = Lines(len(ids)).same("r").number(ids)
            self._metadata(lines, rng, upload, self._age("way", members[:, 0]))  # made with its rings
            lines.same(" Ttype=multipolygon,landuse=").pick(list(LANDUSE), rng.integers(0, len(LANDUSE), len(ids)))
            yield lines.same(" Mw").number(members[:, 0]).same("@outer,w").number(members[:, 1]).same("@inner").text()


def _far_from(box: tuple[float, float, float, float], lon: np.ndarray, lat: np.ndarray, margin: float) -> np.ndarray:
    return ~((lon > box[0] - margin) & (lon < box[2] + margin) & (lat > box[1] - margin) & (lat < box[3] + margin))


def _sections(opl: Path) -> dict[str, tuple[tuple[int, int], tuple[int, int], int | None]]:
    """Byte ranges of a sorted OPL file's lines of each type with ids below the noise's first id and from it
    on, and the smallest id of the latter (the noise must stay below it)."""
    found: dict[str, list] = {}
    letters = {ord("n"): "node", ord("w"): "way", ord("r"): "relation"}
    at = 0
    with opl.open("rb") as lines:
        for line in lines:
            kind = letters[line[0]]
            ident = int(line[1 : line.index(b" ")])
            entry = found.setdefault(kind, [at, None, at, None])  # start, split, end, first id from the split
            if entry[1] is None and ident >= FIRST_ID[kind]:
                entry[1], entry[3] = at, ident
            at += len(line)
            entry[2] = at
    sections = {}
    for kind in FIRST_ID:
        start, split, end, above = found.get(kind, [0, None, 0, None])
        split = end if split is None else split
        sections[kind] = ((start, split), (split, end), above)
    return sections


def _copy(source, start: int, end: int, sink) -> None:
    source.seek(start)
    left = end - start
    while left > 0:
        block = source.read(min(left, 64 << 20))
        sink.write(block)
        left -= len(block)


def write_china_file(path: Path, dense: Path, nodes: int = 184_000_000, seed: int = 5) -> dict:
    """Write ``dense`` merged with ``nodes`` noise nodes as one sorted ``.osm.pbf`` at ``path``. Returns its makeup.

    One ``osmium cat`` turns the OPL stream into PBF: the dense extract's lines of each type below the noise's
    ids, the noise's, then the dense extract's above them, so no merge pass over the big file is needed.
    """
    path, dense = Path(path), Path(dense)
    noise = _Noise(nodes, settings.REGION_BBOX, seed)
    tmp = path.with_name(f".{path.name}.tmp.osm.pbf")
    with tempfile.TemporaryDirectory(prefix=".china-", dir=path.parent) as scratch:
        dense_opl = Path(scratch) / "dense.opl"
        subprocess.run(["osmium", "cat", "--no-progress", str(dense), "-f", "opl", "-o", str(dense_opl)], check=True)
        sections = _sections(dense_opl)
        writer = subprocess.Popen(
            ["osmium", "cat", "--no-progress", "-F", "opl", "-", "-o", str(tmp), "-f", "pbf", "--overwrite",
             f"--output-header=osmosis_replication_timestamp={END}Z",
             # Sorted by construction, and said so as Geofabrik's files say it (a reader may stop at the ways).
             "--output-header=sorting=Type_then_ID"],
            stdin=subprocess.PIPE,
        )  # fmt: skip
        assert writer.stdin is not None
        try:
            with dense_opl.open("rb") as source:
                for kind, text in (("node", noise.nodes()), ("way", noise.ways()), ("relation", noise.relations())):
                    below, above, first_above = sections[kind]
                    _copy(source, *below, writer.stdin)
                    for block in text:
                        writer.stdin.write(block)
                    if first_above is not None and noise.ids[kind].next >= first_above:
                        raise RuntimeError(f"the noise's {kind} ids reach the dense extract's ({first_above})")
                    _copy(source, *above, writer.stdin)
        finally:
            writer.stdin.close()
            writer.wait()
    if writer.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError("osmium cat failed on the generated OPL")
    os.replace(tmp, path)
    return {**noise.objects, "nodes": sum(k * NODES_PER[kind] for kind, k in noise.objects.items()),
            "last_ids": {kind: ids.next for kind, ids in noise.ids.items()}, "bytes": path.stat().st_size}  # fmt: skip


# --------------------------------------------------------------------------
# measuring: HamJi's readers on the file against the floor and the peers
# --------------------------------------------------------------------------

#: ``hamji`` with a file under the size limit read as a larger one is (for smaller files than China).
HAMJI_LARGE = (
    """
import geo.sources.extracts
geo.sources.extracts.LARGE_EXTRACT_BYTES = 0
"""
    + HAMJI
)

#: ``hamji`` reading a large PBF as it reads a large file in another form (XML), or a PBF its own node
#: reader does not know: every node's location in libosmium's index on disk.
HAMJI_EVERY_NODE_ON_DISK = (
    """
import geo.sources.extracts, geo.sources.pbf_nodes
geo.sources.extracts.LARGE_EXTRACT_BYTES = 0

def unknown(path):
    raise geo.sources.pbf_nodes.UnreadablePbf("benchmark: the on-disk path")

geo.sources.pbf_nodes.check_readable = unknown
"""
    + HAMJI
)

#: The floor on the same on-disk index: the bare pass of :data:`benchmarks.floor.FLOOR`, node locations in a file.
FLOOR_ON_DISK = FLOOR.replace(
    ".with_locations()", ".with_locations(f'sparse_file_array,{sys.argv[2]}/node-locations.idx')"
)

#: pyrosm's road layer (``get_network("driving")``), the peer of ``hamji layers``.
PYROSM = (
    """
import sys, pyrosm
roads = pyrosm.OSM(sys.argv[1]).get_network(network_type="driving")
print(len(roads), "roads")
"""
    + _PEAK_REPORT
)

#: osmnx's graph from the XML form of the same extract, the peer of the graph HamJi routes on.
OSMNX = (
    """
import sys, osmnx
graph = osmnx.graph_from_xml(sys.argv[1], simplify=True, retain_all=True)
print(graph.number_of_nodes(), "nodes", graph.number_of_edges(), "edges")
"""
    + _PEAK_REPORT
)


def _disk_use(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue  # removed while looked at
    return total


def measure_with_disk(args: list[str], scratch: Path, timeout: float | None = None) -> dict:
    """:func:`benchmarks.floor.measure_child` of ``args``, with ``HAMJI_TMPDIR=scratch`` and its peak disk use."""
    scratch.mkdir(parents=True, exist_ok=True)
    peak = {"bytes": 0}
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            peak["bytes"] = max(peak["bytes"], _disk_use(scratch))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = measure_child(args, env={**os.environ, "HAMJI_TMPDIR": str(scratch)}, timeout=timeout)
    finally:
        done.set()
        watcher.join()
    return {**result, "temp_disk_bytes": peak["bytes"]}


def _layer_summary(folder: Path) -> dict:
    """What the layers stage kept, to compare one reading of the region with another."""
    import pyogrio

    gpkg = folder / settings.LAYERS_GPKG
    roads = pyogrio.read_dataframe(gpkg, layer="roads", columns=["osm_id", "length_m"], read_geometry=False)
    return {
        "roads": len(roads),
        "road_km": round(float(roads["length_m"].sum()) / 1000, 1),
        **{
            name: sorted(map(str, pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)[column]))
            for name, column in (("crossings", "crossing_id"), ("markets", "osm_id"), ("provinces", "code"))
        },
    }


def run(workdir: Path, nodes: int, vertex_m: float = 35, peers_python: str | None = None) -> dict:
    """Make (or reuse) the dense extract and the China file, and measure every reader of it in turn."""
    from benchmarks.dense import write_dense_extract
    from geo.sources import fixture

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    dense = workdir / f"bench-dense-{vertex_m:g}m.osm.pbf"
    if not dense.exists():
        write_dense_extract(dense, vertex_m)
    china = workdir / f"china-{nodes // 1_000_000}M.osm.pbf"
    made = {}
    if not china.exists():
        started = time.perf_counter()
        made = write_china_file(china, dense, nodes)
        made["generate_s"] = time.perf_counter() - started
    provinces = [arg for code in fixture.province_codes() for arg in ("--province", code)]
    scratch = workdir / "scratch"
    large = china.stat().st_size > LARGE_EXTRACT_BYTES
    layers_cmd = HAMJI if large else HAMJI_LARGE
    out = {"file": {"path": str(china), "bytes": china.stat().st_size, **made}, "forced_large": not large}

    def hamji(script: str, *args: str) -> dict:
        return measure_with_disk([sys.executable, "-c", script, *args, "--quiet"], scratch)

    out["floor"] = measure_child([sys.executable, "-c", FLOOR, str(china)])
    out["floor_on_disk"] = measure_with_disk([sys.executable, "-c", FLOOR_ON_DISK, str(china), str(scratch)], scratch)
    (scratch / "node-locations.idx").unlink()  # the floor's own index: not to be counted as HamJi's
    layers = workdir / "layers-china"
    out["layers"] = hamji(layers_cmd, "layers", "--osm", str(china), "--out", str(layers), *provinces, "--force")
    every = workdir / "layers-china-on-disk"
    out["layers_on_disk"] = hamji(
        HAMJI_EVERY_NODE_ON_DISK, "layers", "--osm", str(china), "--out", str(every), *provinces, "--force"
    )
    region = workdir / "region.osm.pbf"
    extract_cmd = HAMJI if large else HAMJI_LARGE
    out["extract"] = hamji(extract_cmd, "extract", str(china), "-o", str(region))
    out["extract"]["target_bytes"] = region.stat().st_size
    cut = workdir / "layers-region"
    out["layers_region"] = hamji(HAMJI, "layers", "--osm", str(region), "--out", str(cut), *provinces, "--force")
    direct = workdir / "layers-dense"
    out["layers_dense"] = hamji(HAMJI, "layers", "--osm", str(dense), "--out", str(direct), *provinces, "--force")
    readings = {"china": layers, "china_on_disk": every, "region": cut, "dense": direct}
    summaries = {name: _layer_summary(folder) for name, folder in readings.items()}
    out["same_layers"] = all(summary == summaries["dense"] for summary in summaries.values())
    out["summary"] = {k: v for k, v in summaries["dense"].items() if k in ("roads", "road_km")}
    if peers_python:
        out["peers"] = _peers(peers_python, china, region, workdir)
    return out


#: Address space a peer may take (``ulimit -v``, KB): osmnx on the cut's XML would take all 24 GB of the machine.
PEER_MEMORY_KB = 12_000_000


def _capped(args: list[str]) -> list[str]:
    return ["bash", "-c", f'ulimit -v {PEER_MEMORY_KB}; exec "$@"', "peer", *args]


def _peers(python: str, china: Path, region: Path, workdir: Path) -> dict:
    """pyrosm on the China file, osmnx on the XML form of the region (what ``hamji extract`` cut), each capped."""
    peers = {}
    for name, args in (("pyrosm_china", _capped([python, "-c", PYROSM, str(china)])),
                       ("pyrosm_region", _capped([python, "-c", PYROSM, str(region)]))):  # fmt: skip
        try:
            peers[name] = measure_child(args, timeout=900)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            peers[name] = {"failed": str(exc).splitlines()[-1][:300]}
    xml = workdir / "region.osm"
    subprocess.run(["osmium", "cat", "--no-progress", str(region), "-o", str(xml), "--overwrite"], check=True)
    try:
        peers["osmnx_region_xml"] = measure_child(_capped([python, "-c", OSMNX, str(xml)]), timeout=900)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        peers["osmnx_region_xml"] = {"failed": str(exc).splitlines()[-1][:300]}
    peers["xml_bytes"] = xml.stat().st_size
    xml.unlink()
    return peers


def report(result: dict) -> str:
    """The figures, one line a reader, each against the floor measured in the same run."""
    info, floor = result["file"], result["floor"]
    lines = [
        f"file: {info['bytes'] / 1e9:.2f} GB"
        + (f", {info['nodes']:,} noise nodes, generated in {info['generate_s']:.0f} s" if "nodes" in info else "")
        + (" (read as a large file, though under the size limit)" if result["forced_large"] else ""),
        f"{'reader':<34}{'wall_s':>9}{'peak_MB':>9}{'temp_MB':>9}{'× floor':>9}",
    ]

    def row(label: str, r: dict) -> None:
        if "failed" in r:
            lines.append(f"{label:<34}  failed: {r['failed']}")
            return
        lines.append(
            f"{label:<34}{r['seconds']:>9.1f}{r['peak_bytes'] / 1e6:>9.0f}"
            f"{r.get('temp_disk_bytes', 0) / 1e6:>9.0f}{r['seconds'] / floor['seconds']:>9.2f}"
        )

    row("floor (bare pass, index in memory)", floor)
    row("floor (bare pass, index on disk)", result["floor_on_disk"])
    row("hamji layers (kept nodes only)", result["layers"])
    row("hamji layers (every node on disk)", result["layers_on_disk"])
    row("hamji extract", result["extract"])
    row("hamji layers on the cut", result["layers_region"])
    row("hamji layers on the region alone", result["layers_dense"])
    for name, r in result.get("peers", {}).items():
        if isinstance(r, dict):
            row(name, r)
    s = result["summary"]
    lines.append(
        f"cut: {result['extract']['target_bytes'] / 1e6:.1f} MB; the same layers from the China file (both "
        f"ways), the cut and the region alone ({s['roads']:,} roads, {s['road_km']:,} km): "
        + ("yes" if result["same_layers"] else "NO")
    )
    return "\n".join(lines)
