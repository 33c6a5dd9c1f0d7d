"""Default QGIS styles for the GeoPackages: the web maps' classes and colours, in the ``layer_styles`` table.

QGIS looks in a GeoPackage's ``layer_styles`` table when it opens a layer
and applies the row marked ``useAsDefault``. Each style here is a QML
rule-based renderer built from the same settings as the web maps (time bins
and colours, group outlines, road greys), so ``hamji_layers.gpkg`` and
``hamji_routes.gpkg`` open in QGIS looking like the maps. A rule only ever
names columns its layer has.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import geopandas as gpd

from geo import settings
from geo.maps.style import CROSSING_COLOURS, GROUP_OUTLINES, ROAD_STYLES, band_label

__all__ = ["qgis_styles"]

_TIME_BINS = [*settings.MAP_TIME_BINS_H, float("inf")]
#: QGIS line styles for the maps' dash patterns.
_DASH = {None: "solid", "9 6": "dash", "3 4": "dot", "1 5": "dot"}


@dataclass(frozen=True)
class _Rule:
    label: str
    expression: str  # QGIS expression; "ELSE" for everything the other rules leave
    kind: str  # fill, line or marker
    colour: str  # '#rrggbb'
    width_mm: float = 0.5  # line width, outline width, or marker size
    line_style: str = "solid"
    fill: bool = True
    shape: str = "circle"


def _rgba(colour: str, alpha: int = 255) -> str:
    return f"{int(colour[1:3], 16)},{int(colour[3:5], 16)},{int(colour[5:7], 16)},{alpha}"


def _properties(rule: _Rule) -> dict[str, str]:
    if rule.kind == "line":
        return {
            "line_color": _rgba(rule.colour),
            "line_width": f"{rule.width_mm:g}",
            "line_width_unit": "MM",
            "line_style": rule.line_style,
            "capstyle": "round",
            "joinstyle": "round",
        }
    if rule.kind == "fill":
        return {
            "color": _rgba(rule.colour, 90 if rule.fill else 0),
            "style": "solid" if rule.fill else "no",
            "outline_color": _rgba(rule.colour),
            "outline_style": rule.line_style,
            "outline_width": f"{rule.width_mm:g}",
            "outline_width_unit": "MM",
        }
    return {
        "name": rule.shape,
        "color": _rgba(rule.colour),
        "outline_color": "35,35,35,255",
        "outline_width": "0.2",
        "outline_width_unit": "MM",
        "size": f"{rule.width_mm:g}",
        "size_unit": "MM",
    }


def _symbol(index: int, rule: _Rule) -> str:
    layer_class = {"line": "SimpleLine", "fill": "SimpleFill", "marker": "SimpleMarker"}[rule.kind]
    properties = _properties(rule)
    # Both spellings: QGIS 3.26+ reads <Option>, earlier 3.x releases read <prop>.
    options = "".join(
        f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in properties.items()
    )
    props = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in properties.items())
    return (
        f'<symbol type="{rule.kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="{layer_class}" enabled="1" locked="0" pass="0">'
        f'<Option type="Map">{options}</Option>{props}</layer></symbol>'
    )


def _qml(rules: list[_Rule]) -> str:
    """A QML document holding one rule-based renderer."""
    rule_xml = "".join(
        f'<rule key="r{i}" symbol="{i}" label={quoteattr(rule.label)}'
        + (' filter="ELSE"' if rule.expression == "ELSE" else f" filter={quoteattr(rule.expression)}")
        + "/>"
        for i, rule in enumerate(rules)
    )
    symbols = "".join(_symbol(i, rule) for i, rule in enumerate(rules))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.28.0" styleCategories="Symbology">'
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
        f'<rules key="root">{rule_xml}</rules><symbols>{symbols}</symbols></renderer-v2></qgis>\n'
    )


def _time_rules(column: str, kind: str, width_mm: float) -> list[_Rule]:
    """One rule per time bin of the maps, and grey for the rest (unreachable)."""
    rules = [
        _Rule(band_label(low, high), _between(column, low, high), kind, colour, width_mm)
        for low, high, colour in zip(_TIME_BINS, _TIME_BINS[1:], settings.MAP_TIME_COLOURS)
    ]
    return [*rules, _Rule("unreachable", "ELSE", kind, settings.MAP_UNREACHABLE_COLOUR, width_mm)]


def _between(column: str, low: float, high: float) -> str:
    # QGIS expressions have no infinity literal: the open top bin stops short of
    # the inf that marks "unreachable", which falls to the ELSE rule.
    upper = f"{high:g}" if high != float("inf") else "1e300"
    return f'"{column}" >= {low:g} AND "{column}" < {upper}'


def _provinces(_: gpd.GeoDataFrame) -> list[_Rule]:
    return [
        _Rule(
            label,
            f"\"group\" = '{group}'",
            "fill",
            style["color"],
            style["weight"] / 3,
            _DASH[style["dashArray"]],
            False,
        )
        for group, (style, _, label) in GROUP_OUTLINES.items()
    ]


def _roads(_: gpd.GeoDataFrame) -> list[_Rule]:
    rules = []
    for label, classes, colour, weight, _ in ROAD_STYLES.values():
        listed = ", ".join(f"'{c}'" for c in classes)
        rules.append(_Rule(label.removeprefix("Roads: "), f'"highway" IN ({listed})', "line", colour, weight / 5))
    return rules


def _crossings(frame: gpd.GeoDataFrame) -> list[_Rule]:
    rules = [_Rule("closed", "\"status\" = 'closed'", "marker", CROSSING_COLOURS["closed"], 3.2, shape="square")]
    if "usable" in frame.columns:
        rules.append(_Rule("not routable", '"usable" = 0', "marker", CROSSING_COLOURS["unusable"], 3.2, shape="square"))
    return [*rules, _Rule("open", "ELSE", "marker", CROSSING_COLOURS["open"], 3.2, shape="square")]


def _markets(frame: gpd.GeoDataFrame) -> list[_Rule]:
    if "crossing_h" in frame.columns:
        return _time_rules("crossing_h", "marker", 2.6)
    return [_Rule("market", "ELSE", "marker", "#343a40", 2.2)]


_STYLES = {
    "provinces": _provinces,
    "border": lambda _: [_Rule("China–North Korea border", "ELSE", "line", "#212529", 0.8)],
    "roads": _roads,
    "crossings": _crossings,
    "markets": _markets,
    "market_areas": lambda _: [_Rule("market area", "ELSE", "fill", "#343a40", 0.3)],
    "hubs": lambda _: [_Rule("Chinese wholesale hub", "ELSE", "marker", "#1864ab", 3.4)],
    "railways": lambda _: [_Rule("railway", "ELSE", "line", "#495057", 0.5, "dash")],
    "stations": lambda _: [_Rule("station or freight yard", "ELSE", "marker", "#495057", 2.4, shape="square")],
    "routes": lambda _: [_Rule("hub → crossing → market route", "ELSE", "line", "#5f3dc4", 0.6)],
    "bands": lambda _: [_Rule("land within the band's hours of a crossing", "ELSE", "fill", "#4dabf7", 0.2)],
    "road_times": lambda _: _time_rules("from_h", "line", 0.9),
}


def qgis_styles(frames: dict[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """A QML document for each layer of ``frames`` that has a style (layer name -> QML)."""
    return {name: _qml(_STYLES[name](frame)) for name, frame in frames.items() if name in _STYLES}
