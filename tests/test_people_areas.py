"""People areas (counties with their counts): read with one-line errors, and weighting reach by where people live."""

import json
import shutil

import pandas as pd
import pytest
from conftest import digest

import geo
from geo import settings
from geo.cli import main
from geo.errors import InputError
from geo.sources.people_areas import read_people_areas
from geo.sources.population import population_of


def square(lon: float, lat: float, half: float = 0.02) -> dict:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def write_areas(path, features: list[tuple[dict | None, dict]]):
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def test_counts_are_read_as_osm_and_census_tables_write_them(tmp_path):
    path = write_areas(
        tmp_path / "areas.geojson",
        [
            (square(129, 42), {"name:en": "A", "population": "196 954", "source:population": "census"}),
            (square(130, 42), {"name": "B", "population": "1,200"}),
            (square(131, 42), {"name": "C", "population": 12.0}),
            (square(129, 41), {"name": "untagged"}),
            (square(130, 41), {"name": "empty", "population": " "}),
        ],
    )
    read = read_people_areas(path)
    assert read.areas[["name", "population"]].values.tolist() == [["A", 196954], ["B", 1200], ["C", 12]]
    assert read.skipped == 2
    assert list(read.areas["source"]) == ["census", "areas.geojson, feature 2", "areas.geojson, feature 3"]
    assert read.areas.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    "features, message",
    [
        ([(square(129, 42), {"name": "Musan", "population": "12k"})], r"feature 1 \(Musan\) has population '12k'"),
        ([(square(129, 42), {"population": -5})], r"feature 1 has population '-5', not a whole number"),
        ([(square(129, 42), {"population": True})], "not a number"),
        ([({"type": "Point", "coordinates": [129, 42]}, {"population": 5})], "is not a polygon"),
        ([(square(129, 42), {"name": "x"})], "no feature with a 'population' property \\(1 without one\\)"),
        ([(square(500_000, 4_650_000, 1000), {"population": 5})], "not longitude and latitude .* EPSG:4326"),
        ([({"type": "Polygon", "coordinates": [[[129, 42], [130, 42]]]}, {"population": 5})], "broken coordinates"),
    ],
)
def test_an_unusable_file_is_a_one_line_error_naming_the_feature(tmp_path, features, message):
    with pytest.raises(InputError, match=message) as caught:
        read_people_areas(write_areas(tmp_path / "areas.geojson", features))
    assert "\n" not in str(caught.value) and caught.value.option == "people_areas"


def test_features_of_the_wrong_shape_are_skipped_not_a_traceback(tmp_path):
    path = tmp_path / "areas.geojson"
    good = {"type": "Feature", "geometry": square(129, 42), "properties": {"population": 7}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [None, 5, {"properties": [1]}, good]}))
    read = read_people_areas(path)
    assert read.areas["population"].tolist() == [7] and read.skipped == 3


def test_a_file_that_is_not_geojson_is_refused(tmp_path):
    (tmp_path / "areas.geojson").write_text("name,population\nMusan,5\n")
    with pytest.raises(InputError, match="is not GeoJSON"):
        read_people_areas(tmp_path / "areas.geojson")


@pytest.fixture(scope="module")
def demo(demo_routes):
    return geo.load_layers(demo_routes.parent), geo.load_routes(demo_routes.parent)


def market_square(routes, name: str) -> dict:
    point = routes.markets.set_index("name_en").geometry[name]
    return square(point.x, point.y)


def test_people_at_their_nearest_market_weight_the_province_they_cover(demo, tmp_path):
    """North Hamgyong's 2,130,408 people (2008, Rason taken out) put by hand round two of its markets.

    Musan Market is 2.8 h from a Chinese hub and Kimchaek Market 8.1 h, so
    the 1,000,000 people of Musan's area are within 4 h and 8 h, nobody
    within 2 h: 47 % within 4 h, where the markets say 5 of 8 (62.5 %).
    """
    layers, routes = demo
    hours = routes.markets.set_index("name_en")["total_h"]
    assert 2 < hours["Musan Market"] <= 4 and 8 < hours["Kimchaek Market"]
    census = population_of("KP-09").people
    assert census == 2_130_408
    path = write_areas(
        tmp_path / "counties.geojson",
        [
            (market_square(routes, "Musan Market"), {"name": "Musan", "population": 1_000_000}),
            (market_square(routes, "Kimchaek Market"), {"name": "Kimchaek", "population": census - 1_000_000}),
        ],
    )
    table = geo.reach_table(routes, layers, people_areas=path).set_index("code")
    north = table.loc["KP-09"]
    assert north["people_basis"] == "areas" and north["people_areas_coverage"] == pytest.approx(1.0)
    assert north["hub_within_4h_people"] == pytest.approx(1_000_000 / census)
    assert north["hub_within_2h_people"] == 0
    assert north["hub_within_8h_people"] == pytest.approx(1_000_000 / census)
    assert north["hub_within_4h"] == pytest.approx(5 / 8)  # the markets' own share is unchanged
    # People within t hours of a hub, by the areas: Musan's million within 4 h, over the areas' people.
    assert north["people_counted"] == census and north["hub_people_within_4h"] == pytest.approx(1_000_000)
    assert north["hub_people_within_2h"] == 0
    # The border group also holds Rason and Ryanggang, which no area covers: it stays weighted by markets,
    # and says how much of its census count the areas hold.
    border = table.loc["group:border"]
    assert border["people_basis"] == "markets"
    assert border["people_areas_coverage"] == pytest.approx(census / border["population"])
    plain = geo.reach_table(routes, layers).set_index("code")
    assert border["hub_within_4h_people"] == pytest.approx(plain.loc["group:border", "hub_within_4h_people"])
    assert set(plain["people_basis"]) == {"markets"}


