"""What popups, legends and headers say: one citation per source, no contradiction, one kind of unit."""

import colorsys
import re

import geopandas as gpd
import pandas as pd
import pytest

import geo
from geo import settings
from geo.maps import crossing_popup
from geo.maps.pages import CHANGE_CLASSES, GAINED_COLOUR, LOST_COLOUR, _change_text
from geo.maps.text import Citations, _split_sources, plural
from geo.reach import format_hours


@pytest.fixture(scope="module")
def crossings(demo_routes) -> gpd.GeoDataFrame:
    return gpd.read_file(demo_routes, layer="crossings").set_index("crossing_id", drop=False)


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_each_source_is_cited_once_however_many_facts_it_gives(crossings):
    """Sinuiju–Dandong's Wikipedia article gives its status, year, position and facts: one link, four marks."""
    row = crossings.loc["sinuiju_dandong_road"]
    assert row["facts_source"] in row["status_source"] and row["facts_source"] in row["coord_source"]  # the premise
    html = crossing_popup(row)
    links = _hrefs(html)
    assert links.count("https://en.wikipedia.org/wiki/Sino-Korean_Friendship_Bridge") == 1
    assert len(links) == len(set(links))  # every address once (the shut periods cite sources of their own)
    assert links.count("https://www.globaltimes.cn/content/776695.shtml") == 1
    # Status [1, 2], opened [1], location [1], facts [1]; the Global Times' second clause stays with it
    # (as its own source [3] would not); the COVID closure's sources follow, each numbered once.
    assert html.count("[1") == 5 and "[1, 2]" in html
    assert "[2] Global Times" in html and "trucks over 20 t not permitted" in html
    assert "<td>shut 2020-01-24 to 2023-08-27 (COVID-19 closure) <small>[3, 4, 5]</small></td>" in html
    assert "[3] RFA" in html and "[6]" not in html


def test_every_crossing_popup_links_each_address_once(crossings):
    for _, row in crossings.iterrows():
        links = _hrefs(crossing_popup(row))
        assert len(links) == len(set(links)), (row["crossing_id"], links)


def test_a_remark_after_a_citation_stays_beside_its_number():
    sources = Citations()
    first = sources.cite("KBS News (http://news.kbs.co.kr/x)")
    again = sources.cite("KBS News (http://news.kbs.co.kr/x) (new bridge beside the old one)")
    assert (first, again) == (" <small>[1]</small>", " <small>[1] (new bridge beside the old one)</small>")
    inner = sources.cite("Wiki (http://w.org/a): beside it, as KBS News (http://news.kbs.co.kr/x)")
    assert inner == " <small>[2]</small>"
    assert sources.listing().count("http://news.kbs.co.kr/x") == 2  # in [1] as text and link, nowhere in [2]
    assert sources.listing().endswith("as [1]")
    assert _split_sources("A (http://a); B (http://b): x; y") == ["A (http://a)", "B (http://b): x; y"]


def test_a_crossing_left_out_of_routing_names_no_fastest_hub(crossings):
    """The new Namyang–Tumen bridge is closed: 'not used' must not stand next to 'Fastest hub Tumen, 2 min'."""
    row = crossings.loc["namyang_tumen_new_road"]
    assert not row["usable"] and row["hub"] == "Tumen"  # routing did reach it from a hub
    html = crossing_popup(row)
    assert "not used: closed" in html and "Fastest hub" not in html


def test_a_rail_crossings_fastest_hub_says_how_much_is_loading_the_train(crossings):
    """Namyang–Tumen by rail: 2 min of road from Tumen and 6 h of loading and unloading read as '6.0 h' alone."""
    row = crossings.loc["namyang_tumen_rail"]
    # 3 h loading in China and 3 h unloading in North Korea, plus minutes of road from Tumen to the bridge.
    assert 2 * settings.RAIL_TRANSFER_H == 6 and 6 < row["hub_crossing_h"] < 6.1
    assert "Tumen, 6.0 h, of it 6.0 h loading and unloading the train" in crossing_popup(row)
    assert "loading" not in crossing_popup(crossings.loc["namyang_tumen_road"])


def test_a_hub_minutes_away_reads_in_minutes_not_as_no_time(crossings):
    """Tumen is 0.031 h (1.9 min) from the Namyang–Tumen road bridge: '2 min', never '0.0 h'."""
    row = crossings.loc["namyang_tumen_road"]
    assert 0.02 < row["hub_crossing_h"] < 0.04
    html = crossing_popup(row)
    assert "Tumen, 2 min" in html and "0.0 h" not in html and "2 markets" in html
    assert [format_hours(h) for h in (0, 0.5, 59.4 / 60, 59.6 / 60, 1.04, 12.96)] == [
        "0 min",
        "30 min",
        "59 min",
        "1.0 h",
        "1.0 h",
        "13.0 h",
    ]
    assert [_change_text(h) for h in (0.25, -1.26, 0.004, float("nan"))] == ["+15 min", "−1.3 h", "±0 min", "–"]
    assert (plural(1, "market"), plural(2, "market")) == ("1 market", "2 markets")


