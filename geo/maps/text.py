"""Outside text on its way into a map: the one escape every untrusted string goes through."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
from branca.element import Element

#: Each character outside text could use to break out of where a map puts it,
#: as a numeric HTML entity: HTML markup (``&<>"'``); the JavaScript template
#: literals folium writes popups and tooltips into (backtick, ``$``,
#: backslash); and Jinja2's delimiters (``{``, ``}``, ``#``, ``%``), because
#: branca compiles every rendered element again as a template. Browsers show
#: the entities as the characters themselves.
_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'`$\\{}#%"})
#: The explicit bidirectional controls (embeddings, overrides, isolates) are dropped: a right-to-left override
#: in a market's name turned the rest of its popup cell around ("RLO market txt.exe" read "exe.txt tekram").
#: Right-to-left scripts still read right to left by the Unicode bidi algorithm, without them.
_ENTITIES.update({code: None for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})


def escape(text: object) -> str:
    """Outside text made safe for any HTML, popup, tooltip or element of a map.

    The one door every untrusted string goes through on its way into a map
    (a test builds the maps from hostile names and checks that no Jinja2
    template ever compiled contains them).

    Examples
    --------
    >>> escape("{{7*191}} <b>")
    '&#123;&#123;7*191&#125;&#125; &#60;b&#62;'
    >>> escape("\u202etxt.exe")
    'txt.exe'
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
    for i, part in enumerate(re.split(r"(https?://[^\s;,<>\"'\x00]+)", text or "")):
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
    origin = list_origin(row)
    return f"unnamed market ({origin[0] if origin else row['osm_type'] + '/' + str(row['osm_id'])})"


#: How :func:`geo.sources.market_lists.apply_market_lists` writes a list market's ``source``.
_LIST_SOURCE = re.compile(r"list (?P<file>.+?), row (?P<row>\d+)(?: \((?P<source>.*)\))?")


def list_origin(row: pd.Series) -> tuple[str, str] | None:
    """Where a market from a researcher's list comes from (plain text): ("survey.csv, row 3", the list's own
    ``source`` or ""); None for a market of OSM or the demo.

    Such a market's ``osm_type``/``osm_id`` ("list/3") is a running number, no OSM object: shown as one, it read
    "OSM list/3".

    Examples
    --------
    >>> list_origin(pd.Series({"osm_type": "list", "source": "list survey.csv, row 3 (imagery 2023)"}))
    ('survey.csv, row 3', 'imagery 2023')
    """
    if row.get("osm_type") != "list":
        return None
    found = _LIST_SOURCE.fullmatch(_text(row.get("source")))
    if found is None:
        return (f"market {row.get('osm_id')}", _text(row.get("source")))
    return (f"{found['file']}, row {found['row']}", found["source"] or "")


#: A market's names other than its label, as shown: OSM's ``name`` is often Korean only.
OTHER_MARKET_NAMES = {"name_en": "English", "name_ko_latn": "Romanised", "name_ko": "Korean"}


def market_other_names(row: pd.Series) -> dict[str, str]:
    """What else a market is called (plain text), by :data:`OTHER_MARKET_NAMES` label; none repeats its label."""
    seen = {search_text(market_label(row)).casefold()}
    names = {}
    for column, label in OTHER_MARKET_NAMES.items():
        name = _text(row.get(column))
        if name and search_text(name).casefold() not in seen:
            seen.add(search_text(name).casefold())
            names[label] = name
    return names


def search_text(text: str) -> str:
    """A name as the search box matches it: NFC, without zero-width and other format characters.

    OSM names can carry a zero-width space or joiner (U+200B, U+200D, U+FEFF…),
    invisible on screen and never typed; the name shown keeps them.

    Examples
    --------
    >>> search_text("회\u200b령시장\ufeff") == "회령시장"
    True
    >>> search_text("\u1112\u116c\u1105\u1167\u11bc") == "회령"  # decomposed Hangul jamo
    True
    """
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Cf"))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 market``, ``2 markets``.

    Examples
    --------
    >>> plural(1, "market"), plural(0, "market"), plural(3, "route")
    ('1 market', '0 markets', '3 routes')
    """
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _split_sources(text: str) -> list[str]:
    """A source text cut into its citations: at each ``; `` outside parentheses.

    A part with no web address is more of the citation before it (``…: 70
    percent of trade; trucks over 20 t not permitted``), not a source of its own.

    Examples
    --------
    >>> _split_sources("A (http://a; x); B (http://b): y; z")
    ['A (http://a; x)', 'B (http://b): y; z']
    """
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith("; ", i):
            parts.append(text[start:i])
            start = i + 2
    parts.append(text[start:])
    pieces: list[str] = []
    for part in filter(None, (part.strip() for part in parts)):
        if pieces and "://" not in part:
            pieces[-1] += "; " + part
        else:
            pieces.append(part)
    return pieces


def _first_url(text: str) -> str:
    """The first web address in a source text (where it ends as :func:`_link` ends it), or ``""``."""
    found = re.search(r"https?://[^\s;,<>\"'\x00]+", text)
    return found.group(0)[: _url_end(found.group(0))] if found else ""


def _after(text: str, address: str) -> str:
    """What a source text says after its web address (and the bracket closing it)."""
    return text[text.index(address) + len(address) :].removeprefix(")").lstrip(":;, ").strip()


class Citations:
    """The sources of one popup, each listed once and referred to by number.

    A crossing's facts often share a source (one Wikipedia article gives the
    year, the status and the position); citing it in full on every row made
    popups four times as long. A citation that is another one followed by a
    remark counts as that one, the remark kept beside the number; one quoted
    inside another is replaced there by its number.
    """

    def __init__(self):
        self.texts: list[str] = []

    def cite(self, source) -> str:
        """The reference marks (escaped HTML, ``[1, 2]`` and any remark) for a source text."""
        marks, remarks = [], []
        for piece in _split_sources(_text(source)):
            number, remark = self._number(piece)
            marks.append(str(number))
            if remark:
                remarks.append(remark)
        if not marks:
            return ""
        extra = "".join(f" {self._linked(remark)}" for remark in remarks)
        return f" <small>[{', '.join(marks)}]{extra}</small>"

    def _number(self, piece: str) -> tuple[int, str]:
        address = _first_url(piece)
        for number, known in enumerate(self.texts, start=1):
            if piece == known:
                return number, ""
            if piece.startswith(known):
                return number, piece[len(known) :].strip()
            if address and _first_url(known) == address:
                # The same source quoted for another fact: its number, and what it says here that the list does not.
                rest, listed = _after(piece, address), _after(known, address)
                if listed.startswith(rest):
                    return number, ""
                return number, rest[len(listed) :].strip() if rest.startswith(listed) else rest
        self.texts.append(piece)
        return len(self.texts), ""

    def _linked(self, text: str) -> str:
        """Linked and escaped, each other citation quoted inside it replaced by its number."""
        marks = {}
        for number, known in enumerate(self.texts, start=1):
            if known != text and known in text:
                marker = f"\x00{number}\x00"
                text = text.replace(known, marker)
                marks[marker] = f"[{number}]"
        html = _link(text)
        for marker, mark in marks.items():
            html = html.replace(escape(marker), mark)
        return html

    def listing(self) -> str:
        """Every source once, numbered, as escaped HTML lines."""
        return "<br>".join(f"[{n}] {self._linked(text)}" for n, text in enumerate(self.texts, start=1))
