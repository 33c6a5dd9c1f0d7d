"""Benchmark: the whole pipeline (layers -> routes -> reach -> maps) on a generated extract.

Run: python scripts/bench_pipeline.py [WORKDIR] [--vertex-m M]   (default: a temporary folder)

Without ``--vertex-m``: North Korea's road length at a vertex every 250 m, the
Chinese side the fixture's strip. With it: both sides at a vertex every M
metres (all of Jilin on the Chinese side), the real density of OSM's roads.
Prints per stage wall time, peak memory and rows in/out, the layers and
routes stages against floors measured in the same run, the file sizes, and
whether the targets are met.
"""

import argparse
import sys
import tempfile
from pathlib import Path

# The benchmarks live beside the library, not in it: put the project folder on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pipeline import report, run  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", nargs="?", help="where the extract and outputs go (default: a temporary folder)")
    parser.add_argument("--vertex-m", type=float, help="both sides at a road vertex every M metres (e.g. 35)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hamji-bench-") as scratch:
        print(report(run(args.workdir or scratch, vertex_m=args.vertex_m)))
