"""Pages to HTML: reproducible, under the size budget, optionally offline; and the index page."""

from __future__ import annotations

import re
from dataclasses import replace

import folium
import pandas as pd
from branca.element import Figure

from geo import settings
from geo.chart import reach_chart_svg
from geo.crossings import penalty_text
from geo.errors import OutputError
from geo.maps.assets import inline_assets
from geo.maps.base import MapInputs, _prepare
from geo.maps.layers import merge_lines
from geo.maps.pages import comparison_map, overview_map, side_by_side_map
from geo.maps.style import DEMO_ATTRIBUTION, MAP_FILES, MAP_TITLES, OSM_ATTRIBUTION, VIEWPORT_META
from geo.maps.text import _link, escape
from geo.maps.thumbnails import thumbnail_svg
from geo.reach import format_hours, format_share, headline
from geo.regions import BY_CODE


def render(element: folium.Map | Figure, offline: bool = False) -> str:
    """The page as one HTML string; with ``offline``, every CDN asset inlined.

    folium names every element with a random id; they are renumbered in order
    of appearance, so the same inputs always give the same bytes.
    """
    html = element.get_root().render()
    ids: dict[str, str] = {}
    html = re.sub(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])", lambda m: ids.setdefault(m.group(0), f"{len(ids) + 1:032x}"), html)
    return inline_assets(html) if offline else html


def fit_page(
    file_name: str, builder, inputs: MapInputs, offline: bool = False, drawn: dict[float, MapInputs] | None = None
) -> tuple[str, float]:
    """Render ``builder(inputs)``, simplifying geometry until the page fits under :data:`settings.MAP_MAX_BYTES`.

    ``drawn`` keeps the simplified inputs per tolerance, for several pages
    drawn from the same inputs. Returns the HTML and the tolerance (m) applied.
    """
    drawn = {} if drawn is None else drawn
    tolerance, before = settings.MAP_SIMPLIFY_M, None
    for _ in range(8):
        if tolerance not in drawn:
            drawn[tolerance] = simplified(inputs, tolerance)
        html = render(builder(drawn[tolerance]), offline)
        size = len(html.encode())
        if size <= settings.MAP_MAX_BYTES:
            return html, tolerance
        if before is not None and size > 0.95 * before:
            # Simpler geometry no longer makes the page smaller: what fills it is the markets and their text.
            raise OutputError(
                f"{file_name} is {size / 1e6:.1f} MB, more than {settings.MAP_MAX_BYTES / 1e6:g} MB, and simpler "
                f"geometry does not shrink it: what fills it is not the roads but the {len(inputs.markets):,} "
                "markets with their names and popups (and the map's own code); give a shorter market list "
                "(--markets), or build fewer provinces",
                option="regions",
            )
        before, tolerance = size, tolerance * 2
    raise OutputError(
        f"{file_name} is still {size / 1e6:.1f} MB after simplifying to {tolerance / 2:.0f} m; build fewer provinces",
        option="regions",
    )


def build_maps(inputs: MapInputs, offline: bool = False) -> tuple[dict[str, str], dict[str, float]]:
    """Every map as HTML, each simplified until it fits under :data:`settings.MAP_MAX_BYTES`.

    Returns
    -------
    tuple
        File name -> HTML text, and file name -> simplification tolerance (m)
        that was applied.
    """
    builders = {"overview": overview_map, "comparison": comparison_map, "side_by_side": side_by_side_map}
    pages, tolerances = {}, {}
    drawn: dict[float, MapInputs] = {}
    for key, builder in builders.items():
        pages[MAP_FILES[key]], tolerances[MAP_FILES[key]] = fit_page(MAP_FILES[key], builder, inputs, offline, drawn)
    return pages, tolerances


def simplified(inputs: MapInputs, tolerance_m: float) -> MapInputs:
    """The inputs as drawn: roads merged by name and class, corridors by use, all simplified."""
    roads = inputs.roads
    corridors = merge_lines(roads[roads["routes"] > 0], ["routes"]) if "routes" in roads else roads.iloc[:0]
    drawn = {"roads": merge_lines(roads, ["name", "highway"]), "corridors": corridors}
    frames = {
        name: _prepare(drawn.get(name, getattr(inputs, name)), tolerance_m)
        for name in ("provinces", "border", "roads", "corridors", "crossings", "hubs", "markets", "road_times")
    }
    if inputs.railways is not None:
        # One line per name and tag set: OSM cuts a railway into many ways, each a feature with its own tooltip.
        tags = ["name", "usage", "service", "gauge", "electrified"]
        frames["railways"] = _prepare(merge_lines(inputs.railways, tags), tolerance_m)
    # Everything else (reach, assumptions, provenance, catchments, intervals, stations) as it was.
    return replace(inputs, **frames)


