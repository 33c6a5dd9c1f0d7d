"""The benchmarks still run and still compare like with like (they time nothing here).

The routing benchmark stopped running once the default supply model took in the real sea links, whose
ports lie far from its made-up grid; nothing ran it until the figures were wanted again.
"""

from benchmarks.routing import run


def test_the_routing_benchmark_gives_networkx_s_answers():
    result = run(sample=3)
    assert (result["markets"], result["crossings"], result["sampled"]) == (450, 10, 3)
    assert result["max_diff_s"] < 1e-6  # the same graph, the same shortest times
