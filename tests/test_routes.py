"""Routing on a hand-built network and on the mini-HamJi fixture, against times computed by hand."""

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point

import geo
from geo import settings
from geo.api import run_assumptions
from geo.errors import HamjiError
from geo.network import SpeedTable, load_speeds
from geo.routes import compute_routes, parse_penalties
from geo.sources import fixture

GEOD = Geod(ellps="WGS84")
# Every class at 36 km/h = 10 m/s, so a time in seconds is a length in metres / 10.
FLAT = SpeedTable(
    {
        c: {k: 36.0 for k in ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "track")}
        for c in ("KP", "CN")
    },
    {"KP": 0.5, "CN": 0.5},
    "test",
)
ORIGIN = (400_000.0, 4_700_000.0)  # UTM 52N, near the Tumen


def lonlat(x, y):
    """Local metres east/north of ORIGIN to a lon/lat point."""
    return settings.to_measure_transformer().transform(ORIGIN[0] + x, ORIGIN[1] + y, direction="INVERSE")


def frame(rows, **columns):
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.STORE_CRS)


def line(*points):
    return LineString([lonlat(*p) for p in points])


def hand_network(closed=("x2",)):
    """China north of y=0, North Korea south of it; see the test's comments for the layout."""
    roads = frame(
        [
            {"osm_id": 1, "highway": "primary", "country": "CN", "geometry": line((0, 10_000), (0, 200))},
            {"osm_id": 2, "highway": "primary", "country": "CN", "geometry": line((0, 200), (20_000, 200))},
            {"osm_id": 3, "highway": "primary", "country": "CN", "geometry": line((0, 10_000), (10_000, 200))},
            {"osm_id": 4, "highway": "secondary", "country": "KP", "geometry": line((0, -200), (0, -5_200))},
            {"osm_id": 5, "highway": "secondary", "country": "KP", "geometry": line((10_000, -200), (10_000, -5_200))},
            {
                "osm_id": 6,
                "highway": "secondary",
                "country": "KP",
                "oneway": "yes",
                "geometry": line((0, -5_200), (10_000, -5_200)),
            },
            {"osm_id": 7, "highway": "secondary", "country": "KP", "geometry": line((20_000, -200), (10_000, -5_200))},
            # A stray road nobody can reach: dropped with its component.
            {"osm_id": 8, "highway": "track", "country": "KP", "geometry": line((50_000, -5_000), (51_000, -5_000))},
        ]
    )
    roads["surface"], roads["oneway"] = None, roads["oneway"].fillna("no")
    crossings = frame(
        [
            {
                "crossing_id": cid,
                "mode": "road",
                "status": "closed" if cid in closed else "open",
                "osm_ids": None,
                "geometry": Point(lonlat(x, 0)),
            }
            for cid, x in (("x1", 0), ("x2", 10_000), ("x3", 20_000))
        ]
    )
    markets = frame(
        [
            {
                "osm_type": "node",
                "osm_id": i,
                "name": name,
                "country": "KP",
                "province": "KP-09",
                "area_m2": np.nan,
                "geometry": Point(lonlat(x, y)),
            }
            for i, (name, x, y) in enumerate(
                [("m1", 0, -5_200), ("m2", 10_000, -5_200), ("stray", 50_500, -5_000), ("beyond", 0, -9_000)]
            )
        ]
    )
    hubs = frame([{"hub": "H", "geometry": Point(lonlat(0, 10_000))}])
    border = frame([{"geometry": line((-5_000, 0), (60_000, 0))}])
    return {"roads": roads, "crossings": crossings, "markets": markets, "hubs": hubs, "border": border}


