"""Benchmark: the whole pipeline (layers -> routes -> reach -> maps) on a North Korea-sized extract.

Run: python scripts/bench_pipeline.py [WORKDIR]   (default: a temporary folder)
Prints per stage wall time, peak memory and rows in/out, the file sizes, and
whether the targets (< 60 s, < 4 GB, each map < 10 MB) are met.
"""

import sys
import tempfile
from pathlib import Path

# The benchmarks live beside the library, not in it: put the project folder on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pipeline import report, run  # noqa: E402

if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="hamji-bench-") as scratch:
        print(report(run(sys.argv[1] if len(sys.argv) > 1 else scratch)))
