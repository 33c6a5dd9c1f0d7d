"""The day the crossings were taken as of, on every map and the index, and still readable with the header folded."""

import re
from pathlib import Path

import pytest
from browser import chromium

from geo.cli import main
from geo.maps import INDEX_FILE, MAP_FILES

PHONE = (390, 844)


@pytest.fixture(scope="module")
def as_of_maps(tmp_path_factory) -> Path:
    """The demo built as of June 2021, when the COVID closure had every land crossing shut."""
    root = tmp_path_factory.mktemp("as-of")
    assert main(["build", "--demo", "--as-of", "2021-06", "--out", str(root / "l"), "--maps", str(root / "m")]) == 0
    return root / "m"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("name", [*MAP_FILES.values(), INDEX_FILE])
def test_every_page_names_the_day_asked_about(as_of_maps, name):
    """--as-of 2021-06 routes as of 2021-06-01; the headers said only the OSM date (2026-01-01)."""
    text = _text((as_of_maps / name).read_text(encoding="utf-8"))
    assert "Crossings and links as open on 2021-06-01" in text
    assert "(the OSM data date)" not in text  # the day was asked for, not the data's own


@pytest.mark.parametrize("name", [*MAP_FILES.values(), INDEX_FILE])
def test_without_as_of_the_day_is_said_to_be_the_data_date(demo_maps, name):
    """The demo fixture's OSM timestamp is 2026-01-01 (as the headers' data line says)."""
    text = _text((demo_maps / name).read_text(encoding="utf-8"))
    assert "Crossings and links as open on 2026-01-01 (the OSM data date)" in text


@pytest.mark.parametrize("name", MAP_FILES.values())
def test_a_folded_header_on_a_phone_still_names_the_model_and_the_day(as_of_maps, name, tmp_path):
    """At 390×844 the header starts folded: its visible text must still say what was routed and as of when."""
    with chromium(viewport=PHONE) as visit:
        seen = visit(as_of_maps / name)
        header = seen.page.locator(".hamji-header")
        assert header.evaluate("d => d.open") is False  # the premise: folded on a phone
        visible = header.inner_text()
        assert "DEMO · all · as of 2021-06-01" in visible, visible
        assert "Supply model" not in visible  # the rest of the header stays folded
        # Not only laid out but on top: the side by side's first map once lay over the header's second line.
        on_top = seen.page.locator(".hamji-brief").evaluate(
            "el => { const r = el.getBoundingClientRect();"
            " const hit = document.elementFromPoint(r.left + 20, (r.top + r.bottom) / 2);"
            " return r.height > 0 && r.bottom <= innerHeight && !!hit && el.contains(hit); }"
        )
        assert on_top
        seen.screenshot(f"phone-folded-{Path(name).stem}", tmp_path)
        # Unfolded, the short line gives way to the full one (it would say the same twice).
        header.locator("summary").click()
        unfolded = header.inner_text()
        assert "DEMO · all · as of" not in unfolded and "Crossings and links as open on 2021-06-01" in unfolded
        assert seen.js_errors == []
