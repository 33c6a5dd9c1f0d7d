"""hamji compare on two generated builds: the demo, and the demo with one road added, checked by hand."""

import shutil
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo
from geo import settings
from geo.change import change_summary
from geo.cli import main
from geo.network import split_at_border
from geo.pipeline import routes_stage
from geo.schema import SCHEMAS, TABLE_SCHEMAS
from tests.conftest import snapshot

SHORTCUT = 900_001
KIMCHAEK = "김책시장"
KP_TRUNK_KMH = settings.DEFAULT_SPEEDS["KP"]["trunk"]


def _nearest_vertex(roads: gpd.GeoDataFrame, point) -> np.ndarray:
    coords = shapely.get_coordinates(roads.geometry.values)
    return coords[np.hypot(coords[:, 0] - point.x, coords[:, 1] - point.y).argmin()]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two layers folders with routes: the demo, and the demo with a trunk road added from the
    Hoeryong–Sanhe crossing's North Korean road straight to Kimchaek's market road."""
    root = tmp_path_factory.mktemp("compare")
    layers = geo.demo_layers()
    kp_roads, _ = split_at_border(layers.roads, layers.border.union_all())
    kp_roads = kp_roads[kp_roads["country"] == "KP"]
    start = _nearest_vertex(kp_roads, layers.crossings.set_index("crossing_id").loc["hoeryong_sanhe", "geometry"])
    end = _nearest_vertex(kp_roads, layers.markets[layers.markets["name"].str.startswith(KIMCHAEK)].geometry.iloc[0])
    road = layers.roads.iloc[[0]].copy()
    road["osm_id"], road["highway"], road["name"], road["province"] = SHORTCUT, "trunk", "shortcut", "KP-09"
    road = road.set_geometry([shapely.LineString([start, end])], crs=layers.roads.crs)
    geo.write_layers(layers, root / "before")
    geo.write_layers(replace(layers, roads=pd.concat([layers.roads, road], ignore_index=True)), root / "after")
    for name in ("before", "after"):  # the hand-worked times are Jilin's (hamji), not the default model's
        routes_stage(layers_dir=root / name, assumptions=geo.run_assumptions(supply="hamji"))
    x, y = settings.to_measure_transformer().transform([start[0], end[0]], [start[1], end[1]])
    return root, float(np.hypot(x[1] - x[0], y[1] - y[0]) / 1000)


@pytest.fixture(scope="module")
def compared(builds):
    root, _ = builds
    before = snapshot(root / "before", root / "after")
    assert main(["compare", str(root / "before"), str(root / "after"), "--out", str(root / "out"),
                 "--maps", str(root / "maps")]) == 0  # fmt: skip
    assert snapshot(root / "before", root / "after") == before  # the builds compared are only read
    return root / "out", root / "maps"


def test_compare_finds_the_added_road(builds, compared):
    out, _ = compared
    _, length_km = builds
    roads = gpd.read_file(out / settings.ROAD_CHANGES_GPKG, layer="road_changes")
    assert list(roads["change"]) == ["added"] and list(roads["osm_id"]) == [SHORTCUT]
    assert roads["length_km"].iloc[0] == pytest.approx(length_km, rel=1e-6)
    assert 200 < length_km < 210  # Hoeryong to Kimchaek, about 203 km as the crow flies


def test_compare_times_by_hand(builds, compared):
    root, length_km = builds
    out, _ = compared
    markets = pd.read_csv(out / "hamji_compare_markets.csv")
    crossing = geo.load_routes(root / "before").crossings.set_index("crossing_id").loc["hoeryong_sanhe"]
    kimchaek = markets[markets["name"].str.contains(KIMCHAEK)].iloc[0]
    # Longjing to the crossing, its 2 h penalty, then the new trunk road at 45 km/h to the market.
    by_hand = crossing["hub_crossing_h"] + 2.0 + length_km / KP_TRUNK_KMH
    assert kimchaek["total_h_after"] == pytest.approx(by_hand, abs=1e-4)
    # The same crossing serves it before and after: the saving is the old road time less the new one.
    old = geo.load_routes(root / "before").markets.set_index("name").loc[kimchaek["name"]]
    assert old["nearest_crossing"] == "hoeryong_sanhe" == kimchaek["best_crossing_after"]
    saving = old["crossing_h"] - length_km / KP_TRUNK_KMH
    assert saving == pytest.approx(0.7487, abs=1e-3)  # 5.2706 h - 203.49 km / 45 km/h
    assert kimchaek["hours_cut"] == pytest.approx(saving, abs=2e-4)
    # Every market whose route ran through Kimchaek saves the same; none gets slower.
    helped = markets[markets["hours_cut"] > 0.05]
    assert len(helped) == 10 and np.allclose(helped["hours_cut"], saving, atol=1e-3)
    assert (markets["change_h"] <= 1e-6).all()
    assert markets.loc[markets["name"] == "혜산시장", "hours_cut"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    provinces = pd.read_csv(out / "hamji_compare_provinces.csv").set_index("province")
    # South Hwanghae's four markets all route through Kimchaek.
    assert provinces.loc["KP-05", "market_hours_cut"] == pytest.approx(4 * saving, abs=1e-3)
    assert provinces.loc["KP-05", "hub_h_median_change"] == pytest.approx(-saving, abs=1e-3)
    assert provinces.loc["KP-10", "market_hours_cut"] == 0


def test_compare_ranks_the_new_road_by_market_hours(compared):
    out, _ = compared
    segments = pd.read_csv(out / "hamji_compare_segments.csv")
    top = segments.iloc[0]
    assert top["osm_id"] == SHORTCUT and top["markets"] == 10 and top["markets_faster"] == 10
    markets = pd.read_csv(out / "hamji_compare_markets.csv")
    assert top["market_hours_cut"] == pytest.approx(markets["hours_cut"].sum(), abs=1e-3)
    assert KIMCHAEK in top["market_names"] and "혜산시장" not in top["market_names"]


def test_compare_tables_have_their_declared_columns(compared):
    out, _ = compared
    for name in ("markets", "provinces", "segments"):
        frame = pd.read_csv(out / f"hamji_compare_{name}.csv")
        assert list(frame.columns) == list(TABLE_SCHEMAS[f"compare_{name}"]), name
    roads = gpd.read_file(out / settings.ROAD_CHANGES_GPKG, layer="road_changes")
    assert list(roads.columns) == [*SCHEMAS["road_changes"], "geometry"]


def test_compare_says_what_growth_in_osm_means(compared):
    out, maps = compared
    summary = (out / "hamji_compare.md").read_text()
    assert "new mapping, not new construction" in summary and settings.DEMO_STAMP in summary
    assert "| way/900001 | added | trunk | shortcut |" in summary
    page = (maps / settings.COMPARE_HTML).read_text()
    assert "new mapping, not new construction" in page and "Roads added (1)" in page


#: The Hoeryong–Sanhe crossing's road (회령-삼합 도로): secondary, unpaved, 2.04 km, on 13 markets' routes.
RETAGGED = 10


@pytest.fixture(scope="module")
def retagged(builds):
    """The demo against the demo with one way kept (same OSM id) but made primary and paved."""
    root, _ = builds
    layers = geo.demo_layers()
    roads = layers.roads.copy()
    roads.loc[roads["osm_id"] == RETAGGED, ["highway", "surface"]] = ["primary", "asphalt"]
    geo.write_layers(replace(layers, roads=roads), root / "retagged")
    routes_stage(layers_dir=root / "retagged", assumptions=geo.run_assumptions(supply="hamji"))
    return geo.compare_builds(root / "before", root / "retagged"), layers


def test_compare_finds_a_retagged_road_and_the_time_it_saves(retagged):
    result, layers = retagged
    assert list(result.roads["change"]) == ["retagged"] and list(result.roads["osm_id"]) == [RETAGGED]
    assert result.roads["tags_before"].iloc[0] == "highway=secondary; surface=unpaved; oneway=no"
    # By hand: 2.0398 km at the KP secondary speed on an unpaved surface (30 km/h × 0.6 = 18 km/h) took
    # 0.11332 h; as a paved primary (40 km/h) 0.05100 h: 0.06233 h (3.7 min) saved on every route along it.
    # A route along a road made faster stays the shortest, so each of them saves exactly that.
    km = layers.roads.loc[layers.roads["osm_id"] == RETAGGED, "length_m"].iloc[0] / 1000
    speeds = settings.DEFAULT_SPEEDS["KP"]
    saving = km / (speeds["secondary"] * speeds["unpaved_factor"]) - km / speeds["primary"]
    assert saving == pytest.approx(0.06233, abs=1e-5)
    helped = result.markets[result.markets["hours_cut"] > 0]
    assert len(helped) == 13 and np.allclose(helped["hours_cut"], saving, atol=1e-6)
    top = result.segments.iloc[0]
    assert (top["change"], top["osm_id"], top["markets"], top["markets_faster"]) == ("retagged", RETAGGED, 13, 13)
    assert top["market_hours_cut"] == pytest.approx(13 * saving, abs=1e-5)
    text = change_summary(result.info, result.markets, result.provinces, result.roads, result.segments)
    assert "1 kept with another class, surface or direction (retagged, 2.0 km)" in text
    assert "| way/10 | retagged (was highway=secondary; surface=unpaved; oneway=no) | primary |" in text
    assert "13 faster and 0 slower" in text


def test_compare_the_other_way_finds_the_road_removed(builds, tmp_path):
    root, _ = builds
    result = geo.compare_builds(root / "after", root / "before")
    assert list(result.roads["change"]) == ["removed"]
    assert (result.markets["change_h"] > 0.05).sum() == 10 and result.segments.empty


def test_compare_without_routes_or_with_itself_fails_in_one_line(builds, tmp_path, capsys):
    root, _ = builds
    geo.write_layers(geo.demo_layers(), tmp_path / "bare")
    for folders in ([root / "before", tmp_path / "bare"], [root / "before", root / "before"]):
        code = main(["compare", *map(str, folders), "--out", str(tmp_path / "out"), "--maps", str(tmp_path / "m")])
        err = capsys.readouterr().err.strip()
        assert code == 1 and len(err.splitlines()) == 1 and err.startswith("hamji: error:"), err
    assert not (tmp_path / "out" / "hamji_compare.md").exists()


def test_compare_says_when_the_builds_were_routed_differently(builds, tmp_path, capsys):
    root, _ = builds
    shutil.copytree(root / "after", tmp_path / "after")
    routes = ["routes", "--layers", str(tmp_path / "after"), "--supply", "hamji", "--penalty", "Wonjong–Quanhe=4"]
    assert main([*routes, "--quiet"]) == 0
    result = geo.compare_builds(root / "before", tmp_path / "after")
    assert result.info["assumptions_differ"] == ["border penalties"]
    assert geo.compare_builds(root / "before", root / "after").info["assumptions_differ"] == []
    text = change_summary(result.info, result.markets, result.provinces, result.roads, result.segments)
    assert "routed under different assumptions (border penalties)" in text
    # the terminal says it too, and counts the slower markets: a raised penalty slows Rason's two
    # markets by 2 h each, which "0 faster" alone would hide
    out_flags = ["--out", str(tmp_path / "out"), "--maps", str(tmp_path / "maps")]
    capsys.readouterr()
    assert main(["compare", str(root / "before"), str(tmp_path / "after"), *out_flags]) == 0
    said = capsys.readouterr().out
    assert "routed under different assumptions (border penalties)" in said
    assert f"{int((result.markets['change_h'] > 0.05).sum())} slower" in said


#: A primary road from Kimchaek's market road south (route of ten markets), 164.5 km, two vertices.
EXTENDED = 30
KP_PRIMARY_KMH = settings.DEFAULT_SPEEDS["KP"]["primary"]


@pytest.fixture(scope="module")
def extended(builds):
    """The demo against the demo with way 30 drawn on, back from Kimchaek to the Hoeryong–Sanhe crossing's
    road: the same OSM id and tags, a longer line (a mapper extending a way, the commonest edit there is)."""
    root, length_km = builds
    layers = geo.demo_layers()
    kp_roads, _ = split_at_border(layers.roads, layers.border.union_all())
    kp_roads = kp_roads[kp_roads["country"] == "KP"]
    start = _nearest_vertex(kp_roads, layers.crossings.set_index("crossing_id").loc["hoeryong_sanhe", "geometry"])
    roads = layers.roads.copy()
    row = roads.index[roads["osm_id"] == EXTENDED][0]
    line = shapely.get_coordinates(roads.geometry[row])
    roads.loc[row, "geometry"] = shapely.LineString([start, *line])
    geo.write_layers(replace(layers, roads=roads), root / "extended")
    routes_stage(layers_dir=root / "extended", assumptions=geo.run_assumptions(supply="hamji"))
    return geo.compare_builds(root / "before", root / "extended"), length_km


def test_compare_finds_a_way_drawn_longer_and_the_time_its_new_stretch_saves(extended, builds):
    result, length_km = extended
    root, _ = builds
    # The way keeps its id and tags, so it is neither added nor retagged; its new stretch is what is new to the map.
    assert list(result.roads["change"]) == ["extended"] and list(result.roads["osm_id"]) == [EXTENDED]
    assert result.roads["length_km"].iloc[0] == pytest.approx(length_km, abs=0.05)
    # By hand: Kimchaek's road time from the crossing was 5.2706 h; the new stretch, 203.49 km of primary
    # at 40 km/h, takes 5.0873 h: 0.1833 h saved, on each of the ten routes through Kimchaek.
    old = geo.load_routes(root / "before").markets.set_index("name")
    kimchaek = result.markets[result.markets["name"].str.contains(KIMCHAEK)].iloc[0]
    saving = old.loc[kimchaek["name"], "crossing_h"] - length_km / KP_PRIMARY_KMH
    assert saving == pytest.approx(0.1833, abs=1e-3)
    assert kimchaek["hours_cut"] == pytest.approx(saving, abs=2e-4)
    helped = result.markets[result.markets["hours_cut"] > 0.05]
    assert len(helped) == 10 and np.allclose(helped["hours_cut"], saving, atol=1e-3)
    top = result.segments.iloc[0]
    assert (top["change"], top["osm_id"], top["markets_faster"]) == ("extended", EXTENDED, 10)
    assert top["market_hours_cut"] == pytest.approx(10 * saving, abs=1e-3)
    text = change_summary(result.info, result.markets, result.provinces, result.roads, result.segments)
    assert "1 drawn longer (203.5 km of new line)" in text
    assert "| way/30 | extended (new stretch of a way in both) | primary |" in text


def test_compare_the_other_way_finds_the_stretch_gone(extended, builds):
    root, _ = builds
    result = geo.compare_builds(root / "extended", root / "before")
    assert list(result.roads["change"]) == ["shortened"] and list(result.roads["osm_id"]) == [EXTENDED]
    assert result.roads["length_km"].iloc[0] == pytest.approx(extended[1], abs=0.05)
    assert (result.markets["change_h"] > 0.05).sum() == 10 and result.segments.empty
