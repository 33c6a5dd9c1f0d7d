"""Benchmark: ``hamji layers`` on China-like extracts against a bare libosmium pass (the floor).

Run: python scripts/bench_extracts.py [WORKDIR] [--big]
Generates the national extract plus 2 M, 8 M and 24 M noise nodes (and 1 M
road ways outside the region each; with --big also 60 M), and prints time and
peak memory of each against the floor, and whether the layers match the
clean national file's.
"""

import sys
import tempfile
from pathlib import Path

# The benchmarks live beside the library, not in it: put the project folder on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.china import report, run  # noqa: E402

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    big = 60_000_000 if "--big" in sys.argv else 0
    with tempfile.TemporaryDirectory(prefix="hamji-bench-") as scratch:
        print(report(run(Path(args[0]) if args else Path(scratch), big=big)))