def test_areas_that_overlap_do_not_double_the_people(demo, tmp_path):
    """An OSM export holds counties and their districts both: twice the census count is not used."""
    layers, routes = demo
    census = population_of("KP-09").people
    both = [(market_square(routes, "Musan Market"), {"population": census})] * 2
    table = geo.reach_table(routes, layers, people_areas=write_areas(tmp_path / "a.geojson", both))
    north = table.set_index("code").loc["KP-09"]
    assert north["people_basis"] == "markets" and north["people_areas_coverage"] == pytest.approx(2.0)


def test_osm_county_export_weights_rason_by_its_census_tag(demo, shared_data):
    """The OSM county file in ../shared tags one unit with people: Rason, 196,954 (2008 census)."""
    layers, routes = demo
    read = read_people_areas(shared_data / "kp_counties_osm_2020.geojson")
    assert read.areas["population"].tolist() == [196_954] and read.skipped == 196
    table = geo.reach_table(routes, layers, people_areas=read).set_index("code")
    assert table.loc["KP-13", "people_basis"] == "areas"
    assert table.loc["KP-13", "people_areas_coverage"] == pytest.approx(1.0)
    assert (table.drop(index="KP-13")["people_basis"] == "markets").all()


def test_cli_reach_with_people_areas_and_a_bad_file_keeps_the_table(demo_reach, tmp_path, capsys):
    folder = tmp_path / "layers"
    shutil.copytree(demo_reach, folder)
    routes = geo.load_routes(folder)
    census = population_of("KP-13").people
    good = write_areas(tmp_path / "rason.geojson", [(market_square(routes, "Rajin Market"), {"population": census})])
    assert main(["reach", "--layers", str(folder), "--people-areas", str(good)]) == 0
    table = pd.read_csv(folder / settings.REACH_CSV).set_index("code")
    assert table.loc["KP-13", "people_basis"] == "areas"
    assert "people areas: 1 with a population, 0 without" in capsys.readouterr().out
    # The areas file is an input of the stage: the same file again is a skip, no file a rerun.
    assert main(["reach", "--layers", str(folder), "--people-areas", str(good)]) == 0
    assert "unchanged inputs" in capsys.readouterr().out
    assert main(["reach", "--layers", str(folder)]) == 0
    assert pd.read_csv(folder / settings.REACH_CSV).set_index("code").loc["KP-13", "people_basis"] == "markets"
    assert main(["reach", "--layers", str(folder), "--people-areas", str(good)]) == 0
    capsys.readouterr()
    before = digest(folder / settings.REACH_CSV)
    bad = write_areas(tmp_path / "bad.geojson", [(square(130, 42), {"name": "Rajin", "population": "many"})])
    assert main(["reach", "--layers", str(folder), "--people-areas", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err.count("\n") == 0 and "feature 1 (Rajin) has population 'many'" in err and err.endswith("[--people-areas]")
    )
    assert digest(folder / settings.REACH_CSV) == before


def test_the_markdown_and_popups_say_what_the_people_shares_rest_on(demo, tmp_path):
    from geo.reach import markdown_summary, people_basis_text

    layers, routes = demo
    census = population_of("KP-13").people
    path = write_areas(tmp_path / "r.geojson", [(market_square(routes, "Rajin Market"), {"population": census})])
    table = geo.reach_table(routes, layers, people_areas=path)
    text = markdown_summary(table, routes)
    assert "| Rason | 196,954 |" in text and "people areas (100% of the census count) |" in text
    assert people_basis_text("markets", 0.0646) == "its markets (people areas hold 6% of the census count)"
    assert people_basis_text("markets", float("nan")) == "its markets"


def test_build_refuses_a_bad_people_areas_file_before_any_stage(tmp_path, capsys):
    bad = write_areas(tmp_path / "bad.geojson", [({"type": "Point", "coordinates": [130, 42]}, {"population": 5})])
    out, maps = tmp_path / "layers", tmp_path / "maps"
    assert main(["build", "--demo", "--out", str(out), "--maps", str(maps), "--people-areas", str(bad)]) == 1
    assert "is not a polygon" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.geojson"]  # no folder made, no lock file left