def test_hand_network_times_crossings_and_flags():
    out = compute_routes(hand_network(), run_assumptions(FLAT, {"x1": 1.0, "x3": 0.5}))
    m = out["markets"].set_index("name")
    # m1: nearest crossing x1, 5 000 m at 10 m/s = 500 s. Hub H -> x1 is 9 800 m
    # = 980 s; with x1's 1 h: 980 + 3 600 + 500 = 5 080 s.
    assert m.loc["m1", "nearest_crossing"] == "x1"
    assert m.loc["m1", "crossing_h"] * 3600 == pytest.approx(500, abs=0.5)
    assert m.loc["m1", "crossing_km"] == pytest.approx(5.0, abs=0.001)
    assert m.loc["m1", "total_h"] * 3600 == pytest.approx(5_080, abs=1)
    assert (m.loc["m1", "hub"], m.loc["m1", "best_crossing"]) == ("H", "x1")
    # m2: x2 is closed. From x3: hypot(10 000, 5 000) = 11 180.3 m -> 1 118.0 s,
    # nearer than x1 (5 000 + 10 000 m -> 1 500 s). Whole route via x3:
    # H -> x3 = 9 800 + 20 000 m = 2 980 s, + 0.5 h + 1 118.0 = 5 898.0 s,
    # beating x1's 980 + 3 600 + 1 500 = 6 080 s.
    assert m.loc["m2", "nearest_crossing"] == "x3"
    assert m.loc["m2", "crossing_h"] * 3600 == pytest.approx(1_118.03, abs=0.5)
    assert m.loc["m2", "total_h"] * 3600 == pytest.approx(5_898.03, abs=1)
    assert m.loc["m2", "hub_crossing_h"] * 3600 == pytest.approx(2_980, abs=0.5)
    # The stray market's road was dropped; both it and 'beyond' (3 800 m from
    # m1's junction) are flagged, not routed.
    assert not m.loc["stray", "reachable"] and "from the road network" in m.loc["stray", "reason"]
    assert not m.loc["beyond", "reachable"] and m.loc["beyond", "snap_m"] == pytest.approx(3_800, abs=1)
    c = out["crossings"].set_index("crossing_id")
    assert c.loc["x2", "reason"] == "closed" and c.loc["x2", "markets_served"] == 0
    assert c.loc["x1", "markets_served"] == 1 and c.loc["x3", "markets_served"] == 1
    assert out["network"].kp.dropped_roads == 1 and out["network"].kp.dropped_components == 1
    # Corridor usage: road 6 (m1 -> m2) is on no best route, road 7 on m2's.
    usage = out["roads"].set_index("osm_id")["routes"]
    assert usage[7] == 1 and usage[6] == 0 and usage[4] == 1 and usage[1] == 2
    routes = out["routes"].set_index("name")
    assert len(routes) == 2 and routes.loc["m2", "crossing"] == "x3"
    assert routes.loc["m2", "geometry"].length > 0


def test_one_way_road_is_not_driven_backwards():
    # With x1 closed too, m1 could only be reached from x3 by driving the
    # one-way road m1 -> m2 backwards: it is unreachable.
    out = compute_routes(hand_network(closed=("x1", "x2")), run_assumptions(FLAT))
    m = out["markets"].set_index("name")
    assert not m.loc["m1", "reachable"] and m.loc["m1", "reason"] == "no road from any open crossing reaches it"
    assert m.loc["m2", "reachable"] and m.loc["m2", "best_crossing"] == "x3"


def test_penalty_and_speed_configuration_errors():
    with pytest.raises(HamjiError, match=r"border penalty for 'nowhere': unknown crossing; known crossings: x1, x3"):
        parse_penalties(["nowhere=1"], ["x1", "x3"])
    with pytest.raises(HamjiError, match="border penalty for 'x1': -2 is not a number of hours from 0 to 240"):
        parse_penalties(["x1=-2"], ["x1"])
    with pytest.raises(HamjiError, match="border penalty 'x1=two': 'two' is not a number of hours"):
        parse_penalties(["x1=two"], ["x1"])


def test_speed_table_file_is_validated(tmp_path):
    good = tmp_path / "speeds.toml"
    body = "".join(
        f"[{c}]\n"
        + "".join(
            f"{k} = 20\n" for k in ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "track")
        )
        for c in ("KP", "CN")
    )
    good.write_text(body)
    assert load_speeds(good).speed("KP", "primary_link", "unpaved") == 20.0
    missing = tmp_path / "missing.toml"
    missing.write_text(body.replace("tertiary = 20\n", "", 1))
    with pytest.raises(HamjiError, match=r"\[KP\] has no speed for 'tertiary'; add it"):
        load_speeds(missing)
    negative = tmp_path / "negative.toml"
    negative.write_text(body.replace("primary = 20", "primary = -5", 1))
    with pytest.raises(
        HamjiError, match=r"\[KP\] primary \(km/h\) = -5; it must be a number more than 0 and at most 200"
    ):
        load_speeds(negative)


