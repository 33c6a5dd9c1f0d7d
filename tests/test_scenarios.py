"""Scenarios on the hand-built network (times by hand), on the demo via the CLI, and their validation."""

import shutil
import textwrap

import geopandas as gpd
import pandas as pd
import pytest
from browser import chromium
from conftest import snapshot
from test_routes import FLAT, hand_network

from geo import settings
from geo.api import run_assumptions
from geo.cli import main
from geo.routes import compute_routes
from geo.scenarios import apply_scenario, load_scenario, shipped_scenarios

# Hand network (tests/test_routes.py): every road 36 km/h = 10 m/s, so seconds = metres / 10.
# Hub H at (0, 10 km); crossings x1 (0, 0), x2 (10 km, 0) closed, x3 (20 km, 0); markets
# m1 at (0, -5.2 km) and m2 at (10 km, -5.2 km). Road 6 is one-way from m1's corner to m2's.
ROAD7_M = (10_000**2 + 5_000**2) ** 0.5  # x3 down to m2
ROAD3_M = (10_000**2 + 9_800**2) ** 0.5  # hub down to (10 km, 200 m)


def scenario_file(tmp_path, text, name="what_if"):
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(text))
    return path


def run(tmp_path, text, speeds=FLAT):
    layers, record = apply_scenario(
        load_scenario(str(scenario_file(tmp_path, text))), hand_network(), run_assumptions(speeds)
    )
    markets = compute_routes(layers, record)["markets"].set_index("name")
    return markets


def test_closing_the_only_crossing_that_reaches_a_market(tmp_path):
    markets = run(
        tmp_path,
        """
        [crossings]
        close = ["x1"]
    """,
    )
    # m1 hangs below x1; from x3 the one-way road 6 runs the wrong way and x2 is closed.
    assert not markets.loc["m1", "reachable"]
    assert markets.loc["m1", "reason"] == "no road from any open crossing reaches it"
    assert markets.loc["m2", "nearest_crossing"] == "x3"
    assert markets.loc["m2", "crossing_h"] * 3600 == pytest.approx(ROAD7_M / 10, abs=0.01)


def test_adding_a_crossing(tmp_path):
    x, y = 10_000, 0
    from test_routes import lonlat

    lon, lat = lonlat(x, y)
    markets = run(
        tmp_path,
        f"""
        [[crossings.add]]
        id = "new"
        name = "New bridge"
        lon = {lon}
        lat = {lat}
        mode = "road"
        penalty_h = 1.0
    """,
    )
    # The new crossing snaps to (10 km, ±200 m); m2 is 5 km down road 5 from it.
    assert markets.loc["m2", "nearest_crossing"] == "new"
    assert markets.loc["m2", "crossing_h"] * 3600 == pytest.approx(500.0, abs=0.01)
    # Hub -> (10 km, 200 m) along road 3, one hour at the border, then 5 km.
    assert markets.loc["m2", "best_crossing"] == "new"
    assert markets.loc["m2", "total_h"] * 3600 == pytest.approx(ROAD3_M / 10 + 3600 + 500, abs=0.01)


def test_speed_scale_and_border_penalty(tmp_path):
    markets = run(
        tmp_path,
        """
        [speeds]
        scale = { KP = 0.5 }
        [penalties]
        default_h = 0.0
    """,
    )
    # North Korean roads at 5 m/s: m1 is 5 km from x1, m2 11.18 km from x3.
    assert markets.loc["m1", "crossing_h"] * 3600 == pytest.approx(1000.0, abs=0.01)
    assert markets.loc["m2", "crossing_h"] * 3600 == pytest.approx(ROAD7_M / 5, abs=0.01)
    # Hub -> x1 is 9.8 km in China at 10 m/s, no penalty, then 5 km at 5 m/s.
    assert markets.loc["m1", "total_h"] * 3600 == pytest.approx(980 + 1000, abs=0.01)


def test_speed_override_of_one_class(tmp_path):
    markets = run(
        tmp_path,
        """
        [speeds.KP]
        secondary = 18
    """,
    )
    assert markets.loc["m1", "crossing_h"] * 3600 == pytest.approx(1000.0, abs=0.01)  # 5 km at 5 m/s


def test_shipped_scenarios_parse():
    assert {"wonjong_closed", "tumen_one_open", "kp_speeds_minus30", "kp_speeds_plus30", "border_penalty_6h"} <= set(
        shipped_scenarios()
    )
    for name in shipped_scenarios():
        scenario = load_scenario(name)
        assert scenario.name and scenario.description


# -- validation through the command line --------------------------------------------------

