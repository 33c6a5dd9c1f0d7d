"""The typed record of a run's assumptions, and the declared schema of every table HamJi writes."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_people_areas import market_square, write_areas

import geo
from geo import settings
from geo.cli import main
from geo.schema import TABLE_SCHEMAS
from geo.sources.population import population_of

SPEEDS = """
[KP]
motorway = 50
trunk = 45
primary = 40
secondary = 30
tertiary = 25
unclassified = 20
track = 10
unpaved_factor = 0.5
[CN]
motorway = 90
trunk = 70
primary = 60
secondary = 50
tertiary = 40
unclassified = 30
track = 15
unpaved_factor = 0.6
"""


@pytest.fixture
def demo(demo_routes):
    return geo.load_layers(demo_routes.parent), geo.load_routes(demo_routes.parent)


@pytest.fixture
def baseline(demo_reach, tmp_path) -> Path:
    """A copy of the demo's layers, routes and reach table, for a test to change."""
    folder = tmp_path / "layers"
    shutil.copytree(demo_reach, folder, ignore=shutil.ignore_patterns("scenarios", ".hamji*"))
    return folder


def test_a_speed_table_keeps_its_name_when_another_stage_routes_again(baseline, tmp_path, capsys):
    """``routes --speeds FILE`` then ``reach --supply all-china``: the reach summary still names FILE.

    Before the record, ``Routes.speeds`` rebuilt the table from numbers and
    the summary read "the speeds recorded with the routes".
    """
    speeds = tmp_path / "my_speeds.toml"
    speeds.write_text(SPEEDS)
    assert main(["routes", "--layers", str(baseline), "--speeds", str(speeds)]) == 0
    assert main(["reach", "--layers", str(baseline), "--supply", "land"]) == 0
    summary = (baseline / settings.REACH_MD).read_text(encoding="utf-8")
    assert f"- Speed table: {speeds} (digest " in summary
    assert "unpaved × 0.5" in summary  # the file's own KP factor, not the default 0.6
    routes = geo.load_routes(baseline)
    assert routes.assumptions.supply.name == "land" and routes.assumptions.speeds.source == str(speeds)
    table = pd.read_csv(baseline / settings.REACH_CSV)
    assert set(table["speed_table"]) == {f"{speeds} ({routes.assumptions.speeds.digest})"}


def test_scenario_tables_carry_the_stamps_of_their_run(baseline, tmp_path):
    """A scenario's reach CSV says DEMO, its supply model, source and data date, like the baseline's."""
    maps = tmp_path / "maps"
    assert main(["scenario", "wonjong_closed", "--layers", str(baseline), "--maps", str(maps)]) == 0
    folder = baseline / "scenarios" / "wonjong_closed"
    reach = pd.read_csv(folder / settings.REACH_CSV)
    assert list(reach.columns) == list(TABLE_SCHEMAS["reach"])
    assert reach["demo"].all() and set(reach["supply_model"]) == {"all"}
    assert set(reach["data_source"]) == set(pd.read_csv(baseline / settings.REACH_CSV)["data_source"])
    assert reach["osm_data_date"].notna().all()
    for name, kind in (
        (settings.DIFFERENCE_MARKETS_CSV, "difference_markets"),
        (settings.DIFFERENCE_PROVINCES_CSV, "difference_provinces"),
    ):
        assert list(pd.read_csv(folder / name).columns) == list(TABLE_SCHEMAS[kind])


def test_scenarios_and_the_supply_comparison_weight_by_the_baselines_people_areas(demo, baseline, tmp_path):
    """Rason's census count put round Rajin Market: every table made from that reach table weights by areas.

    Before, ``run_scenario`` and the supply comparison dropped the people
    areas, and their ``*_people`` shares fell back to market weighting.
    """
    layers, routes = demo
    census = population_of("KP-13").people
    areas = write_areas(tmp_path / "rason.geojson", [(market_square(routes, "Rajin Market"), {"population": census})])
    assert main(["reach", "--layers", str(baseline), "--people-areas", str(areas)]) == 0
    base = pd.read_csv(baseline / settings.REACH_CSV).set_index("code")
    assert base.loc["KP-13", "people_basis"] == "areas"
    areas.unlink()  # later stages use the copy kept beside the table, not the user's file
    assert main(["scenario", "wonjong_closed", "--layers", str(baseline), "--maps", str(tmp_path / "maps")]) == 0
    scenario = pd.read_csv(baseline / "scenarios" / "wonjong_closed" / settings.REACH_CSV).set_index("code")
    assert scenario.loc["KP-13", "people_basis"] == "areas"
    assert scenario.loc["KP-13", "people_areas"] == base.loc["KP-13", "people_areas"]

    from geo.pipeline import load_baseline, supply_orderings

    loaded = load_baseline(baseline)
    assert loaded.people_areas is not None and len(loaded.people_areas.areas) == 1
    assert [model for model, _, _ in supply_orderings(loaded)] == ["hamji", "land", "all"]


def test_a_changed_copy_of_the_people_areas_is_refused(baseline, demo, tmp_path, capsys):
    layers, routes = demo
    areas = write_areas(tmp_path / "a.geojson", [(market_square(routes, "Rajin Market"), {"population": 1000})])
    assert main(["reach", "--layers", str(baseline), "--people-areas", str(areas)]) == 0
    capsys.readouterr()
    kept = baseline / settings.PEOPLE_AREAS_COPY
    kept.write_text(kept.read_text(encoding="utf-8").replace("1000", "2000"), encoding="utf-8")
    assert main(["scenario", "wonjong_closed", "--layers", str(baseline), "--maps", str(tmp_path / "maps")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no longer holds" in err[0] and "--people-areas" in err[0]


def test_the_record_round_trips_through_the_routes_file(demo_routes):
    routes = geo.load_routes(demo_routes.parent)
    again = geo.io.read_assumptions(geo.io.assumptions_record(routes.assumptions, routes.network), demo_routes)
    assert again == (routes.assumptions, routes.network)
    assert routes.assumptions.speeds.digest == geo.run_assumptions().speeds.digest


def test_a_routes_file_without_a_record_asks_for_new_routes(demo_routes):
    with pytest.raises(geo.errors.InputError, match="run `hamji routes` again"):
        geo.io.read_assumptions({"supply": {"model": "hamji"}}, demo_routes)


def test_route_markets_takes_a_record_or_keywords_not_both(demo):
    layers, _ = demo
    with pytest.raises(TypeError):
        geo.route_markets(layers, geo.run_assumptions(), supply="land")


def test_input_errors_are_value_errors():
    with pytest.raises(ValueError, match="did you mean all-china"):
        geo.run_assumptions(supply="all-chine")


def test_no_stage_reads_assumptions_through_nested_dicts():
    library = Path(geo.__file__).parent
    offenders = [str(p) for p in library.rglob("*.py") if '.get("routes"' in p.read_text(encoding="utf-8")]
    assert offenders == []
