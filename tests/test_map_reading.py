"""Can a reader who is not the author read the maps? Checked in Chromium at each map's default view."""

import re

import geopandas as gpd
import pytest
from browser import chromium, colour_pixels, glyph_images, readable_texts

from geo import settings
from geo.maps import INDEX_FILE, MAP_FILES

#: For every layer a map lets the reader switch on or off, the legend words that explain it
#: (None: the layer explains itself, e.g. the province names). A layer missing here fails.
LEGEND_FOR = {
    "Provinces (outline: group)": "border province (solid)",
    "Province names": None,
    "China–North Korea border": "China–North Korea border",
    "Roads: motorway, trunk, primary": "motorway, trunk, primary",
    "Roads: secondary, tertiary": "secondary, tertiary",
    "Roads: unclassified, track": "unclassified, track",
    "Trade corridors (hub → crossing → market)": "trade corridor",
    "Chinese wholesale hubs": "Chinese wholesale hub",
    "Border crossings": "crossing, road (open)",
    "Railways and stations": "railway (tooltip: usage, service as tagged)",
    "Sea links (Chinese port → Korean port)": "sea link, Chinese → Korean port",
    "Markets (colour: time to crossing)": "0–1 h",
    "Provinces: median hub → market time": "its median market's time from a Chinese hub",
    "Roads: hours from the nearest crossing": "Roads and markets: time to the nearest crossing",
    "Crossing catchments (best hub → market route)": "Catchments (layer control)",
}
MAPS = list(MAP_FILES.values())


@pytest.mark.parametrize("name", MAPS)
def test_the_legend_explains_every_layer_drawn(demo_maps, name):
    with chromium() as visit:
        page = visit(demo_maps / name).page
        overlays = {text.strip() for text in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()}
        legend = page.locator(".hamji-legend").text_content()  # folded or not
    assert overlays and overlays <= set(LEGEND_FOR), overlays - set(LEGEND_FOR)
    for overlay in overlays:
        assert LEGEND_FOR[overlay] is None or LEGEND_FOR[overlay] in legend, (overlay, legend)


def test_time_classes_show_on_the_roads_at_the_default_view(demo_maps, tmp_path):
    """With the markers and the legend hidden, only the roads are drawn in the exact (opaque) time colours.

    The province fills are translucent, so never match. The demo's North
    Korean roads (about 1,400 km at roughly 1 km a pixel, drawn 3.5 px wide,
    partly under the province outlines) cover about 3,000 pixels in the exact
    colours: 3,053 measured before the Samjang road was added, 2,981 after.
    At least 2,000, in at least four of the time classes, leaves room for
    such edits while a missing or blob-drawn layer still fails.
    """
    with chromium() as visit:
        seen = visit(demo_maps / "comparison.html")
        page = seen.page
        page.evaluate(
            "() => document.querySelectorAll('path.hamji-market, .hamji-legend, .leaflet-marker-icon')"
            ".forEach(e => e.remove())"
        )
        counts = colour_pixels(page, list(settings.MAP_TIME_COLOURS))
        seen.screenshot("comparison-roads-only", tmp_path)
    assert sum(counts.values()) > 2_000, counts
    assert sum(n > 100 for n in counts.values()) >= 4, counts


#: What must never reach a reader: internal ids, floats where whole numbers are
#: meant, signed zeros, and times compared as distances.
UNREADABLE = {
    "internal id": r"\bosm_(node|way|relation)_\d+",
    "year printed as a float": r"\b(1[89]|20)\d\d\.0\b",
    "precision printed as a float": r"±\d+\.0 m",
    "signed zero": r"-0\.0+\b",
    "time compared as a distance": r"times as far",
}


@pytest.mark.parametrize("name", [*MAPS, INDEX_FILE])
def test_no_internal_ids_or_float_numbers_in_any_readable_text(demo_maps, demo_routes, name):
    with chromium() as visit:
        texts = readable_texts(visit(demo_maps / name).page)
    text = "\n".join(texts)
    ids = gpd.read_file(demo_routes, layer="crossings")["crossing_id"]
    assert "wonjong_quanhe" in set(ids)  # the check knows the ids it looks for
    assert not [i for i in ids if re.search(rf"\b{re.escape(i)}\b", text)], "a crossing id reached a reader"
    assert len(texts) > (0 if name == INDEX_FILE else 20)  # the tooltips and popups were found
    found = {
        what: [m.group(0) for m in re.finditer(rf".{{0,40}}{pattern}.{{0,20}}", text)]
        for what, pattern in UNREADABLE.items()
    }
    assert not any(found.values()), found


