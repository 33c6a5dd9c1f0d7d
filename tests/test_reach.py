"""The reach table against values worked out by hand, and the reach stage from the files on disk."""

import math
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import settings
from geo.cli import main
from geo.reach import province_reach, quantile

NAN = math.nan


def test_quantile_counts_unreachable_as_infinitely_far():
    # Sorted 1, 2, 3, inf: the median sits halfway between ranks 1 and 2.
    assert quantile(np.array([3, 1, NAN, 2]), 0.5) == pytest.approx(2.5)
    # The 90th percentile sits between 3 and inf.
    assert quantile(np.array([3, 1, NAN, 2]), 0.9) == math.inf
    assert quantile(np.array([1.0, NAN]), 0.5) == math.inf
    assert quantile(np.array([4.0]), 0.9) == 4.0
    assert math.isnan(quantile(np.array([]), 0.5))


def hand_inputs():
    provinces = gpd.GeoDataFrame(
        {
            "code": ["KP-09", "KP-05", "CN-JL"],
            "name": ["North Hamgyong", "South Hwanghae", "Jilin"],
            "country": ["KP", "KP", "CN"],
            "group": ["border", "far", "china"],
            "area_km2": [1000.0, 2000.0, 5000.0],
        },
        geometry=[box(0, 0, 1, 1)] * 3,
        crs=settings.STORE_CRS,
    )
    markets = gpd.GeoDataFrame(
        {
            "province": ["KP-09"] * 4 + ["KP-05"] * 2,
            "crossing_h": [0.5, 3.0, 5.0, NAN, 10.0, 20.0],
            "total_h": [2.5, 5.0, 7.0, NAN, 12.0, 22.0],
        },
        geometry=[Point(0, 0)] * 6,
        crs=settings.STORE_CRS,
    )
    return markets, provinces


def test_reach_table_by_hand():
    table = province_reach(*hand_inputs()).set_index("code")
    assert list(table.index) == ["KP-09", "KP-05", "group:border", "group:far", "KP"]
    north = table.loc["KP-09"]
    assert north["markets"] == 4 and north["markets_per_1000km2"] == pytest.approx(4.0)
    # 0.5, 3, 5, inf: median halfway between 3 and 5.
    assert north["crossing_h_median"] == pytest.approx(4.0)
    assert north["crossing_h_p90"] == math.inf
    assert (north["crossing_within_2h"], north["crossing_within_4h"], north["crossing_within_8h"]) == (0.25, 0.5, 0.75)
    assert north["crossing_unreachable"] == 0.25
    # Hub to market: 2.5, 5, 7, inf.
    assert north["hub_h_median"] == pytest.approx(6.0)
    assert (north["hub_within_2h"], north["hub_within_4h"], north["hub_within_8h"]) == (0.0, 0.25, 0.75)
    assert north["published_markets"] == 63 and north["published_year"] == 2016
    south = table.loc["KP-05"]
    assert south["crossing_h_median"] == pytest.approx(15.0)
    assert south["crossing_h_p90"] == pytest.approx(19.0)  # 10 + 0.9 * (20 - 10)
    assert south["markets_per_1000km2"] == pytest.approx(1.0)
    assert pd.isna(south["published_markets"])
    # Pooled: all six markets over 3,000 km²; 0.5, 3, 5, 10, 20, inf -> median between 5 and 10.
    everything = table.loc["KP"]
    assert everything["markets"] == 6 and everything["markets_per_1000km2"] == pytest.approx(2.0)
    assert everything["crossing_h_median"] == pytest.approx(7.5)
    assert table.loc["group:far", "crossing_h_median"] == pytest.approx(15.0)


