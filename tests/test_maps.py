"""The maps stage: what a person sees in headless Chromium, escaping of OSM text, offline maps."""

import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from browser import MARKET_LAYERS_JS, chromium, require_browser

from geo import io, settings
from geo.cli import main
from geo.maps import INDEX_FILE, MAP_FILES, crossing_popup, inline_assets, market_popup, time_colour
from geo.pipeline import maps_stage, reach_stage
from geo.results import ROUTE_FRAMES

# HTML that would run if not escaped, and a backtick, ${} and backslash that would break
# out of (or break) the JavaScript template literals folium puts tooltips and popups in.
EVIL = '<img src=x onerror="window.__pwned=1">Evil<script>window.__pwned=2</script> & `${window.__pwned=3}` \\u Co'


@pytest.fixture(scope="session")
def evil_maps(demo_routes, tmp_path_factory) -> tuple[Path, Path]:
    """The demo with a market, a crossing and a road renamed to HTML that would run script if not escaped."""
    folder = tmp_path_factory.mktemp("evil-layers")
    shutil.copy(demo_routes.parent / settings.LAYERS_GPKG, folder)
    routes = demo_routes.parent / settings.ROUTES_GPKG
    frames = {name: gpd.read_file(routes, layer=name) for name in ROUTE_FRAMES}
    frames["markets"].loc[0, "name"] = EVIL
    frames["crossings"].loc[0, "name_en"] = EVIL
    frames["roads"].loc[frames["roads"]["routes"] > 0, "name"] = EVIL
    io.write_gpkg(frames, folder / settings.ROUTES_GPKG, io.read_provenance(routes, "markets"))
    reach_stage(layers_dir=folder)
    maps = tmp_path_factory.mktemp("evil-maps")
    maps_stage(layers_dir=folder, maps_dir=maps)
    return folder, maps


def test_time_colours_follow_the_bins():
    assert time_colour(0.5) == settings.MAP_TIME_COLOURS[0]
    assert time_colour(1.0) == settings.MAP_TIME_COLOURS[1]  # bins include their lower edge
    assert time_colour(3.9) == settings.MAP_TIME_COLOURS[3 - 1]
    assert time_colour(30) == settings.MAP_TIME_COLOURS[-1]
    assert time_colour(float("nan")) == time_colour(float("inf")) == settings.MAP_UNREACHABLE_COLOUR


def test_popups_escape_osm_text(demo_routes):
    markets = gpd.read_file(demo_routes, layer="markets")
    crossings = gpd.read_file(demo_routes, layer="crossings")
    markets.loc[0, "name"] = EVIL
    crossings.loc[0, "name_en"] = EVIL
    for html in (market_popup(markets.iloc[0]), crossing_popup(crossings.iloc[0])):
        assert "<script>" not in html and "<img" not in html
        assert "&#60;script&#62;window.__pwned=2&#60;/script&#62;" in html


def test_maps_stage_writes_every_map_with_the_demo_stamp(demo_maps):
    for name in [*MAP_FILES.values(), INDEX_FILE]:
        html = (demo_maps / name).read_text()
        assert settings.DEMO_STAMP in html, name
        assert '<meta name="viewport" content="width=device-width' in html, name  # laid out for a phone too
        assert len(html.encode()) < settings.MAP_MAX_BYTES
    index = (demo_maps / INDEX_FILE).read_text()
    for name in MAP_FILES.values():
        assert f'href="{name}"' in index
    assert "2026-01-01" in index and "nkeconwatch.com" in index


