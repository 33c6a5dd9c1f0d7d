"""The layers a demo build writes, checked against values computed by hand from the fixture."""

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod

from geo import settings
from geo.io import read_provenance
from geo.schema import GEOMETRY_TYPES, LAYER_ORDER, SCHEMAS
from geo.sources import fixture
from tests.conftest import ENV

GEOD = Geod(ellps="WGS84")


def layer(path, name):
    return gpd.read_file(path, layer=name)


def test_every_layer_has_its_declared_schema(demo_gpkg):
    assert [name for name, _ in pyogrio.list_layers(demo_gpkg)] == [*LAYER_ORDER, "layer_styles"]
    for name in LAYER_ORDER:
        frame = layer(demo_gpkg, name)
        assert list(frame.columns) == [*SCHEMAS[name], "geometry"], name
        assert frame.crs.to_epsg() == 4326
        assert set(frame.geom_type) <= {GEOMETRY_TYPES[name]}, name


def test_provenance_says_demo_and_records_source_filters_and_tools(demo_gpkg):
    for name in LAYER_ORDER:
        meta = read_provenance(demo_gpkg, name)
        assert meta["synthetic"] is True and meta["stamp"] == settings.DEMO_STAMP
        assert meta["osm_timestamp"] == fixture.FIXTURE_TIMESTAMP
        assert meta["tag_filters"]["markets"] == {"amenity": "marketplace"}
        assert {"hamji", "osmnx", "pyosmium"} <= set(meta["tools"])
    sidecar = json.loads((demo_gpkg.parent / settings.LAYERS_META).read_text())
    assert sidecar["summary"]["demo"] is True


def test_all_fixture_roads_are_kept_with_classes_flags_and_provinces(demo_gpkg):
    roads = layer(demo_gpkg, "roads")
    road_bridges = [b for b in fixture.BRIDGES if b[3] != "rail"]
    assert len(roads) == len(fixture.ROADS) + len(road_bridges)
    assert set(roads.loc[roads["minor"], "highway"]) == {"track", "unclassified"}
    drawn_bridges = [extra for _, _, extra in fixture.ROADS if extra.get("bridge") == "yes"]  # Friendship, New Yalu
    assert roads["bridge"].sum() == len(road_bridges) + len(drawn_bridges) == 10
    assert (roads["oneway"] == "yes").sum() == 1
    assert roads["length_m"].gt(0).all()
    yanji_longjing = roads[(roads["highway"] == "trunk") & (roads["ref"] == "G302")]
    assert list(yanji_longjing["province"]) == ["CN-JL"] and list(yanji_longjing["prefecture"]) == ["Yanbian"]


def test_road_length_matches_the_geodesic_distance_between_its_towns(demo_gpkg):
    # Yanji -> Longjing is one straight segment between two GeoNames points;
    # UTM 52N is within 0.1% of the ellipsoid this close to its meridian.
    roads = layer(demo_gpkg, "roads")
    measured = roads.loc[roads["ref"] == "G302", "length_m"].item()
    (lat1, lon1), (lat2, lon2) = fixture.TOWNS["Yanji"][:2], fixture.TOWNS["Longjing"][:2]
    expected = GEOD.inv(lon1, lat1, lon2, lat2)[2]
    assert measured == pytest.approx(expected, rel=1e-3)


def test_markets_are_points_with_polygon_areas_and_provinces(demo_gpkg):
    markets = layer(demo_gpkg, "markets").set_index("name_en")
    assert len(markets) == len(fixture.MARKETS)
    # 300 m square with a 150 m square hole: 90 000 - 22 500 m².
    assert markets.loc["Sunam Market", "area_m2"] == pytest.approx(67_500, rel=1e-4)
    assert markets.loc["Sunam Market", "osm_type"] == "relation"
    assert markets.loc["Hoeryong Market", "area_m2"] == pytest.approx(40_000, rel=1e-4)
    assert pd.isna(markets.loc["Namyang Market", "area_m2"])
    assert markets.loc["Hoeryong Market", "name_ko"] == "회령시장"
    expected = {name: fixture.TOWNS[town][3] for name, _, town, *_ in fixture.MARKETS}
    assert markets["province"].to_dict() == expected
    areas = layer(demo_gpkg, "market_areas")
    assert len(areas) == sum(1 for m in fixture.MARKETS if m[5] != "node")
    # The representative point of a polygon market lies inside its polygon.
    joined = markets.reset_index().merge(
        areas[["osm_type", "osm_id", "geometry"]], on=["osm_type", "osm_id"], suffixes=("", "_area")
    )
    assert len(joined) == len(areas)
    assert all(p.within(a) for p, a in zip(joined["geometry"], joined["geometry_area"]))


