"""The curated crossings gazetteer checked against real reference geography."""

import geopandas as gpd
import pytest
import shapely.ops
from reference import china_dprk_border, natural_earth_provinces, osm_counties, whosonfirst_locality
from shapely.geometry import Point

from geo import settings
from geo.provinces import assign_regions
from geo.regions import BY_CODE
from geo.sources.gazetteer import COVID_LAND, CROSSINGS, find_crossing, gazetteer_frame

REQUIRED = {
    "wonjong_quanhe",
    "namyang_tumen_road",
    "namyang_tumen_rail",
    "sambong_kaishantun",
    "hoeryong_sanhe",
    "chilsong_nanping",
    "saebyol_shatuozi",
    "hyesan_changbai",
    "manpo_jian_rail",
    "manpo_jian_road",
    "junggang_linjiang",
    "samjang_guchengli",
    "namyang_tumen_new_road",
    "sinuiju_dandong_new_yalu",
    "shuangmufeng_samjiyon",
}


def test_covers_the_tumen_crossings_and_hyesan():
    assert REQUIRED <= {c.crossing_id for c in CROSSINGS}


def test_every_crossing_is_within_2_km_of_the_real_border(shared_data):
    border = china_dprk_border(shared_data).union_all()
    points = gazetteer_frame().to_crs(settings.MEASURE_CRS)
    distances = points.distance(border)
    far = {cid: round(d) for cid, d in zip(points["crossing_id"], distances) if d > 2_000}
    # Natural Earth's boundary stops where the Yalu widens into its estuary,
    # 3 km below the Friendship Bridge; the New Yalu bridge is 7 km further down.
    assert far.pop("sinuiju_dandong_new_yalu", 0) < 8_000
    assert not far, f"crossings more than 2 km from the Natural Earth China-DPRK border: {far}"


def test_every_crossing_lies_in_the_province_its_facts_name(shared_data):
    provinces = natural_earth_provinces(shared_data)
    points = gazetteer_frame()
    placed = assign_regions(points.geometry, provinces, countries=("KP",))
    disagree = points.loc[list(placed["province"] != points["province"]), "crossing_id"]
    # Natural Earth's generalised outlines put Samjang 12 km inside North
    # Hamgyong. OSM's county polygons are finer: the town (GeoNames, as the
    # gazetteer cites it) lies in Taehongdan county, whose land is Ryanggang's.
    assert list(disagree) == ["samjang_guchengli"]
    counties = osm_counties(shared_data)
    county = counties[counties.contains(Point(129.00227, 42.08652))]
    assert list(county["name:en"]) == ["Taehongdan County"]
    home = assign_regions(county.representative_point(), provinces, countries=("KP",))["province"]
    assert list(home) == [find_crossing("samjang_guchengli").province] == ["KP-10"]


def test_every_fact_has_a_source():
    for c in CROSSINGS:
        assert c.coord_source and c.status_source and c.province_source and c.facts_source, c.crossing_id
        if c.year_opened is not None:
            assert c.year_opened_source, c.crossing_id
        if c.year_rebuilt is not None:
            assert c.year_rebuilt_source, c.crossing_id
        assert c.province in BY_CODE and BY_CODE[c.province].country == "KP"
        assert c.mode in ("road", "rail") and c.status in ("open", "closed", "unknown")
        if c.year_opened_alt is not None:
            assert c.year_opened_alt_source, c.crossing_id
        for period in c.periods:
            assert period.source and period.why and period.start < (period.end or "9999"), c.crossing_id


def test_every_land_crossing_open_before_2020_was_shut_by_covid():
    for c in CROSSINGS:
        if c.status == "open":
            assert any(p.covers("2021-06-01") for p in c.periods), c.crossing_id


def test_disputed_and_corrected_facts():
    # Wonjong-Quanhe: 1938 (Wikipedia) and 1936 (the Quanhe station's sign) are both kept.
    wonjong = find_crossing("wonjong_quanhe")
    assert (wonjong.year_opened, wonjong.year_opened_alt) == (1938, 1936)
    # The Namyang rail bridge: 1932 (German Wikipedia); the old road bridge is not 'rebuilt 2020'.
    assert find_crossing("namyang_tumen_rail").year_opened == 1932
    assert find_crossing("namyang_tumen_road").year_rebuilt is None
    # Built, never opened: the new Namyang road bridge and the New Yalu River Bridge.
    for cid in ("namyang_tumen_new_road", "sinuiju_dandong_new_yalu"):
        crossing = find_crossing(cid)
        assert crossing.status == "closed" and crossing.periods[-1].end is None


