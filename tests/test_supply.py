"""Supply models: goods from Jilin only (hamji) or from Liaoning too (all-china, Dandong–Sinuiju)."""

import pytest

import geo
from geo import settings
from geo.sources import fixture

YALU = [(124.20, 39.95), (124.3925, 40.115), (124.80, 40.35), (125.30, 40.60)]  # the bridge at the 2nd vertex


def _with_dandong(path):
    """The fixture plus North Pyongan and Liaoning meeting on the lower Yalu, Dandong, Sinuiju and their bridge."""
    data = fixture.build()
    rings = {
        ("KP-03", "North Pyongan", "평안북도"): [*YALU, (125.60, 40.40), (125.55, 39.60), (124.60, 39.55)],
        ("CN-LN", "Liaoning", "辽宁省"): [
            *YALU[::-1],
            (123.80, 39.90),
            (123.50, 40.50),
            (124.00, 41.50),
            (125.50, 41.20),
        ],
    }
    for (iso, name_en, name), ring in rings.items():
        ids = [data.node(x, y) for x, y in ring]
        way = data.way([*ids, ids[0]], {})
        data.relation([("way", way, "outer")], {"type": "boundary", "boundary": "administrative", "admin_level": "4",
                                                "ISO3166-2": iso, "name": name, "name:en": name_en})  # fmt: skip
    dandong = data.node(124.39472, 40.12917, {"place": "city", "name": "丹东市", "name:en": "Dandong"})
    sinuiju = data.node(124.40, 40.09)
    data.node(124.401, 40.089, {"amenity": "marketplace", "name": "신의주시장", "name:en": "Sinuiju Market"})
    kp_end, cn_end = data.node(124.396, 40.112), data.node(124.389, 40.118)
    data.way([cn_end, kp_end], {"highway": "primary", "bridge": "yes", "name": "Friendship Bridge"})
    data.way([dandong, cn_end], {"highway": "primary"})
    # Liaoning's roads join Jilin's (as they do): Dandong to Changbai, north of the Yalu.
    lat, lon = fixture.TOWNS["Changbai"][:2]
    inland = [data.node(x, y) for x, y in ((124.9, 41.0), (126.2, 41.6), (127.5, 41.7))]
    data.way([dandong, *inland, data.node(lon, lat)], {"highway": "secondary"})
    lat, lon = fixture.TOWNS["Pyongyang"][:2]
    data.way([kp_end, sinuiju, data.node(lon, lat)], {"highway": "primary", "ref": "1"})
    path.write_text(fixture.to_osm_xml(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def layers(tmp_path_factory):
    extract = _with_dandong(tmp_path_factory.mktemp("dandong") / "with-dandong.osm")
    return geo.layers_from_extracts([extract], [*fixture.province_codes(), "KP-03", "CN-LN"])


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
    assert routes.report["supply"]["model"] == "hamji"


def test_all_china_model_brings_goods_through_dandong(layers):
    hamji = geo.route_markets(layers, supply="hamji").markets.set_index("name_en")
    routes = geo.route_markets(layers, supply="all-china")
    markets = routes.markets.set_index("name_en")
    sinuiju = markets.loc["Sinuiju Market"]
    assert (sinuiju["best_crossing"], sinuiju["hub"]) == ("sinuiju_dandong_road", "Dandong")
    # Dandong to the bridge and the bridge to Sinuiju are a few km: the border penalty is nearly all of it.
    assert settings.BORDER_PENALTY_H < sinuiju["total_h"] < settings.BORDER_PENALTY_H + 0.25
    assert markets.loc["Tongil Street Market", "total_h"] < hamji.loc["Tongil Street Market", "total_h"]  # Pyongyang
    assert routes.report["supply"]["model"] == "all-china" and routes.report["supply"]["missing"] == []


def test_the_reach_csv_and_summary_state_the_model(layers, tmp_path):
    routes = geo.route_markets(layers, supply="all-china")
    table = geo.reach_table(routes, layers)
    csv, _, md = geo.write_reach(table, routes, tmp_path)
    import pandas as pd

    assert set(pd.read_csv(csv)["supply_model"]) == {"all-china"}
    assert "Supply model: all-china — Jilin's and Liaoning's hubs and crossings" in md.read_text(encoding="utf-8")


def test_all_china_without_liaoning_in_the_layers_says_so():
    routes = geo.route_markets(geo.demo_layers(), supply="all-china")
    assert routes.report["supply"]["missing"] == ["CN-LN"]
