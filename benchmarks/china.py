"""Reading China-size extracts: ``hamji layers`` against a bare libosmium pass over the same file.

No real China extract can be had offline, so :func:`write_china_like` makes
one the way Geofabrik's ``china-latest.osm.pbf`` is made up: the generated
national extract (:mod:`benchmarks.pipeline`, the HamJi region) plus noise
far from it — buildings (closed 5-node ways), land-use multipolygon
relations with inner rings, and road ways of every class between 100–120 °E
and 22–38 °N (a share of them just west of the region box, so that the
exact test runs too). Noise ids start above 1e10 (nodes), 1e9 (ways) and 1e7
(relations), as in real files. The noise is written as OPL text and turned
into PBF by libosmium, so that generating 60 M nodes takes minutes, not hours.

Every size is measured twice, each in its own process (wall time, and the
peak memory the process reports of itself): the floor — one pyosmium pass with node locations
that builds every ``highway`` way's WKB in libosmium — and ``hamji layers``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium

from benchmarks.floor import FLOOR, HAMJI, measure_child
from benchmarks.pipeline import country_extract, write_pbf
from geo import settings
from geo.sources import fixture

NODE_ID0, WAY_ID0, RELATION_ID0 = 10_000_000_000, 1_000_000_000, 10_000_000
ROAD_CLASSES = np.array(
    ["residential", "service", "footway", "track", "unclassified", "tertiary", "secondary", "primary"]
)
#: Targets of issue 12 (ratios against the floor measured in the same run).
TARGET_TIME_RATIO, TARGET_MEMORY_RATIO, TARGET_PEAK_BYTES = 2.5, 2.0, 4 * 1024**3


def _noise_opl(path: Path, noise_nodes: int, outside_roads: int, seed: int) -> dict:
    """Write the noise as OPL: ``noise_nodes`` in buildings and land use, and ``outside_roads`` road ways of
    10 nodes each; node lines, then way lines, then relation lines (ids ascending)."""
    rng = np.random.default_rng(seed)
    landuse = max(1, noise_nodes // 600)  # each: a 20-node outer and a 10-node inner ring
    buildings = max(0, (noise_nodes - landuse * 30) // 4)
    counts = {"buildings": buildings, "landuse_relations": landuse, "outside_roads": outside_roads}
    next_node = NODE_ID0
    ways: list[str] = []
    with path.open("w") as out:

        def nodes(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
            nonlocal next_node
            ids = np.arange(next_node, next_node + len(lon))
            next_node += len(lon)
            out.write(
                "".join(f"n{i} v1 x{x:.7f} y{y:.7f}\n" for i, x, y in zip(ids.tolist(), lon.tolist(), lat.tolist()))
            )
            return ids

        chunk = 200_000
        for start in range(0, buildings, chunk):  # buildings: a small square each
            k = min(chunk, buildings - start)
            cx, cy = rng.uniform(100, 120, k), rng.uniform(22, 38, k)
            d = 0.0002
            corners = np.stack([cx - d, cy - d, cx + d, cy - d, cx + d, cy + d, cx - d, cy + d], 1).reshape(-1, 2)
            ids = nodes(corners[:, 0], corners[:, 1]).reshape(k, 4)
            ways += [f"Tbuilding=yes Nn{a},n{b},n{c},n{e},n{a}" for a, b, c, e in ids.tolist()]
        rings = []
        for _ in range(landuse):  # land use: an outer and an inner ring
            cx, cy = rng.uniform(100, 120), rng.uniform(22, 38)
            pair = []
            for radius, points in ((0.01, 20), (0.004, 10)):
                angle = np.linspace(0, 2 * np.pi, points, endpoint=False)
                ids = nodes(cx + radius * np.cos(angle), cy + radius * np.sin(angle)).tolist()
                ways.append("T Nn" + ",n".join(map(str, [*ids, ids[0]])))
                pair.append(len(ways) - 1)
            rings.append(pair)
        for start in range(0, outside_roads, chunk):  # roads of every class, 10 nodes each
            k = min(chunk, outside_roads - start)
            near = rng.random(k) < 0.02  # just west of the region box: measured, then dropped
            x0 = np.where(near, rng.uniform(119.3, 121.2, k), rng.uniform(100, 118, k))
            y0 = np.where(near, rng.uniform(38, 46, k), rng.uniform(22, 38, k))
            steps = np.arange(10) * 0.001
            ids = nodes((x0[:, None] + steps).ravel(), np.repeat(y0, 10)).reshape(k, 10)
            classes = ROAD_CLASSES[rng.integers(0, len(ROAD_CLASSES), k)]
            ways += [f"Thighway={c} Nn" + ",n".join(map(str, row)) for c, row in zip(classes, ids.tolist())]
        out.write("".join(f"w{WAY_ID0 + i} v1 {body}\n" for i, body in enumerate(ways)))
        out.write(
            "".join(
                f"r{RELATION_ID0 + i} v1 Ttype=multipolygon,landuse=farmland Mw{WAY_ID0 + a}@outer,"
                f"w{WAY_ID0 + b}@inner\n"
                for i, (a, b) in enumerate(rings)
            )
        )
    counts["noise_nodes"] = next_node - NODE_ID0  # buildings and land use, plus the roads' nodes
    return counts


def write_china_like(path: Path, noise_nodes: int, outside_roads: int = 1_000_000, seed: int = 11) -> dict:
    """The national extract plus China's noise, as one sorted ``.osm.pbf``. Returns what it holds."""
    path = Path(path)
    national = path.with_name("national.osm.pbf")
    if not national.exists():
        data, _ = country_extract()
        write_pbf(data, national)
    noise = path.with_name(f".{path.stem}.noise.opl")
    counts = _noise_opl(noise, noise_nodes, outside_roads, seed)
    tmp = path.with_name(f".{path.name}.tmp.osm.pbf")
    tmp.unlink(missing_ok=True)
    # National ids are all below the noise's, so node, way and relation runs stay sorted.
    with osmium.SimpleWriter(str(tmp)) as writer:
        for kinds in (osmium.osm.NODE, osmium.osm.WAY, osmium.osm.RELATION):
            for source in (national, noise):
                for obj in osmium.FileProcessor(str(source), kinds):
                    writer.add(obj)
    os.replace(tmp, path)
    noise.unlink()
    counts["nodes"] = counts.pop("noise_nodes") + _count_nodes(national)
    counts["bytes"] = path.stat().st_size
    return counts