def test_reach_stage_on_the_demo(demo_routes, capsys):
    folder = demo_routes.parent
    # --force: the session's other tests may have written this table already.
    assert main(["reach", "--layers", str(folder), "--force"]) == 0
    out = capsys.readouterr().out
    assert "DEMO" in out
    table = pd.read_csv(folder / settings.REACH_CSV).set_index("code")
    markets = gpd.read_file(demo_routes, layer="markets")
    border = markets[markets["province"].isin(["KP-09", "KP-10", "KP-13"])]
    assert table.loc["group:border", "markets"] == len(border) == 11
    assert table.loc["group:border", "crossing_h_median"] == pytest.approx(border["crossing_h"].median(), abs=1e-4)
    # Every far-province market in the fixture is farther from a crossing than every border one.
    assert table.loc["group:far", "crossing_h_median"] > table.loc["group:border", "crossing_h_p90"]
    summary = (folder / settings.REACH_MD).read_text()
    assert settings.DEMO_STAMP in summary and "2026-01-01" in summary
    assert "times as long" in summary and "nkeconwatch.com" in summary


def test_reach_without_routes_fails_in_one_line(demo_gpkg, tmp_path, capsys):
    shutil.copy(demo_gpkg, tmp_path / settings.LAYERS_GPKG)
    run = main(["reach", "--layers", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert run == 1 and len(err.splitlines()) == 1 and "hamji routes" in err
    assert not (tmp_path / settings.REACH_CSV).exists()


def test_people_weighted_reach_by_hand():
    table = province_reach(*hand_inputs()).set_index("code")
    # 2008 census: North Hamgyong 2,327,362 less Rason's 196,954; South Hwanghae 2,310,485.
    north, south = 2_327_362 - 196_954, 2_310_485
    assert table.loc["KP-09", "population"] == north and table.loc["KP-05", "population"] == south
    assert table.loc["KP-09", "people_per_market"] == pytest.approx(north / 4)
    assert table.loc["KP", "population"] == north + south
    assert table.loc["KP-05", "population_source"].startswith("Wikipedia, 'Provinces of North Korea'")
    # Within 8 h of a crossing: North Hamgyong 3 of 4 markets, South Hwanghae 0 of 2. Pooling markets
    # gives 3/6; weighting each province by its people gives 0.75 * north / (north + south).
    assert table.loc["KP", "crossing_within_8h"] == pytest.approx(0.5)
    assert table.loc["KP", "crossing_within_8h_people"] == pytest.approx(0.75 * north / (north + south))
    assert table.loc["KP-09", "crossing_within_8h_people"] == table.loc["KP-09", "crossing_within_8h"]


def test_census_rows_add_up_to_the_national_total():
    from geo.sources.population import CENSUS_MILITARY_CAMPS, CENSUS_TOTAL, PROVINCE_POPULATION

    assert sum(p.people for p in PROVINCE_POPULATION.values()) + CENSUS_MILITARY_CAMPS == CENSUS_TOTAL
    assert set(PROVINCE_POPULATION) == {f"KP-{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13)}
    assert all(p.source and p.year == 2008 for p in PROVINCE_POPULATION.values())


def test_reach_csv_rows_say_their_source_and_demo_stamp(demo_reach):
    table = pd.read_csv(demo_reach / settings.REACH_CSV)
    assert set(table["demo"]) == {True}
    assert set(table["data_source"]) == {"mini-HamJi demo fixture"}
    assert set(table["osm_data_date"]) == {"2026-01-01T00:00:00Z"}
    # Routed on the data date (no --as-of): the day the crossings were taken as open or shut is that date.
    assert set(table["crossings_as_of"]) == {"2026-01-01"}


def test_a_reach_table_of_another_date_says_the_date():
    import geo

    layers = geo.demo_layers()
    table = geo.reach_table(geo.route_markets(layers, geo.run_assumptions(as_of="2021-06")), layers)
    assert set(table["crossings_as_of"]) == {"2021-06-01"}


def test_headline_chart_draws_the_table_shares(demo_reach):
    """The chart's curves at 4 h and 8 h are the reach table's shares within 4 h and 8 h of a hub."""
    import xml.etree.ElementTree as ET

    from geo import chart

    svg = ET.parse(demo_reach / settings.REACH_SVG).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    table = pd.read_csv(demo_reach / settings.REACH_CSV).set_index("code")
    plot_h = chart._HEIGHT - chart._TOP - chart._BOTTOM
    for group in ("border", "far"):
        points = svg.find(f"s:polyline[@id='{group}']", ns).get("points").split()
        for hours in (4, 8):
            _, y = map(float, points[hours * 10].split(","))  # a point every 0.1 h
            share = 1 - (y - chart._TOP) / plot_h
            assert share == pytest.approx(table.loc[f"group:{group}", f"hub_within_{hours}h"], abs=0.005)
    assert "DEMO" in ET.tostring(svg, encoding="unicode")


def test_headline_leads_with_the_hub_time_and_names_both_measures(demo_reach):
    """The headline's figures are the groups' hub→market medians; the time to a crossing follows, in words."""
    from geo.reach import format_hours, headline

    table = pd.read_csv(demo_reach / settings.REACH_CSV)
    groups = table.set_index("code")
    text = headline(table)
    border, far = groups.loc["group:border"], groups.loc["group:far"]
    hub = text.index(f"border provinces in {format_hours(border['hub_h_median'])}")
    assert text.startswith("Under the all supply model (every channel") and "from a wholesaler" in text
    assert f"against {format_hours(far['hub_h_median'])} in the far provinces" in text
    assert f"({far['hub_h_median'] / border['hub_h_median']:.1f} times as long)" in text
    crossing = text.index("From the nearest open crossing alone (the secondary measure")
    assert (
        hub < crossing
        and f"{format_hours(border['crossing_h_median'])} away in the border provinces" in text[crossing:]
    )
    # Under another supply model the headline says so (the old name all-china is the land model).
    assert headline(table.drop(columns="supply_model"), "all-china").startswith("Under the land supply model")


def test_the_headline_and_ordering_say_plainly_when_a_group_is_not_reached(demo_reach):
    """As of 2021-06 every crossing was shut: no time, no "in unreachable", and no verdict on the ordering."""
    from geo.comparison import border_far_ordering, ordering_sentence
    from geo.reach import headline

    table = pd.read_csv(demo_reach / settings.REACH_CSV)
    medians = [f"{m}_h_median" for m in ("hub", "crossing")]
    shut = table.assign(**{m: float("inf") for m in medians})
    text = headline(shut)
    assert "in unreachable" not in text and "unreachable away" not in text
    assert "cannot reach the median market of the border provinces or that of the far provinces" in text
    assert "is not reached in the border provinces and is not reached in the far provinces" in text
    # Not a cause it cannot know: a market may be unreached for a shut crossing or for want of a road.
    assert "in both groups at least half their markets are not reached" in text and "crossing or link" not in text
    ordering = {m: border_far_ordering(shut, m) for m in medians}
    assert all(result["holds"] is None for result in ordering.values())
    assert "does NOT hold" not in ordering_sentence("Baseline", ordering)
    # A scenario of that day "keeps the provinces' order" only in that none has one.
    from geo.comparison import reordering, reordering_sentence

    markets = pd.DataFrame(
        {"best_crossing_base": [None], "best_crossing_scenario": [None], "nearest_crossing_changed": [False]}
    )
    moved = reordering(shut, shut, markets)
    assert moved["reached"] == 0 and reordering_sentence(moved).endswith("so there is no order to keep.")
    assert reordering(table, shut, markets)["reached"] > 0
    # Far markets unreached, border ones reached: the border comes first, said without a time for the far.
    far_shut = table.copy()
    far_rows = far_shut["group"].eq("far") | far_shut["code"].eq("group:far")
    far_shut.loc[far_rows, medians] = float("inf")
    assert border_far_ordering(far_shut)["holds"] is True
    far_ordering = {m: border_far_ordering(far_shut, m) for m in medians}
    assert "(median market not reached)" in ordering_sentence("Baseline", far_ordering)
    assert "but cannot reach that of the far provinces" in headline(far_shut)
