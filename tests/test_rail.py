"""Rail: the layers keep OSM's rail tags; a rail crossing and the stations a train reaches are entries into routing."""

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
    assert "rail loading and unloading 6.0 h" in sariwon["legs"]


def test_a_best_route_may_mix_rail_and_road(demo, monkeypatch):
    # With trains faster than the roads (80 km/h, not the sourced assumption), goods ride on to Sariwon station.
    monkeypatch.setattr(settings, "RAIL_SPEED_KMH", {"KP": 80.0})
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
