"""What a reader sees where on the maps, in headless Chromium: panels that leave each other alone, names that keep
off markets and lines, a first view that shows where the sea links go, an index no wider than a phone."""

import re

import pytest
import shapely
from browser import MARKET_LAYERS_JS, chromium

from geo.maps.pages import NO_MARKET
from geo.maps.style import AVOIDED_LINE, SEA_LINE

PHONE, DESKTOP = (390, 844), (1280, 800)
MAPS = ("overview.html", "comparison.html", "side_by_side.html")

#: Every shown place name, every market, every line names keep off (segments on screen, as Leaflet drew
#: them) and every sea link's drawn points, on every map of the page; and the boxes over the maps.
_LAYOUT_JS = """([avoid, seaDash]) => {
  const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const maps = [];
  for (const key of Object.keys(window)) {
    let value; try { value = window[key]; } catch (e) { continue; }
    if (value instanceof L.Map) maps.push(value);
  }
  const segments = [], seas = [];
  for (const map of maps) {
    const area = map.getContainer().getBoundingClientRect();
    const screen = p => [p.x + area.left, p.y + area.top];
    map.eachLayer(layer => {
      if (layer._parts && (layer.options.className || '').split(' ').includes(avoid))
        for (const part of layer._parts)
          for (let i = 1; i < part.length; i++)
            segments.push([...screen(map.layerPointToContainerPoint(part[i - 1])),
                           ...screen(map.layerPointToContainerPoint(part[i]))]);
      if (layer instanceof L.Polyline && layer.options.dashArray === seaDash)
        seas.push([box(map.getContainer()), layer.getLatLngs().map(ll => screen(map.latLngToContainerPoint(ll)))]);
    });
  }
  const shown = [...document.querySelectorAll('.hamji-label')]
    .filter(el => el.getBoundingClientRect().width > 0 && getComputedStyle(el).visibility !== 'hidden');
  const one = selector => { const el = document.querySelector(selector); return el ? box(el) : null; };
  return {
    labels: shown.map(el => [el.textContent, box(el), el.classList.contains('hamji-province-label')]),
    markets: [...document.querySelectorAll('path.hamji-market')].map(box),
    segments, seas,
    header: one('.hamji-header'), legend: one('.hamji-legend'),
  };
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _layout(page) -> dict:
    return page.evaluate(_LAYOUT_JS, [AVOIDED_LINE, SEA_LINE["dash_array"]])


def _open_panels(page) -> None:
    """Unfold the header and the legend, as a reader on a phone does to read them."""
    for selector in (".hamji-header", ".hamji-legend"):
        if not page.evaluate(f"document.querySelector('{selector}').open"):
            page.locator(f"{selector} > summary").click()
    page.wait_for_timeout(300)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE])
@pytest.mark.parametrize("name", MAPS)
def test_the_legend_never_covers_the_header(demo_maps, name, viewport, tmp_path):
    """At 1280×800 the comparison's legend lay over its headline; now the legend scrolls in the room below."""
    with chromium(serve_assets=False, viewport=viewport) as visit:
        seen = visit(demo_maps / name, wait_ms=1000)
        _open_panels(seen.page)
        found = _layout(seen.page)
        scrolls = seen.page.evaluate("(() => { const l = document.querySelector('.hamji-legend');"
                                     " return l.scrollHeight > l.clientHeight + 1; })()")  # fmt: skip
        seen.screenshot(f"layout-{name[:-5]}-{viewport[0]}", tmp_path)
        assert seen.js_errors == [], seen.js_errors
    assert not _overlap(found["header"], found["legend"]), (found["header"], found["legend"])
    if name == "comparison.html" and viewport == DESKTOP:
        assert scrolls  # the legend is longer than the room: it scrolls rather than grows over the header


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE])
@pytest.mark.parametrize("name", ["overview.html", "side_by_side.html"])
def test_place_names_keep_off_markets_and_lines(demo_maps, name, viewport):
    """On a phone markets covered Rason's name, and on the side-by-side map a road crossed North Hamgyong's.

    Every name keeps off the markets; a province's name off every road, route, railway and sea link too."""
    with chromium(serve_assets=False, viewport=viewport) as visit:
        seen = visit(demo_maps / name, wait_ms=1000)
        found = _layout(seen.page)
        assert seen.js_errors == [], seen.js_errors
    labels = found["labels"]
    assert len(labels) >= 6, labels  # most names stay: the check is not met by hiding them all
    assert found["segments"], "no line that names keep off was found: the check would prove nothing"
    lines = shapely.linestrings([[(s[0], s[1]), (s[2], s[3])] for s in found["segments"]])
    for text, rect, province in labels:
        for market in found["markets"]:
            assert not _overlap(rect, market), (text, rect, market)
        if not province:  # a hub's name stays by its symbol, where its roads run: it may cross them if it must
            continue
        crossing = shapely.intersects(shapely.box(*rect), lines)
        assert not crossing.any(), (text, rect, found["segments"][int(crossing.argmax())])


