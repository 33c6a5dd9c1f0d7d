"""What a notebook holds in memory is what it reads back, and every file says what its run assumed.

Found trying issue 22 as its users would: a notebook that routes, writes and
loads again; a CLI user with a speed table of their own running scenarios.
"""

import shutil

import pandas as pd
import pytest
from test_assumptions import SPEEDS
from test_people_areas import market_square, write_areas

import geo
from geo import lineage, settings
from geo.cli import main
from geo.errors import MixedRunError
from geo.results import ROUTE_FRAMES
from geo.schema import LAYER_ORDER, TABLE_SCHEMAS
from geo.sources import fixture
from geo.sources.people_areas import read_people_areas
from geo.sources.population import population_of


def columns_and_dtypes(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return [(column, str(frame[column].dtype)) for column in frame.columns]


@pytest.fixture(scope="module")
def notebook():
    """A notebook's session: demo layers, a record of assumptions, routes, all in memory."""
    layers = geo.demo_layers()
    record = geo.run_assumptions(penalties={"Wonjong–Quanhe": 4.0}, supply="all-china")
    return layers, geo.route_markets(layers, record)


def test_routes_in_memory_have_the_columns_and_dtypes_they_read_back_with(notebook, tmp_path):
    """Before, ``route_markets`` returned frames in routing's own order and dtypes (``str``, ``Int64`` drift).

    The routes GeoPackage was conformed only on write and read, so a notebook's
    ``routes.markets`` and the same routes loaded back differed column by column.
    """
    layers, routes = notebook
    geo.write_routes(routes, tmp_path)
    loaded = geo.load_routes(tmp_path)
    for name in ROUTE_FRAMES:
        assert columns_and_dtypes(routes.frames[name]) == columns_and_dtypes(loaded.frames[name]), name
    scenario = geo.run_scenario("wonjong_closed", layers, routes).routes
    for name in ROUTE_FRAMES:
        assert columns_and_dtypes(scenario.frames[name]) == columns_and_dtypes(loaded.frames[name]), name


def test_layers_read_back_with_their_declared_dtypes(notebook, tmp_path):
    """A crossing's opening year read back was a float (2010.0) and text came back as ``str``, not as declared."""
    layers, _ = notebook
    geo.write_layers(layers, tmp_path)
    loaded = geo.load_layers(tmp_path)
    for name in LAYER_ORDER:
        assert columns_and_dtypes(layers.frames[name]) == columns_and_dtypes(loaded.frames[name]), name
    assert str(loaded.crossings["year_opened"].dtype) == "Int64"


def test_a_notebooks_reach_table_names_the_people_areas_it_was_weighted_by(notebook, tmp_path):
    """``reach_table(people_areas=FILE)`` weighted Rason by the areas but stamped no people areas.

    A scenario later run on the written folder then fell back to market
    weighting without a word; with the stamp it asks for the areas instead.
    """
    layers, routes = notebook
    census = population_of("KP-13").people
    areas = write_areas(tmp_path / "rason.geojson", [(market_square(routes, "Rajin Market"), {"population": census})])
    table = geo.reach_table(routes, layers, people_areas=areas).set_index("code")
    assert table.loc["KP-13", "people_basis"] == "areas"
    assert set(table["people_areas"]) == {lineage.file_id(areas)}
    geo.write_reach(table.reset_index(), routes, tmp_path)  # the routes' record names no areas: the table's stamp stays
    assert set(geo.load_reach(tmp_path)["people_areas"]) == {lineage.file_id(areas)}
    assert set(geo.reach_table(routes, layers)["people_areas"].isna()) == {True}
    frame = read_people_areas(areas).areas  # areas with no file: stamped with a digest of their contents
    stamps = {geo.reach_table(routes, layers, people_areas=frame)["people_areas"].iloc[0] for _ in range(2)}
    assert len(stamps) == 1 and len(stamps.pop()) == 16
    scenario = geo.run_scenario("wonjong_closed", layers, routes, people_areas=areas).reach
    assert set(scenario["people_areas"]) == {lineage.file_id(areas)}


@pytest.fixture
def own_speeds(demo_reach, tmp_path):
    """A copy of the demo baseline routed with a speed table of the user's own."""
    folder = tmp_path / "layers"
    shutil.copytree(demo_reach, folder, ignore=shutil.ignore_patterns("scenarios", ".hamji*"))
    speeds = tmp_path / "my_speeds.toml"
    speeds.write_text(SPEEDS)
    routes = ["routes", "--layers", str(folder), "--speeds", str(speeds), "--penalty", "Wonjong–Quanhe=5"]
    assert main([*routes, "--quiet"]) == 0
    assert main(["reach", "--layers", str(folder), "--quiet"]) == 0
    return folder, speeds


def test_a_scenario_keeps_the_name_of_the_speed_table_it_changes_or_keeps(own_speeds, tmp_path):
    """Before, every scenario's reach summary said "Speed table: scenario KEY", speeds changed or not.

    Closing a crossing keeps the user's table, name and digest; a scenario
    that scales speeds says whose table it scaled.
    """
    folder, speeds = own_speeds
    digest = geo.load_routes(folder).assumptions.speeds.digest
    maps = tmp_path / "maps"
    for key in ("wonjong_closed", "kp_main_roads_minus30"):
        assert main(["scenario", key, "--layers", str(folder), "--maps", str(maps), "--quiet"]) == 0
    kept = (folder / "scenarios" / "wonjong_closed" / settings.REACH_MD).read_text(encoding="utf-8")
    assert f"- Speed table: {speeds} (digest {digest})." in kept
    scaled = geo.load_routes(folder / "scenarios" / "kp_main_roads_minus30").assumptions.speeds
    assert scaled.source == f"{speeds}, changed by scenario kp_main_roads_minus30" and scaled.digest != digest
    assert scaled.speeds["KP"]["primary"] == pytest.approx(40 * 0.7)  # the user's 40 km/h, 30 % slower


def test_the_index_page_names_the_speed_table(own_speeds, tmp_path):
    """The index listed the speeds but not which table they came from (the reach summary did)."""
    folder, speeds = own_speeds
    assert main(["maps", "--layers", str(folder), "--maps", str(tmp_path / "maps"), "--quiet"]) == 0
    index = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    digest = geo.load_routes(folder).assumptions.speeds.digest
    assert f"<li>Speed table: {speeds} (digest {digest})</li>" in index


def test_every_table_of_a_scenario_and_of_sensitivity_says_demo_when_copied_out(own_speeds, tmp_path):
    """The difference CSVs and hamji_sensitivity.csv carried no stamp: copied out of their folder, demo
    figures no longer said DEMO. Each now carries its run's stamps (the scenario's supply model and speeds
    for the differences; for sensitivity, whose rows are each another scenario, the data's own)."""
    folder, speeds = own_speeds
    only = ["--scenario", "supply_all_china"]
    assert main(["sensitivity", "--layers", str(folder), "--maps", str(tmp_path / "maps"), "--quiet", *only]) == 0
    china = folder / "scenarios" / "supply_all_china"
    digest = geo.load_routes(folder).assumptions.speeds.digest
    for name in (settings.DIFFERENCE_MARKETS_CSV, settings.DIFFERENCE_PROVINCES_CSV):
        copied = tmp_path / name
        shutil.copy(china / name, copied)
        table = pd.read_csv(copied)
        assert table["demo"].all() and set(table["data_source"]) == {"mini-HamJi demo fixture"}, name
        assert set(table["supply_model"]) == {"land"} and set(table["speed_table"]) == {f"{speeds} ({digest})"}
    sensitivity = pd.read_csv(folder / settings.SENSITIVITY_CSV)
    assert list(sensitivity.columns) == list(TABLE_SCHEMAS["sensitivity"])
    assert sensitivity["demo"].all() and set(sensitivity["osm_data_date"]) == {fixture.FIXTURE_TIMESTAMP}


def test_the_summaries_of_scenarios_sensitivity_and_supply_say_what_they_were_routed_under(own_speeds, tmp_path):
    """hamji_difference.md, hamji_sensitivity.md and hamji_supply.md named no speed table nor penalty.

    The baseline here was routed with the user's speed table and 5 h at
    Wonjong–Quanhe; a reader of any of the three summaries could not tell.
    """
    from geo.pipeline import supply_stage

    folder, speeds = own_speeds
    digest = geo.load_routes(folder).assumptions.speeds.digest
    maps = tmp_path / "maps"
    chosen = ["--scenario", "wonjong_closed", "--scenario", "border_penalty_6h"]
    assert main(["sensitivity", "--layers", str(folder), "--maps", str(maps), "--quiet", *chosen]) == 0
    supply_stage(folder)
    from geo.io import markdown_literal

    # In Markdown the path is shown as written: its "_" escaped so that it is not emphasis.
    table = f"speed table {markdown_literal(speeds)} (digest {digest})"
    penalty = "border penalty 2 h at each crossing, except Wonjong–Quanhe 5 h"
    closed = (folder / "scenarios" / "wonjong_closed" / "hamji_difference.md").read_text(encoding="utf-8")
    assert f"- Routed under: supply model all; {table}; {penalty}." in closed
    six = (folder / "scenarios" / "border_penalty_6h" / "hamji_difference.md").read_text(encoding="utf-8")
    assert f"{table}; border penalty 6 h at each crossing." in six
    sensitivity = (folder / settings.SENSITIVITY_MD).read_text(encoding="utf-8")
    assert f"The baseline is routed under supply model all; {table}; {penalty}; each scenario" in sensitivity
    supply = (folder / settings.SUPPLY_MD).read_text(encoding="utf-8")
    assert f"Every model is routed with the baseline's {table}; {penalty}." in supply


def test_missing_map_assets_name_the_parameter_to_change_and_its_flag(notebook, tmp_path, monkeypatch, capsys):
    """The CLI line said "… or pass --cdn … [--offline]": the flag in brackets was the default that failed.

    The library's message names no flag (a notebook has none); ``option`` is
    ``offline``, the parameter to turn off, which the command line spells ``--cdn``.
    """
    from geo.console import error_line

    layers, routes = notebook
    monkeypatch.setattr(settings, "ASSETS_DIR", tmp_path / "no-assets")
    with pytest.raises(geo.HamjiError) as caught:
        geo.write_maps(layers, routes, geo.reach_table(routes, layers), tmp_path / "maps")
    assert caught.value.option == "offline" and "--" not in str(caught.value)
    assert error_line(caught.value).endswith("[--cdn]")


def test_a_bad_overpass_address_names_a_parameter_of_the_function_called(isolated_cache):
    """``layers_from_overpass(url=…)`` failed with ``option="overpass_url"``, a parameter it did not have."""
    import inspect

    with pytest.raises(geo.errors.InputError) as caught:
        geo.layers_from_overpass("ftp://overpass.example/api", ["KP-13"])
    assert caught.value.option in inspect.signature(geo.layers_from_overpass).parameters


def test_routes_a_notebook_writes_beside_their_layers_say_so_and_later_stages_accept_them(previous, tmp_path):
    """Before, only the pipeline stamped ``made_from``: routes written by ``geo.write_routes`` were refused.

    A notebook that loads the layers of a build, routes them under its own
    penalty and writes the routes beside them made a folder that ``hamji
    scenario`` and ``hamji reach`` refused as "routes not made from the layers
    beside it". Routes from layers changed in memory (a market list added) are
    not from that file, and must still be refused.
    """
    folder = previous / "layers"
    layers_file, routes_file = folder / settings.LAYERS_GPKG, folder / settings.ROUTES_GPKG
    layers = geo.load_layers(folder)
    assert layers.file_id == lineage.file_id(layers_file)
    geo.write_routes(geo.route_markets(layers, penalties={"Wonjong–Quanhe": 4.0}), folder)
    lineage.check_routes(routes_file, layers_file)  # raises if not
    survey = tmp_path / "survey.csv"
    beside = layers.markets.geometry.iloc[0]  # a surveyed market next to a mapped one: surely placed
    survey.write_text(f"name,lon,lat\nSurveyed market,{beside.x + 0.01},{beside.y}\n", encoding="utf-8")
    changed = geo.with_market_lists(layers, [survey], "add")
    assert changed.file_id is None
    geo.write_routes(geo.route_markets(changed), folder)
    with pytest.raises(MixedRunError):
        lineage.check_routes(routes_file, layers_file)
