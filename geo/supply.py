"""Supply models: which Chinese provinces' hubs and crossings goods may come through.

See :data:`settings.SUPPLY_MODELS`: ``hamji`` (Jilin) asks how far each
market is from HamJi trade, ``all-china`` (Jilin and Liaoning, Dandong-Sinuiju
included) how far it is from Chinese goods.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.errors import InputError

__all__ = ["apply_supply", "supply_provinces"]


def supply_provinces(supply: str) -> tuple[str, ...]:
    """The Chinese provinces whose hubs and crossings the supply model ``supply`` uses."""
    if supply not in settings.SUPPLY_MODELS:
        raise InputError(
            f"unknown supply model {supply!r}; choose one of {', '.join(settings.SUPPLY_MODELS)}", option="supply"
        )
    return settings.SUPPLY_MODELS[supply][0]


def apply_supply(crossings: pd.DataFrame, hubs: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame | None,
                  supply: str) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:  # fmt: skip
    """Leave out the hubs, and the crossings whose Chinese end is, in provinces the supply model does not use."""
    from geo.provinces import assign_regions

    allowed = set(supply_provinces(supply))
    hubs = hubs.assign(in_supply=hubs["province"].isin(allowed) if "province" in hubs else True)
    if provinces is None or provinces.empty or crossings.empty:
        crossings["cn_province"] = None
        return crossings, hubs
    side = assign_regions(crossings.geometry, provinces, countries=("CN",))["province"].to_numpy(object)
    crossings["cn_province"] = side
    outside = np.array([p is not None and p not in allowed for p in side])
    crossings.loc[outside & crossings["reason"].isna().to_numpy(), "reason"] = (
        f"outside the {supply} supply model (Chinese end in another province)"
    )
    return crossings, hubs
