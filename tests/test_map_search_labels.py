"""The search box and the place labels, in headless Chromium with no network (the maps are self-contained)."""

import pytest
from browser import chromium

PHONE, DESKTOP = (390, 844), (1280, 800)

#: Every label shown, every hub and crossing symbol, and all that lies over the map: their boxes on screen.
_LABELS_JS = """() => {
  const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const shown = Array.from(document.querySelectorAll('.hamji-label'))
    .filter(el => el.getBoundingClientRect().width > 0 && getComputedStyle(el).visibility !== 'hidden');
  return {
    labels: shown.map(el => [el.textContent, box(el)]),
    symbols: Array.from(document.querySelectorAll('.hamji-hub, .hamji-crossing')).map(box),
    furniture: Array.from(document.querySelectorAll('.hamji-demo, .hamji-header, .hamji-legend, .leaflet-control'))
      .filter(el => el.getBoundingClientRect().width > 0).map(el => [el.className, box(el)]),
    map: box(document.querySelector('.folium-map')),
    all: document.querySelectorAll('.hamji-label').length,
  };
}"""


def _check_labels(found: dict) -> None:
    """No shown label covers another, a symbol or anything over the map (the DEMO bar hid Jilin's), or leaves it."""
    labels, (left, top, right, bottom) = found["labels"], found["map"]
    for i, (text, rect) in enumerate(labels):
        assert left <= rect[0] and top <= rect[1] and rect[2] <= right and rect[3] <= bottom, (text, rect)
        for other, other_rect in labels[i + 1 :]:
            assert not _overlap(rect, other_rect), (text, other)
        for symbol in found["symbols"]:
            assert not _overlap(rect, symbol), (text, symbol)
        for what, furniture in found["furniture"]:
            assert not _overlap(rect, furniture), (text, what, furniture)


#: The open popup's box, and those of the controls of the map it is on (the search box among them).
_POPUP_AND_CONTROLS_JS = """() => {
  const box = el => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const popup = document.querySelector('.leaflet-popup');
  return [box(popup), [...popup.closest('.folium-map').querySelectorAll('.leaflet-control')].map(box)];
}"""


_TIPS_MATCH_JS = """wanted => {
  const tips = [...document.querySelectorAll('.search-tip')].map(el => el.innerText.toLowerCase());
  return tips.length > 0 && tips.every(tip => tip.includes(wanted));
}"""


def _wait_for_tips(page, wanted: str) -> None:
    """Until every tip listed holds what was typed, or 5 s (the assertion after says what was listed)."""
    from playwright.sync_api import TimeoutError as NotInTime

    try:
        page.wait_for_function(_TIPS_MATCH_JS, arg=wanted, timeout=5000, polling=50)
    except NotInTime:
        pass  # the assertion that follows reports what was listed
    page.wait_for_timeout(100)  # a tip list may still be redrawn once the last key's search lands


def _wait_until_the_popup_settles(page, timeout_ms: int = 5000) -> None:
    """Until the popup has kept its place for 300 ms (pans included): what a person sees once it is still."""
    page.wait_for_timeout(500)
    last, still, waited = None, 0, 0
    while still < 3 and waited < timeout_ms:
        here = page.evaluate("() => JSON.stringify(document.querySelector('.leaflet-popup').getBoundingClientRect())")
        still, last = (still + 1 if here == last else 0), here
        page.wait_for_timeout(100)
        waited += 100


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE])
@pytest.mark.parametrize("zoom", [None, 9])
def test_no_label_covers_another_label_or_a_hub_or_crossing(demo_maps, viewport, zoom):
    """At the overview's first view and at zoom 9 (crossings' names shown), on a desktop and on a phone."""
    with chromium(serve_assets=False, viewport=viewport) as visit:
        seen = visit(demo_maps / "overview.html", wait_ms=1000)
        page = seen.page
        if zoom:
            page.evaluate(
                """zoom => { for (const k of Object.keys(window)) if (window[k] instanceof L.Map)
                     window[k].setView([42.6, 129.9], zoom, {animate: false}); }""",
                zoom,
            )
            page.wait_for_timeout(500)
        found = page.evaluate(_LABELS_JS)
        if viewport == DESKTOP and not zoom:
            page.locator(".hamji-header summary").click()
            page.wait_for_timeout(300)
            refolded = {**page.evaluate(_LABELS_JS), "js_errors": seen.js_errors}
        assert seen.js_errors == [], seen.js_errors
    labels = found["labels"]
    texts = " ".join(text for text, _ in labels)
    assert len(labels) >= 6, labels  # most labels stay: the check is not met by hiding them all
    if zoom:  # crossings in English, Korean and Chinese; hubs in English and Chinese
        assert "Hoeryong–Sanhe" in texts and "회령–삼합" in texts and "会宁–三合" in texts, texts
        assert "Hunchun" in texts and "珲春市" in texts, texts
    else:
        assert "Wonjong–Quanhe" not in texts  # crossings' names wait for zoom 9
    _check_labels(found)
    if viewport == DESKTOP and not zoom:
        # Jilin's name was at the top edge, under the DEMO bar: it is now in the part of Jilin the map opens on.
        assert "Jilin" in texts and "Liaoning" in texts, texts
        # Folding the header places the labels again, and still nothing covers them.
        assert refolded["js_errors"] == [], refolded
        _check_labels(refolded)


