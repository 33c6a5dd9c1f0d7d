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
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: Noise ids: below the dense extract's grid (nodes from 1e10, ways from 1e9) and above the fixture's.
NODE_ID0, WAY_ID0, RELATION_ID0 = 20_000_000, 2_000_000, 100_000
#: China's extent (lon, lat) and HamJi's region box as :data:`geo.settings.REGION_BBOX` has it.
CHINA = (73.5, 18.2, 134.8, 53.5)
#: Shares of the noise nodes: buildings, roads, land use (the rest are points of interest).
SHARES = {"buildings": 0.55, "roads": 0.30, "landuse": 0.10}
KEPT_CLASSES = ("primary", "secondary", "tertiary", "unclassified", "track", "trunk", "motorway")
OTHER_CLASSES = ("residential", "service", "footway")
POI_TAGS = ("shop=convenience", "amenity=restaurant", "amenity=school", "shop=supermarket", "")
#: Objects per chunk of OPL text handed to osmium at once.
CHUNK = 250_000


class _Meta:
    """Real-looking metadata for a run of objects: versions, timestamps, changesets, users."""

    def __init__(self, rng: np.random.Generator, users: int = 20_000):
        self.rng = rng
        # Mapper names as OSM shows them (ASCII, so no OPL escaping is needed); their ids grow with sign-up.
        stems = np.array(["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "mapper", "gis", "osm"])
        picks = rng.integers(0, len(stems), (users, 2))
        self.users = [f"{stems[a]}_{stems[b]}{k}" for k, (a, b) in enumerate(picks.tolist())]
        self.uids = np.sort(rng.choice(25_000_000, users, replace=False)) + 1
        start, end = np.datetime64("2008-01-01T00:00:00"), np.datetime64("2026-09-30T00:00:00")
        self.stamps = np.sort(rng.integers(0, int((end - start) / np.timedelta64(1, "s")), 4096))
        self.stamp_text = [str(start + np.timedelta64(int(s), "s")) + "Z" for s in self.stamps]
        self.stamp_span = int(self.stamps[-1])

    def text(self, n: int) -> list[str]:
        """``n`` metadata fields as OPL (``v… dV c… t… i… u…``), in runs as one mapper's upload makes them.

        Consecutive ids come in runs of one changeset, one user and one time, as in a real file (which is
        also what lets PBF's delta coding compress a real file as it does).
        """
        rng = self.rng
        runs = rng.geometric(1 / 300, n // 100 + 2)
        run = np.repeat(np.arange(len(runs)), runs)[:n]
        run = np.r_[run, np.full(n - len(run), len(runs) - 1)]
        when = rng.integers(0, len(self.stamps), len(runs))
        # Changesets are numbered in time order: about 150 M by 2026.
        changeset = (self.stamps[when] / self.stamp_span * 150_000_000).astype(np.int64) + 1
        user = rng.zipf(1.3, len(runs)) % len(self.users)
        stamps, users, uids = self.stamp_text, self.users, self.uids
        upload = [
            f"dV c{c} t{stamps[t]} i{uids[u]} u{users[u]}"
            for c, t, u in zip(changeset.tolist(), when.tolist(), user.tolist())
        ]
        version = np.minimum(rng.geometric(0.6, n), 60)
        return [f"v{v} {upload[r]}" for v, r in zip(version.tolist(), run.tolist())]


def _far_from(box: tuple[float, float, float, float], lon: np.ndarray, lat: np.ndarray, margin: float) -> np.ndarray:
    return ~((lon > box[0] - margin) & (lon < box[2] + margin) & (lat > box[1] - margin) & (lat < box[3] + margin))


class _Noise:
    """The noise as OPL lines, in file order (nodes, then ways, then relations, ids ascending)."""

    def __init__(self, nodes: int, region: tuple[float, float, float, float], seed: int):
        self.rng = np.random.default_rng(seed)
        self.meta = _Meta(self.rng)
        self.region = region
        self.counts = {
            "buildings": int(nodes * SHARES["buildings"]) // 4,
            "roads": int(nodes * SHARES["roads"]) // 12,
            "landuse": int(nodes * SHARES["landuse"]) // 36,
        }
        used = self.counts["buildings"] * 4 + self.counts["roads"] * 12 + self.counts["landuse"] * 36
        self.counts["points"] = max(0, nodes - used)
        self.counts["nodes"] = used + self.counts["points"]
        self.next_node = NODE_ID0
        self.way_lines: list[str] = []  # way lines are short: kept until the nodes are written

    def _ids(self, n: int) -> np.ndarray:
        # Ids grow in small random steps, as deleted objects leave gaps in a real file.
        ids = self.next_node + np.cumsum(self.rng.integers(1, 3, n))
        self.next_node = int(ids[-1]) + 1 if n else self.next_node
        return ids

    def _node_lines(self, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, tags: list[str] | None = None) -> str:
        meta = self.meta.text(len(ids))
        tags = tags or [""] * len(ids)
        return "".join(
            f"n{i} {m} T{t} x{x:.7f} y{y:.7f}\n"
            for i, m, t, x, y in zip(ids.tolist(), meta, tags, lon.tolist(), lat.tolist())
        )

    def _centres(self, k: int, inside_share: float) -> tuple[np.ndarray, np.ndarray]:
        """``k`` points in towns of about 500 over China, ``inside_share`` of the towns in the HamJi region box.

        Objects mapped together lie together, as consecutive ids of a real file do.
        """
        rng, box = self.rng, self.region
        towns = k // 500 + 1
        inside = rng.random(towns) < inside_share
        lon = np.where(inside, rng.uniform(box[0], box[2], towns), rng.uniform(CHINA[0], CHINA[2], towns))
        lat = np.where(inside, rng.uniform(box[1], box[3], towns), rng.uniform(CHINA[1], CHINA[3], towns))
        town = np.minimum(np.arange(k) // 500, towns - 1)
        return lon[town] + rng.normal(0, 0.02, k), lat[town] + rng.normal(0, 0.02, k)

    def nodes(self) -> Iterator[str]:
        """Node text in chunks; way and relation lines are collected for :meth:`rest`."""
        for start in range(0, self.counts["buildings"], CHUNK):
            k = min(CHUNK, self.counts["buildings"] - start)
            cx, cy = self._centres(k, 0.08)
            d = self.rng.uniform(0.00005, 0.0003, k)
            corners = np.stack([cx - d, cy - d, cx + d, cy - d, cx + d, cy + d, cx - d, cy + d], 1).reshape(-1, 2)
            ids = self._ids(4 * k)
            yield self._node_lines(ids, corners[:, 0], corners[:, 1])
            self.way_lines += [f"Tbuilding=yes Nn{a},n{b},n{c},n{e},n{a}" for a, b, c, e in ids.reshape(k, 4).tolist()]
        for start in range(0, self.counts["roads"], CHUNK // 12):
            yield self._roads(min(CHUNK // 12, self.counts["roads"] - start))
        for start in range(0, self.counts["landuse"], CHUNK // 36):
            yield self._landuse(min(CHUNK // 36, self.counts["landuse"] - start))
        for start in range(0, self.counts["points"], CHUNK):
            k = min(CHUNK, self.counts["points"] - start)
            lon, lat = self._centres(k, 0.08)
            tags = [POI_TAGS[t] for t in self.rng.integers(0, len(POI_TAGS), k).tolist()]
            yield self._node_lines(self._ids(k), lon, lat, tags)

    def _roads(self, k: int) -> str:
        rng = self.rng
        x0, y0 = self._centres(k, 0.08)
        kept = rng.random(k) < 0.4
        # A kept class in or near the region would change HamJi's layers: such roads move west, a few just
        # west of the box (inside the margin, so that the exact box test drops them), the rest far away.
        move = kept & ~_far_from(self.region, x0, y0, 2.0)
        west = rng.random(k) < 0.05
        box = self.region
        x0 = np.where(move, np.where(west, rng.uniform(box[0] - 1.9, box[0] - 0.1, k), rng.uniform(75, 118, k)), x0)
        steps = np.arange(12) * 0.0004
        heading = rng.uniform(0, 2 * np.pi, k)
        lon = (x0[:, None] + steps * np.cos(heading)[:, None]).ravel()
        lat = (y0[:, None] + steps * np.sin(heading)[:, None]).ravel()
        ids = self._ids(12 * k).reshape(k, 12)
        classes = np.where(
            kept,
            np.array(KEPT_CLASSES)[rng.integers(0, len(KEPT_CLASSES), k)],
            np.array(OTHER_CLASSES)[rng.integers(0, len(OTHER_CLASSES), k)],
        )
        self.way_lines += [f"Thighway={c} Nn" + ",n".join(map(str, row)) for c, row in zip(classes, ids.tolist())]
        return self._node_lines(ids.ravel(), lon, lat)

    def _landuse(self, k: int) -> str:
        cx, cy = self._centres(k, 0.08)
        parts = []
        for radius, points in ((0.004, 24), (0.0015, 12)):
            angle = np.linspace(0, 2 * np.pi, points, endpoint=False)
            lon = (cx[:, None] + radius * np.cos(angle)).ravel()
            lat = (cy[:, None] + radius * np.sin(angle)).ravel()
            ids = self._ids(k * points)
            parts.append(self._node_lines(ids, lon, lat))
            rings = ids.reshape(k, points).tolist()
            self.way_lines += ["T Nn" + ",n".join(map(str, [*ring, ring[0]])) for ring in rings]
        return "".join(parts)

    def rest(self) -> Iterator[str]:
        """Way lines, then the land-use relations (each an outer and an inner ring, written in that order)."""
        first_landuse = len(self.way_lines) - 2 * self.counts["landuse"]
        for start in range(0, len(self.way_lines), CHUNK):
            lines = self.way_lines[start : start + CHUNK]
            meta = self.meta.text(len(lines))
            yield "".join(f"w{WAY_ID0 + start + i} {m} {body}\n" for i, (m, body) in enumerate(zip(meta, lines)))
        relations = []
        meta = self.meta.text(self.counts["landuse"])
        uses = ("farmland", "forest", "residential", "meadow")
        for k in range(self.counts["landuse"]):
            outer, inner = WAY_ID0 + first_landuse + 2 * k, WAY_ID0 + first_landuse + 2 * k + 1
            relations.append(
                f"r{RELATION_ID0 + k} {meta[k]} Ttype=multipolygon,landuse={uses[k % 4]} "
                f"Mw{outer}@outer,w{inner}@inner\n"
            )
        yield "".join(relations)


def write_china_file(path: Path, dense: Path, nodes: int = 184_000_000, seed: int = 5) -> dict:
    """Write ``dense`` merged with ``nodes`` noise nodes as one sorted ``.osm.pbf`` at ``path``. Returns its makeup."""
    from geo import settings

    path, dense = Path(path), Path(dense)
    noise_pbf = path.with_name(f".{path.stem}.noise.osm.pbf")
    noise = _Noise(nodes, settings.REGION_BBOX, seed)
    writer = subprocess.Popen(
        ["osmium", "cat", "--no-progress", "-F", "opl", "-", "-o", str(noise_pbf), "-f", "pbf", "--overwrite"],
        stdin=subprocess.PIPE,
    )
    assert writer.stdin is not None
    try:
        for text in (*noise.nodes(), *noise.rest()):
            writer.stdin.write(text.encode())
    finally:
        writer.stdin.close()
        writer.wait()
    if writer.returncode != 0:
        raise RuntimeError("osmium cat failed on the generated OPL")
    tmp = path.with_name(f".{path.name}.tmp.osm.pbf")
    subprocess.run(
        ["osmium", "merge", "--no-progress", str(dense), str(noise_pbf), "-o", str(tmp), "--overwrite"], check=True
    )
    noise_pbf.unlink()
    os.replace(tmp, path)
    return {**noise.counts, "bytes": path.stat().st_size}