def test_mini_hamji_hoeryong_market_is_served_through_sanhe(demo_routes):
    markets = gpd.read_file(demo_routes, layer="markets").set_index("name_en")
    hoeryong = markets.loc["Hoeryong Market"]
    assert hoeryong["nearest_crossing"] == "hoeryong_sanhe" == hoeryong["best_crossing"]
    # Hoeryong -> the Sanhe bridge's North Korean end: one unpaved secondary
    # road, 30 km/h x 0.6 = 18 km/h.
    kp_end, cn_end, _ = fixture._bridge_ends(*next(b[1:3] for b in fixture.BRIDGES if b[0] == "Sanhe Bridge"))
    lat, lon = fixture.TOWNS["Hoeryong"][:2]
    km = GEOD.inv(lon, lat, *kp_end)[2] / 1000
    assert hoeryong["crossing_km"] == pytest.approx(km, rel=2e-3)
    assert hoeryong["crossing_h"] == pytest.approx(km / 18, rel=2e-3)
    # Longjing -> Sanhe -> the bridge's Chinese end: paved secondary, 50 km/h.
    (lat1, lon1), (lat2, lon2) = fixture.TOWNS["Longjing"][:2], fixture.TOWNS["Sanhe"][:2]
    cn_km = (GEOD.inv(lon1, lat1, lon2, lat2)[2] + GEOD.inv(lon2, lat2, *cn_end)[2]) / 1000
    assert hoeryong["hub"] == "Longjing"
    assert hoeryong["hub_crossing_h"] == pytest.approx(cn_km / 50, rel=2e-3)
    assert hoeryong["total_h"] == pytest.approx(cn_km / 50 + settings.BORDER_PENALTY_H + km / 18, rel=2e-3)


def test_mini_hamji_far_provinces_are_farther_from_every_crossing(demo_routes):
    markets = gpd.read_file(demo_routes, layer="markets")
    assert markets["reachable"].all()
    # By the land crossings alone (the land model), every South Hwanghae market is farther than any North Hamgyong one.
    land = geo.route_markets(geo.demo_layers(), supply="land").markets
    north = land.loc[land["province"] == "KP-09", "crossing_h"]
    south = land.loc[land["province"] == "KP-05", "crossing_h"]
    assert len(south) == 4 and south.min() > north.max()
    # Under the default model (all) Nampo's port is a way in, nearer South Hwanghae than any land crossing.
    assert (markets.loc[markets["province"] == "KP-05", "crossing_h"].to_numpy() < south.to_numpy()).all()
    routes = gpd.read_file(demo_routes, layer="routes")
    assert len(routes) == len(markets)


def test_travel_time_bands_follow_the_roads():
    """m1 is 500 s below x1 (road 4); m2 1,118 s from x3 (road 7); nothing else is reached from x1/x3."""
    import shapely

    out = compute_routes(hand_network(), run_assumptions(FLAT))
    bands = out["bands"].set_index("hours").to_crs(settings.MEASURE_CRS)
    assert list(bands.index) == [2.0, 4.0, 8.0]
    # Every road but the stray one is reached within 2 h (the slowest vertex is road 7's far end at ~19 min),
    # so all three bands are the same, and road km counts each road once: 5 + 5 + 10 + 11.18 km.
    assert bands.loc[2.0, "road_km"] == pytest.approx(5 + 5 + 10 + 11.180, abs=0.01)
    assert bands.loc[8.0, "area_km2"] == pytest.approx(bands.loc[2.0, "area_km2"])
    x0, y0 = ORIGIN
    inside = shapely.Point(x0 + 2_000, y0 - 3_000)  # 2 km beside road 4
    outside = shapely.Point(x0 + 50_500, y0 - 5_000)  # on the stray road, unreachable
    assert bands.loc[2.0, "geometry"].contains(inside)
    assert not bands.loc[2.0, "geometry"].contains(outside)


def test_road_times_cut_each_road_by_hours_from_the_nearest_crossing(monkeypatch):
    """At 10 m/s, in 1 km pieces timed at their midpoints, with classes 0, 6, 12, 18 and 21 min.

    Road 4 runs 0 → 500 s from x1: 4 km under 6 min, 1 km in 6-12. Road 7 runs
    0 → 1,118 s from x3 in 12 pieces of 932 m: 4 in each of the first three
    classes. Road 5 climbs from road 7's end (1,118 s) to the closed x2
    (1,618 s): 1 km in 18-21 min, 4 km beyond. Road 6 is one-way from road 4's
    end (500 s) to road 7's (1,118 s), so it counts only from its start:
    500 + 100 s per km gives 2, 4, 2 and 2 km; timed from both ends it would
    have given 3 km in 18-21 min and 1 beyond.
    """
    monkeypatch.setattr(settings, "MAP_TIME_BINS_H", (0, 0.1, 0.2, 0.3, 0.35))
    times = compute_routes(hand_network(), run_assumptions(FLAT))["road_times"].set_index("from_h")
    piece = 11.180340 / 12
    expected = {0.0: 4 + 4 * piece, 0.1: 1 + 4 * piece + 2, 0.2: 4 * piece + 4, 0.3: 1 + 2, 0.35: 4 + 2}
    assert times["road_km"].to_dict() == pytest.approx(expected, abs=1e-4)
    assert times.loc[0.35, "to_h"] == float("inf")
    assert set(times.geom_type) == {"MultiLineString"} and times.crs == settings.STORE_CRS