BAD = {
    "unknown crossing": ('[crossings]\nclose = ["no_such_bridge"]\n', "unknown crossing 'no_such_bridge'"),
    "bad coordinates": ('[[crossings.add]]\nid = "n"\nlon = 130.0\nlat = 95.0\nmode = "road"\n', "bad coordinates"),
    "off the border": (
        '[[crossings.add]]\nid = "n"\nlon = 125.75\nlat = 39.03\nmode = "road"\n',
        "from the China–North Korea border",
    ),
    "negative speed": ("[speeds.KP]\nprimary = -30\n", "speeds.KP.primary = -30"),
    "negative penalty": ("[penalties]\nwonjong_quanhe = -1\n", "penalties.wonjong_quanhe = -1"),
    "zero scale": ("[speeds]\nscale = { KP = 0 }\n", "speeds.scale.KP = 0"),
    "unknown key": ("[speed]\nscale = 2\n", "unknown key(s) speed"),
    "not TOML": ("[crossings\n", "is not valid TOML"),
    "existing id": (
        '[[crossings.add]]\nid = "wonjong_quanhe"\nlon = 130.0\nlat = 42.5\nmode = "road"\n',
        "'wonjong_quanhe' is already a crossing",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_scenario_fails_in_one_line(case, demo_reach, tmp_path, capsys):
    text, expected = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    maps = tmp_path / "maps"
    before = snapshot(demo_reach)
    assert main(["scenario", str(path), "--layers", str(demo_reach), "--maps", str(maps)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("hamji:")]
    assert len(err) == 1 and expected in err[0], err
    assert snapshot(demo_reach) == before
    assert not (demo_reach / "scenarios" / "bad").exists()
    assert not list(maps.rglob("*.html"))


def test_unknown_scenario_name(demo_reach, capsys):
    assert main(["scenario", "no_such_scenario", "--layers", str(demo_reach)]) == 1
    err = capsys.readouterr().err
    assert "neither a file nor a shipped scenario" in err and "wonjong_closed" in err


# -- on the demo -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_scenario(demo_reach, tmp_path_factory):
    maps = tmp_path_factory.mktemp("scenario-maps")
    assert main(["scenario", "wonjong_closed", "--layers", str(demo_reach), "--maps", str(maps)]) == 0
    return demo_reach / "scenarios" / "wonjong_closed", maps / "scenarios" / "wonjong_closed.html"


def test_wonjong_closed_on_the_demo(demo_scenario, demo_routes):
    folder, _ = demo_scenario
    markets = pd.read_csv(folder / "hamji_difference_markets.csv")
    base = gpd.read_file(demo_routes, layer="markets")
    served = set(zip(*base.loc[base["nearest_crossing"] == "wonjong_quanhe", ["osm_type", "osm_id"]].T.values))
    assert len(served) == 2  # the two Rason markets
    is_served = [(t, i) in served for t, i in zip(markets["osm_type"], markets["osm_id"])]
    moved, others = markets[is_served], markets[[not s for s in is_served]]
    assert (moved["crossing_change_h"] > 0).all() and (moved["nearest_crossing_scenario"] != "wonjong_quanhe").all()
    assert others["crossing_change_h"].abs().max() < 1e-9
    crossings = gpd.read_file(folder / settings.ROUTES_GPKG, layer="crossings").set_index("crossing_id")
    assert crossings.loc["wonjong_quanhe", "reason"] == "closed"
    provinces = pd.read_csv(folder / "hamji_difference_provinces.csv").set_index("code")
    assert provinces.loc["KP-13", "crossing_h_median_change"] > 0
    assert provinces.loc["KP-05", "crossing_h_median_change"] == pytest.approx(0, abs=1e-9)
    summary = (folder / "hamji_difference.md").read_text()
    assert settings.DEMO_STAMP in summary and "nearest crossing changed for 2" in summary


def test_difference_map_in_the_browser(demo_scenario, demo_routes, tmp_path):
    _, page_file = demo_scenario
    markets = gpd.read_file(demo_routes, layer="markets")
    with chromium() as visit:
        seen = visit(page_file)
        seen.screenshot("demo-scenario-wonjong_closed", tmp_path)
        assert seen.js_errors == [] and seen.console_errors == [] and seen.refused == []
        page = seen.page
        assert page.locator("path.hamji-market").count() == len(markets)
        assert "no longer reachable" in page.locator(".hamji-legend").inner_text()
        assert page.locator(".hamji-demo").inner_text() == settings.DEMO_STAMP
        # Rason's markets turned slower: some markers carry a "slower" colour.
        fills = page.locator("path.hamji-market").evaluate_all("ps => ps.map(p => p.getAttribute('fill'))")
        assert fills.count("#d9d9d9") == len(markets) - 2


def test_sensitivity_on_the_demo(demo_reach, tmp_path, capsys):
    assert main(["sensitivity", "--layers", str(demo_reach), "--maps", str(tmp_path)]) == 0
    table = pd.read_csv(demo_reach / settings.SENSITIVITY_CSV)
    assert list(table["scenario"]) == ["baseline", *settings.SENSITIVITY_SCENARIOS]
    assert table["hub_ordering_holds"].all()
    # With Nampo's port a way in (the all model), closing the Tumen crossings but one leaves North Hamgyong's
    # median market (4.6 h) further from a way in than North Hwanghae's (2.1 h, from Nampo): that ordering breaks.
    holds = table.set_index("scenario")["crossing_ordering_holds"]
    assert not holds["tumen_one_open"] and holds.drop("tumen_one_open").all()
    # −30% speeds make every North Korean leg 1/0.7 times as long.
    base, slow = table.iloc[0], table.set_index("scenario").loc["kp_speeds_minus30"]
    assert slow["crossing_far_median_h"] == pytest.approx(base["crossing_far_median_h"] / 0.7, rel=1e-3)
    text = (demo_reach / settings.SENSITIVITY_MD).read_text()
    assert text.count("the border-before-far ordering holds") == len(settings.SENSITIVITY_SCENARIOS)
    # By road alone (land) the far provinces' goods come as soon (rail and sea are slower at the data date),
    # but their nearest way in is further (no port at Nampo); the border ones still come from Jilin.
    land = table.set_index("scenario").loc["supply_all_china"]
    assert land["hub_far_median_h"] == pytest.approx(base["hub_far_median_h"])
    assert land["crossing_far_median_h"] > base["crossing_far_median_h"] + 2
    assert land["hub_border_median_h"] == pytest.approx(base["hub_border_median_h"])
    assert "Every land crossing, by road only: the border-before-far ordering holds" in text
    assert not list((demo_reach / "scenarios").glob(".*"))  # no staging folder left behind


def test_index_links_scenarios_of_the_current_baseline_only(demo_reach, tmp_path):
    from geo.pipeline import maps_stage, reach_stage, routes_stage

    layers, maps = tmp_path / "layers", tmp_path / "maps"
    shutil.copytree(demo_reach, layers)
    assert main(["scenario", "wonjong_closed", "--layers", str(layers), "--maps", str(maps)]) == 0
    maps_stage(layers_dir=layers, maps_dir=maps)
    index = (maps / "index.html").read_text()
    assert 'href="scenarios/wonjong_closed.html"' in index and "Wonjong–Quanhe bridge closed" in index
    # The scenario page links back up to the index.
    assert 'href="../index.html"' in (maps / "scenarios" / "wonjong_closed.html").read_text()
    # A new baseline makes the old comparison stale: the index stops offering it.
    # (forced: the stage cache keys on contents, so a copied folder's routes are current and would skip)
    routes_stage(layers_dir=layers, force=True)
    reach_stage(layers_dir=layers)
    maps_stage(layers_dir=layers, maps_dir=maps)
    assert "scenarios/wonjong_closed.html" not in (maps / "index.html").read_text()


def test_offline_difference_map_has_no_cdn_links(demo_reach, tmp_path):
    from browser import require_browser

    require_browser()  # needs the shipped Leaflet files, as the other offline tests do
    layers = tmp_path / "layers"
    shutil.copytree(demo_reach, layers)
    assert main(["scenario", "wonjong_closed", "--layers", str(layers), "--maps", str(tmp_path)]) == 0
    page = (tmp_path / "scenarios" / "wonjong_closed.html").read_text()  # self-contained by default
    assert '<script src="http' not in page and "leaflet 1.9.3, licence: BSD-2-Clause" in page


def test_border_penalty_map_shows_the_change_in_hub_to_market_time():
    """A penalty leaves crossing times alone: the map opens on the hub→market change, which is not grey."""
    import folium

    import geo
    from geo.maps import difference_map
    from geo.maps.output import map_inputs
    from geo.maps.pages import CHANGE_CLASSES, change_colour

    layers = geo.demo_layers()
    routes = geo.route_markets(layers)
    result = geo.run_scenario("border_penalty_6h", layers, routes)
    changes = result.market_changes.dropna(subset=["total_change_h"])
    # Every crossing's penalty goes from the default to 6 h, so every reachable market is that much slower.
    assert (changes["total_change_h"] - (6 - settings.BORDER_PENALTY_H)).abs().max() < 1e-6
    assert (changes["crossing_change_h"].abs() < 1e-9).all()
    page = difference_map(map_inputs(layers, result.routes, result.reach), result.market_changes,
                          result.province_changes, result.info)  # fmt: skip
    shown = {
        g.layer_name: g.show
        for g in page._children.values()
        if isinstance(g, folium.FeatureGroup) and g.layer_name.startswith("Markets")
    }
    assert shown == {"Markets: change in time to the nearest crossing": False,
                     "Markets: change in hub → market time": True}  # fmt: skip
    unchanged = CHANGE_CLASSES[1][1]
    assert all(change_colour(row, "total") != unchanged for _, row in changes.iterrows())
    assert all(change_colour(row, "crossing") == unchanged for _, row in changes.iterrows())


def test_offline_maps_also_make_the_scenario_maps_already_there_offline(demo_reach, tmp_path, capsys):
    from browser import require_assets

    require_assets()
    layers, maps = tmp_path / "layers", tmp_path / "maps"
    shutil.copytree(demo_reach, layers)
    assert main(["scenario", "wonjong_closed", "--layers", str(layers), "--maps", str(maps), "--cdn"]) == 0
    page = maps / "scenarios" / "wonjong_closed.html"
    assert '<script src="https://' in page.read_text()  # written for a machine with internet
    capsys.readouterr()
    assert main(["maps", "--layers", str(layers), "--maps", str(maps)]) == 0  # self-contained by default
    assert str(page) in capsys.readouterr().out  # said so
    html = page.read_text()
    assert '<script src="http' not in html and "leaflet 1.9.3, licence: BSD-2-Clause" in html
