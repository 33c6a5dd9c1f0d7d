"""What-if scenarios: close or add crossings, change speeds or border penalties.

A scenario is a small TOML file. The shipped ones live in ``geo/data/scenarios/``
and are named by their file stem (``hamji scenario wonjong_closed``); any
other file is named by its path. Every key is optional::

    name = "Wonjong–Quanhe bridge closed"
    description = "One sentence on what the scenario asks."
    supply = "land"                          # a supply model (geo.supply.SUPPLY_MODELS)

    [crossings]
    close = ["wonjong_quanhe"]              # crossing ids of the crossings layer
    open_only = ["namyang_tumen_road"]      # or: close every other crossing
    [[crossings.add]]                        # a new crossing
    id = "new_bridge"
    name = "A new bridge"
    lon = 130.0
    lat = 42.5
    mode = "road"                            # road or rail
    penalty_h = 2.0                          # optional

    [speeds]
    scale = { KP = 0.7 }                     # multiply every class of a country's speeds ...
    [speeds.scale.CN]                        # ... or some classes only (the others as the baseline)
    motorway = 0.7
    [speeds.KP]                              # or set classes (km/h), or the unpaved factor
    primary = 35
    unpaved_factor = 0.4

    [penalties]
    default_h = 2.0                          # every crossing ...
    namyang_tumen_road = 4.0                 # ... or one

A scenario changes the baseline run's own speeds and penalties (those the
routes stage recorded), so it differs from the baseline only where it says.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import Point

from geo import settings
from geo.assumptions import RunAssumptions
from geo.documents import load_toml
from geo.errors import InputError, clip
from geo.io import read_text
from geo.network import SPEED_CLASSES, SpeedTable, validate_speeds
from geo.supply import ALIASES, SUPPLY_MODELS, supply_model

SCENARIO_DIR = Path(__file__).parent / "data" / "scenarios"
TOP_KEYS = {"name", "description", "supply", "crossings", "speeds", "penalties"}
#: An added crossing must be this close (m) to the China–DPRK border line.
ADDED_CROSSING_MAX_M = 5_000
#: Largest factor a scenario may scale a country's speeds by.
MAX_SPEED_SCALE = 10
#: Largest scenario file read (bytes): a scenario is a few lines of TOML.
MAX_SCENARIO_BYTES = 1 << 20


@dataclass
class Scenario:
    """A parsed, not yet checked against the layers, scenario file."""

    key: str
    name: str
    description: str
    source: str
    close: list[str] = field(default_factory=list)
    open_only: list[str] = field(default_factory=list)
    add: list[dict] = field(default_factory=list)
    #: Country -> factor for every class, or class -> factor for some (per class, the routes can change).
    speed_scale: dict[str, float | dict[str, float]] = field(default_factory=dict)
    speed_overrides: dict[str, dict[str, float]] = field(default_factory=dict)
    unpaved_factor: dict[str, float] = field(default_factory=dict)
    default_penalty_h: float | None = None
    penalties_h: dict[str, float] = field(default_factory=dict)
    #: A supply model to route under instead of the baseline's (see :data:`geo.supply.SUPPLY_MODELS`).
    supply: str | None = None


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``geo/data/scenarios/``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def _number(value, what: str, source: str, maximum: float, minimum: float = 0.0, strict: bool = False) -> float:
    # An int is compared exactly (math.isfinite of a 400-digit TOML integer overflows); NaN is not finite.
    ok = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    ok = ok and not isinstance(value, bool)
    if not ok or value < minimum or (strict and value == minimum) or value > maximum:
        bound = f"{'more than' if strict else 'at least'} {minimum:g} and at most {maximum:g}"
        raise InputError(f"scenario {source}: {what} = {clip(repr(value), 60)}; it must be a number {bound}")
    return float(value)


#: Longest scenario name and description accepted (characters).
MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS = 200, 2_000


def scenario_key(stem: str) -> str:
    """A folder and file name for a scenario: its file stem, or a readable slug plus a short hash.

    Names that are not plain ASCII would otherwise all become ``_`` and
    overwrite each other's outputs.

    Examples
    --------
    >>> scenario_key("wonjong_closed")
    'wonjong_closed'
    >>> scenario_key("원정 closed")
    'closed-990b7b6b'
    """
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:60]
    if slug == stem:
        return slug
    return f"{slug or 'scenario'}-{hashlib.sha256(stem.encode()).hexdigest()[:8]}"


def load_scenario(name_or_path: str) -> Scenario:
    """Read a scenario by shipped name or path and check its shape (not yet its crossing ids)."""
    path = _scenario_path(name_or_path)
    source = str(path)
    text = read_text(path, "scenario file", max_bytes=MAX_SCENARIO_BYTES)
    data = load_toml(text, "scenario", path, hint="see geo/scenarios.py for the format")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise InputError(
            f"scenario {source}: unknown key(s) {', '.join(sorted(unknown))}; allowed: " + ", ".join(sorted(TOP_KEYS))
        )
    scenario = _scenario_header(data, scenario_key(path.stem), source)
    for table in ("crossings", "speeds", "penalties"):
        if not isinstance(data.get(table, {}), dict):
            raise InputError(f"scenario {source}: {table} must be a table ([{table}])")
    _read_crossings(scenario, data.get("crossings", {}), source)
    _read_speeds(scenario, data.get("speeds", {}), source)
    for cid, hours in data.get("penalties", {}).items():
        hours = _number(hours, f"penalties.{cid}", source, settings.MAX_PENALTY_H)
        if cid == "default_h":
            scenario.default_penalty_h = hours
        else:
            scenario.penalties_h[cid] = hours
    return scenario


def _scenario_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if name_or_path in shipped_scenarios():
        return SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.suffix and "/" not in name_or_path:
        close = difflib.get_close_matches(name_or_path, shipped_scenarios(), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise InputError(
            f"scenario {clip(repr(name_or_path), 60)} is neither a file nor a shipped scenario; {hint}"
            "shipped: " + ", ".join(shipped_scenarios())
        )
    return path


def _scenario_header(data: dict, key: str, source: str) -> Scenario:
    """The scenario's name, description and supply model."""
    for field_name, limit in (("name", MAX_NAME_CHARS), ("description", MAX_DESCRIPTION_CHARS)):
        value = data.get(field_name, "")
        if not isinstance(value, str) or len(value) > limit:
            raise InputError(f"scenario {source}: {field_name} must be text of at most {limit:,} characters")
    scenario = Scenario(key, str(data.get("name", key)), str(data.get("description", "")), source)
    if "supply" in data:
        name = ALIASES.get(str(data["supply"]), data["supply"])  # all-china: the old name of land
        if name not in SUPPLY_MODELS:
            raise InputError(
                f"scenario {source}: supply must be one of {', '.join(SUPPLY_MODELS)}, not {clip(data['supply'], 40)!r}"
            )
        scenario.supply = name
    return scenario


