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


def measure_child(args: list[str]) -> dict:
    """Wall time of one child process, and the peak memory it reports of itself."""
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} … failed: {done.stderr.strip()[-500:]}")
    peak_kb = int(done.stdout.rsplit("bench-peak-kb", 1)[1].split()[0])
    return {"seconds": time.perf_counter() - started, "peak_bytes": peak_kb * 1024, "stdout": done.stdout}
