"""Outside text on its way into a map: the one escape every untrusted string goes through."""

from __future__ import annotations

import re

import pandas as pd
from branca.element import Element

#: Each character outside text could use to break out of where a map puts it,
#: as a numeric HTML entity: HTML markup (``&<>"'``); the JavaScript template
#: literals folium writes popups and tooltips into (backtick, ``$``,
#: backslash); and Jinja2's delimiters (``{``, ``}``, ``#``, ``%``), because
#: branca compiles every rendered element again as a template. Browsers show
#: the entities as the characters themselves.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'`$\\{}#%"})


def escape(text: object) -> str:
    """Outside text made safe for any HTML, popup, tooltip or element of a map.

    The one door every untrusted string goes through on its way into a map
    (a test builds the maps from hostile names and checks that no Jinja2
    template ever compiled contains them).

    Examples
    --------
    >>> escape("{{7*191}} <b>")
    '&#123;&#123;7*191&#125;&#125; &#60;b&#62;'
    """
    return str(text).translate(_ENTITIES)


class StaticHtml(Element):
    """Page text of our own, put into the page as it is, never compiled as a template."""

    def __init__(self, html: str):
        super().__init__()
        self._name = "StaticHtml"
        self.html = html

    def render(self, **kwargs) -> str:
        return self.html


def _url_end(url: str) -> int:
    """Where a web address found in prose ends: without the sentence's closing ``.``, ``:`` or unmatched ``)``."""
    end = len(url)
    while end and url[end - 1] in ".:)" and (url[end - 1] != ")" or url.count("(", 0, end) < url.count(")", 0, end)):
        end -= 1
    return end


def _link(text: str) -> str:
    """Escape a source text, turning its web addresses into links.

    Examples
    --------
    >>> _link("Wikipedia (https://en.wikipedia.org/wiki/Tumen_River_Bridge): a bridge").split('"')[1]
    'https://en.wikipedia.org/wiki/Tumen_River_Bridge'
    """
    out = []
    for i, part in enumerate(re.split(r"(https?://[^\s;,<>\"']+)", text or "")):
        if i % 2:
            end = _url_end(part)
            url, rest = part[:end], part[end:]
            out.append(f'<a href="{escape(url)}" target="_blank" rel="noopener">{escape(url)}</a>{escape(rest)}')
        else:
            out.append(escape(part))
    return "".join(out)


def _table(pairs: list[tuple[str, str]]) -> str:
    """Rows of already-escaped (label, value) HTML."""
    rows = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in pairs if value not in ("", None))
    return f'<table class="hamji-popup">{rows}</table>'


def _text(value) -> str:
    """Text of a cell for people: empty for missing, whole numbers without ``.0`` (a year read back as float).

    Examples
    --------
    >>> _text(1938.0), _text(200.0), _text(2.5), _text(float("nan")), _text("x")
    ('1938', '200', '2.5', '', 'x')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def market_label(row: pd.Series) -> str:
    """A market's name for people (plain text, not yet escaped)."""
    for column in ("name", "name_en", "name_ko"):
        if _text(row.get(column)):
            return _text(row[column])
    return f"unnamed market ({row['osm_type']}/{row['osm_id']})"