#: Page -> what is typed into its search box and what the popup of the first tip then shows. One page load
#: serves every search on it (the box is emptied between them).
SEARCHES = {
    "overview.html": [
        ("Hoer", "Hoeryong–Sanhe"),
        ("Hoeryong Mar", "회령시장"),  # a market by its English name (name_en)
        ("회령시", "회령시장"),  # by its Korean name, as an input method types it (no key released per syllable)
        ("회\u200b령시장", "회령시장"),  # pasted from an OSM tag with a zero-width space in it
        ("圈河", "Wonjong–Quanhe"),  # a crossing by its Chinese name
        ("Wonjong-Quanhe", "元汀–圈河"),  # typed with a hyphen for the en dash
    ],
    "comparison.html": [("Ryang", "혜산시장")],
    "side_by_side.html": [("Hwang", "Hwanghae")],
    "scenarios/wonjong_closed.html": [("Wonj", "Wonjong–Quanhe")],
}


@pytest.mark.parametrize("page_name", list(SEARCHES))
def test_the_search_box_finds_a_market_or_crossing_by_any_name_and_opens_its_popup(
    demo_maps, demo_reach, tmp_path, page_name
):
    import geo
    from geo.maps.text import search_text

    folder = demo_maps
    if page_name.startswith("scenarios/"):
        layers, routes = geo.load_layers(demo_reach), geo.load_routes(demo_reach)
        result = geo.run_scenario("wonjong_closed", layers, routes)
        geo.write_scenario(result, layers, tmp_path / "layers", tmp_path / "maps")
        folder = tmp_path / "maps"
    popups = []
    with chromium(serve_assets=False, viewport=PHONE) as visit:
        seen = visit(folder / page_name, wait_ms=800)
        page = seen.page
        box = page.locator(".leaflet-control-search input.search-input").last
        for typed, _ in SEARCHES[page_name]:
            page.locator(".leaflet-control-search .search-button").last.click()
            box.fill("")
            box.press_sequentially(typed, delay=30)
            wanted = search_text(typed).lower().replace("-", "–")
            _wait_for_tips(page, wanted)  # the box waits for typing to pause
            tips = page.locator(".search-tip").all_inner_texts()
            listed = page.locator(".search-tooltip").last.bounding_box()  # the tips stay on the screen
            assert listed["x"] >= 0 and listed["x"] + listed["width"] <= PHONE[0], (typed, listed)
            assert tips and all(wanted in tip.lower() for tip in tips), (typed, tips)
            page.locator(".search-tip").first.click()
            _wait_until_the_popup_settles(page)
            popups.append(page.locator(".leaflet-popup-content").inner_text())
            popup, controls = page.evaluate(_POPUP_AND_CONTROLS_JS)
            assert not [c for c in controls if _overlap(popup, c)], (typed, popup, controls)  # none lies over it
            page.keyboard.press("Escape")
        assert seen.js_errors == [], seen.js_errors
        assert not [url for url in seen.refused if "tile.openstreetmap.org" not in url], seen.refused
    for (typed, found), popup in zip(SEARCHES[page_name], popups, strict=True):
        assert found in popup, (typed, popup)


@pytest.mark.parametrize(
    "typed, found",
    [("만포", "Manpo"), ("新义州", "Sinuiju"), ("Hoery", "Hoeryong")],
    ids=["korean", "chinese", "english"],
)
def test_enter_on_a_name_typed_in_part_opens_the_first_suggestion(demo_maps, typed, found):
    """Enter opened nothing for "만포" or "新义州" (the suggestions were listed): the box's own completion follows
    key presses, which an input method does not make; only a whole name typed out matched."""
    from geo.maps.text import search_text

    with chromium(serve_assets=False, viewport=DESKTOP) as visit:
        seen = visit(demo_maps / "overview.html", wait_ms=800)
        page = seen.page
        page.locator(".leaflet-control-search .search-button").last.click()
        box = page.locator(".leaflet-control-search input.search-input").last
        box.press_sequentially(typed, delay=30)
        _wait_for_tips(page, search_text(typed).lower())
        first = page.locator(".search-tip").first.inner_text()
        box.press("Enter")
        _wait_until_the_popup_settles(page)
        popup = page.locator(".leaflet-popup-content")
        assert popup.count() == 1, (typed, first)
        assert found in popup.inner_text(), (typed, first, popup.inner_text())
        assert seen.js_errors == [], seen.js_errors