def _count_nodes(path: Path) -> int:
    return sum(1 for _ in osmium.FileProcessor(str(path), osmium.osm.NODE))


def _layers(extract: Path, out: Path) -> dict:
    provinces = [arg for code in fixture.province_codes() for arg in ("--province", code)]
    result = measure_child(
        [
            sys.executable,
            "-c",
            HAMJI,
            "layers",
            "--osm",
            str(extract),
            *provinces,
            "--out",
            str(out),
            "--force",
            "--quiet",
        ]
    )
    gpkg = out / settings.LAYERS_GPKG
    result["same"] = {
        name: sorted(map(str, gpd.read_file(gpkg, layer=name)[column]))
        for name, column in (("crossings", "crossing_id"), ("markets", "osm_id"), ("provinces", "code"))
    }
    return result


def run(workdir: Path, sizes: tuple[int, ...] = (2_000_000, 8_000_000, 24_000_000), big: int = 0) -> dict:
    """Measure the floor and ``hamji layers`` at each noise size (plus ``big`` for the memory target)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    national = workdir / "national.osm.pbf"
    if not national.exists():
        data, _ = country_extract()
        write_pbf(data, national)
    clean = _layers(national, workdir / "layers-national")
    rows = []
    for noise in (*sizes, *([big] if big else [])):
        extract = workdir / f"china-like-{noise // 1_000_000}M.osm.pbf"
        started = time.perf_counter()
        info = write_china_like(extract, noise)
        info["generate_s"] = time.perf_counter() - started
        floor = measure_child([sys.executable, "-c", FLOOR, str(extract)])
        hamji = _layers(extract, workdir / f"layers-{noise // 1_000_000}M")
        rows.append(
            {"noise": noise, **info, "floor": floor, "hamji": hamji, "same_as_national": hamji["same"] == clean["same"]}
        )
        extract.unlink()
    return {"national": clean, "rows": rows}


def report(result: dict) -> str:
    lines = [
        "| file nodes | MB | floor s | floor GB | hamji layers s | GB | time × floor | memory × floor | same "
        "crossings/markets/provinces |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ok = True
    for row in result["rows"]:
        floor, hamji = row["floor"], row["hamji"]
        t, m = hamji["seconds"] / floor["seconds"], hamji["peak_bytes"] / floor["peak_bytes"]
        ok &= row["same_as_national"] and hamji["peak_bytes"] < TARGET_PEAK_BYTES
        lines.append(
            f"| {row['nodes'] / 1e6:.1f} M | {row['bytes'] / 1e6:.0f} | {floor['seconds']:.1f} | "
            f"{floor['peak_bytes'] / 1e9:.2f} | {hamji['seconds']:.1f} | {hamji['peak_bytes'] / 1e9:.2f} | "
            f"{t:.2f} | {m:.2f} | {'yes' if row['same_as_national'] else 'NO'} |"
        )
    lines.append(
        f"targets: time ≤ {TARGET_TIME_RATIO}× and memory ≤ {TARGET_MEMORY_RATIO}× the floor on the "
        f"~19 M-node file, under {TARGET_PEAK_BYTES / 1e9:.0f} GB at ≥ 60 M nodes; "
        + ("same layers as the clean national file at every size" if ok else "SOME ROW DIFFERS")
    )
    return "\n".join(lines)
