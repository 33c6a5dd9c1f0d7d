"""Railways, stations and sea links on the maps: drawn, explained, and their popups true to the gazetteer."""

import re

import geopandas as gpd
import pytest
from browser import chromium

from geo.maps.channels import sea_link_popup
from geo.sources.maritime import find_sea_link


@pytest.fixture(scope="module")
def crossings(demo_routes) -> gpd.GeoDataFrame:
    return gpd.read_file(demo_routes, layer="crossings").set_index("crossing_id", drop=False)


def test_a_sea_link_popup_gives_its_facts_and_its_status_on_the_day(crossings):
    row = crossings.loc["sea_dalian_nampo"]
    link = find_sea_link("sea_dalian_nampo")
    html = sea_link_popup(row, link, "2026-01-01")
    # Dalian 38°55'N 121°40'E to Nampo 38.7375°N 125.40778°E: 176 nmi on the geodesic (the derived distance);
    # at 10 kn that is 17.6 h, plus 24 h in port and no wait for a sailing: 41.6 h quay to quay.
    assert "Dalian → Nampo" in html and "176 nmi (325 km)" in html and "<td>41.6 h</td>" in html
    assert "10 kn (an assumption" in html and "24 h loading and unloading (an assumption)" in html
    assert "<th>On 2026-01-01</th><td>usable</td>" in html
    links = re.findall(r'href="([^"]+)"', html)
    assert len(links) == len(set(links)) and any("upi.com" in url for url in links), links
    # On a day inside the COVID closure the same link reads shut, and names no markets served.
    shut = row.copy()
    shut["usable"], shut["reason"], shut["markets_served"] = False, "shut on 2021-06-01: COVID-19 closure", 3
    html = sea_link_popup(shut, link, "2021-06-01")
    assert "<th>On 2021-06-01</th><td>shut (see Shut)</td>" in html and "Markets served" not in html
    assert "shut 2020-01-24 to 2021-06-28 (COVID-19 closure)" in html


def test_the_overview_draws_railways_stations_and_each_sea_link_with_its_popup(demo_maps, demo_gpkg):
    stations = gpd.read_file(demo_gpkg, layer="stations")
    with chromium() as visit:
        seen = visit(demo_maps / "overview.html")
        page = seen.page
        assert seen.js_errors == [] and seen.console_errors == []
        sea = page.locator("path.leaflet-interactive[stroke='#1864ab']")
        assert sea.count() == 2  # Dalian–Nampo and Longkou–Nampo
        assert page.locator("path[stroke='#343a40'][stroke-width='5']").count() >= 1  # the railways' casing
        assert page.locator(".hamji-station").count() == len(stations) == 6
        assert page.locator(".hamji-crossing").count() == len(gpd.read_file(demo_gpkg, layer="crossings"))
        page.locator(".hamji-legend summary").click()  # folded: the legend covers the links' Chinese ends
        sea.first.click(force=True)  # Dalian–Nampo, straight: the middle of its box is on the line
        popup = page.locator(".leaflet-popup-content").first.inner_text(timeout=3000)
    assert re.search(r"(Dalian|Longkou) → Nampo", popup) and "nmi" in popup and "Sources" in popup, popup