def test_the_overview_opens_on_where_the_sea_links_go(demo_maps):
    """The lines to Dalian and Longkou ran off the overview's west edge: each is whole in view, clear of the legend."""
    with chromium(serve_assets=False, viewport=DESKTOP) as visit:
        seen = visit(demo_maps / "overview.html", wait_ms=1000)
        found = _layout(seen.page)
    assert len(found["seas"]) == 2, found["seas"]
    for (left, top, right, bottom), points in found["seas"]:
        for x, y in points:
            assert left <= x <= right and top <= y <= bottom, (x, y)
            legend = found["legend"]
            assert not (legend[0] <= x <= legend[2] and legend[1] <= y <= legend[3]), (x, y, legend)


def test_the_comparison_legend_gives_one_measure_per_scale(demo_maps):
    """The provinces' shading (hub → market) and the roads' and markets' colours (to a crossing) each have their
    own scale, and a province drawn white because no market of it is in the list has an entry."""
    html = (demo_maps / "comparison.html").read_text(encoding="utf-8")
    legend = re.search(r'<details class="hamji-legend.*?</details>', html, re.S).group(0)
    assert "one scale" not in legend
    sections = re.findall(r"<h2>(.*?)</h2>", legend)
    assert sections[:2] == ["Provinces: median hub → market time", "Roads and markets: time to the nearest crossing"]
    assert NO_MARKET in legend and 'background:#ffffff"></i>' + NO_MARKET in legend
    assert '"fill": "#ffffff"' in html  # the demo has provinces with no market: they are drawn white


@pytest.mark.parametrize("width", [390, 320])
def test_the_index_is_no_wider_than_a_phone(demo_maps, width):
    """The sources' web addresses (each one long word) made index.html wider than a small phone."""
    with chromium(serve_assets=False, viewport=(width, 844)) as visit:
        seen = visit(demo_maps / "index.html", wait_ms=300)
        scroll, inner = seen.page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= inner, (scroll, inner)


#: Calls ``f(map, layer)`` for each layer of each Leaflet map on the page.
_EACH_LAYER_JS = """const eachLayer = f => {
  for (const key of Object.keys(window)) {
    let map; try { map = window[key]; } catch (e) { continue; }
    if (map instanceof L.Map) map.eachLayer(layer => f(map, layer));
  }
};"""

#: Every marker's popup opened in turn: those whose text is wider than the popup (cut at its right edge).
_WIDE_POPUPS_JS = (
    """() => {
  const wide = [];
  """
    + _EACH_LAYER_JS
    + """
  eachLayer((map, layer) => {
    if (!layer.getPopup || !layer.getPopup() || !layer.getLatLng) return;
    layer.openPopup();
    const content = map.getContainer().querySelector('.leaflet-popup-content');
    if (content && content.scrollWidth > content.clientWidth + 1)
      wide.push([content.innerText.split('\\n')[0], content.scrollWidth, content.clientWidth]);
    layer.closePopup();
  });
  return wide;
}"""
)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP])
def test_no_popup_is_wider_than_its_box(demo_maps, viewport):
    """15 of 37 crossing popups on a phone ran 342-497 px wide in a 310 px box, cut off mid-sentence (a source's
    web address, one long word, held the table open)."""
    with chromium(serve_assets=False, viewport=viewport) as visit:
        for name in ("overview.html", "comparison.html"):
            seen = visit(demo_maps / name)
            crossings = seen.page.evaluate("() => document.querySelectorAll('.hamji-crossing').length")
            assert crossings > 10, name  # the crossings are there to be opened
            assert seen.page.evaluate(_WIDE_POPUPS_JS) == [], name


