"""Markets from a researcher's own list: province assignment of real-looking points, rejections, errors."""

import json

import geopandas as gpd
import pytest
import shapely

import geo
from geo import settings
from geo.cli import main
from geo.errors import InputError
from geo.sources import fixture
from geo.sources.market_lists import read_market_list


@pytest.fixture(scope="module")
def layers():
    return geo.demo_layers()


def _offshore(layers, code: str, metres: float) -> tuple[float, float]:
    """A point ``metres`` west of a province's westernmost point (the sea, in the fixture's south-west)."""
    province = layers.provinces.set_index("code").to_crs(settings.MEASURE_CRS).geometry[code]
    x, y = min(province.exterior.coords if province.geom_type == "Polygon" else
               (c for p in province.geoms for c in p.exterior.coords))  # fmt: skip
    point = gpd.GeoSeries([shapely.Point(x - metres, y)], crs=settings.MEASURE_CRS).to_crs(settings.STORE_CRS)
    return float(point.x.iloc[0]), float(point.y.iloc[0])


def _csv(path, rows, header="name,lon,lat,stalls,source"):
    path.write_text(header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n", encoding="utf-8")
    return path


def test_points_go_to_their_province_or_are_rejected_with_a_reason(layers, tmp_path):
    sonbong = fixture.TOWNS["Sonbong"]  # (lat, lon, country, province, source)
    haeju = fixture.TOWNS["Haeju"]
    yanji = fixture.TOWNS["Yanji"]
    coast_lon, coast_lat = _offshore(layers, "KP-05", 2_000)
    sea_lon, sea_lat = _offshore(layers, "KP-05", 20_000)
    survey = _csv(tmp_path / "survey.csv", [
        ("Sonbong survey market", sonbong[1], sonbong[0], 120, "imagery 2023"),
        ("Haeju survey market", haeju[1], haeju[0], "", ""),
        ("Harbour market", coast_lon, coast_lat, 40, ""),
        ("Yanji wholesale", yanji[1], yanji[0], "", ""),
        ("Somewhere at sea", sea_lon, sea_lat, "", ""),
    ])  # fmt: skip
    out = geo.with_market_lists(layers, [survey])
    markets = out.markets.set_index("name")
    assert list(markets.index) == ["Sonbong survey market", "Haeju survey market", "Harbour market"]
    assert markets.loc["Sonbong survey market", "province"] == "KP-13"  # Rason is Rason
    assert markets.loc["Harbour market", "province"] == "KP-05" and markets.loc["Harbour market", "province_snapped"]
    assert not markets.loc["Haeju survey market", "province_snapped"]
    assert markets.loc["Sonbong survey market", "size"] == 120
    assert markets.loc["Sonbong survey market", "source"] == "list survey.csv, row 2 (imagery 2023)"
    report = out.provenance["market_lists"][0]
    assert (report["read"], report["kept"], report["snapped"]) == (5, 3, 1)
    reasons = {r["name"]: r["reason"] for r in report["rejected"]}
    assert reasons == {
        "Yanji wholesale": "on the Chinese side of the border",
        "Somewhere at sea": "more than 5 km outside the North Korean provinces of this build",
    }


def test_add_keeps_osm_markets_and_replace_does_not(layers, tmp_path):
    haeju = fixture.TOWNS["Haeju"]
    survey = _csv(tmp_path / "one.csv", [("Haeju survey market", haeju[1], haeju[0], "", "")])
    osm = int((layers.markets["country"] == "KP").sum())
    assert len(geo.with_market_lists(layers, [survey], "replace").markets) == 1
    added = geo.with_market_lists(layers, [survey], "add").markets
    assert (added["country"] == "KP").sum() == osm + 1
    assert set(added["source"]) == {"demo fixture (synthetic)", "list one.csv, row 2"}


def test_geojson_and_a_500_point_list(layers, tmp_path):
    kp = layers.provinces[layers.provinces["country"] == "KP"].to_crs(settings.MEASURE_CRS)
    points = kp.sample_points(100).explode(index_parts=False).to_crs(settings.STORE_CRS)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.x, p.y]},
                 "properties": {"name": f"market {i}", "stalls": i}} for i, p in enumerate(points)]  # fmt: skip
    assert len(features) == 100 * len(kp) >= 500
    path = tmp_path / "survey.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    out = geo.with_market_lists(layers, [path])
    assert len(out.markets) == len(features) and out.markets["province"].notna().all()
    routes = geo.route_markets(out)  # the lists' markets are routed like OSM's
    assert len(routes.markets) == len(features)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name,x_coord,y_coord\na,1,2\n", "has no coordinate columns (columns found: 'name', 'x_coord', 'y_coord')"),
        ("name,lon,lat\n", "has no rows"),
        ("name,lon,lat\nok,129.7,42.4\nbad,129.7,north\n", "row 3: lat = 'north' is not a lat in degrees"),
        ("name,lon,lat\nswapped,42.4,229.7\n", "row 2: lat = '229.7' is not a lat in degrees (-90 to 90)"),
        # A comma in an unquoted name: the row it is in is named, not the good row after it.
        ("name,lon,lat\nMarket, Hoeryong,129.76,42.43\nok,129.7,42.4\n", "row 2: 4 cells where the header has 3"),
        ("name,lon,lat\nok,129.7,42.4\nok,129.7,42.4\nMarket, Rajin,130.3,42.2\n", "row 4: 4 cells where the"),
        # pandas renamed the second "lon.1" and read the first; the csv module's cell limit is a refusal, not a bug.
        ("name,lon,lon,lat\nA,129.7,129.8,42.4\n", "names 'lon' and 'lon' are the same once case and spaces"),
        ("name,lon,lat\n" + "x" * 200_000 + ",129.7,42.4\n", "row 2: a cell longer than 131,072 characters"),
    ],
    ids=[
        "no-coordinates",
        "empty",
        "bad-number",
        "out-of-range",
        "comma-in-first-name",
        "comma-in-a-later-name",
        "repeated-column",
        "huge-cell",
    ],
)
def test_bad_lists_fail_in_one_line(tmp_path, text, expected):
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_market_list(path)