def test_a_scenario_closure_is_credited_to_the_scenario_not_to_a_source(demo_routes):
    layers, routes = geo.load_layers(demo_routes.parent), geo.load_routes(demo_routes.parent)
    result = geo.run_scenario("wonjong_closed", layers, routes)
    row = result.routes.crossings.set_index("crossing_id").loc["wonjong_quanhe"]
    assert row["status"] == "closed" and row["status_source"] == "closed in scenario 'Wonjong–Quanhe bridge closed'"
    html = crossing_popup(row)
    # The status row's one mark points at the scenario; CSIS stays cited for what it did say (the facts).
    assert "<th>Status</th><td>closed <small>[1]</small></td>" in html
    assert "[1] closed in scenario &#39;Wonjong–Quanhe bridge closed&#39;<br>" in html


def _hue(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def test_newly_reachable_is_not_a_second_green():
    """'faster' is green; 'newly reachable' was a darker green of nearly the same hue (146° against 145°)."""
    faster = next(colour for _, colour, label in CHANGE_CLASSES if label == "faster")
    assert abs(_hue(faster) - _hue(GAINED_COLOUR)) > 60
    colours = [colour for _, colour, _ in CHANGE_CLASSES] + [LOST_COLOUR, GAINED_COLOUR]
    assert len(set(colours)) == len(colours)


@pytest.mark.parametrize(
    ("name", "shown"), [("wonjong_closed", "time to the nearest crossing"), ("border_penalty_6h", "hub → market time")]
)
def test_each_scenario_map_says_its_measure_in_its_header(demo_routes, tmp_path, name, shown):
    """A border penalty leaves crossing times alone, so that map opens on hub → market time, and says so."""
    layers, routes = geo.load_layers(demo_routes.parent), geo.load_routes(demo_routes.parent)
    result = geo.run_scenario(name, layers, routes)
    geo.write_scenario(result, layers, tmp_path / "layers", tmp_path / "maps", offline=False)
    page = (tmp_path / "maps" / "scenarios" / f"{name}.html").read_text(encoding="utf-8")
    start = page.index('class="hamji-header')
    header = page[start : page.index("</details>", start)]
    assert f"Markets coloured by the change in {shown}" in header
    assert f"· change in {shown}</h1>" in header.replace("&#8594;", "→")  # the title, all a phone shows folded


def _routing(html: str) -> str:
    return re.search(r"<th>Routing</th><td>(.*?)</td>", html).group(1)


def test_a_crossing_of_unknown_status_says_so_and_when_it_is_routed(crossings):
    """Shuangmufeng–Samjiyon's status is unknown; its popup read only "not used: no road within 2,000 m"."""
    row = crossings.loc["shuangmufeng_samjiyon"]
    assert row["status"] == "unknown" and not row["usable"]  # the premise: the demo's default run left it out
    # The unknown status first, then the data's reason (geo.status).
    assert row["reason"].startswith("status unknown (no source says it is open now")
    assert row["reason"].endswith("; also no road within 2,000 m on one side of the border")
    assert _routing(crossing_popup(row)) == (
        "not used: status unknown: routed only with --unknown-crossings open, and this run leaves unknown "
        "crossings out; besides, no road within 2,000 m on one side of the border"
    )
    # Under --unknown-crossings open the road's absence is the only reason left.
    row = row.copy()
    row["reason"] = "no road within 2,000 m on one side of the border"
    assert _routing(crossing_popup(row, "open")) == (
        "not used: status unknown: routed only with --unknown-crossings open, which this run gives, but no road "
        "within 2,000 m on one side of the border"
    )
    routed = row.copy()
    routed["usable"], routed["reason"] = True, None
    assert _routing(crossing_popup(routed, "open")).startswith("usable, taken as open: status unknown")
    # A crossing whose status is known keeps its one reason.
    assert _routing(crossing_popup(crossings.loc["namyang_tumen_new_road"])) == "not used: closed"


def test_an_unknown_crossing_taken_as_open_and_shut_on_the_day_says_both():
    from geo.maps.layers import crossing_state, crossing_tip

    row = pd.Series({"name_en": "Shuangmufeng–Samjiyon", "mode": "road", "status": "unknown", "usable": False})
    shut = row.copy()
    shut["reason"] = "shut on 2021-06-01: shut 2020-01-24 to 2023-08-27 (COVID-19 closure): RFA"
    # As of 2021-06 under --unknown-crossings open it read "(road, closed)": the unknown status was lost.
    assert (
        crossing_tip(shut, crossing_state(shut)[1]) == "Shuangmufeng–Samjiyon (road, status unknown, shut on this day)"
    )
    routed = row.copy()
    routed["usable"], routed["reason"] = True, None
    assert crossing_state(routed) == ("open", "status unknown, routed as open")


def test_crossing_tooltips_say_status_unknown_and_name_the_mode_once(demo_maps):
    """The tooltips read "Shuangmufeng–Samjiyon (road, unusable)" and "Namyang–Tumen (rail) (rail, open)"."""
    html = (demo_maps / "overview.html").read_text(encoding="utf-8")
    tips = re.findall(r"bindTooltip\(\s*`<div>\s*(.*?)\s*</div>`", html, re.S)
    assert "Shuangmufeng–Samjiyon (road, status unknown, not routed)" in tips
    assert "Namyang–Tumen (rail) (open)" in tips and "Manpo–Ji&#39;an (road) (unusable)" in tips
    assert "Musan (Chilsong)–Nanping (road, open)" in tips  # a name without its mode keeps it
    assert not [t for t in tips if "(rail) (rail" in t or "(road) (road" in t]