def test_osm_crossing_and_its_gazetteer_twin_become_one_row(demo_gpkg):
    crossings = layer(demo_gpkg, "crossings").set_index("crossing_id")
    tumen = crossings.loc["namyang_tumen_road"]
    refs = tumen["osm_ids"].split(";")
    # The Tumen Border Bridge way and the checkpoint node on it: one crossing.
    assert len(refs) == 2 and {r.split("/")[0] for r in refs} == {"node", "way"}
    assert tumen["in_osm"] and tumen["in_gazetteer"] and tumen["geometry_source"] == "osm"
    assert tumen["osm_name"] == "Tumen Border Bridge" and tumen["year_opened"] == 1941
    # The rail bridge 600 m away stays a crossing of its own.
    assert crossings.loc["namyang_tumen_rail", "mode"] == "rail"
    assert crossings.loc["namyang_tumen_rail", "osm_name"] == "Tumen Border Railway Bridge"
    every_ref = [r for refs in crossings["osm_ids"].dropna() for r in refs.split(";")]
    assert len(every_ref) == len(set(every_ref))


def test_crossings_layer_holds_the_gazetteer_plus_osm_only_ones(demo_gpkg):
    crossings = layer(demo_gpkg, "crossings")
    gazetteer_rows = crossings[crossings["in_gazetteer"]]
    # Every gazetteer crossing in the fixture's provinces; the fixture draws bridges at all but Chagang's.
    chagang = {"manpo_jian_road", "manpo_jian_rail", "junggang_linjiang"}
    # The new Namyang road bridge beside the old one pairs with no OSM bridge of its own, nor does Shuangmufeng
    # (no bridge: a land crossing; the fixture's Paektu Border Post is 22 km west of it, beyond its 8 km).
    assert len(gazetteer_rows) == 17
    assert set(gazetteer_rows.loc[~gazetteer_rows["in_osm"], "crossing_id"]) == chagang | {
        "namyang_tumen_new_road",
        "shuangmufeng_samjiyon",
    }
    osm_only = crossings[~crossings["in_gazetteer"]]
    # The post on the border is a crossing; the port customs 50 km inland is not.
    assert list(osm_only["osm_name"]) == ["Paektu Border Post"]
    assert "Rajin Port Customs" not in set(crossings["osm_name"].dropna())
    assert crossings.set_index("crossing_id")["province"].to_dict() == {
        **{
            c: "KP-09"
            for c in (
                "namyang_tumen_road",
                "namyang_tumen_rail",
                "sambong_kaishantun",
                "hoeryong_sanhe",
                "chilsong_nanping",
                "saebyol_shatuozi",
            )
        },
        "wonjong_quanhe": "KP-13",
        "hyesan_changbai": "KP-10",
        "samjang_guchengli": "KP-10",
        "shuangmufeng_samjiyon": "KP-10",
        "sinuiju_dandong_road": "KP-03",
        "sinuiju_dandong_rail": "KP-03",
        "sinuiju_dandong_new_yalu": "KP-03",
        "namyang_tumen_new_road": "KP-09",
        **{c: "KP-04" for c in chagang},
        osm_only["crossing_id"].item(): "KP-10",
    }


