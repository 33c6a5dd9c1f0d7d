"""QGIS opens the GeoPackages styled: a default QML style per layer in ``layer_styles``, the maps' classes and colours.

QGIS is not installable here, so the styles are checked the way QGIS reads
them: the table's layout, the QML's renderer, and each rule's filter, which
for these simple expressions is also valid SQL and so runs against the
GeoPackage itself.
"""

import re
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import pytest

from geo import io, settings
from geo.maps import time_colour
from geo.maps.style import GROUP_OUTLINES


def _styles(path) -> dict[str, ET.Element]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleName, useAsDefault, styleQML FROM layer_styles"
        ).fetchall()
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    assert sorted(r[0] for r in rows) == sorted(geometry)  # one style for every spatial layer, no more
    for table, column, name, default, _ in rows:
        assert (column, name, default) == (geometry[table], io.STYLE_NAME, 1), table
    return {table: ET.fromstring(qml.split("\n", 1)[1]) for table, *_, qml in rows}


def _rules(qml: ET.Element) -> list[tuple[str, str, str]]:
    """(label, filter, colour as #rrggbb) of each rule, in order."""
    renderer = qml.find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    rules = []
    for rule in renderer.find("rules"):
        options = {o.get("name"): o.get("value") for o in symbols[rule.get("symbol")].iter("Option") if o.get("name")}
        rgba = options.get("line_color") or options.get("outline_color" if "style" in options else "color")
        r, g, b, _ = (int(v) for v in rgba.split(","))
        rules.append((rule.get("label"), rule.get("filter"), f"#{r:02x}{g:02x}{b:02x}"))
    return rules


def _matches(path, table: str, rules: list[tuple[str, str, str]]) -> list[int]:
    """How many features each rule draws, evaluating the filters as SQL (ELSE: what no other rule drew)."""
    with sqlite3.connect(path) as db:
        total = db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        counts = [
            None if expr == "ELSE" else db.execute(f'SELECT count(*) FROM "{table}" WHERE {expr}').fetchone()[0]
            for _, expr, _ in rules
        ]
    assert counts.count(None) <= 1
    return [total - sum(c for c in counts if c is not None) if c is None else c for c in counts]


@pytest.fixture(scope="module")
def styled(demo_routes):
    folder = demo_routes.parent
    return {name: (folder / name, _styles(folder / name)) for name in (settings.LAYERS_GPKG, settings.ROUTES_GPKG)}


def test_every_rule_names_only_columns_its_layer_has(styled):
    for name, (path, styles) in styled.items():
        for table, qml in styles.items():
            columns = set(gpd.read_file(path, layer=table, rows=0).columns)
            for label, expr, _ in _rules(qml):
                assert set(re.findall(r'"([^"]+)"', expr or "")) <= columns, (name, table, label, expr)


def test_markets_take_the_maps_time_colours_one_class_each(styled, demo_routes):
    path, styles = styled[settings.ROUTES_GPKG]
    rules = _rules(styles["markets"])
    assert [colour for *_, colour in rules] == [*settings.MAP_TIME_COLOURS, settings.MAP_UNREACHABLE_COLOUR]
    assert rules[0][0] == "0–1 h" and rules[-1][0] == "unreachable"
    markets = gpd.read_file(demo_routes, layer="markets")
    expected = [int((markets["crossing_h"].map(time_colour) == colour).sum()) for *_, colour in rules]
    assert _matches(path, "markets", rules) == expected and sum(expected) == len(markets) == 20


def test_roads_by_hours_and_provinces_by_group_as_on_the_maps(styled):
    path, styles = styled[settings.ROUTES_GPKG]
    road_times = _rules(styles["road_times"])
    # Each class of road_times is one row; its rule draws exactly that row.
    drawn = _matches(path, "road_times", road_times)
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT count(*) FROM road_times").fetchone()[0]
    assert sum(drawn) == rows and max(drawn) == 1
    layers_path, layer_styles = styled[settings.LAYERS_GPKG]
    provinces = _rules(layer_styles["provinces"])
    assert [colour for *_, colour in provinces] == [style["color"] for style, _, _ in GROUP_OUTLINES.values()]
    # Demo: three border, three far, five other North Korean provinces, and Jilin and Liaoning.
    assert _matches(layers_path, "provinces", provinces) == [3, 3, 5, 2]
    roads = _rules(layer_styles["roads"])
    with sqlite3.connect(layers_path) as db:
        total = db.execute("SELECT count(*) FROM roads").fetchone()[0]
    assert sum(_matches(layers_path, "roads", roads)) == total  # every road has a class
