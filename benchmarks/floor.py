"""The floor the benchmarks measure HamJi against, in the same run: one bare pyosmium pass over the same file.

The pass reads nodes and ways with node locations and builds every
``highway`` way's WKB in libosmium: what any reader of the file must at
least do. Each process prints its own peak memory (``VmHWM`` after exec):
the ``wait4`` figure of a child forked from a large generator would include
the generator's pages.
"""

from __future__ import annotations

import subprocess
import time

#: Appended to a measured script: it prints the peak of its own memory.
_PEAK_REPORT = """
import re
with open('/proc/self/status') as status:
    print('bench-peak-kb', re.search(r'VmHWM:\\s+(\\d+)', status.read()).group(1))
"""

FLOOR = (
    """
import sys, osmium
wkb = osmium.geom.WKBFactory()
n = 0
for way in osmium.FileProcessor(sys.argv[1], osmium.osm.NODE | osmium.osm.WAY).with_locations().with_filter(
        osmium.filter.KeyFilter("highway")):
    if way.is_way():
        try:
            wkb.create_linestring(way)
            n += 1
        except Exception:
            pass
print(n)
"""
    + _PEAK_REPORT
)

#: The layers floor: the bare pass above, plus writing those lines (WKB and class) to a GeoPackage with pyogrio.
LAYERS_FLOOR = (
    """
import sys, numpy as np, osmium, pyogrio.raw
wkb = osmium.geom.WKBFactory()
lines, classes = [], []
for way in osmium.FileProcessor(sys.argv[1], osmium.osm.NODE | osmium.osm.WAY).with_locations().with_filter(
        osmium.filter.KeyFilter("highway")):
    if way.is_way():
        try:
            lines.append(bytes.fromhex(wkb.create_linestring(way)))
            classes.append(way.tags["highway"])
        except Exception:
            pass
pyogrio.raw.write(sys.argv[2], np.array(lines, dtype=object), [np.array(classes, dtype=object)], ["highway"],
                  driver="GPKG", geometry_type="LineString", crs="EPSG:4326")
print(len(lines))
"""
    + _PEAK_REPORT
)

#: The routes floor: read the roads layer, SciPy CSR of every vertex, and ``argv[2]`` multi-source Dijkstra passes.
ROUTES_FLOOR = (
    """
import sys, numpy as np, pyogrio, shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
table = pyogrio.read_dataframe(sys.argv[1], layer="roads", columns=["country"])
for country in ("KP", "CN"):
    coords, which = shapely.get_coordinates(table.geometry.values[table["country"].to_numpy() == country],
                                            return_index=True)
    scaled = np.round(coords * 1e7).astype(np.int64)  # one 1-D key per vertex, the fastest way to meet at shared ones
    _, node = np.unique(scaled[:, 0] * 4_000_000_000 + scaled[:, 1], return_inverse=True)
    node = node.reshape(-1)
    same = which[1:] == which[:-1]
    a, b = node[:-1][same], node[1:][same]
    step = np.hypot(*(coords[1:] - coords[:-1])[same].T) * 1e5 + 1e-6
    n = int(node.max()) + 1
    graph = csr_matrix((np.r_[step, step], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    sources = np.random.default_rng(1).choice(n, size=10, replace=False)
    for _ in range(int(sys.argv[2]) if country == "KP" else 1):
        dijkstra(graph, directed=True, indices=sources, min_only=True)
print(n)
"""
    + _PEAK_REPORT
)

#: One ``hamji`` command (its arguments after the script), reporting its own peak memory.
HAMJI = (
    """
import sys
from geo.cli import main
code = main(sys.argv[1:])
"""
    + _PEAK_REPORT
    + """
sys.exit(code)
"""
)


def measure_child(args: list[str], env: dict | None = None, timeout: float | None = None) -> dict:
    """Wall time of one child process, and the peak memory it reports of itself."""
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} … failed: {done.stderr.strip()[-500:]}")
    peak_kb = int(done.stdout.rsplit("bench-peak-kb", 1)[1].split()[0])
    return {"seconds": time.perf_counter() - started, "peak_bytes": peak_kb * 1024, "stdout": done.stdout}
