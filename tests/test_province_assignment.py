"""Province assignment, checked against the real Natural Earth province polygons."""

import geopandas as gpd
from reference import china_dprk_border, natural_earth_provinces
from shapely.geometry import LineString, Point

from geo import settings
from geo.provinces import assign_regions
from geo.sources import fixture


def test_fixture_towns_fall_in_their_real_provinces(shared_data):
    provinces = natural_earth_provinces(shared_data)
    names = list(fixture.TOWNS)
    points = gpd.GeoSeries([Point(fixture.TOWNS[n][1], fixture.TOWNS[n][0]) for n in names], crs=settings.STORE_CRS)
    # Natural Earth's generalised border is up to ~1 km off (Hyesan, Sanhe and
    # Nanping, on the river bank, land on the wrong side of it), so only towns
    # more than 2 km from the border are checked: they must be placed exactly.
    inland = points.to_crs(settings.MEASURE_CRS).distance(china_dprk_border(shared_data).union_all()) > 2_000
    assert inland.sum() >= 20
    placed = assign_regions(points[inland], provinces)
    assert dict(zip(points[inland].index.map(names.__getitem__), placed["province"])) == {
        n: fixture.TOWNS[n][3] for n, keep in zip(names, inland) if keep
    }
    assert placed.loc[names.index("Yanji"), "country"] == "CN"


def test_point_just_off_the_coast_snaps_and_far_at_sea_does_not(shared_data):
    provinces = natural_earth_provinces(shared_data)
    # Chongjin harbour mouth, 1 km out, and a point 60 km out in the East Sea.
    points = gpd.GeoSeries([Point(129.80, 41.755), Point(130.5, 41.3)], crs=settings.STORE_CRS)
    placed = assign_regions(points, provinces)
    assert placed["province"].iloc[0] == "KP-09"
    assert placed["province"].iloc[1] is None


def test_a_line_is_placed_by_its_midpoint(shared_data):
    provinces = natural_earth_provinces(shared_data)
    # Haeju (South Hwanghae) to Sariwon (North Hwanghae) crosses a provincial
    # line; the road counts where its midpoint (38.27N) is: South Hwanghae.
    haeju, sariwon = fixture.TOWNS["Haeju"], fixture.TOWNS["Sariwon"]
    line = gpd.GeoSeries([LineString([(haeju[1], haeju[0]), (sariwon[1], sariwon[0])])], crs=settings.STORE_CRS)
    midpoint = line.to_crs(settings.MEASURE_CRS).interpolate(0.5, normalized=True).to_crs(settings.STORE_CRS)
    expected = assign_regions(midpoint, provinces)["province"].iloc[0]
    assert assign_regions(line, provinces)["province"].iloc[0] == expected == "KP-05"
