"""Every channel and the date, end to end: the three supply models on the demo, and --as-of from the command line."""

import pandas as pd
import pytest

import geo
from geo import settings
from geo.cli import main


@pytest.fixture(scope="module")
def tables():
    layers = geo.demo_layers()
    out = {}
    for model in ("hamji", "land", "all"):
        routes = geo.route_markets(layers, supply=model)
        out[model] = geo.reach_table(routes, layers).set_index("code")
    return out


def test_the_far_provinces_come_nearer_with_every_channel(tables):
    hamji, land, everything = (tables[m].loc["group:far"] for m in ("hamji", "land", "all"))
    # Dandong-Sinuiju (land) brings the far provinces' goods more than 10 h nearer than Jilin alone (hamji).
    assert land["hub_h_median"] < hamji["hub_h_median"] - 10
    # Under all, Nampo's port is one more way in: the far markets' nearest entry is nearer still ...
    assert everything["crossing_h_median"] < land["crossing_h_median"] - 2
    # ... while the whole trip is no shorter: at the data date (2026) the ship (41.6 h quay to quay) and the
    # train (25 km/h) are slower than the road from Dandong.
    assert everything["hub_h_median"] == pytest.approx(land["hub_h_median"])
    # The border provinces are fed from Jilin under every model.
    assert tables["all"].loc["group:border", "hub_h_median"] == pytest.approx(
        tables["hamji"].loc["group:border", "hub_h_median"]
    )


def test_as_of_june_2021_closes_every_crossing_and_the_table_says_so(demo_gpkg, tmp_path, capsys):
    folder = tmp_path / "layers"
    folder.mkdir()
    for name in (settings.LAYERS_GPKG, settings.LAYERS_META):
        (folder / name).write_bytes((demo_gpkg.parent / name).read_bytes())
    assert main(["routes", "--layers", str(folder), "--as-of", "2021-06"]) == 0
    printed = capsys.readouterr().out
    assert "not usable on 2021-06-01: " in printed and "Wonjong–Quanhe (road): shut 2020-01-24 to 2023-02-16" in printed
    assert main(["reach", "--layers", str(folder)]) == 0
    table = pd.read_csv(folder / settings.REACH_CSV).set_index("code")
    assert table.loc["KP", "crossing_unreachable"] == 1.0  # no market reached: everything was shut
    summary = (folder / settings.REACH_MD).read_text(encoding="utf-8")
    assert "## Not usable on 2021-06-01" in summary
    assert "- Dalian–Nampo (sea): shut 2020-01-24 to 2021-06-28 (COVID-19 closure)" in summary
    assert "- New Yalu River Bridge (road): closed (completed, never opened; since 2014-10-31)" in summary


def test_a_bad_as_of_is_one_line(demo_gpkg, capsys):
    assert main(["routes", "--layers", str(demo_gpkg.parent), "--as-of", "June"]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "hamji: error: as-of date 'June': write a year or a year and month, YYYY or YYYY-MM (e.g. 2021-06) [--as-of]"
    )


def test_osm_only_crossings_are_routed_only_when_asked():
    from geo.routes import compute_routes

    layers = geo.demo_layers()
    frames = dict(layers.frames)
    # An OSM-only border post on a road (at the Sanhe bridge, beside the gazetteer's crossing), status unknown.
    post = frames["crossings"][frames["crossings"]["crossing_id"] == "hoeryong_sanhe"].copy()
    post[["crossing_id", "status", "in_gazetteer"]] = ["osm_node_1", "unknown", False]
    frames["crossings"] = pd.concat([frames["crossings"], post], ignore_index=True)
    listed = compute_routes(frames, geo.run_assumptions()).get("crossings").set_index("crossing_id")
    assert listed.loc["osm_node_1", "reason_code"] == "unknown_status" and not listed.loc["osm_node_1", "usable"]
    opened = compute_routes(frames, geo.run_assumptions(unknown_crossings="open"))["crossings"]
    assert bool(opened.set_index("crossing_id").loc["osm_node_1", "usable"])
    with pytest.raises(ValueError, match="unknown crossings: 'maybe'; choose one of closed, open"):
        geo.run_assumptions(unknown_crossings="maybe")