def _read_crossings(scenario: Scenario, crossings: dict, source: str) -> None:
    """``[crossings]``: the ids closed or left open alone, and the crossings added."""
    if not isinstance(crossings.get("add", []), list) or not all(isinstance(a, dict) for a in crossings.get("add", [])):
        raise InputError(f"scenario {source}: crossings.add must be a list of tables ([[crossings.add]])")
    for list_key in ("close", "open_only"):
        values = crossings.get(list_key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputError(f"scenario {source}: crossings.{list_key} must be a list of crossing ids")
        setattr(scenario, list_key, values)
    extra = set(crossings) - {"close", "open_only", "add"}
    if extra:
        raise InputError(f"scenario {source}: unknown key(s) crossings.{', crossings.'.join(sorted(extra))}")
    scenario.add.extend(_added_crossing(new, source) for new in crossings.get("add", []))


def _added_crossing(new: dict, source: str) -> dict:
    missing = {"id", "lon", "lat", "mode"} - set(new)
    if missing:
        raise InputError(f"scenario {source}: an added crossing lacks {', '.join(sorted(missing))}")
    cid = str(new["id"])
    lon, lat = new["lon"], new["lat"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lon, lat)) or not (
        -180 <= lon <= 180 and -90 <= lat <= 90
    ):  # NaN fails these comparisons too
        raise InputError(
            f"scenario {source}: added crossing {cid!r} has bad coordinates lon={lon!r}, "
            f"lat={lat!r}; give decimal degrees (lon -180..180, lat -90..90)"
        )
    if new["mode"] not in ("road", "rail"):
        raise InputError(f"scenario {source}: added crossing {cid!r} has mode {new['mode']!r}; use 'road' or 'rail'")
    penalty = new.get("penalty_h")
    if penalty is not None:
        penalty = _number(penalty, f"crossing {cid!r} penalty_h", source, settings.MAX_PENALTY_H)
    return {
        "id": cid,
        "name": str(new.get("name", cid)),
        "lon": float(lon),
        "lat": float(lat),
        "mode": new["mode"],
        "penalty_h": penalty,
    }