def test_maps_without_reach_fail_in_one_line(demo_gpkg, tmp_path, capsys):
    folder = tmp_path / "layers"
    folder.mkdir()
    shutil.copy(demo_gpkg, folder)
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "overview.html").write_text("an earlier map")
    assert main(["maps", "--layers", str(folder), "--maps", str(maps)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("hamji:")]
    assert len(err) == 1 and "hamji routes" in err[0]
    assert (maps / "overview.html").read_text() == "an earlier map"


def test_maps_are_self_contained_by_default_and_small_with_cdn(demo_maps, demo_routes, tmp_path):
    html = (demo_maps / "overview.html").read_text()
    assert '<script src="http' not in html and 'rel="stylesheet" href="http' not in html
    assert "url(images/layers.png)" not in html and "data:image/png;base64," in html
    assert "leaflet 1.9.3, licence: BSD-2-Clause" in html and "jquery 3.7.1, licence: MIT" in html
    cdn = tmp_path / "cdn"
    assert main(["maps", "--layers", str(demo_routes.parent), "--maps", str(cdn), "--cdn", "--quiet"]) == 0
    online = (cdn / "overview.html").read_text()
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in online
    # Leaflet (147 kB), jQuery (87 kB), the plugins and icons: about 0.28 MB a map.
    assert 200_000 < len(html.encode()) - len(online.encode()) < 400_000
    assert inline_assets(online) == html  # the same page, only linked


def test_shipped_assets_equal_the_npm_packages_and_carry_their_licences():
    """geo/data/assets is a copy of package.json's packages (scripts/vendor_map_assets.py), licences included."""
    npm = settings.PROJECT_ROOT / "node_modules"
    shipped = settings.PROJECT_ROOT / "geo" / "data" / "assets"
    for package in ("leaflet", "jquery", "leaflet-minimap", "leaflet.fullscreen", "leaflet-search"):
        assert [p for p in (shipped / package).iterdir() if p.name.lower().startswith("licen")], package
    if not npm.exists():
        pytest.skip("node_modules/ missing (run 'npm ci') to compare the shipped copies with")
    copies = [p for p in shipped.rglob("*") if p.is_file() and p.name != "README.md"]
    assert len(copies) == 27
    for copy in copies:
        assert copy.read_bytes() == (npm / copy.relative_to(shipped)).read_bytes(), copy


def test_maps_without_assets_fail_in_one_line(demo_maps, demo_routes, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(settings, "ASSETS_DIR", tmp_path / "no-assets")
    maps = tmp_path / "maps"
    assert main(["maps", "--layers", str(demo_routes.parent), "--maps", str(maps)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("hamji:")]
    assert len(err) == 1 and "--cdn" in err[0] and "HAMJI_ASSETS_DIR" in err[0]
    assert not list(maps.glob("*.html"))


# -- in the browser -------------------------------------------------------------------------

MARKERS = {"overview.html": 1, "comparison.html": 1, "side_by_side.html": 2}  # markets drawn once per map panel


@pytest.mark.parametrize("name", list(MARKERS))
def test_map_in_the_browser(demo_maps, demo_routes, name, tmp_path):
    markets = gpd.read_file(demo_routes, layer="markets")
    with chromium() as visit:
        seen = visit(demo_maps / name)
        page = seen.page
        shot = seen.screenshot(f"demo-{Path(name).stem}", tmp_path)
        assert seen.js_errors == [] and seen.console_errors == [], (seen.js_errors, seen.console_errors)
        assert seen.refused == []
        assert page.locator("path.hamji-market").count() == MARKERS[name] * len(markets) == MARKERS[name] * 20
        assert page.locator(".hamji-legend").is_visible()
        assert "unreachable" in page.locator(".hamji-legend").text_content()  # folded or not
        assert page.locator(".hamji-demo").inner_text() == settings.DEMO_STAMP
        assert "DEMO data" in page.locator(".leaflet-control-attribution").first.inner_text()
        assert page.locator(".leaflet-control-scale").count() >= 1
        # A tooltip with units, the way a person sees it on hover.
        page.locator("path.hamji-market").last.hover(force=True)
        tip = page.locator(".leaflet-tooltip").first.inner_text(timeout=3000)
        assert re.search(r"\d+(\.\d)? h to the nearest crossing|\d+ min to the nearest crossing", tip), tip
        assert shot.stat().st_size > 10_000


def test_side_by_side_keeps_one_scale(demo_maps):
    with chromium() as visit:
        page = visit(demo_maps / "side_by_side.html").page
        zooms = page.evaluate("Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k].getZoom())")
        assert len(zooms) == 2 and zooms[0] == zooms[1]
        left, right = page.evaluate("Object.keys(window).filter(k => k.startsWith('map_'))")
        page.evaluate(f"window['{left}'].setZoom(window['{left}'].getZoom() + 1, {{animate: false}})")
        page.wait_for_timeout(500)
        assert page.evaluate(f"window['{right}'].getZoom()") == zooms[0] + 1
        titles = page.locator(".hamji-title").all_inner_texts()
        assert titles[0].startswith("North Hamgyong (KP-09)") and titles[1].startswith("South Hwanghae (KP-05)")


def test_comparison_popup_shows_the_province_row(demo_maps, demo_routes):
    with chromium() as visit:
        page = visit(demo_maps / "comparison.html").page
        # A click on South Hwanghae, sent through Leaflet (a pixel click could land on a market).
        text = page.evaluate("""() => {
          for (const key of Object.keys(window).filter(k => k.startsWith('geo_json_')
                                                          && typeof window[k].eachLayer === 'function')) {
            let found = null;
            window[key].eachLayer(l => { if (l.feature && l.feature.properties.code === 'KP-05') found = l; });
            if (found) {
              found.fire('click', {latlng: found.getBounds().getCenter()}, true);
              return document.querySelector('.leaflet-popup-content').innerText; }
          }
          return null; }""")
        assert "South Hwanghae (KP-05)" in text
        # Under the default model (all) its nearest way in is Nampo's port (18.4 h to a crossing under hamji).
        assert "Median time to crossing\t4.8 h" in text and "Markets in OSM\t4" in text


def test_index_page_links_every_map(demo_maps, tmp_path):
    with chromium() as visit:
        seen = visit(demo_maps / INDEX_FILE)
        page = seen.page
        hrefs = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert set(MAP_FILES.values()) <= set(hrefs)
        assert page.locator(".demo").inner_text() == settings.DEMO_STAMP
        assert page.locator("table tr").count() == 1 + 11 + 3  # header, demo's North Korean provinces, three groups
        # A picture of each map, drawn from the same data: the comparison's provinces and markets on the time scale.
        thumbnails = page.locator("ul.maps a svg.thumbnail")
        assert thumbnails.count() == len(MAP_FILES) and all(
            thumbnails.nth(i).is_visible() and thumbnails.nth(i).locator("path").count() >= 2
            for i in range(thumbnails.count())
        )
        fills = page.locator("a[href='comparison.html'] svg :is(path, circle)").evaluate_all(
            "ps => ps.map(p => p.getAttribute('fill'))"
        )
        assert len(set(fills) & set(settings.MAP_TIME_COLOURS)) >= 4
        assert page.locator("a[href='overview.html'] svg text").text_content() == "DEMO"
        chart = page.locator("svg polyline#border")  # the headline chart, drawn on the page
        assert chart.is_visible() and chart.bounding_box()["width"] > 200
        seen.screenshot("demo-index", tmp_path)


def test_malicious_osm_names_render_as_text(evil_maps, tmp_path):
    _, maps = evil_maps
    with chromium() as visit:
        for name in ("side_by_side.html", "comparison.html", "overview.html"):
            seen = visit(maps / name)
            page = seen.page
            assert seen.js_errors == []
            assert page.evaluate("window.__pwned") is None, name
            assert page.locator("img[src='x']").count() == 0
        page.evaluate(
            "() => { "
            + MARKET_LAYERS_JS
            + """ for (const m of marketLayers()) { const tip = m.getTooltip();
            if (tip && tip.getContent().includes('Evil')) { m.openPopup(); return; } } }"""
        )
        assert EVIL in page.locator(".leaflet-popup-content").inner_text()
        page.wait_for_timeout(400)  # the popup fades in
        seen.screenshot("evil-name-popup", tmp_path)


def test_offline_map_opens_with_no_network(demo_reach, tmp_path):
    require_browser()
    maps = tmp_path / "maps"
    maps_stage(layers_dir=demo_reach, maps_dir=maps, offline=True)
    markets = gpd.read_file(demo_reach / settings.ROUTES_GPKG, layer="markets")
    with chromium(serve_assets=False) as visit:
        for name, panels in MARKERS.items():
            seen = visit(maps / name)
            assert seen.js_errors == [], name
            assert seen.served == [] and seen.refused == [], name  # nothing asked of a CDN
            assert seen.page.locator("path.hamji-market").count() == panels * len(markets)
            assert seen.page.locator(".leaflet-control-zoom").count() == panels
        assert seen.page.locator(".leaflet-control-minimap").count() == 0  # side by side has none
        assert visit(maps / "overview.html").page.locator(".leaflet-control-minimap").count() == 1


def test_crossing_popups_print_years_and_precision_as_whole_numbers(demo_routes):
    import re

    crossings = gpd.read_file(demo_routes, layer="crossings")
    assert crossings["year_opened"].dtype.kind == "f"  # read back with gaps: floats
    text = " ".join(crossing_popup(row) for _, row in crossings.iterrows())
    assert "1938" in text and not re.search(r"\b(1[89]|20)\d\d\.0\b", text)
    assert "±200 m" in text and not re.search(r"±\d+\.0 m", text)


@pytest.mark.parametrize("name", list(MARKERS))
def test_province_names_and_groups_are_on_every_map(demo_maps, demo_gpkg, name, tmp_path):
    provinces = gpd.read_file(demo_gpkg, layer="provinces")
    with chromium() as visit:
        seen = visit(demo_maps / name)
        page = seen.page
        labels = page.locator(".hamji-province-label")
        panels = MARKERS[name]
        assert labels.count() == panels * len(provinces)
        texts = labels.all_inner_texts()
        assert any(t.startswith("North Hamgyong\n") and "함경북도" in t for t in texts), texts
        # At the default view a reader sees names, not only in the DOM.
        viewport = page.viewport_size
        shown = [b for b in (labels.nth(i).bounding_box() for i in range(labels.count())) if b]
        assert sum(0 <= b["x"] <= viewport["width"] and 0 <= b["y"] <= viewport["height"] for b in shown) >= 3
        legend = page.locator(".hamji-legend").text_content()  # the side-by-side one starts folded
        for words in ("border province (solid)", "far province (dashed)", "China–North Korea border"):
            assert words in legend, legend
        if name != "comparison.html":  # the maps that draw roads list them
            assert "motorway, trunk, primary" in legend and "secondary, tertiary" in legend
        seen.screenshot(f"labels-{Path(name).stem}", tmp_path)


# -- on a phone, with no network at all -------------------------------------------------------

PHONE = (390, 844)

_COVER_JS = """() => {
  const boxes = [...document.querySelectorAll('.hamji-header, .hamji-legend, .hamji-demo, .hamji-title')]
    .map(e => e.getBoundingClientRect());
  return {boxes: boxes.map(b => [b.left, b.top, b.right, b.bottom]),
          area: boxes.reduce((sum, b) => sum + b.width * b.height, 0) / (innerWidth * innerHeight)};
}"""
#: For each map panel: the centre of the market nearest its top right corner (under the search box and the
#: layer control) whose own circle is the topmost element there (free to tap); null if none is.
_OPEN_MARKET_JS = """() => [...document.querySelectorAll('.folium-map')].map(map => {
  const area = map.getBoundingClientRect();
  let best = null;
  for (const path of map.querySelectorAll('path.hamji-market')) {
    const b = path.getBoundingClientRect(), x = b.left + b.width / 2, y = b.top + b.height / 2;
    const inside = x > area.left && y > area.top && x < area.right && y < area.bottom;
    if (inside && document.elementFromPoint(x, y) === path && (!best || x - y > best[0] - best[1])) best = [x, y];
  }
  return best;
})"""
#: Each popup open, with the panel it is drawn in, and everything that lies over the maps.
_POPUPS_JS = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {
    popups: [...document.querySelectorAll('.leaflet-popup')].map(p => [box(p), box(p.closest('.folium-map'))]),
    furniture: [...document.querySelectorAll('.hamji-header, .hamji-legend, .hamji-demo, .hamji-title, '
      + '.leaflet-control')].filter(e => e.getBoundingClientRect().width).map(e => [e.className, box(e)]),
  };
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name", list(MARKERS))
def test_a_phone_with_no_network_sees_the_map_and_a_whole_popup(demo_maps, demo_gpkg, name, tmp_path):
    """390×844, every request off the machine refused (tiles too): the map draws, furniture ≤ 25 %, a tap reads."""
    provinces = gpd.read_file(demo_gpkg, layer="provinces")
    with chromium(serve_assets=False, viewport=PHONE, tiles=False) as visit:
        seen = visit(demo_maps / name, wait_ms=1200)
        page = seen.page
        assert seen.js_errors == [], seen.js_errors
        assert seen.refused and all("tile.openstreetmap.org" in url for url in seen.refused), seen.refused
        panels = MARKERS[name]
        # The Natural Earth land, lakes and rivers (6 + 7 + 7 features) and every province outline and name are drawn.
        assert page.locator(".leaflet-hamjiBase-pane path").count() == 20 * panels
        assert page.locator(".leaflet-overlay-pane path").count() > len(provinces) * panels
        assert page.locator(".hamji-province-label").count() == len(provinces) * panels
        assert not page.locator(".leaflet-control-minimap").first.is_visible() if panels == 1 else True
        cover = page.evaluate(_COVER_JS)
        assert cover["area"] <= 0.25, cover
        if panels == 2:  # one above the other, each the phone's width (half of it clipped popups and captions)
            first, second = (page.locator(".folium-map").nth(i).bounding_box() for i in range(2))
            assert first["width"] == second["width"] == PHONE[0], (first, second)
            assert second["y"] >= first["y"] + first["height"] - 1, (first, second)
            captions = [page.locator(".hamji-title").nth(i).bounding_box() for i in range(2)]
            assert captions[1]["y"] >= captions[0]["y"] + captions[0]["height"], captions
        seen.screenshot(f"phone-{Path(name).stem}", tmp_path)
        points = page.evaluate(_OPEN_MARKET_JS)
        assert len(points) == panels and all(points), f"no market free to tap: {points}"
        for point in points:  # in each panel, the market nearest its controls
            page.mouse.click(*point)
            page.wait_for_timeout(700)  # the popup fades in and the map pans it into view
        found = page.evaluate(_POPUPS_JS)
        assert len(found["popups"]) == panels, found
        for popup, panel in found["popups"]:  # whole, inside its own panel, and nothing lies over it
            assert panel[0] <= popup[0] and panel[1] <= popup[1] and popup[2] <= panel[2] and popup[3] <= panel[3]
            assert popup[2] <= PHONE[0] and popup[3] <= PHONE[1], popup
            for what, rect in found["furniture"]:
                assert not _overlap(popup, rect), (what, rect, popup)
        seen.screenshot(f"phone-{Path(name).stem}-popup", tmp_path)


def test_a_page_that_simpler_geometry_cannot_shrink_names_the_markets(demo_reach, tmp_path, monkeypatch):
    """Past the size limit because of what it marks, not its roads: stop simplifying, and say so."""
    from geo.errors import OutputError

    monkeypatch.setattr(settings, "MAP_MAX_BYTES", 200_000)  # below the inlined Leaflet alone (about 0.3 MB)
    with pytest.raises(OutputError, match=r"does not shrink it: what fills it is not the roads but the \d+ markets"):
        maps_stage(layers_dir=demo_reach, maps_dir=tmp_path / "maps", force=True)
