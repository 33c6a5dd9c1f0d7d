"""Benchmark: HamJi's multi-source routing against one networkx Dijkstra per market.

Run: python scripts/bench_routes.py [--sample N]
"""

import argparse
import sys
from pathlib import Path

# The benchmarks live beside the library, not in it: put the project folder on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.routing import run  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sample", type=int, default=60, help="markets timed with networkx; its total is scaled to all markets"
    )
    result = run(parser.parse_args().sample)
    print(
        f"network: {result['roads']:,} roads, {result['kp_nodes']:,} nodes, {result['kp_edges']:,} directed "
        f"edges (North Korean side); {result['markets']} markets, {result['crossings']} crossings"
    )
    print(f"graph build (both sides, not part of the comparison): {result['build_s']:.2f} s")
    print(
        f"hamji multi-source routing, every market (snapping, 3 passes, routes walked back): {result['hamji_s']:.2f} s"
    )
    print(f"(compute_routes as a whole, adding the bands and road times drawn: {result['compute_routes_s']:.2f} s)")
    print(
        f"networkx, one Dijkstra per market: {result['networkx_s']:.2f} s "
        f"(timed on {result['sampled']} markets, scaled to {result['markets']})"
    )
    print(f"largest time difference on the sampled markets: {result['max_diff_s']:.6f} s")
    speed_up = result["networkx_s"] / result["hamji_s"]
    print(f"speed-up, like for like (the same graph, the same answers): {speed_up:.1f}x")