def _read_speeds(scenario: Scenario, speeds: dict, source: str) -> None:
    """``[speeds]``: scale factors per country, and km/h per country and road class."""
    for country, value in speeds.items():
        if not isinstance(value, dict):
            raise InputError(f"scenario {source}: speeds.{country} must be a table")
        if country == "scale":
            for c, factor in value.items():
                if c not in ("KP", "CN"):
                    raise InputError(f"scenario {source}: speeds.scale.{c}: use KP or CN")
                scenario.speed_scale[c] = _scale(factor, f"speeds.scale.{c}", source)
        elif country in ("KP", "CN"):
            for highway, kmh in value.items():
                if highway == "unpaved_factor":
                    what = f"speeds.{country}.unpaved_factor"
                    scenario.unpaved_factor[country] = _number(kmh, what, source, 1, strict=True)
                    continue
                if highway not in SPEED_CLASSES:
                    raise InputError(
                        f"scenario {source}: speeds.{country}.{highway}: unknown road class; "
                        "known: " + ", ".join(SPEED_CLASSES)
                    )
                scenario.speed_overrides.setdefault(country, {})[highway] = _number(
                    kmh, f"speeds.{country}.{highway}", source, settings.MAX_SPEED_KMH, strict=True
                )
        else:
            raise InputError(f"scenario {source}: speeds.{country}: use scale, KP or CN")


def _scale(value, what: str, source: str) -> float | dict[str, float]:
    """A factor for every class of one country's speeds, or a table of factors by class."""
    if not isinstance(value, dict):
        return _number(value, what, source, MAX_SPEED_SCALE, strict=True)
    unknown = sorted(set(value) - set(SPEED_CLASSES))
    if unknown:
        raise InputError(
            f"scenario {source}: {what}.{unknown[0]}: unknown road class; known: " + ", ".join(SPEED_CLASSES)
        )
    return {k: _number(v, f"{what}.{k}", source, MAX_SPEED_SCALE, strict=True) for k, v in value.items()}


def _scenario_speeds(scenario: Scenario, speeds: SpeedTable) -> SpeedTable:
    """The baseline's speed table as the scenario changes it (scaled by country or by class, then set).

    The same table, name kept, when it changes none.
    """
    if not scenario.speed_scale and not scenario.speed_overrides and not scenario.unpaved_factor:
        return speeds
    table = {c: dict(speeds.speeds[c]) for c in ("KP", "CN")}
    for country, factor in scenario.speed_scale.items():
        factors = factor if isinstance(factor, dict) else dict.fromkeys(table[country], factor)
        table[country] = {k: v * factors.get(k, 1.0) for k, v in table[country].items()}
    for country, values in scenario.speed_overrides.items():
        table[country].update(values)
    unpaved = {**speeds.unpaved_factor, **scenario.unpaved_factor}
    return validate_speeds(
        {c: {**table[c], "unpaved_factor": unpaved[c]} for c in table},
        f"{speeds.source}, changed by scenario {scenario.key}",
    )


