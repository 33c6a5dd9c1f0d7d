"""Outside text on the maps: shown to the reader exactly as written, never run as a template or as script.

branca compiles what every folium element renders as a Jinja2 template, so
text that reaches a map without :func:`geo.maps.escape` would be executed.
The first test records every template compiled while the maps are drawn from
the demo (whose market and road names are hostile) and a scenario with a
hostile name: if a new map element ever lets outside text through, a
compiled template holds it and the test fails.
"""

from __future__ import annotations

import json
import re

import jinja2
import pytest
from browser import MARKET_LAYERS_JS, chromium, readable_texts

from geo import settings
from geo.maps import escape
from geo.pipeline import maps_stage, scenario_stage
from geo.sources import fixture

SCENARIO_TEXT = {
    "name": "calc {{ 7*191 }} cwd {{ lipsum.__globals__.os.getcwd() }} {# {% raw %}",
    "description": "</script><script>window.__pwned=1</script> ${window.__pwned=2} `x` {{ 7*191 }}",
}
HOSTILE = [*fixture.HOSTILE_MARKET_NAMES.values(), fixture.HOSTILE_ROAD_NAME, *SCENARIO_TEXT.values()]


@pytest.fixture(scope="module")
def drawn(demo_reach, tmp_path_factory, monkeypatch_module):
    """Maps and a hostile scenario drawn from the demo, with every compiled template's source recorded."""
    sources: list[str] = []
    compile_template = jinja2.Environment.compile

    def recording(self, source, *args, **kwargs):
        sources.append(source if isinstance(source, str) else "")
        return compile_template(self, source, *args, **kwargs)

    monkeypatch_module.setattr(jinja2.Environment, "compile", recording)
    maps = tmp_path_factory.mktemp("text-maps")
    scenario = tmp_path_factory.mktemp("text-scenario") / "evil.toml"
    scenario.write_text(
        "".join(f"{k} = {json.dumps(v)}\n" for k, v in SCENARIO_TEXT.items()) + "[penalties]\ndefault_h = 3.0\n"
    )
    maps_stage(layers_dir=demo_reach, maps_dir=maps, force=True)
    scenario_stage(str(scenario), layers_dir=demo_reach, maps_dir=maps)
    return maps, sources


@pytest.fixture(scope="module")
def monkeypatch_module():
    patcher = pytest.MonkeyPatch()
    yield patcher
    patcher.undo()


def test_no_outside_text_is_ever_compiled_as_a_template(drawn):
    maps, sources = drawn
    assert len(sources) > 100  # folium really compiles what each element renders
    for text in HOSTILE:
        if escape(text) == text:
            continue  # nothing in it to escape (zero-width and right-to-left characters, emoji, CJK)
        assert not [s for s in sources if text in s], f"{text!r} reached a Jinja2 template's source"
    assert not [s for s in sources if "{{7*191}}" in s or "{{ 7*191 }}" in s or "{# {%" in s]
    for page in [*maps.glob("*.html"), *maps.glob("scenarios/*.html")]:
        html = page.read_text()
        assert "1337" not in html, page.name


def test_hostile_names_show_literally_in_the_browser(drawn, tmp_path):
    maps, _ = drawn
    with chromium() as visit:
        seen = visit(maps / "overview.html")
        page = seen.page
        page.evaluate("() => { window.alert = () => { window.__pwned = 'alert'; }; }")
        assert seen.js_errors == [], seen.js_errors
        texts = readable_texts(page)  # the page's, and every tooltip's and popup's
        bidi = re.compile("[\u202a-\u202e\u2066-\u2069]")  # an override turned the rest of its cell around
        for name in fixture.HOSTILE_MARKET_NAMES.values():
            assert any(bidi.sub("", name) in text for text in texts), name
        assert not [text for text in texts if bidi.search(text)]
        # A market's popup opened as a reader would: the name is text, not markup.
        page.evaluate("() => { " + MARKET_LAYERS_JS + " marketLayers()[0].openPopup(); }")
        assert page.locator(".leaflet-popup-content").count() == 1
        assert page.evaluate("window.__pwned") is None
        seen.screenshot("hostile-overview", tmp_path)

        seen = visit(maps / "scenarios" / "evil.html")
        assert seen.js_errors == [], seen.js_errors
        header = seen.page.inner_text(".hamji-header")
        assert f"Scenario: {SCENARIO_TEXT['name']}" in header
        assert SCENARIO_TEXT["description"] in header
        assert seen.page.evaluate("window.__pwned") is None
        assert settings.DEMO_STAMP in seen.page.inner_text("body")


def test_a_market_is_searched_by_its_english_name_as_well_as_its_osm_name():
    """OSM's name is Korean here; the English one (name_en) must be findable, and no name twice."""
    import pandas as pd

    from geo.maps.layers import market_search_name

    names = {"name": "회령시장", "name_en": "Hoeryong Market", "name_ko": "회령시장"}
    row = pd.Series({**names, "province_name": "North Hamgyong"})
    assert market_search_name(row) == "회령시장 Hoeryong Market (North Hamgyong)"


def test_a_name_with_a_zero_width_space_is_found_as_typed_and_shown_as_tagged():
    """OSM's name:ko carries U+200B and its name is decomposed jamo: the search box gets the typed form only."""
    import pandas as pd

    from geo.maps.layers import market_popup, market_search_name, market_tip_name

    decomposed = "\u1112\u116c\u1105\u1167\u11bc\u200b\uc2dc\uc7a5"  # 회령 as jamo, a zero-width space, 시장
    row = pd.Series(
        {
            "name": decomposed,
            "name_en": "Hoeryong Market",
            "name_ko_latn": "Hoeryŏng sijang",
            "name_ko": "회령시장",  # the same name, composed: not repeated
            "province_name": "North Hamgyong",
            "osm_type": "node",
            "osm_id": 1,
        }
    )
    assert market_search_name(row) == "회령시장 Hoeryong Market Hoeryŏng sijang (North Hamgyong)"
    popup = market_popup(row)
    # Shown as OSM tags it (the popup and tooltip keep the zero-width space), with the English and romanised names.
    assert f"<th>Market</th><td>{decomposed}</td>" in popup
    assert "<th>English</th><td>Hoeryong Market</td>" in popup and "<th>Romanised</th><td>Hoeryŏng sijang</td>" in popup
    assert "<th>Korean</th>" not in popup
    assert market_tip_name(row) == f"<b>{decomposed}</b> (Hoeryong Market)"


def test_the_romanised_name_is_read_from_osm(fixture_xml, tmp_path):
    """name:ko-Latn reaches the markets layer as name_ko_latn (the demo fixture has none: an extract is edited)."""
    import geo

    text = fixture_xml.read_text(encoding="utf-8")
    marker = '<tag k="amenity" v="marketplace"/>'
    assert marker in text  # the first market gets a romanised name
    edited = tmp_path / "romanised.osm"
    edited.write_text(text.replace(marker, marker + '<tag k="name:ko-Latn" v="Romanised market"/>', 1), "utf-8")
    layers = geo.layers_from_extracts([edited], fixture.province_codes())
    assert list(layers.markets["name_ko_latn"].dropna()) == ["Romanised market"]
