"""Sea links: sourced distances, hours worked out by hand, and the route they give when the land was shut."""

import pytest
from pyproj import Geod

from geo import api, settings
from geo.routes import compute_routes
from geo.sources.fixture import TOWNS
from geo.sources.maritime import SEA_LINKS, find_sea_link


@pytest.fixture(scope="module")
def demo():
    return api.demo_layers()


def test_every_sea_fact_names_its_source():
    for link in SEA_LINKS:
        assert link.cn_coord_source and link.kp_coord_source and link.status_source and link.wait_source
        assert link.distance_source.startswith("derived: geodesic")
        assert all(p.source for p in link.periods)


def test_sea_hours_by_hand():
    dalian = find_sea_link("sea_dalian_nampo")
    # Dalian 38°55'N 121°40'E (China MSA) to Nampo 38.7375°N 125.40778°E (GeoNames): about 176 nautical miles.
    metres = Geod(ellps="WGS84").inv(121 + 40 / 60, 38 + 55 / 60, 125.40778, 38.7375)[2]
    assert dalian.distance_nm == pytest.approx(metres / 1852) == pytest.approx(175.7, abs=0.1)
    # No schedule known: no wait; 175.7 nmi at 10 kn, 24 h in port.
    assert dalian.sea_hours() == pytest.approx(175.73 / 10 + 24, abs=0.01)
    # Longkou: seven ships, a circuit every ten days (Xinhua 2015): a sailing every 34.3 h, 17.1 h waited.
    assert find_sea_link("sea_longkou_nampo").wait_h == pytest.approx(17.14, abs=0.01)


def _road_km(*towns: str) -> float:
    """Length of the fixture's straight roads through these towns, measured as routing measures (EPSG:32652)."""
    x, y = settings.to_measure_transformer().transform([TOWNS[t][1] for t in towns], [TOWNS[t][0] for t in towns])
    return sum(((x[i + 1] - x[i]) ** 2 + (y[i + 1] - y[i]) ** 2) ** 0.5 for i in range(len(towns) - 1)) / 1000


def test_in_september_2021_only_the_sea_reached_the_far_markets(demo):
    # Every land crossing shut from January 2020; Dalian-Nampo reopened 28 June 2021 (UPI); rail at Dandong
    # only in January 2022 (Yonhap).
    out = compute_routes(demo.frames, api.run_assumptions(supply="all", as_of="2021-09"))
    routes = out["routes"].set_index("name")
    sariwon = routes.loc[[n for n in routes.index if n.startswith("사리원시장")][0]]
    assert sariwon["crossing"] == "sea_dalian_nampo" and sariwon["entry_mode"] == "sea"
    # By hand: 41.57 h Dalian quay to Nampo quay, 2 h customs, then the motorway Nampo-Pyongyang-Sariwon at 50 km/h.
    road_km = _road_km("Nampo", "Pyongyang", "Sariwon")
    assert road_km == pytest.approx(103, abs=1)
    sea_h = find_sea_link("sea_dalian_nampo").sea_hours()
    assert sariwon["total_h"] == pytest.approx(sea_h + settings.BORDER_PENALTY_H + road_km / 50, abs=1e-3)
    assert sariwon["legs"].startswith(
        "sea Dalian–Nampo 325 km 41.6 h; border or port 2.0 h; road in North Korea 103 km"
    )
    # Dalian beats Longkou (17 h of waiting and a longer way); every reached market came by sea.
    assert set(routes["crossing"]) == {"sea_dalian_nampo"}


def test_as_of_2021_06_every_crossing_closed_then_is_unusable(demo):
    out = compute_routes(demo.frames, api.run_assumptions(supply="all", as_of="2021-06"))
    crossings = out["crossings"].set_index("crossing_id")
    assert not out["markets"]["reachable"].any()
    shut = crossings[crossings["reason"].fillna("").str.startswith("shut on 2021-06-01")]
    # Every crossing the gazetteer knows as open, and both sea links (reopened 28 June 2021).
    assert {"wonjong_quanhe", "namyang_tumen_road", "sinuiju_dandong_road", "sea_dalian_nampo"} <= set(shut.index)
    assert not crossings["usable"].any()
    # A month later than the sea's reopening, the sea links are usable again; the land is still shut.
    later = compute_routes(demo.frames, api.run_assumptions(supply="all", as_of="2021-07"))
    usable = later["crossings"].loc[later["crossings"]["usable"], "crossing_id"]
    assert set(usable) == {"sea_dalian_nampo", "sea_longkou_nampo"}


def test_the_hours_from_each_hub_count_the_sea_links_ports_as_hubs(demo_routes):
    import geopandas as gpd
    import numpy as np

    from geo.access import hub_columns

    markets = gpd.read_file(demo_routes, layer="markets").set_index("name_en")
    tongil = markets.loc["Tongil Street Market"]
    # Dalian's quay to Nampo's 41.57 h, 2 h customs, then the motorway Nampo-Pyongyang (44.6 km at 50 km/h,
    # 0.89 h; the market is snapped to the road's end at Pyongyang).
    road_km = _road_km("Nampo", "Pyongyang")
    assert road_km == pytest.approx(44.6, abs=0.1)
    sea_h = find_sea_link("sea_dalian_nampo").sea_hours()
    assert tongil["hours_from_Dalian"] == pytest.approx(sea_h + settings.BORDER_PENALTY_H + road_km / 50, abs=1e-3)
    # Both links land at Nampo: Longkou is later by its 17.1 h wait and its 67 nmi longer way at 10 kn, everywhere.
    longkou = find_sea_link("sea_longkou_nampo")
    later = longkou.wait_h + (longkou.distance_nm - find_sea_link("sea_dalian_nampo").distance_nm) / 10
    assert later == pytest.approx(23.87, abs=0.01)
    assert np.allclose(markets["hours_from_Longkou"] - markets["hours_from_Dalian"], later)
    # Every way in counts: each market's best route is its fastest hub, land or sea.
    fastest = markets[hub_columns(markets)].min(axis=1)
    assert np.allclose(markets["total_h"], fastest, equal_nan=True)
