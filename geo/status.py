"""Which crossings could be used on a date: opening years and the periods they were shut.

The gazetteer (:mod:`geo.sources.gazetteer`) gives each crossing its year of
opening (both years where sources disagree) and the periods it was shut
(COVID-19 closures per crossing and mode, bridges built but never opened),
each with its source. Routing asks this module, for the date of the question
(``as_of``, by default the OpenStreetMap data date), why a crossing cannot be
used, if it cannot. A crossing found only in OpenStreetMap has no known status,
nor has a gazetteer crossing no source says is open now (Shuangmufeng, a
temporary port): it is listed, but routed only if unknown crossings are taken
as open.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from geo.errors import InputError
from geo.sources.gazetteer import COVID_LAND, CROSSINGS, Crossing, Period

# pandas where the crossings are dated: the command's parser reads UNKNOWN_CHOICES from here.
if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALSO",
    "NOT_OPENED",
    "SHUT_ON",
    "UNKNOWN_CHOICES",
    "UNKNOWN_STATUS",
    "apply_dates",
    "as_of_day",
    "data_day",
    "dated_code",
    "dated_lines",
    "dated_reason",
    "parse_as_of",
    "shut_reason",
]

#: How the reason of a crossing shut on the routing date begins (maps draw these as closed).
SHUT_ON = "shut on"
#: How the reason of a crossing not yet opened on the routing date begins.
NOT_OPENED = "not yet opened on"
#: How the reason of a crossing of unknown status left out begins (OpenStreetMap-only, or so in the gazetteer).
UNKNOWN_STATUS = "status unknown"
#: Joins a crossing's own reason (shut, unknown) to the data's (no road near) that :func:`apply_dates` keeps.
ALSO = "; also "
#: What to do with crossings of unknown status: leave them out (default) or route them as open.
UNKNOWN_CHOICES = ("closed", "open")

_AS_OF = re.compile(r"(\d{4})(?:-(\d{2}))?")
_BY_ID = {c.crossing_id: c for c in CROSSINGS}


def parse_as_of(text: str | None) -> str | None:
    """``YYYY`` or ``YYYY-MM`` as the ISO day it stands for (the first of the month), or ``None``.

    ``2021`` is 1 January 2021, ``2021-06`` 1 June 2021.

    Raises
    ------
    InputError
        One line naming the value and the form expected.
    """
    if text is None:
        return None
    match = _AS_OF.fullmatch(str(text).strip())
    if not match:
        raise InputError(
            f"as-of date {str(text)[:40]!r}: write a year or a year and month, YYYY or YYYY-MM (e.g. 2021-06)",
            option="as_of",
        )
    year, month = int(match.group(1)), int(match.group(2) or 1)
    if not 1 <= month <= 12:
        raise InputError(
            f"as-of date {str(text).strip()!r}: month {match.group(2)} does not exist; write 01 to 12 (e.g. {year}-06)",
            option="as_of",
        )
    if not 1900 <= year <= 2100:
        raise InputError(
            f"as-of date {str(text).strip()!r}: year {year} is out of range; write 1900 to 2100", option="as_of"
        )
    return f"{year}-{month:02d}-01"


def data_day(osm_timestamp: object) -> str | None:
    """The ISO day an OSM timestamp (``2026-01-01T00:00:00Z``) starts with, or None if it names no day."""
    try:
        return dt.date.fromisoformat(str(osm_timestamp or "")[:10]).isoformat()
    except ValueError:
        return None


def as_of_day(as_of: str | None, osm_timestamp: str | None) -> str:
    """The day routing asks about: ``as_of`` if given, else the OSM data date, else today."""
    if as_of:
        return (parse_as_of(as_of) or as_of) if len(as_of) < 10 else as_of
    return data_day(osm_timestamp) or dt.date.today().isoformat()


def dated_reason(years: tuple[int | None, ...], year_source: str, periods: tuple[Period, ...], day: str) -> str | None:
    """Why a link opened in ``years`` (the earliest counts: sources may disagree) and shut in ``periods`` could not
    be used on ``day`` (ISO), or ``None``."""
    known = [y for y in years if y is not None]
    if known and int(day[:4]) < min(known):
        return f"{NOT_OPENED} {day} (opened {min(known)}: {year_source})"
    for period in periods:
        if period.covers(day):
            return f"{SHUT_ON} {day}: {period.text()}"
    return None


def dated_code(years: tuple[int | None, ...], periods: tuple[Period, ...], day: str) -> str | None:
    """The reason code (``not_opened``, ``shut``) of :func:`dated_reason`'s answer, or ``None``."""
    known = [y for y in years if y is not None]
    if known and int(day[:4]) < min(known):
        return "not_opened"
    return "shut" if any(period.covers(day) for period in periods) else None


def shut_reason(crossing_id: str, day: str) -> str | None:
    """Why the gazetteer crossing ``crossing_id`` could not be used on ``day`` (ISO), or ``None``.

    A crossing not in the gazetteer has no dated facts: ``None``.
    """
    crossing: Crossing | None = _BY_ID.get(crossing_id)
    if crossing is None:
        return None
    return dated_reason(*_dated_facts(crossing_id, crossing.status), day)