def test_a_list_with_every_point_outside_is_an_error(layers, tmp_path):
    survey = _csv(tmp_path / "paris.csv", [("Paris", 2.35, 48.85, "", "")])
    with pytest.raises(InputError, match=r"no point of the market list\(s\) lies in a North Korean province"):
        geo.with_market_lists(layers, [survey])


def test_command_line_reports_and_writes_the_rejected_rows(tmp_path, capsys):
    yanji, haeju = fixture.TOWNS["Yanji"], fixture.TOWNS["Haeju"]
    survey = _csv(
        tmp_path / "survey.csv", [("Haeju", haeju[1], haeju[0], "", ""), ("Yanji", yanji[1], yanji[0], "", "")]
    )
    out = tmp_path / "layers"
    assert main(["layers", "--demo", "--markets", str(survey), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"markets from {survey}: 1 kept (0 placed in the nearest province, within 5 km), 1 rejected" in said
    rejected = (out / settings.MARKETS_REJECTED_CSV).read_text(encoding="utf-8")
    assert "Yanji" in rejected and "on the Chinese side of the border" in rejected
    assert main(["layers", "--demo", "--markets", str(tmp_path / "nope.csv"), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hamji: error: market list") and err.endswith("[--markets]")


def test_a_list_market_popup_names_its_list_row_and_source_not_osm(layers, tmp_path):
    """A list market's popup read "OSM list/1": a running number labelled as OSM, the list's source unseen."""
    import re

    from geo.maps import market_popup

    sonbong, haeju = fixture.TOWNS["Sonbong"], fixture.TOWNS["Haeju"]
    survey = _csv(tmp_path / "survey.csv", [
        ("Sonbong survey market", sonbong[1], sonbong[0], 120, "imagery 2023 (https://example.org/a)"),
        ("", haeju[1], haeju[0], "", ""),
    ])  # fmt: skip
    out = geo.with_market_lists(layers, [survey], "add")
    markets = out.markets.set_index("source", drop=False)

    def rows(html: str) -> dict[str, str]:
        return dict(re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html))

    listed = rows(market_popup(markets.loc["list survey.csv, row 2 (imagery 2023 (https://example.org/a))"]))
    assert "OSM" not in listed and listed["Market list"] == "survey.csv, row 2"
    assert listed["Source"] == (
        'imagery 2023 (<a href="https://example.org/a" target="_blank" rel="noopener">https://example.org/a</a>)'
    )
    unnamed = rows(market_popup(markets.loc["list survey.csv, row 3"]))
    assert unnamed["Market"] == "unnamed market (survey.csv, row 3)" and "Source" not in unnamed
    osm = out.markets[out.markets["osm_type"] == "node"].iloc[0]
    assert rows(market_popup(osm))["OSM"] == f"node/{osm['osm_id']}"  # an OSM market keeps its OSM reference


def test_the_summary_of_a_demo_with_a_market_list_names_the_list(tmp_path, capsys):
    # The markets are the user's, not the fixture's: the DEMO line says so, and the list is named.
    path = tmp_path / "survey.csv"
    path.write_text("name,lon,lat\nHoeryong survey market,129.75,42.44\nChongjin survey market,129.78,41.79\n")
    layers = tmp_path / "layers"
    assert main(["build", "--demo", "--markets", str(path), "--markets-mode", "replace", "--out", str(layers),
                 "--maps", str(tmp_path / "maps"), "--quiet"]) == 0  # fmt: skip
    summary = (layers / settings.REACH_MD).read_text()
    assert "The roads, crossings and provinces below come from the hand-built mini-HamJi fixture" in summary
    from geo.io import markdown_literal

    listed = markdown_literal(path)  # the path's "_" escaped, as Markdown shows it
    assert f"- Markets: from the market list {listed} (2 kept of 2), in place of OpenStreetMap's." in summary
    assert "Every number below" not in summary and "| Markets (this build) |" in summary