def _uncertainty_html(inputs: MapInputs) -> str:
    """The intervals of ``hamji uncertainty`` for the index: the sentence and a row per province and group."""
    if inputs.uncertainty is None:
        return ""
    from geo.uncertainty import STATISTIC_HEADINGS, STATISTICS, interval_text, one_market_footnote, row_label

    head = "".join(f"<th>{escape(t)}</th>" for t in ("Row", *STATISTIC_HEADINGS))
    body = "".join(
        f"<tr><td>{escape(row_label(row))}</td>"
        + "".join(f"<td>{escape(interval_text(row, stat))}</td>" for stat in STATISTICS)
        + "</tr>"
        for _, row in inputs.uncertainty.iterrows()
    )
    ranges = escape(str(inputs.uncertainty["ranges"].iloc[0]))
    return (
        f"<h2>How sure</h2><p>{inputs.interval_html()}</p><p><small>Ranges: {ranges}.</small></p>"
        f"<table><tr>{head}</tr>{body}</table>"
        + (f"<p><small>{escape(note)}</small></p>" if (note := one_market_footnote(inputs.uncertainty)) else "")
    )


def _text(value) -> str:
    return "–" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _count(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{int(round(float(value))):,}"


def _gravity(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.3f}"


#: The index's reach table: heading and cell text per column, the headline (hub → market) first and the time
#: to a crossing as the secondary measure; the summary (hamji_reach.md) has every column.
INDEX_COLUMNS = (
    ("Province", lambda r: _text(r["name"])),
    ("Markets (this build)", lambda r: _text(r["markets"])),
    ("Published", lambda r: _text(r["published_markets"])),
    ("Median hub → market", lambda r: format_hours(r["hub_h_median"])),
    ("Markets within 4 h of a hub", lambda r: format_share(r["hub_within_4h"])),
    ("People counted", lambda r: _count(r["people_counted"])),
    ("People within 4 h of a hub", lambda r: _count(r["hub_people_within_4h"])),
    (f"Gravity access (half-life {settings.GRAVITY_HALF_LIFE_H:g} h)", lambda r: _gravity(r["gravity_access"])),
    ("Median to crossing", lambda r: format_hours(r["crossing_h_median"])),
    ("90th percentile to crossing", lambda r: format_hours(r["crossing_h_p90"])),
    (
        "Unreachable: no road / no route",
        lambda r: f"{_count(r['unreachable_no_road'])} / {_count(r['unreachable_no_route'])}",
    ),
)


def index_page(
    inputs: MapInputs,
    sizes: dict[str, int],
    scenarios: list[tuple[str, str]] | None = None,
    sensitivity: list[str] | None = None,
    supply: list[str] | None = None,
    compare: bool = False,
) -> str:
    """``index.html``: the maps, the headline, the reach table, sources and assumptions.

    ``scenarios`` are (map file, title) of scenario maps already written;
    ``sensitivity`` the sentences of the last ``hamji sensitivity`` run;
    ``supply`` those of the ordering under each supply model (``hamji build``);
    ``compare`` links ``compare.html`` (``hamji compare``) beside them.
    """
    from geo.sources.published import PUBLISHED_COUNTS

    demo = f'<p class="demo">{escape(settings.DEMO_STAMP)}</p>' if inputs.synthetic else ""
    maps = {name: title for name, title in MAP_TITLES.items() if name in MAP_FILES.values()}
    keys = {file: key for key, file in MAP_FILES.items()}
    links = "".join(
        f'<li><a href="{f}">{thumbnail_svg(inputs, keys[f])}<br>{escape(t)}</a> '
        f"<small>({sizes.get(f, 0) / 1e6:.1f} MB)</small></li>"
        for f, t in maps.items()
    )
    head = "".join(f"<th>{escape(label)}</th>" for label, _ in INDEX_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell(row))}</td>" for _, cell in INDEX_COLUMNS) + "</tr>"
        for _, row in inputs.reach.iterrows()
    )
    scenario_html = ""
    if compare:
        scenario_html = (
            f'<h3>Change over time</h3><ul><li><a href="{escape(settings.COMPARE_HTML)}">Comparison of two '
            "builds</a> (<code>hamji compare</code>: hub → market time before and after, and the roads "
            "added)</li></ul>"
        )
    if scenarios:
        scenario_html += (
            "<h3>Scenarios</h3><ul>"
            + "".join(f'<li><a href="{escape(f)}">{escape(t)}</a></li>' for f, t in scenarios)
            + "</ul>"
        )
    for title, sentences in (("Under each supply model", supply), ("Sensitivity", sensitivity)):
        if sentences:
            scenario_html += f"<h3>{title}</h3><ul>" + "".join(f"<li>{escape(t)}</li>" for t in sentences) + "</ul>"
    speeds = inputs.assumptions.speeds
    speed_rows = (
        "".join(
            f"<li>{escape(c)}: "
            + escape(", ".join(f"{k} {v:g} km/h" for k, v in speeds.speeds[c].items()))
            + escape(f"; unpaved × {speeds.unpaved_factor[c]:g}")
            + "</li>"
            for c in ("KP", "CN")
        )
        + f"<li>Speed table: {escape(speeds.source)} (digest {escape(speeds.digest)})</li>"
    )
    sources = "".join(
        f"<li>{escape(p.by)}, {p.year}: {p.markets} markets in "
        f"{escape('North Korea' if p.code == 'KP' else BY_CODE[p.code].name)}. {_link(p.source)}</li>"
        for p in PUBLISHED_COUNTS
    )
    # A web address is one long word: the sources' addresses made the page wider than a phone, so any text
    # may break anywhere (the table's cells keep their words: on a phone the table scrolls instead).
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{VIEWPORT_META}<title>HamJi Explorer maps</title>
<style>body{{font:15px/1.5 sans-serif;max-width:60em;margin:2em auto;padding:0 1em;overflow-wrap:anywhere}}
td,th{{overflow-wrap:normal}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}
ul.maps{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1em}}ul.maps li{{width:240px}}
svg.thumbnail{{border:1px solid #ccc}}svg{{max-width:100%;height:auto}}
@media (max-width:699px){{table{{display:block;overflow-x:auto}}}}
.demo{{background:#c92a2a;color:#fff;padding:6px;font-weight:bold}}</style>
</head><body>{demo}
<h1>HamJi Explorer</h1>
<p>How long goods take from Chinese wholesale cities, through a border crossing, to North Korean
markets, from OpenStreetMap data. {inputs.data_line()}. {inputs.as_of_line()}.</p>
<p><b>{escape(headline(inputs.reach))}</b></p>
{_uncertainty_html(inputs)}
{reach_chart_svg(inputs.markets, demo=inputs.synthetic)}
<h2>Maps</h2><ul class="maps">{links}</ul>
{scenario_html}
<h2>Reach table</h2><table><tr>{head}</tr>{body}</table>
<p>Hub → market: from a wholesaler in a Chinese hub through the best crossing, border penalty included (the
headline); to crossing: from the nearest open crossing (no hub, no penalty). <i>People within 4 h</i> counts the
people counted beside it (2008 census, or the people areas) whose market is within 4 h of a hub; <i>gravity
access</i> is Hansen's (1959) index, averaged over the row's markets (see the summary). Unreachable markets count as
infinitely far; <i>no road</i>: no mapped road near the market, <i>no route</i>: on a road but no open way in.
The full table is
<a href="../layers/{settings.REACH_CSV}"><code>layers/{settings.REACH_CSV}</code></a>; the summary with every
column is <a href="../layers/{settings.REACH_MD}"><code>layers/{settings.REACH_MD}</code></a> (links for the
default folders, maps/ beside layers/).</p>
<h2>Assumptions</h2><ul>{speed_rows}
<li>{inputs.supply_line()}</li>
<li>{inputs.as_of_line()} (<code>--as-of</code>)</li>
<li>Border penalty: {escape(penalty_text(inputs.assumptions, inputs.crossings))}</li>
<li>Speeds are assumptions for laden trucks, not measurements (see the README).</li></ul>
<h2>Sources</h2><ul><li>{OSM_ATTRIBUTION if not inputs.synthetic else escape(DEMO_ATTRIBUTION)}</li>{sources}</ul>
</body></html>
"""
