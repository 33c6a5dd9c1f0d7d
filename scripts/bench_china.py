"""Benchmark: a China-size extract read by ``hamji layers`` (node index on disk) and ``hamji extract``.

Run: python scripts/bench_china.py WORKDIR [--nodes N] [--vertex-m M] [--peers PYTHON]

Makes (or reuses, in WORKDIR) the real-density extract of the region and a
China-like file of N noise nodes around it (default 184 M: about 190 M in
all, Geofabrik's China), then measures, each as its own process: the floor
(a bare pyosmium pass, node index in memory and on disk), ``hamji layers``
on the file, ``hamji extract`` and ``hamji layers`` on its cut, with wall
time, peak memory and peak temporary disk; and checks that all three
readings give the same layers. With ``--peers PYTHON`` (an interpreter with
pyrosm and osmnx), also pyrosm's ``get_network("driving")`` on the file and
the cut, and osmnx's ``graph_from_xml`` on the cut's XML form.
"""

import argparse
import json
import sys
from pathlib import Path

# The benchmarks live beside the library, not in it: put the project folder on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.china_file import report, run  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workdir", type=Path, help="where the files go (several GB for the full size)")
    parser.add_argument("--nodes", type=int, default=184_000_000, help="noise nodes around the region")
    parser.add_argument("--vertex-m", type=float, default=35, help="the region's road vertex spacing (m)")
    parser.add_argument("--peers", metavar="PYTHON", help="an interpreter with pyrosm and osmnx, to time them too")
    args = parser.parse_args()
    result = run(args.workdir, args.nodes, args.vertex_m, args.peers)
    print(report(result))
    (args.workdir / "bench_china.json").write_text(
        json.dumps(result, indent=2, default=str, sort_keys=True) + "\n", encoding="utf-8"
    )
