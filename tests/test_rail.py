"""Rail: the layers keep OSM's rail tags; a rail crossing and the stations a train reaches are entries into routing."""

import pandas as pd
import pytest

from geo import api, settings
from geo.routes import compute_routes
from geo.sources.fixture import TOWNS


@pytest.fixture(scope="module")
def demo():
    return api.demo_layers()


def _km(*points) -> float:
    """Straight-line length through (lon, lat) points as routing measures it (EPSG:32652)."""
    x, y = settings.to_measure_transformer().transform([p[0] for p in points], [p[1] for p in points])
    return sum(((x[i + 1] - x[i]) ** 2 + (y[i + 1] - y[i]) ** 2) ** 0.5 for i in range(len(points) - 1)) / 1000


def _town(name: str) -> tuple[float, float]:
    return TOWNS[name][1], TOWNS[name][0]


def test_railways_and_stations_layers_keep_the_tags(demo):
    main = demo.railways[demo.railways["name"] == "평의선"].iloc[0]
    assert (main["usage"], main["gauge"], main["electrified"], main["country"]) == (
        "main",
        "1435",
        "contact_line",
        "KP",
    )
    assert bool(demo.railways["bridge"].sum() == 2)  # the Tumen and Friendship rail bridges
    assert {"Sinuiju Chongnyon", "Pyongyang", "Sariwon", "Namyang"} <= set(demo.stations["name"])
    assert set(demo.stations.loc[demo.stations["name"] == "Dandong", "country"]) == {"CN"}


def _sariwon(out):
    routes = out["routes"].set_index("name")
    return routes.loc[[n for n in routes.index if n.startswith("사리원시장")][0]]


def test_in_march_2022_the_train_at_dandong_was_the_way_in(demo):
    # Rail Dandong-Sinuiju reopened 16 January 2022 (Yonhap); every road crossing was shut until 2023.
    out = compute_routes(demo.frames, api.run_assumptions(supply="all", as_of="2022-03"))
    sariwon = _sariwon(out)
    assert (sariwon["crossing"], sariwon["entry_mode"]) == ("sinuiju_dandong_rail", "rail")
    rail = out["crossings"].set_index("crossing_id").loc["sinuiju_dandong_rail"]
    # By hand: truck to the bridge, 3 h loading, 2 h border, 3 h unloading at Sinuiju, then by road:
    # the Friendship Bridge's end to Sinuiju and Pyongyang (primary, 40 km/h), Pyongyang-Sariwon (motorway, 50 km/h).
    primary = _km((124.396, 40.112), _town("Sinuiju"), _town("Pyongyang"))
    motorway = _km(_town("Pyongyang"), _town("Sariwon"))
    by_hand = rail["cn_road_h"] + 3 + 2 + 3 + primary / 40 + motorway / 50
    assert sariwon["total_h"] == pytest.approx(by_hand, abs=1e-3)
    # At 25 km/h the train on to Sariwon (226 km, 9 h) is slower than the road (5.4 h): it is not taken.
    # The legs say the train went no further than the border station, and which crossing it was.
    assert (
        "; rail across the border at Sinuiju–Dandong, unloaded there, loading and unloading 6.0 h; road in "
        "North Korea 226 km 5.4 h" in sariwon["legs"]
    )


def test_a_best_route_may_mix_rail_and_road(demo, monkeypatch):
    # With trains faster than the roads (80 km/h, not the sourced assumption), goods ride on to Sariwon station.
    monkeypatch.setattr(settings, "RAIL_SPEED_KMH", {**settings.RAIL_SPEED_KMH, "KP": 80.0})
    out = compute_routes(demo.frames, api.run_assumptions(supply="all", as_of="2022-03"))
    sariwon = _sariwon(out)
    rail_km = _km((124.3958, 40.1118), _town("Sinuiju"), _town("Pyongyang"), _town("Sariwon"))
    assert rail_km == pytest.approx(226, abs=1)
    cn_road_h = out["crossings"].set_index("crossing_id").loc["sinuiju_dandong_rail", "cn_road_h"]
    assert sariwon["total_h"] == pytest.approx(cn_road_h + 2 + 6 + rail_km / 80, abs=1e-3)
    assert f"rail to Sariwon {rail_km:.0f} km {rail_km / 80:.1f} h" in sariwon["legs"]
    # The route line runs on the rails: it passes Pyongyang's station.
    assert any(abs(x - 125.75432) < 1e-6 and abs(y - 39.03385) < 1e-6 for x, y in sariwon.geometry.coords)