def test_korean_and_chinese_names_render_as_glyphs_not_boxes(demo_maps):
    """Each character drawn in the labels' own font must differ from every other (boxes are all alike).

    Two code points no font has are drawn too: they come out identical, which
    shows the check would see missing glyphs.
    """
    characters = ["함", "경", "북", "도", "吉", "林", "省"]
    with chromium() as visit:
        page = visit(demo_maps / "overview.html").page
        images = glyph_images(page, ".hamji-province-label span", [*characters, "\U0010fffd", "\U0010fffc"])
    drawn, missing = images[: len(characters)], images[len(characters) :]
    assert missing[0] == missing[1]
    assert len(set(drawn)) == len(characters) and missing[0] not in drawn


def test_the_layer_control_never_covers_a_popup(demo_maps):
    """The layer control stays collapsed, and the popup of the market nearest it opens clear of it."""
    with chromium() as visit:
        page = visit(demo_maps / "overview.html").page
        assert page.locator(".leaflet-control-layers-expanded").count() == 0
        control = page.locator(".leaflet-control-layers").bounding_box()
        markets = page.locator("path.hamji-market")
        boxes = [markets.nth(i).bounding_box() for i in range(markets.count())]
        corner = max(range(len(boxes)), key=lambda i: boxes[i]["x"] - boxes[i]["y"])  # nearest the top right
        markets.nth(corner).click(force=True)
        page.wait_for_timeout(500)  # the popup pans the map into view
        popup = page.locator(".leaflet-popup-content-wrapper").bounding_box()
        control = page.locator(".leaflet-control-layers").bounding_box()
    overlap_x = min(popup["x"] + popup["width"], control["x"] + control["width"]) - max(popup["x"], control["x"])
    overlap_y = min(popup["y"] + popup["height"], control["y"] + control["height"]) - max(popup["y"], control["y"])
    assert overlap_x <= 0 or overlap_y <= 0, (popup, control)


@pytest.mark.parametrize("name", [*MAPS, INDEX_FILE])
def test_every_link_is_a_url_or_a_file_beside_the_page(demo_maps, name):
    """Source links end where the address ends (not in the sentence's ')' or ':'); local links name a page."""
    from urllib.parse import unquote, urlparse

    html = (demo_maps / name).read_text()
    hrefs = [unquote(h) for h in re.findall(r'href=\\?"([^"\\]+)', html)]
    assert hrefs
    for href in hrefs:
        url = urlparse(href)
        if url.scheme:
            assert url.scheme in ("http", "https") and "." in url.netloc, href
            assert not href.endswith((")", ":", ".", ",")), href
            if ")" in href:
                assert href.count("(") == href.count(")"), href
        elif not href.startswith(("../layers/", "#")):  # the data files beside the default maps folder; anchors
            assert (demo_maps / href).exists(), href


def test_the_legend_never_hides_the_header_on_a_laptop_screen(tmp_path):
    """At 1366×768 the comparison map's header holds the headline and the intervals; the legend, growing up
    from the foot of the map, ran 181 px under it. It stops below the header and scrolls instead."""
    from geo.cli import main

    out, maps = tmp_path / "layers", tmp_path / "maps"
    assert main(["build", "--demo", "--out", str(out), "--maps", str(maps), "--draws", "20", "--quiet"]) == 0
    with chromium(viewport=(1366, 768)) as visit:
        for name in MAPS:
            page = visit(maps / name).page
            header, legend = page.locator(".hamji-header").bounding_box(), page.locator(".hamji-legend").bounding_box()
            apart_x = header["x"] + header["width"] <= legend["x"] or legend["x"] + legend["width"] <= header["x"]
            assert apart_x or legend["y"] >= header["y"] + header["height"], (name, header, legend)
            # Folding the header gives the legend its room back: all of it shows, or more of it than before.
            sizes = "() => [document.querySelector('.hamji-legend')].map(l => [l.scrollHeight, l.clientHeight])[0]"
            before = page.evaluate(sizes)
            page.click(".hamji-header summary")
            page.wait_for_timeout(200)
            scroll, client = page.evaluate(sizes)
            assert scroll <= client + 1 or client > before[1] + 40, (name, before, scroll, client)
