"""Untrusted JSON and TOML documents (market lists, people areas, scenarios, speed tables).

One loader for each format, so that every file a user gives is parsed the
same way: a syntax error, nesting deeper than :data:`MAX_DEPTH` (which
would otherwise end in a ``RecursionError``, in the parser or later) and a
GeoJSON member of the wrong JSON type are each an
:class:`~geo.errors.InputError` naming the file, and the feature where
there is one.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from geo.errors import InputError, clip

#: No HamJi input nests deeper than a handful of levels (a GeoJSON
#: MultiPolygon is 6 inside its feature collection).
MAX_DEPTH = 32
_GEOJSON = "GeoJSON (a FeatureCollection)"


def _depth(data: object) -> int:
    """How deeply ``data`` nests lists and dicts, walked without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((item, level + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def _too_deep(what: str, path: Path, option: str | None) -> InputError:
    message = f"{what} {clip(path, 120)} nests deeper than {MAX_DEPTH} levels; no such file does"
    return InputError(message, option=option)


def load_json(text: str, what: str, path: Path, option: str | None = None, kind: str = "valid JSON") -> object:
    """The JSON document ``text`` (``what`` at ``path``, which should be ``kind``), checked for depth."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep(what, path, option) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} {clip(path, 120)} is not {kind} ({clip(exc, 80)})", option=option) from None
    if _depth(data) > MAX_DEPTH:
        raise _too_deep(what, path, option)
    return data


def load_toml(text: str, what: str, path: Path, option: str | None = None, hint: str = "") -> dict:
    """The TOML document ``text`` (the contents of ``what`` at ``path``), checked for depth."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise _too_deep(what, path, option) from None
    except tomllib.TOMLDecodeError as exc:
        message = f"{what} {clip(path, 120)} is not valid TOML ({clip(exc, 120)})" + (f"; {hint}" if hint else "")
        raise InputError(message, option=option) from None
    if _depth(data) > MAX_DEPTH:
        raise _too_deep(what, path, option)
    return data


def geojson_features(text: str, what: str, path: Path, option: str | None = None) -> list[dict]:
    """The features of a GeoJSON FeatureCollection, each checked to be an object with the right member types.

    Each feature comes back as ``{"geometry": dict or None, "properties": dict}``
    (a missing or null ``properties`` is empty).
    """
    data = load_json(text, what, path, option, _GEOJSON)
    if not isinstance(data, dict):
        raise InputError(f"{what} {clip(path, 120)} is not {_GEOJSON}", option=option)
    features = data.get("features")
    if not isinstance(features, list):
        kind = "no" if features is None else f"a {_kind(features)} as its"
        raise InputError(f"{what} {clip(path, 120)} has {kind} 'features' (it must be a list)", option=option)
    return [_feature(feature, number, what, path, option) for number, feature in enumerate(features, 1)]


def _kind(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), "null"
    )


def _feature(feature: object, number: int, what: str, path: Path, option: str | None) -> dict:
    where = f"{what} {clip(path, 120)}, feature {number}"
    if not isinstance(feature, dict):
        raise InputError(f"{where} is a {_kind(feature)}, not a GeoJSON Feature object", option=option)
    checked = {}
    for member, empty in (("geometry", None), ("properties", {})):
        value = feature.get(member)
        if value is not None and not isinstance(value, dict):
            raise InputError(
                f"{where}: '{member}' is a {_kind(value)} ({clip(json.dumps(value), 40)}), not an object or null",
                option=option,
            )
        checked[member] = empty if value is None else value
    return checked