def test_no_rail_under_the_road_models(demo):
    out = compute_routes(demo.frames, api.run_assumptions(supply="land"))
    crossings = out["crossings"].set_index("crossing_id")
    assert crossings.loc["sinuiju_dandong_rail", "reason_code"] == "rail"
    assert not crossings.index.str.startswith("sea_").any()
    assert set(out["routes"]["entry_mode"]) == {"road"}


def test_a_hub_with_a_station_may_send_the_goods_by_chinese_rail(demo):
    from dataclasses import replace

    # Dandong's station is at the hub; the Chinese rail runs from it to the Friendship Bridge's end, 1.36 km.
    rail_km = _km(_town("Dandong"), (124.3888, 40.1178))
    assert rail_km == pytest.approx(1.36, abs=0.01)
    default = api.run_assumptions(supply="all", as_of="2022-03")
    # With the Chinese roads at 1 km/h (a lever of this test, not an assumption of the project) the truck to the
    # bridge takes over an hour, the train from the station 1.36 km / 25 km/h = 3 min: the train is the Chinese leg.
    crawl = {cls: 1.0 for cls in default.speeds.speeds["CN"]}
    slow = replace(default, speeds=replace(default.speeds, speeds={**default.speeds.speeds, "CN": crawl}))
    routed = {name: compute_routes(demo.frames, a) for name, a in (("default", default), ("slow", slow))}
    before, after = (_routed(routed[name], "신의주시장") for name in ("default", "slow"))
    assert before["legs"].startswith("road in China from Dandong 1 min; border or port 2.0 h")
    # 1.36 km at 25 km/h: 3 min, as a reader reads it, not "0.1 h".
    assert after["legs"].startswith("road in China from Dandong to Dandong station 0 min; rail in China 1 km 3 min")
    # Loading, border and unloading and the North Korean leg are the same: only the Chinese leg changed.
    road_h = _routed_crossing(routed["default"])["cn_road_h"]
    # The crossing's own row (its popup's "Fastest hub") is the train too: the 3 min ride, not the 1 km/h truck.
    by_train, by_truck = _routed_crossing(routed["slow"]), _routed_crossing(routed["default"])
    assert by_train["hub_via"] == "train from Dandong station" and pd.isna(by_truck["hub_via"])
    assert by_train["hub_crossing_h"] - by_truck["hub_crossing_h"] == pytest.approx(rail_km / 25 - road_h, abs=1e-3)
    assert after["total_h"] == pytest.approx(before["total_h"] - road_h + rail_km / 25, abs=1e-3)
    assert after["total_km"] == pytest.approx(before["total_km"] - road_h * 60 + rail_km, abs=0.05)  # primary 60 km/h
    # The route line runs on the Chinese rails from the station to the bridge.
    assert any(abs(x - 124.3888) < 1e-6 and abs(y - 40.1178) < 1e-6 for x, y in after.geometry.coords)


def _routed(out, market: str):
    routes = out["routes"].set_index("name")
    return routes.loc[[n for n in routes.index if n.startswith(market)][0]]


def _routed_crossing(out):
    crossings = out["crossings"].set_index("crossing_id")
    assert crossings.index.is_unique  # a train's stations are entries of the crossing, not rows of their own
    return crossings.loc["sinuiju_dandong_rail"]