#: Every marker's tooltip opened in turn: its width on screen and whether its text runs out of it.
_TOOLTIPS_JS = (
    """() => {
  const sizes = [];
  """
    + _EACH_LAYER_JS
    + """
  eachLayer((map, layer) => {
    if (!layer.getTooltip || !layer.getTooltip() || !layer.getLatLng) return;
    layer.openTooltip();
    const el = layer.getTooltip().getElement(), box = el.getBoundingClientRect();
    const range = document.createRange();  // the text's own boxes (the arrow, a pseudo-element, lies outside)
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    sizes.push([box.width, text.left < box.left - 1 || text.right > box.right + 1]);
    layer.closeTooltip();
  });
  return sizes;
}"""
)


def test_a_tooltip_wraps_within_a_phone(demo_maps):
    """A 300-character market name's tooltip ran 4,393 px wide, off the screen: tooltips wrap at 80 % of it."""
    with chromium(serve_assets=False, viewport=PHONE) as visit:
        sizes = visit(demo_maps / "overview.html").page.evaluate(_TOOLTIPS_JS)
    assert len(sizes) > 30, sizes
    assert max(width for width, _ in sizes) <= 0.8 * PHONE[0] + 20, sizes  # padding and border: 14 px
    assert not [size for size in sizes if size[1]], sizes


#: Before each click: no popup, the first view again (an opened popup pans the map), and the market's centre
#: on the page.
_MARKET_CENTRE_JS = (
    MARKET_LAYERS_JS
    + """
([i]) => {
  const market = marketLayers()[i], map = market._map;
  map.closePopup();
  window.__firstView = window.__firstView || [map.getCenter(), map.getZoom()];
  map.setView(window.__firstView[0], window.__firstView[1], {animate: false});
  const p = map.latLngToContainerPoint(market.getLatLng()), r = map.getContainer().getBoundingClientRect();
  return [p.x + r.left, p.y + r.top];
}"""
)
#: After the click: did the market's own popup open, and if not, whose did.
_MARKET_OPENED_JS = (
    MARKET_LAYERS_JS
    + """
([i]) => {
  const market = marketLayers()[i], popup = market._map._popup;
  if (market.isPopupOpen()) return 'market';
  if (!popup || !popup.isOpen()) return 'nothing';
  return popup.getContent() instanceof Node ? popup.getContent().textContent : String(popup.getContent());
}"""
)


def test_a_click_on_any_market_opens_that_market(demo_maps, tmp_path):
    """At the first zoom 8 of the demo's 20 markets lay under a crossing's or station's icon: a click opened the
    crossing. Every market of the overview, clicked at its centre at 1366×900, opens its own popup."""
    with chromium(viewport=(1366, 900)) as visit:
        seen = visit(demo_maps / "overview.html")
        page = seen.page
        count = page.evaluate(MARKET_LAYERS_JS + "() => marketLayers().length")
        assert count == 20  # the demo's North Korean markets
        opened = {}
        for i in range(count):
            # The last popup closed, it fades for 200 ms (taking clicks), and its pan and the fit 400 ms after it
            # opened may still move the map: the view is set again once they are over.
            page.evaluate(_MARKET_CENTRE_JS, [i])
            page.wait_for_timeout(600)
            x, y = page.evaluate(_MARKET_CENTRE_JS, [i])
            assert 0 < x < 1366 and 0 < y < 900, (i, x, y)  # the first view shows every market
            page.mouse.click(x, y)
            page.wait_for_timeout(150)
            opened[i] = page.evaluate(_MARKET_OPENED_JS, [i])
        seen.screenshot("desktop-overview-markets", tmp_path)
        assert {i: what for i, what in opened.items() if what != "market"} == {}
        assert seen.js_errors == []