def test_border_and_provinces_layers(demo_gpkg):
    provinces = layer(demo_gpkg, "provinces")
    assert set(provinces["code"]) == set(fixture.province_codes())
    assert provinces.set_index("code").loc["KP-13", "group"] == "border"
    border = layer(demo_gpkg, "border").to_crs(settings.MEASURE_CRS).geometry.item()
    # Near the crossings the border is the fixture's drawn lines (Tumen and upper
    # Yalu, lower Yalu: about 460 and 120 km), found whole; elsewhere it is Natural
    # Earth's, so the whole is longer, but shorter than the real 1,416 km.
    drawn = [shapely.segmentize(shapely.LineString(line), 0.01) for line in (fixture.BORDER[1:], fixture.YALU)]
    for line in gpd.GeoSeries(drawn, crs=settings.STORE_CRS).to_crs(settings.MEASURE_CRS):
        assert border.buffer(1.0).contains(line)
    drawn_km = sum(GEOD.inv(*a, *b)[2] for line in (fixture.BORDER[1:], fixture.YALU) for a, b in zip(line, line[1:]))
    assert drawn_km / 1000 + 200 < border.length / 1000 < 1_416


def test_hubs_are_the_nine_wholesale_cities_with_population_where_tagged(demo_gpkg):
    hubs = layer(demo_gpkg, "hubs").set_index("hub")
    # Jilin's six, Ji'an and Linjiang on the Yalu, and Dandong (Liaoning, for the land supply model).
    assert sorted(hubs.index) == sorted(settings.HUBS) and len(hubs) == 9
    assert set(settings.HUB_SOURCES) == set(settings.HUBS)
    assert hubs.loc["Ji'an", "province"] == hubs.loc["Linjiang", "province"] == "CN-JL"
    assert hubs.loc["Dandong", "province"] == "CN-LN" and hubs.loc["Yanji", "province"] == "CN-JL"
    assert hubs.loc["Yanji", "population"] == fixture.POPULATION["Yanji"]
    assert pd.isna(hubs.loc["Hunchun", "population"])
    assert hubs.loc["Yanji", "prefecture"] == "Yanbian" and pd.isna(hubs.loc["Changbai", "prefecture"])


def test_demo_provinces_are_the_real_outlines(demo_gpkg, shared_data):
    """Each demo province is Natural Earth's (the reference copy in ../shared), bar the drawn border near the crossings.

    The drawn border moves at most a few per cent of a province's area: the
    overlap with the reference polygon of the same name is over 90 % both ways.
    """
    from reference import natural_earth_provinces

    reference = natural_earth_provinces(shared_data).to_crs(settings.MEASURE_CRS).set_index("code")
    demo = layer(demo_gpkg, "provinces").to_crs(settings.MEASURE_CRS).set_index("code")
    for code in ("KP-09", "KP-10", "KP-13", "KP-05", "KP-03", "KP-01", "CN-JL"):
        ours, real = demo.loc[code].geometry, reference.loc[code].geometry
        shared = ours.intersection(real).area
        assert shared > 0.9 * ours.area and shared > 0.9 * real.area, code


def test_demo_moves_samjang_into_ryanggang_as_the_osm_counties_do(demo_gpkg, shared_data):
    """Natural Earth puts Samjang in North Hamgyong; the demo's hand-drawn fix gives Ryanggang Taehongdan's corner.

    Most of the land it moves is in OSM's Taehongdan county (measured: 74 %,
    the rest a sliver of Musan county's bank), and the crossing, town and
    bridge lie in Ryanggang.
    """
    from reference import natural_earth_provinces, osm_counties

    reference = natural_earth_provinces(shared_data).to_crs(settings.MEASURE_CRS).set_index("code")
    demo = layer(demo_gpkg, "provinces").to_crs(settings.MEASURE_CRS).set_index("code")
    moved = demo.loc["KP-10"].geometry.intersection(reference.loc["KP-09"].geometry)
    counties = osm_counties(shared_data).to_crs(settings.MEASURE_CRS)
    taehongdan = counties.loc[counties["name:en"] == "Taehongdan County"].geometry.item()
    assert moved.area > 100e6 and moved.intersection(taehongdan).area > 0.7 * moved.area
    samjang = gpd.GeoSeries.from_xy([fixture.TOWNS["Samjang"][1]], [fixture.TOWNS["Samjang"][0]], crs=4326)
    assert demo.loc["KP-10"].geometry.contains(samjang.to_crs(settings.MEASURE_CRS).item())


