"""Border penalties (``--penalty CROSSING=HOURS``, scenario ``[penalties]``): parsed and checked.

Light on purpose (no geopandas): ``hamji build`` checks its penalties
against the gazetteer before it reads anything, so that a typo fails at once.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from geo import settings
from geo.errors import InputError
from geo.regions import BY_CODE
from geo.sources.gazetteer import CROSSINGS

__all__ = ["check_penalties", "check_penalty_crossings", "name_key", "parse_penalties"]


def check_penalties(
    penalties: dict[str, float], crossing_ids: list[str] | None, names: dict[str, str] | None = None
) -> dict[str, float]:
    """``penalties`` by crossing id, if every key is a crossing and every value in range.

    A key may be a crossing's id or, with ``names`` (name -> id), its name
    as the maps show it (any case, any dash: :func:`name_key`); the result is keyed by id. A value must
    be from 0 to :data:`settings.MAX_PENALTY_H` hours. An unknown key names
    the closest crossings.

    With ``crossing_ids`` ``None`` only the hours are checked (before the
    crossings are known).
    """
    by_name = {name_key(cid): cid for cid in crossing_ids or []} | {
        name_key(name): cid for name, cid in (names or {}).items()
    }
    checked: dict[str, float] = {}
    for name, hours in penalties.items():
        cid = name
        if crossing_ids is not None and name not in crossing_ids:
            found = by_name.get(name_key(name))
            if found is None:
                raise _unknown_crossing(name, crossing_ids, names or {})
            cid = found
        if not 0 <= hours <= settings.MAX_PENALTY_H:
            raise InputError(
                f"border penalty for {name!r}: {hours:g} is not a number of hours from 0 to {settings.MAX_PENALTY_H:g}",
                option="penalties",
            )
        checked[cid] = hours
    return checked


def _unknown_crossing(key: str, crossing_ids: list[str], names: dict[str, str]) -> InputError:
    """The error for a penalty on no crossing: the crossings by the names the maps show, the closest first."""
    shown = {cid: cid for cid in crossing_ids} | {cid: name for name, cid in names.items()}
    labels = {name_key(label): shown[cid] for cid, label in [*shown.items(), *((c, c) for c in crossing_ids)]}
    close = difflib.get_close_matches(name_key(key), list(labels), n=3, cutoff=0.5)
    suggested = list(dict.fromkeys(labels[k] for k in close))
    return InputError(
        f"border penalty for {key!r}: unknown crossing; known crossings: "
        + ", ".join(sorted(set(shown.values())))
        + (f"; did you mean {' or '.join(map(repr, suggested))}?" if suggested else ""),
        option="penalties",
    )


def parse_penalties(values: list[str] | None, crossing_ids: list[str] | None = None) -> dict[str, float]:
    """``ID=HOURS`` texts as a dict of hours by crossing id, checked by :func:`check_penalties`."""
    penalties = {}
    for value in values or []:
        name, _, hours = value.partition("=")
        try:
            penalties[name] = float(hours)
        except ValueError:
            raise InputError(
                f"border penalty {value!r}: {hours!r} is not a number of hours; write CROSSING=HOURS (its name or id)",
                option="penalties",
            ) from None
    return check_penalties(penalties, crossing_ids)


#: The id of a crossing found in OSM only (not in the gazetteer): known once the layers are read.
_OSM_CROSSING_ID = re.compile(r"osm_(node|way|relation)_\d+")


def check_penalty_crossings(keys: Iterable[str], provinces: Iterable[str]) -> None:
    """Check ``--penalty`` crossings against the gazetteer before any OSM is read, so a typo fails at once.

    A key that is a gazetteer id or name (any case or dash, :func:`name_key`) must lie in one of
    ``provinces`` (the codes a build reads), or the layers would not hold it.
    A key close to a gazetteer crossing and matching none is a typo, named
    with the closest. Any other key (an OSM-only crossing's id or name) can
    only be checked once the layers exist, as routing does.

    Raises
    ------
    InputError
        Naming the key, the closest crossings, or the province to add.
    """
    by_key = {name_key(c.crossing_id): c for c in CROSSINGS} | {name_key(c.name_en): c for c in CROSSINGS}
    chosen = set(provinces)
    for key in keys:
        crossing = by_key.get(name_key(key))
        if crossing is not None:
            if crossing.province not in chosen:
                region = BY_CODE[crossing.province]
                raise InputError(
                    f"border penalty for {key!r}: {crossing.name_en} is in {region.name} ({region.code}), which this "
                    f"build does not read; add --province {region.code} or leave the penalty out",
                    option="penalties",
                )
            continue
        if _OSM_CROSSING_ID.fullmatch(key):
            continue
        close = _closest(key)
        if close:
            raise InputError(
                f"border penalty for {key!r}: no crossing has that name or id; did you mean "
                + " or ".join(map(repr, close))
                + "? (write CROSSING=HOURS with a crossing's name as the maps show it, or its id)",
                option="penalties",
            )


#: What a typed crossing name may differ by from the gazetteer's: spaces, underscores, and any dash
#: (a keyboard's hyphen for the en dash the gazetteer writes, a minus sign, an em dash).
_IGNORED_IN_NAMES = re.compile(r"[\s_\-\u2010-\u2015\u2212]")


def name_key(text: str) -> str:
    """A crossing's name or id as compared: ``Namyang-Tumen``, ``namyang – tumen`` and ``Namyang–Tumen`` are one.

    Examples
    --------
    >>> name_key("Namyang-Tumen") == name_key("namyang – tumen") == name_key("Namyang–Tumen") == "namyangtumen"
    True
    """
    return _IGNORED_IN_NAMES.sub("", unicodedata.normalize("NFKC", text).casefold())


def _closest(key: str) -> list[str]:
    """Up to three gazetteer crossings like ``key`` (its id or name the same but for case and dashes, starting
    with it, or close), by the names the maps show: readers never see the ids."""
    labels = [*((c.crossing_id, c.name_en) for c in CROSSINGS), *((c.name_en, c.name_en) for c in CROSSINGS)]
    folded = name_key(key)
    same = [name for label, name in labels if name_key(label) == folded]
    starting = [name for label, name in labels if len(folded) >= 3 and name_key(label).startswith(folded)]
    close = difflib.get_close_matches(key.casefold(), [label.casefold() for label, _ in labels], n=3, cutoff=0.6)
    similar = [name for label, name in labels if label.casefold() in close]
    return list(dict.fromkeys([*same, *starting, *similar]))[:3]
