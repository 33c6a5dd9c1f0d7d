"""Supply models on the demo: Jilin by road (hamji), every land crossing (land), every channel (all)."""

import shutil

import pandas as pd
import pytest

import geo
from geo import settings
from geo.cli import main
from geo.sources import fixture
from geo.supply import SUPPLY_MODELS


@pytest.fixture(scope="module")
def layers():
    """The demo: its lower Yalu has North Pyongan, Liaoning, Dandong, Sinuiju and the Friendship Bridge."""
    return geo.demo_layers()


def test_hamji_model_leaves_dandong_out(layers):
    routes = geo.route_markets(layers, supply="hamji")
    crossing = routes.crossings.set_index("crossing_id").loc["sinuiju_dandong_road"]
    assert (
        not crossing["usable"]
        and crossing["reason"] == "outside the hamji supply model (Chinese end in another province)"
    )
    assert "Dandong" not in set(routes.hubs.loc[routes.hubs["usable"], "hub"])
    sinuiju = routes.markets.set_index("name_en").loc["Sinuiju Market"]
    assert sinuiju["best_crossing"] != "sinuiju_dandong_road" and sinuiju["total_h"] > 8
    assert routes.assumptions.supply.name == "hamji"


def test_land_model_brings_goods_through_dandong(layers):
    hamji = geo.route_markets(layers, supply="hamji").markets.set_index("name_en")
    routes = geo.route_markets(layers, supply="land")
    markets = routes.markets.set_index("name_en")
    sinuiju = markets.loc["Sinuiju Market"]
    assert (sinuiju["best_crossing"], sinuiju["hub"]) == ("sinuiju_dandong_road", "Dandong")
    # Dandong to the bridge and the bridge to Sinuiju are a few km: the border penalty is nearly all of it.
    assert settings.BORDER_PENALTY_H < sinuiju["total_h"] < settings.BORDER_PENALTY_H + 0.25
    assert markets.loc["Tongil Street Market", "total_h"] < hamji.loc["Tongil Street Market", "total_h"]  # Pyongyang
    assert routes.assumptions.supply.name == "land" and routes.network.missing_regions == ()
    # all-china, the old name, is the same model.
    assert geo.route_markets(layers, supply="all-china").assumptions.supply.name == "land"


def test_the_reach_csv_and_summary_state_the_model(layers, tmp_path):
    routes = geo.route_markets(layers, supply="land")
    table = geo.reach_table(routes, layers)
    csv, _, md = geo.write_reach(table, routes, tmp_path)
    assert set(pd.read_csv(csv)["supply_model"]) == {"land"}
    assert "Supply model: land — every land crossing by road" in md.read_text(encoding="utf-8")


def test_land_without_liaoning_in_the_layers_says_so():
    without = geo.demo_layers([code for code in fixture.province_codes() if code != "CN-LN"])
    routes = geo.route_markets(without, supply="land")
    assert routes.network.missing_regions == ("CN-LN",)


def test_reach_supply_reroutes_the_demo_and_back(demo_reach, tmp_path, capsys):
    folder = tmp_path / "layers"
    shutil.copytree(demo_reach, folder)
    base = pd.read_csv(folder / settings.REACH_CSV).set_index("code")
    assert set(base["supply_model"]) == {"all"}  # the default: every channel

    assert main(["reach", "--layers", str(folder), "--supply", "hamji"]) == 0
    out = capsys.readouterr().out
    assert "supply model: hamji (Park's HamJi: Jilin's hubs and crossings by road" in out
    assert str(folder / settings.ROUTES_GPKG) in out  # the routes were made again, beside the table
    assert geo.load_routes(folder).assumptions.supply.name == "hamji"
    jilin = pd.read_csv(folder / settings.REACH_CSV).set_index("code")
    assert set(jilin["supply_model"]) == {"hamji"}
    # Without Dandong-Sinuiju (and Nampo) the far provinces' median is more than 5 h further;
    # the border provinces' goods come from Jilin either way.
    assert jilin.loc["group:far", "hub_h_median"] > base.loc["group:far", "hub_h_median"] + 5
    assert jilin.loc["group:border", "hub_h_median"] == pytest.approx(base.loc["group:border", "hub_h_median"])

    assert main(["reach", "--layers", str(folder), "--supply", "all"]) == 0
    back = pd.read_csv(folder / settings.REACH_CSV).set_index("code")
    pd.testing.assert_series_equal(back["hub_h_median"], base["hub_h_median"])


