"""The standard access measures, checked by hand: share denominators, why markets are unreachable,
the gravity index, people within t hours and the crossings' catchments."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import geo
from geo import access, settings
from geo.reach import province_reach
from geo.schema import SCHEMAS
from geo.sources.population import population_of

# 2008 census (geo/sources/population.py): the demo's provinces with markets, and the two without.
NORTH_HAMGYONG, RYANGGANG, RASON = 2_327_362 - 196_954, 719_269, 196_954
SOUTH_PYONGAN, CHAGANG = 4_051_696, 1_299_830


@pytest.fixture(scope="module")
def demo():
    layers = geo.demo_layers()
    # The hand-worked figures below are Jilin's (hamji); the default model (all) adds Dandong and the sea.
    routes = geo.route_markets(layers, supply="hamji")
    return layers, routes, geo.reach_table(routes, layers)


def test_every_share_is_over_the_people_printed_beside_it(demo):
    table = demo[2].set_index("code")
    for code, row in table.iterrows():
        assert row["people_basis"] == "markets"
        assert row["people_counted"] == row["population"], code
        for h in settings.REACH_THRESHOLDS_H:
            assert row[f"hub_people_within_{h}h"] == pytest.approx(row[f"hub_within_{h}h_people"] * row["population"])
    # Each group's people within 4 h are its provinces' people within 4 h, over all of its people.
    provinces = table[~table.index.str.startswith("group:") & (table.index != "KP")]
    assert table.loc["KP", "hub_people_within_4h"] == pytest.approx(provinces["hub_people_within_4h"].sum())
    assert table.loc["KP", "population"] == provinces["population"].sum()
    # By hand: 5 of North Hamgyong's 8 markets are within 4 h of a hub, Ryanggang's one and Rason's two too.
    within = 5 / 8 * NORTH_HAMGYONG + RYANGGANG + RASON
    assert table.loc["group:border", "hub_people_within_4h"] == pytest.approx(within)
    # All of North Korea: 23,349,859 people, South Pyongan's and Chagang's (no market) within no time.
    assert table.loc["KP", "population"] == 23_349_859
    assert table.loc["KP", "population_without_markets"] == SOUTH_PYONGAN + CHAGANG
    assert table.loc["KP", "hub_within_4h_people"] == pytest.approx(within / 23_349_859)
    assert table.loc["KP-02", "hub_within_4h_people"] == 0 and pd.isna(table.loc["KP-02", "hub_within_4h"])


def test_a_province_without_markets_counts_in_the_share_as_it_does_in_the_population():
    provinces = gpd.GeoDataFrame(
        {"code": ["KP-09", "KP-05"], "name": ["a", "b"], "country": ["KP"] * 2, "group": ["border", "far"]},
        geometry=[box(0, 0, 1, 1)] * 2,
        crs=settings.STORE_CRS,
    ).assign(area_km2=[1000.0, 2000.0])
    markets = gpd.GeoDataFrame(
        {"province": ["KP-09", "KP-09"], "crossing_h": [1.0, 9.0], "total_h": [3.0, 11.0]},
        geometry=[Point(0, 0)] * 2,
        crs=settings.STORE_CRS,
    )
    everything = province_reach(markets, provinces).set_index("code").loc["KP"]
    south_hwanghae = 2_310_485
    assert everything["population"] == NORTH_HAMGYONG + south_hwanghae
    # Half of North Hamgyong's people within 4 h, none of South Hwanghae's: before, the share left
    # South Hwanghae out (0.5) while the population beside it counted it.
    assert everything["hub_within_4h_people"] == pytest.approx(0.5 * NORTH_HAMGYONG / (NORTH_HAMGYONG + south_hwanghae))


def test_unreachable_is_split_into_no_road_and_no_route(demo):
    layers, routes, _ = demo
    markets = routes.markets.copy()
    # One market 5 km from any road (a map gap), one on a road that no hub reaches (an access gap).
    markets.loc[0, ["snap_m", "total_h"]] = [5_000.0, math.nan]
    markets.loc[1, "total_h"] = math.nan
    table = province_reach(markets, layers.provinces).set_index("code")
    province = markets.loc[0, "province"]
    assert (table.loc[province, "unreachable_no_road"], table.loc[province, "unreachable_no_route"]) == (1, 1)
    assert (table.loc["KP", "unreachable_no_road"], table.loc["KP", "unreachable_no_route"]) == (1, 1)
    assert table.loc["group:far", "unreachable_no_road"] == 0


def test_hours_from_each_hub_by_hand(demo):
    _, routes, _ = demo
    markets, crossings = routes.markets, routes.crossings.set_index("crossing_id")
    hubs = access.hub_columns(markets)
    # The land hubs, and the sea links' Chinese ports (hubs of their own: a ship's goods start on the quay).
    assert sorted(hubs) == sorted(f"hours_from_{h}" for h in (*settings.HUBS, "Dalian", "Longkou"))
    # Dandong (Liaoning) and the ports are outside the hamji supply model: they reach no market.
    assert markets[["hours_from_Dandong", "hours_from_Dalian", "hours_from_Longkou"]].isna().all().all()
    # The best hub's own time is the route's time, and no hub is faster.
    assert np.allclose(markets[hubs].min(axis=1), markets["total_h"])
    hyesan = markets[markets["name"] == "혜산시장"].iloc[0]
    crossing = crossings.loc["hyesan_changbai"]
    # Changbai → Hyesan–Changbai crossing, its 2 h penalty, then on to the market.
    expected = crossing["hub_crossing_h"] + 2.0 + hyesan["crossing_h"]
    assert hyesan["hours_from_Changbai"] == pytest.approx(expected) == pytest.approx(2.048451, abs=1e-6)


def test_gravity_index_by_hand(demo):
    _, routes, table = demo
    markets = routes.markets
    hyesan = markets[markets["name"] == "혜산시장"].iloc[0]
    # Jilin's eight hubs (Ji'an and Linjiang on the Yalu among them) reach it; Dandong, outside the model, adds nothing.
    jilin = ("Changbai", "Helong", "Hunchun", "Longjing", "Tumen", "Yanji", "Ji'an", "Linjiang")
    hours = [hyesan[f"hours_from_{hub}"] for hub in jilin]
    assert all(np.isfinite(hours)) and np.isnan(hyesan["hours_from_Dandong"])
    # A 4 h half-life: each hub counts 2^(-t / 4).
    by_hand = sum(2 ** (-t / 4) for t in hours)
    index = access.gravity_access(markets)
    assert index[hyesan.name] == pytest.approx(by_hand)
    # Ryanggang's one market is Hyesan's: the province's mean is that market's index.
    assert table.set_index("code").loc["KP-10", "gravity_access"] == pytest.approx(by_hand)
    # Weights multiply their hub's term; a longer half-life raises every market's index.
    weighted = access.gravity_access(markets, weights={"Changbai": 3.0})
    assert weighted[hyesan.name] - index[hyesan.name] == pytest.approx(2 * 2 ** (-hyesan["hours_from_Changbai"] / 4))
    sensitivity = access.gravity_by_half_life(markets)
    assert list(sensitivity) == ["gravity_half_2h", "gravity_half_4h", "gravity_half_8h"]
    assert (sensitivity["gravity_half_2h"] < sensitivity["gravity_half_4h"]).all()
    assert (sensitivity["gravity_half_4h"] < sensitivity["gravity_half_8h"]).all()
    # An unreachable market adds nothing.
    cut = markets.assign(**{c: math.nan for c in access.hub_columns(markets)})
    assert (access.gravity_access(cut) == 0).all()


def test_crossing_catchments_by_hand(demo):
    layers, routes, _ = demo
    catchments = geo.crossing_catchments(routes, layers)
    assert list(catchments.columns) == [*SCHEMAS["catchments"], "geometry"]
    rows = catchments.set_index("crossing_id")
    # Hyesan–Changbai: Ryanggang's one market and all its people.
    assert rows.loc["hyesan_changbai", "markets"] == 1 and rows.loc["hyesan_changbai", "people"] == RYANGGANG
    # Namyang–Tumen: two of North Hamgyong's eight markets, each standing for an eighth of its people.
    assert rows.loc["namyang_tumen_road", "markets"] == 2
    assert rows.loc["namyang_tumen_road", "people"] == pytest.approx(2 * NORTH_HAMGYONG / 8)
    assert rows.loc["wonjong_quanhe", "people"] == RASON
    # Every market's best route uses one crossing; provinces without markets are in none.
    assert rows["markets"].sum() == 20 and rows.loc["hoeryong_sanhe", "markets"] == 13
    assert rows["people"].sum() == pytest.approx(23_349_859 - SOUTH_PYONGAN - CHAGANG)
    assert rows.loc["sambong_kaishantun", "markets"] == 0 and rows.loc["sambong_kaishantun", "geometry"].is_empty
    assert len(rows.loc["hoeryong_sanhe", "geometry"].geoms) == 13


def test_catchments_by_people_areas(demo):
    """Each province's people all in one area, at its first market (Musan's, for North Hamgyong)."""
    layers, routes, _ = demo
    markets = routes.markets
    first = markets.sort_values("name").drop_duplicates("province")
    first = pd.concat([markets[markets["name"].str.startswith("무산")], first[first["province"] != "KP-09"]])
    squares = first.to_crs(settings.MEASURE_CRS).buffer(500).to_crs(settings.STORE_CRS)
    census = [population_of(code).people for code in first["province"]]
    areas = gpd.GeoDataFrame({"population": census}, geometry=squares.values, crs=settings.STORE_CRS)
    rows = geo.crossing_catchments(routes, layers, people_areas=areas).set_index("crossing_id")
    assert set(rows["people_basis"]) == {"areas"}
    # All of North Hamgyong's people now count at Musan Market, whose best route crosses at Chilsong–Nanping;
    # the two North Hamgyong markets behind Namyang–Tumen stand for nobody.
    musan = markets[markets["name"].str.startswith("무산")].iloc[0]
    assert musan["best_crossing"] == "chilsong_nanping"
    assert rows.loc["chilsong_nanping", "people"] == NORTH_HAMGYONG
    assert rows.loc["namyang_tumen_road", "markets"] == 2 and rows.loc["namyang_tumen_road", "people"] == 0
    assert rows.loc["hyesan_changbai", "people"] == RYANGGANG


def test_reach_stage_writes_the_measures(demo_reach):
    folder = demo_reach
    table = pd.read_csv(folder / settings.REACH_CSV)
    for column in ("unreachable_no_road", "unreachable_no_route", "gravity_access", "hub_people_within_8h"):
        assert column in table.columns
    layer = gpd.read_file(folder / settings.CATCHMENTS_GPKG, layer="catchments")
    assert int(layer["markets"].sum()) == 20
    summary = (folder / settings.REACH_MD).read_text()
    assert "## Standard access measures" in summary and "### Crossing catchments" in summary
    assert "| 2 h | 0.347 |" in summary  # the gravity index under each half-life


def test_the_gravity_figures_the_docs_quote_are_the_demos():
    """reading-results.md quotes the demo's border and far gravity index under each half-life (default model)."""
    import re
    from pathlib import Path

    text = " ".join((Path(__file__).parents[1] / "docs" / "reading-results.md").read_text().split())
    quoted = re.search(
        r"On the demo: border ([\d.]+) against far ([\d.]+) with a 2 h half-life, ([\d.]+) against ([\d.]+) "
        r"with 4 h, ([\d.]+) against ([\d.]+) with 8 h — the ratio falls from ([\d.]+) to ([\d.]+)",
        text,
    )
    assert quoted, "the sentence quoting the demo's gravity figures is gone"
    figures = [float(x) for x in quoted.groups()]
    layers = geo.demo_layers()
    table = geo.reach_table(geo.route_markets(layers), layers).set_index("code")
    for i, half in enumerate((2, 4, 8)):
        border = table.loc["group:border", f"gravity_half_{half}h"]
        far = table.loc["group:far", f"gravity_half_{half}h"]
        assert (figures[2 * i], figures[2 * i + 1]) == (pytest.approx(border, abs=0.006), pytest.approx(far, abs=0.006))
    ratios = [table.loc["group:border", c] / table.loc["group:far", c] for c in ("gravity_half_2h", "gravity_half_8h")]
    assert figures[6:] == [pytest.approx(ratios[0], rel=0.03), pytest.approx(ratios[1], rel=0.03)]


def test_the_catchment_shares_name_their_denominators(demo):
    # The whole-country row prints 23.35 M people; a catchment's share of people is over the 18.00 M that
    # the markets stand for. The summary says which, so that 83 % is not read as 83 % of the printed total.
    from geo.reach import _catchment_lines

    layers, routes, _ = demo
    text = " ".join(_catchment_lines(geo.crossing_catchments(routes, layers)))
    people = 23_349_859 - SOUTH_PYONGAN - CHAGANG
    assert f"shares of all 20 markets, and of the {people:,} people the markets stand for" in text


def test_each_markets_popup_gives_its_gravity_index(demo):
    # The issue asks for the index per market as well as per province: a market's popup gives its own.
    from geo.maps.layers import market_popup

    _, routes, _ = demo
    hyesan = routes.markets[routes.markets["name"] == "혜산시장"].iloc[0]
    hours = [hyesan[c] for c in access.hub_columns(routes.markets) if not math.isnan(hyesan[c])]
    by_hand = sum(2 ** (-h / settings.GRAVITY_HALF_LIFE_H) for h in hours)
    assert f"<th>Gravity access (half-life 4 h)</th><td>{by_hand:.3f}</td>" in market_popup(hyesan)
