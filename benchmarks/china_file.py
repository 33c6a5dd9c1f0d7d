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

import itertools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.floor import _PEAK_REPORT, FLOOR, HAMJI, measure_child
from geo import settings
from geo.sources.extracts import NODE_INDEX_ON_DISK_BYTES

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
    path, dense = Path(path), Path(dense)
    noise_pbf = path.with_name(f".{path.stem}.noise.osm.pbf")
    noise = _Noise(nodes, settings.REGION_BBOX, seed)
    writer = subprocess.Popen(
        ["osmium", "cat", "--no-progress", "-F", "opl", "-", "-o", str(noise_pbf), "-f", "pbf", "--overwrite"],
        stdin=subprocess.PIPE,
    )
    assert writer.stdin is not None
    try:
        for text in itertools.chain(noise.nodes(), noise.rest()):  # streamed: rest() follows nodes()
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


# --------------------------------------------------------------------------
# measuring: HamJi's readers on the file against the floor and the peers
# --------------------------------------------------------------------------

#: ``hamji`` with the node index forced onto disk, as a file over the threshold takes it (for smaller files).
HAMJI_ON_DISK = (
    """
import geo.sources.extracts
geo.sources.extracts.NODE_INDEX_ON_DISK_BYTES = 0
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
    on_disk = china.stat().st_size > NODE_INDEX_ON_DISK_BYTES
    layers_cmd = HAMJI if on_disk else HAMJI_ON_DISK
    out = {"file": {"path": str(china), "bytes": china.stat().st_size, **made}, "forced_on_disk": not on_disk}

    def hamji(script: str, *args: str) -> dict:
        return measure_with_disk([sys.executable, "-c", script, *args, "--quiet"], scratch)

    out["floor"] = measure_child([sys.executable, "-c", FLOOR, str(china)])
    out["floor_on_disk"] = measure_with_disk([sys.executable, "-c", FLOOR_ON_DISK, str(china), str(scratch)], scratch)
    (scratch / "node-locations.idx").unlink()  # the floor's own index: not to be counted as HamJi's
    layers = workdir / "layers-china"
    out["layers"] = hamji(layers_cmd, "layers", "--osm", str(china), "--out", str(layers), *provinces, "--force")
    region = workdir / "region.osm.pbf"
    extract_cmd = HAMJI if on_disk else HAMJI_ON_DISK
    out["extract"] = hamji(extract_cmd, "extract", str(china), "-o", str(region))
    out["extract"]["target_bytes"] = region.stat().st_size
    cut = workdir / "layers-region"
    out["layers_region"] = hamji(HAMJI, "layers", "--osm", str(region), "--out", str(cut), *provinces, "--force")
    direct = workdir / "layers-dense"
    out["layers_dense"] = hamji(HAMJI, "layers", "--osm", str(dense), "--out", str(direct), *provinces, "--force")
    readings = {"china": layers, "region": cut, "dense": direct}
    summaries = {name: _layer_summary(folder) for name, folder in readings.items()}
    out["same_layers"] = summaries["china"] == summaries["dense"] == summaries["region"]
    out["summary"] = {k: v for k, v in summaries["dense"].items() if k in ("roads", "road_km")}
    if peers_python:
        out["peers"] = _peers(peers_python, china, region, workdir)
    return out


def _peers(python: str, china: Path, region: Path, workdir: Path) -> dict:
    """pyrosm on the China file, osmnx on the XML form of the region (what ``hamji extract`` cut)."""
    peers = {}
    for name, args in (("pyrosm_china", [python, "-c", PYROSM, str(china)]),
                       ("pyrosm_region", [python, "-c", PYROSM, str(region)])):  # fmt: skip
        try:
            peers[name] = measure_child(args, timeout=900)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            peers[name] = {"failed": str(exc).splitlines()[-1][:300]}
    xml = workdir / "region.osm"
    subprocess.run(["osmium", "cat", "--no-progress", str(region), "-o", str(xml), "--overwrite"], check=True)
    try:
        peers["osmnx_region_xml"] = measure_child([python, "-c", OSMNX, str(xml)], timeout=900)
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
        + (" (node index forced onto disk: the file is under the threshold)" if result["forced_on_disk"] else ""),
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
    row("hamji layers (index on disk)", result["layers"])
    row("hamji extract", result["extract"])
    row("hamji layers on the cut", result["layers_region"])
    row("hamji layers on the region alone", result["layers_dense"])
    for name, r in result.get("peers", {}).items():
        if isinstance(r, dict):
            row(name, r)
    s = result["summary"]
    lines.append(
        f"cut: {result['extract']['target_bytes'] / 1e6:.1f} MB; the same layers from the China file, the cut "
        f"and the region alone ({s['roads']:,} roads, {s['road_km']:,} km): "
        + ("yes" if result["same_layers"] else "NO")
    )
    return "\n".join(lines)