def test_the_demo_build_reports_the_ordering_under_every_model(tmp_path, capsys):
    layers, maps = tmp_path / "layers", tmp_path / "maps"
    assert main(["build", "--demo", "--out", str(layers), "--maps", str(maps)]) == 0
    out = capsys.readouterr().out
    lines = {
        m: next(line for line in out.splitlines() if line.startswith(f"- Supply model {m}:")) for m in SUPPLY_MODELS
    }
    hamji, land, every = lines["hamji"], lines["land"], lines["all"]
    assert all("the border-before-far ordering holds" in line for line in lines.values())
    # The far provinces' median hub→market time, as in the reach tables of each model: Dandong-Sinuiju
    # brings it from 19.7 h to 9.1 h; the sea and rail bring it no nearer at the data date (slower than the road).
    assert hamji.endswith("Median hub→market time: border 3.0 h, far 19.7 h.")
    assert land.endswith("Median hub→market time: border 3.0 h, far 9.1 h.")
    assert every.endswith("Median hub→market time: border 3.0 h, far 9.1 h.")
    # Nampo is nearer the far markets than any land crossing: their median time to the nearest way in drops.
    assert "fastest far province North Hwanghae 2.1 h" in every and "fastest far province North Hwanghae 5.4 h" in land
    index = (maps / "index.html").read_text(encoding="utf-8")
    assert "Under each supply model" in index and "Supply model: all — every channel" in index
    # A rerun changes nothing and still says it.
    assert main(["build", "--demo", "--out", str(layers), "--maps", str(maps)]) == 0
    again = capsys.readouterr().out
    assert hamji in again and "supply: unchanged inputs" in again


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """Layers of the generated national-size extract (116,000 km of roads, 450 markets; synthetic)."""
    from benchmarks.pipeline import country_extract, write_pbf

    data, _ = country_extract()
    extract = write_pbf(data, tmp_path_factory.mktemp("national") / "national.osm.pbf")
    return geo.layers_from_extracts([extract], fixture.province_codes())


def test_supply_models_on_the_national_extract_move_the_far_provinces_only(national):
    hamji = geo.reach_table(geo.route_markets(national, supply="hamji"), national).set_index("code")
    china = geo.reach_table(geo.route_markets(national, supply="land"), national).set_index("code")
    # About a hundred markets, not the demo's six: the far provinces hold about
    # 23 % of the grid's land, so about 23 % of its 430 random markets (98 now).
    assert hamji.loc["group:far", "markets"] > 60
    # Border markets are nearest to Jilin either way.
    assert china.loc["group:border", "hub_h_median"] == pytest.approx(hamji.loc["group:border", "hub_h_median"])
    # Dandong-Sinuiju brings Chinese goods hours nearer the far provinces, and
    # nearer still to North Pyongan at the bridge (the Jilin crossings are
    # hundreds of km away; the penalty is the same 2 h either way).
    assert china.loc["group:far", "hub_h_median"] < hamji.loc["group:far", "hub_h_median"] - 4
    assert china.loc["KP-03", "hub_h_median"] < hamji.loc["KP-03", "hub_h_median"] - 6

    # The ordering still holds under both, with a narrower gap under land.
    def gap(table):
        return table.loc["group:far", "hub_h_median"] - table.loc["group:border", "hub_h_median"]

    assert 0 < gap(china) < gap(hamji)