def test_namyang_road_and_rail_bridges_are_their_own_points():
    road, rail = find_crossing("namyang_tumen_road"), find_crossing("namyang_tumen_rail")
    points = gazetteer_frame().set_index("crossing_id").to_crs(settings.MEASURE_CRS).geometry
    # CSIS: the road bridge is about 600 m north-east of the rail bridge.
    assert points["namyang_tumen_road"].distance(points["namyang_tumen_rail"]) == pytest.approx(600, abs=50)
    assert road.lat > rail.lat and road.lon > rail.lon


def test_unknown_crossing_is_a_one_line_error():
    with pytest.raises(KeyError, match="unknown crossing 'nowhere'; known crossings: .*wonjong_quanhe"):
        find_crossing("nowhere")
    assert find_crossing("hyesan_changbai").province == "KP-10"


def test_every_derived_point_lies_on_the_real_border(shared_data):
    border = china_dprk_border(shared_data).union_all()
    points = gazetteer_frame().to_crs(settings.MEASURE_CRS)
    derived = points[points["coord_source"].str.startswith("derived: nearest point of the Natural Earth")]
    assert "shuangmufeng_samjiyon" in set(derived["crossing_id"])
    # A published point may sit off Natural Earth's generalised line; a derived one is on it, to its 6 decimals.
    off = {cid: round(d, 1) for cid, d in zip(derived["crossing_id"], derived.distance(border)) if d > 20}
    assert not off, f"derived crossings off the Natural Earth border (m): {off}"


def test_shuangmufeng_is_the_border_point_nearest_geonames_sinmusong(shared_data):
    crossing = find_crossing("shuangmufeng_samjiyon")
    assert (crossing.mode, crossing.status, crossing.province, crossing.cn_prefecture) == (
        "road",
        "unknown",
        "KP-10",
        "Yanbian",
    )
    assert crossing.year_opened == 1983 and crossing.periods == COVID_LAND
    # Recomputed from the reference data, as the coordinate source says it was derived.
    sinmusong = whosonfirst_locality(shared_data, "Sinmusong-nodongjagu")
    assert (round(sinmusong.y, 5), round(sinmusong.x, 5)) == (41.96922, 128.31561)
    assert "Sinmusong-nodongjagu' (41.96922, 128.31561)" in crossing.coord_source
    border = china_dprk_border(shared_data).union_all()
    town = gpd.GeoSeries([sinmusong], crs=settings.STORE_CRS).to_crs(settings.MEASURE_CRS).iloc[0]
    nearest = gpd.GeoSeries([shapely.ops.nearest_points(town, border)[1]], crs=settings.MEASURE_CRS)
    lon_lat = nearest.to_crs(settings.STORE_CRS).iloc[0]
    assert (crossing.lat, crossing.lon) == (round(lon_lat.y, 6), round(lon_lat.x, 6))
    point = gpd.GeoSeries([Point(crossing.lon, crossing.lat)], crs=settings.STORE_CRS).to_crs(settings.MEASURE_CRS)
    # 6.7 km from the town: within its precision, which also spans the sources' 15 or 20 km from Tianchi.
    from_town = point.distance(town).item()
    assert from_town == pytest.approx(6_670, abs=50) and from_town < crossing.coord_precision_m
    samjiyon = gpd.GeoSeries([whosonfirst_locality(shared_data, "Samjiyon-up")], crs=settings.STORE_CRS)
    assert point.distance(samjiyon.to_crs(settings.MEASURE_CRS)).item() == pytest.approx(25_000, abs=500)
    # The town is in OSM's Samjiyon county, the point (on Natural Earth's coarser line) within a kilometre of it.
    counties = osm_counties(shared_data).to_crs(settings.MEASURE_CRS)
    samjiyon_county = counties[counties["name:en"] == "Samjiyon"].geometry.item()
    assert samjiyon_county.contains(town) and samjiyon_county.distance(point.item()) < 1_000
