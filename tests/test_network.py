"""The contracted road graph against the graph of every vertex: same routes, times, bands and road times."""

import numpy as np
import pytest
import shapely

import geo
from geo import settings
from geo.network import build_side, load_speeds, split_at_border
from geo.routes import compute_routes, route_points
from geo.sources.maritime import SEA_LINKS


@pytest.fixture(scope="module")
def dense_demo():
    """The demo with a vertex every 100 m on every road (long chains between junctions, as OSM draws them)."""
    frames = dict(geo.demo_layers().frames)
    roads = frames["roads"].copy()
    measured = roads.geometry.to_crs(settings.MEASURE_CRS)
    roads["geometry"] = measured.segmentize(100).to_crs(settings.STORE_CRS).values
    frames["roads"] = roads
    return frames


def _every_vertex(frames, speeds):
    roads = frames["roads"].reset_index(drop=True)
    on_side, _ = split_at_border(roads, frames["border"].union_all())
    return tuple(build_side(on_side, c, speeds, contract=False) for c in ("KP", "CN"))


def test_contracted_routing_gives_the_answers_of_every_vertex(dense_demo):
    speeds = load_speeds()
    full = _every_vertex(dense_demo, speeds)
    record = geo.run_assumptions(speeds)
    contracted = compute_routes(dense_demo, record)
    reference = compute_routes(dense_demo, record, sides=full)
    # The contraction did something: far fewer nodes than vertices.
    assert contracted["network"].kp.nodes * 5 < reference["network"].kp.nodes
    kept, every = contracted["network"].kp, reference["network"].kp
    assert (kept.dropped_components, kept.dropped_roads) == (every.dropped_components, every.dropped_roads)
    a, b = contracted["markets"], reference["markets"]
    assert a["reachable"].sum() > 10
    for column in ("best_crossing", "nearest_crossing", "hub", "reachable", "reason"):
        assert a[column].fillna("-").tolist() == b[column].fillna("-").tolist(), column
    for column in ("total_h", "crossing_h", "hub_crossing_h"):
        assert np.allclose(a[column] * 3600, b[column] * 3600, atol=1e-3, equal_nan=True), column
    assert np.allclose(a["snap_m"], b["snap_m"]) and np.allclose(a["total_km"], b["total_km"], equal_nan=True)
    # The same lines drawn, vertex for vertex, and the same roads carrying them.
    for x, y in zip(contracted["routes"].geometry, reference["routes"].geometry):
        assert np.allclose(shapely.get_coordinates(x), shapely.get_coordinates(y))
    assert contracted["roads"]["routes"].tolist() == reference["roads"]["routes"].tolist()
    for name, key in (("bands", "hours"), ("road_times", "from_h")):
        assert np.allclose(contracted[name].set_index(key)["road_km"], reference[name].set_index(key)["road_km"])
    assert contracted["bands"].geometry.geom_equals(reference["bands"].geometry).all()
    assert contracted["road_times"].geometry.geom_equals(reference["road_times"].geometry).all()


def test_a_point_beside_the_middle_of_a_long_road_snaps_to_the_vertex_beside_it(dense_demo):
    """Kept points snap as on the full network; without ``keep`` the nearest node is a junction or road end."""
    roads = dense_demo["roads"]
    road = roads[(roads["country"] == "KP")].to_crs(settings.MEASURE_CRS).geometry
    longest = road.iloc[int(np.argmax(road.length))]
    middle = shapely.get_coordinates(longest)[len(shapely.get_coordinates(longest)) // 2]
    point = middle + [30.0, 0.0]
    on_side, _ = split_at_border(roads.reset_index(drop=True), dense_demo["border"].union_all())
    kept = build_side(on_side, "KP", load_speeds(), keep=point[None, :])
    plain = build_side(on_side, "KP", load_speeds())
    _, distance = kept.snap(point[None, :])
    assert distance[0] == pytest.approx(30.0, abs=0.01)
    assert plain.snap(point[None, :])[1][0] > 100
    # Every crossing, hub, market and station, and the North Korean port of every sea link.
    kept = sum(len(dense_demo[k]) for k in ("crossings", "hubs", "markets", "stations")) + len(SEA_LINKS)
    assert len(route_points(dense_demo)) == kept