def test_measure_lines_gives_the_projected_length_and_midpoint_of_each_line():
    """Lengths and midpoints from one projection of the vertices equal shapely's on a projected copy."""
    from geo.layers import measure_lines

    lines = gpd.GeoSeries(
        [
            shapely.LineString([(129.0, 42.0), (129.01, 42.0)]),  # 0.01° of longitude at 42° N: about 828 m
            shapely.LineString([(129.5, 42.4), (129.5, 42.41), (129.52, 42.41), (129.52, 42.45)]),
            shapely.LineString([(128.0, 41.0), (128.0, 41.0)]),  # zero length: its midpoint is its point
        ],
        index=[7, 3, 5],
        crs=settings.STORE_CRS,
    )
    length, midpoint = measure_lines(lines)
    projected = lines.to_crs(settings.MEASURE_CRS)
    assert length == pytest.approx(projected.length.to_numpy(), abs=1e-6)
    assert 820 < length[0] < 835
    assert list(midpoint.index) == [7, 3, 5] and midpoint.crs == settings.MEASURE_CRS
    assert midpoint.distance(projected.interpolate(0.5, normalized=True)).max() < 1e-6


def test_roads_at_density_are_measured_and_placed_as_by_a_projected_copy(fixture_pbf):
    """The roads layer at a vertex every 100 m: lengths and provinces as a projected copy and a nearest join give."""
    from geo.layers import build_roads
    from geo.provinces import match_provinces
    from geo.regions import resolve_selection
    from geo.sources.extracts import read_extracts

    raw = read_extracts([fixture_pbf])
    provinces = match_provinces(raw["boundaries"])
    lines = raw["roads"].copy()
    lines["geometry"] = lines.geometry.to_crs(settings.MEASURE_CRS).segmentize(100).to_crs(settings.STORE_CRS).values
    roads = build_roads(lines, provinces, resolve_selection(None)).set_index("osm_id")
    assert len(roads) > 50 and shapely.get_num_coordinates(roads.geometry.values).mean() > 20
    projected = roads.geometry.to_crs(settings.MEASURE_CRS)
    # EPSG:32652's exact series against the measuring transformer's faster one: 27 µm on 147 km at most.
    assert roads["length_m"].to_numpy() == pytest.approx(projected.length.to_numpy(), rel=1e-9, abs=1e-6)
    level4 = provinces[provinces["admin_level"] == 4].to_crs(settings.MEASURE_CRS)[["code", "geometry"]]
    midpoints = gpd.GeoDataFrame(geometry=projected.interpolate(0.5, normalized=True), crs=settings.MEASURE_CRS)
    nearest = gpd.sjoin_nearest(midpoints, level4, max_distance=settings.PROVINCE_SNAP_M)
    assert nearest[~nearest.index.duplicated()]["code"].to_dict() == roads["province"].to_dict()


def test_the_layers_stage_loads_neither_routing_nor_maps(tmp_path):
    """Importing SciPy, folium and branca cost ``hamji layers`` about 1.1 s of CPU in every run (issue 25).

    They are loaded where they are used; the public names built on them
    (``geo.draw_map``, ``geo.write_maps``, ``geo.BuildComparison``) still
    resolve, to the functions and class of their own modules.
    """
    code = (
        "import sys\nfrom geo.cli import main\n"
        "code = main(['layers', '--demo', '--out', sys.argv[1]])\n"
        "heavy = ('folium', 'branca', 'jinja2', 'scipy.sparse', 'scipy.spatial', 'matplotlib', 'networkx')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
        "import geo, geo.change, geo.maps.output\n"
        "print(geo.draw_map is geo.maps.output.draw_map, geo.write_maps is geo.maps.output.write_maps,\n"
        "      geo.BuildComparison is geo.change.BuildComparison)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["[]", "True True True"]
    assert (tmp_path / settings.LAYERS_GPKG).is_file()


def test_the_measuring_transformer_is_utm_52n_to_within_2_mm_over_the_region():
    import numpy as np
    from pyproj import Transformer

    # PROJ's faster series for UTM 52N, against EPSG:32652's default one: a grid over every supply model's region.
    lon, lat = (a.ravel() for a in np.meshgrid(np.linspace(121, 132, 111), np.linspace(37, 47, 101)))
    fast = np.array(settings.to_measure_transformer().transform(lon, lat))
    exact = np.array(Transformer.from_crs("EPSG:4326", settings.MEASURE_CRS, always_xy=True).transform(lon, lat))
    assert np.abs(fast - exact).max() < 0.002