def _dated_facts(cid: str, status: str) -> tuple[tuple[int | None, ...], str, tuple[Period, ...]]:
    """A crossing's opening years, their source, and the periods it was shut, as :func:`dated_reason` takes them.

    A crossing of unknown status the gazetteer gives no dates (found only in OpenStreetMap) was shut with every
    land crossing of the border in COVID-19 (:data:`~geo.sources.gazetteer.COVID_LAND`); a scenario's new
    crossing is as the scenario gives it.
    """
    crossing: Crossing | None = _BY_ID.get(cid)
    if crossing is None:
        return (), "", COVID_LAND if status == "unknown" else ()
    periods = crossing.periods or (COVID_LAND if status == "unknown" else ())
    return (crossing.year_opened, crossing.year_opened_alt), crossing.year_opened_source, periods


def _unknown_why(crossing_id: str) -> str:
    """Why a crossing's status is unknown, in short: found only in OSM, or no source says it is open now."""
    if crossing_id in _BY_ID:
        return "no source says it is open now; see its status source"
    return "found only in OpenStreetMap"


#: The reason codes of a crossing or link that could not be used on the day asked about.
DATED_CODES = ("shut", "not_opened", "closed", "unknown_status")


def dated_lines(crossings: pd.DataFrame, day: str) -> list[str]:
    """One line per crossing or sea link that could not be used on ``day``: its name, mode and why, in short.

    ``crossings`` is a routes ``crossings`` frame (``reason_code``, ``reason``).
    """
    from geo.crossings import crossing_label

    lines = []
    for _, row in crossings.iterrows():
        code = row.get("reason_code")
        if code not in DATED_CODES:
            continue
        if code == "shut":
            why = str(row["reason"]).partition(": ")[2].split("): ")[0] + ")"
        elif code == "not_opened":
            why = str(row["reason"]).split(":")[0] + ")"
        elif code == "closed":
            known = _BY_ID.get(row["crossing_id"])
            never = [p for p in known.periods if p.end is None] if known else []
            why = f"closed ({never[-1].why}; since {never[-1].start})" if never else "closed"
        else:
            why = f"status unknown ({_unknown_why(row['crossing_id'])}): not routed"
        lines.append(f"{crossing_label(row)}: {why}")
    return lines


def _not_yet_built(cid: str, day: str) -> str | None:
    """Why a crossing closed since it was completed (a bridge never opened) was not there on ``day``, or None."""
    crossing = _BY_ID.get(cid)
    never = [p for p in crossing.periods if p.end is None] if crossing else []
    if not never or day >= never[0].start:
        return None
    return f"not yet built on {day} (completed {never[0].start}, {never[0].why.removeprefix('completed, ')}: " + (
        f"{never[0].source})"
    )


def _why_not_usable(cid: str, status: str, day: str, unknown_crossings: str) -> tuple[str | None, str | None]:
    """The reason and code a crossing's facts give it on ``day``: its status unknown, not yet opened, or shut
    (taken as open, a crossing of unknown status is open when every land crossing was: :func:`_dated_facts`)."""
    if status == "unknown" and unknown_crossings == "closed":
        return f"{UNKNOWN_STATUS} ({_unknown_why(cid)}): routed only if taken as open", "unknown_status"
    years, source, periods = _dated_facts(cid, status)
    return dated_reason(years, source, periods, day), dated_code(years, periods, day)


def apply_dates(crossings: pd.DataFrame, day: str, unknown_crossings: str = "closed") -> pd.DataFrame:
    """Give every crossing that could not be used on ``day`` its reason (where it has none yet).

    Parameters
    ----------
    crossings
        With ``crossing_id``, ``status`` and ``reason`` (``None`` where usable so far).
    day
        ISO date of the question (:func:`as_of_day`).
    unknown_crossings
        ``"closed"``: crossings of status ``unknown`` (OpenStreetMap only, or
        so in the gazetteer) are listed but not routed; ``"open"``: they are
        routed as open.
    """
    import pandas as pd

    if unknown_crossings not in UNKNOWN_CHOICES:
        raise InputError(
            f"unknown crossings: {unknown_crossings!r}; choose one of {', '.join(UNKNOWN_CHOICES)}",
            option="unknown_crossings",
        )
    crossings = crossings.copy()
    codes = crossings["reason_code"] if "reason_code" in crossings else pd.Series(None, index=crossings.index)
    reasons: list[str | None] = []
    new_codes: list[str | None] = []
    for cid, status, reason, code in zip(crossings["crossing_id"], crossings["status"], crossings["reason"], codes):
        why, why_code = _why_not_usable(cid, status, day, unknown_crossings)
        if code == "closed":  # closed since it was completed; before then it was not there to be closed
            why, why_code = _not_yet_built(cid, day), "not_opened"
        if code == "rail" or why is None:
            reasons.append(reason if isinstance(reason, str) else None)
            new_codes.append(code if isinstance(reason, str) else None)
        else:  # what the world says first (shut, unknown), then what the data says (no road near)
            reasons.append(f"{why}{ALSO}{reason}" if isinstance(reason, str) else why)
            new_codes.append(why_code)
    crossings["reason"] = pd.Series(reasons, index=crossings.index, dtype=object)
    crossings["reason_code"] = pd.Series(new_codes, index=crossings.index, dtype=object)
    return crossings