def apply_scenario(
    scenario: Scenario, layers: dict[str, gpd.GeoDataFrame], baseline: RunAssumptions
) -> tuple[dict[str, gpd.GeoDataFrame], RunAssumptions]:
    """The layers and assumptions of the scenario, from the baseline's.

    Parameters
    ----------
    scenario
        From :func:`load_scenario`.
    layers
        The layers stage's ``roads``, ``crossings``, ``markets``, ``hubs``, ``border``.
    baseline
        What the baseline was routed under (its speeds, penalties and supply model are the ones changed).

    Raises
    ------
    InputError
        An unknown crossing id, or an added crossing off the border.
    """
    crossings = layers["crossings"].copy()
    known = list(crossings["crossing_id"])
    source = scenario.source
    for cid in [*scenario.close, *scenario.open_only, *scenario.penalties_h]:
        if cid not in known and cid not in {a["id"] for a in scenario.add}:
            raise InputError(
                f"scenario {source}: unknown crossing {cid!r}; known crossings: " + ", ".join(sorted(known))
            )
    added_ids = [new["id"] for new in scenario.add]
    for cid in added_ids:
        if cid in known or added_ids.count(cid) > 1:
            raise InputError(f"scenario {source}: added crossing id {cid!r} is already a crossing; pick another")

    closed = set(scenario.close)
    if scenario.open_only:
        closed |= set(known) - set(scenario.open_only)
    # The closure is the scenario's, not the gazetteer source's that said the crossing was open.
    crossings.loc[crossings["crossing_id"].isin(closed), ["status", "status_source"]] = [
        "closed",
        f"closed in scenario '{scenario.name}'",
    ]

    if scenario.add:
        border = layers["border"].to_crs(settings.MEASURE_CRS).union_all()
        rows = []
        for new in scenario.add:
            point = Point(new["lon"], new["lat"])
            measured = gpd.GeoSeries([point], crs=settings.STORE_CRS).to_crs(settings.MEASURE_CRS).iloc[0]
            distance = shapely.distance(measured, border) if not border.is_empty else math.inf
            if not distance <= ADDED_CROSSING_MAX_M:
                raise InputError(
                    f"scenario {source}: added crossing {new['id']!r} at lon={new['lon']}, "
                    f"lat={new['lat']} is {distance / 1000:,.1f} km from the China–North Korea border; "
                    f"a crossing must be within {ADDED_CROSSING_MAX_M / 1000:g} km of it"
                )
            rows.append(
                {
                    "crossing_id": new["id"],
                    "name_en": new["name"],
                    "mode": new["mode"],
                    "status": "open",
                    "status_source": f"scenario {scenario.key}",
                    "in_gazetteer": False,
                    "in_osm": False,
                    "osm_ids": None,
                    "geometry_source": f"scenario {scenario.key}",
                    "geometry": point,
                }
            )
        added = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.STORE_CRS)
        crossings = pd.concat([crossings, added], ignore_index=True)

    new_speeds = _scenario_speeds(scenario, baseline.speeds)
    new_penalties = dict(baseline.penalties_h)
    default_h = baseline.default_penalty_h
    if scenario.default_penalty_h is not None:
        new_penalties, default_h = {}, scenario.default_penalty_h
    for new in scenario.add:
        if new["penalty_h"] is not None:
            new_penalties[new["id"]] = new["penalty_h"]
    new_penalties.update(scenario.penalties_h)
    record = baseline.with_changes(
        speeds=new_speeds,
        penalties_h=new_penalties,
        default_penalty_h=default_h,
        supply=supply_model(scenario.supply) if scenario.supply else baseline.supply,
    )
    return {**layers, "crossings": crossings}, record
