"""Supply models: where Chinese goods may come from, as typed data.

A :class:`SupplyModel` names the Chinese regions whose hubs and crossings it
uses and the modes it routes on:

- ``hamji`` asks how far each market is from Jilin's trade by land (Park's
  HamJi, the published argument's question);
- ``land`` adds Liaoning (Dandong-Sinuiju, where most of North Korea's China
  trade crosses): how far each market is from Chinese goods by road
  (``all-china``, its old name, still works);
- ``all`` adds every other channel: the rail crossings and the North Korean
  rail network (:mod:`geo.rail`), and the sea links to Nampo
  (:mod:`geo.sea`). What stays out: Russia's Khasan-Rajin rail, informal
  trade and smuggling.

Examples
--------
>>> model = supply_model("land")
>>> model.regions, model.needs_region("CN-LN"), supply_model("all-china") is model
(('CN-JL', 'CN-LN'), True, True)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError, clip

__all__ = [
    "ALIASES",
    "DEFAULT_SUPPLY",
    "SUPPLY_MODELS",
    "SupplyModel",
    "apply_supply",
    "supply_model",
    "supply_regions",
]


@dataclass(frozen=True)
class SupplyModel:
    """One way goods may come from China.

    Attributes
    ----------
    name
        What the user types (``--supply NAME``).
    regions
        ISO 3166-2 codes of the Chinese provinces whose hubs and crossings
        the model uses; the layers must hold them.
    description
        What the model measures, in words, for every page that shows a result.
    modes
        The channels goods may take: ``road`` (and, where a model adds them,
        ``rail`` and ``sea``).
    """

    name: str
    regions: tuple[str, ...]
    description: str
    modes: frozenset[str] = frozenset({"road"})

    def needs_region(self, code: str) -> bool:
        """True when the model routes through hubs or crossings of Chinese province ``code``."""
        return code in self.regions

    def missing_regions(self, present: set[str] | list[str]) -> tuple[str, ...]:
        """The regions this model needs that ``present`` lacks (then it silently equals a smaller model)."""
        return tuple(sorted(set(self.regions) - set(present)))


HAMJI = SupplyModel("hamji", ("CN-JL",), "Park's HamJi: Jilin's hubs and crossings by road (Tumen and upper Yalu)")
LAND = SupplyModel(
    "land",
    ("CN-JL", "CN-LN"),
    "every land crossing by road: Jilin's and Liaoning's hubs and crossings, Dandong-Sinuiju included",
)
ALL = SupplyModel(
    "all",
    ("CN-JL", "CN-LN"),
    "every channel: the land crossings by road and rail (North Korean rail to the stations), and the sea links "
    "from Dalian and Longkou to Nampo",
    frozenset({"road", "rail", "sea"}),
)

#: Every supply model by name.
SUPPLY_MODELS: dict[str, SupplyModel] = {model.name: model for model in (HAMJI, LAND, ALL)}
#: Old names still accepted.
ALIASES = {"all-china": LAND.name}
#: The model of a run that names none: every channel, so that "far" means far from Chinese goods.
DEFAULT_SUPPLY = ALL.name


def supply_model(name: str | SupplyModel) -> SupplyModel:
    """The supply model called ``name``, or one line naming the choices (and the closest one).

    Examples
    --------
    >>> supply_model("hamji").regions
    ('CN-JL',)
    """
    if isinstance(name, SupplyModel):
        return name
    name = ALIASES.get(str(name), name)
    if name in SUPPLY_MODELS:
        return SUPPLY_MODELS[name]
    close = difflib.get_close_matches(str(name), [*SUPPLY_MODELS, *ALIASES], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise InputError(
        f"unknown supply model {clip(name, 40)!r}{hint}; choose one of {', '.join(SUPPLY_MODELS)}", option="supply"
    )


def supply_regions(requested: list[str] | None, model: SupplyModel) -> list[str]:
    """The province labels to build layers for: ``requested`` (None: all) plus the regions ``model`` needs.

    Examples
    --------
    >>> supply_regions(["border"], supply_model("all-china"))
    ['border', 'CN-LN']
    """
    from geo.regions import resolve_selection

    labels = list(requested or ["all"])
    present = {region.code for region in resolve_selection(labels)}
    return labels + [code for code in model.regions if code not in present]


def apply_supply(crossings: pd.DataFrame, hubs: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame | None,
                  supply: SupplyModel) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:  # fmt: skip
    """Leave out the hubs, and the crossings whose Chinese end is, in provinces the supply model does not use."""
    from geo.provinces import assign_regions

    allowed = set(supply.regions)
    hubs = hubs.assign(in_supply=hubs["province"].isin(allowed) if "province" in hubs else True)
    if provinces is None or provinces.empty or crossings.empty:
        crossings["cn_province"] = None
        return crossings, hubs
    side = assign_regions(crossings.geometry, provinces, countries=("CN",))["province"].to_numpy(object)
    crossings["cn_province"] = side
    outside = np.array([p is not None and p not in allowed for p in side])
    crossings.loc[outside & crossings["reason"].isna().to_numpy(), "reason"] = (
        f"outside the {supply.name} supply model (Chinese end in another province)"
    )
    return crossings, hubs
