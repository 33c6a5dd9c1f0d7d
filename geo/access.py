"""The standard measures of accessibility studies, as pure functions of the routes stage's layers.

- :func:`gravity_access`: gravity-type market access (Hansen 1959): each
  market's sum over the Chinese hubs of supply weight × exp(−β × hours).
- :func:`market_people` and :func:`people_within`: the people each market
  stands for, and how many of them are within t hours of a hub (as Weiss et
  al. 2018, Nature 553: 333–336, count people within an hour of a city).
- :func:`crossing_catchments`: the markets and people whose best route
  uses each crossing.

Each takes the GeoDataFrames the stages make and returns a Series (or,
for catchments, a layer), in the style of momepy, so that a notebook can
use them on any build.

Examples
--------
>>> import geo
>>> from geo import access
>>> layers = geo.demo_layers()
>>> markets = geo.route_markets(layers).markets
>>> index = access.gravity_access(markets)
>>> bool((index > 0).all()), round(float(index.max()), 2) <= len(access.hub_columns(markets))
(True, True)
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import settings
from geo.schema import HUB_HOURS_PREFIX, SCHEMAS, conform
from geo.sources.population import population_of

__all__ = [
    "beta_for_half_life",
    "crossing_catchments",
    "gravity_access",
    "gravity_by_half_life",
    "hub_columns",
    "market_people",
    "people_within",
]


def beta_for_half_life(half_life_h: float) -> float:
    """β (per hour) of an exponential decay that halves every ``half_life_h`` hours.

    Examples
    --------
    >>> round(beta_for_half_life(4.0), 4)
    0.1733
    """
    return math.log(2) / half_life_h


def hub_columns(markets: pd.DataFrame | pd.Series) -> list[str]:
    """The markets' columns of hours from each hub (``hours_from_Yanji`` …), written by the routes stage;
    of one market's row, its fields of them."""
    names = markets.index if isinstance(markets, pd.Series) else markets.columns
    return [c for c in names if str(c).startswith(HUB_HOURS_PREFIX)]


def gravity_access(
    markets: pd.DataFrame, beta: float | None = None, weights: dict[str, float] | None = None
) -> pd.Series:
    """Each market's gravity access to Chinese supply: Σ over hubs of weight × exp(−β × hours from the hub).

    Parameters
    ----------
    markets
        The routes stage's ``markets`` layer, with its ``hours_from_HUB``
        columns (NaN where a hub cannot reach the market: it adds nothing).
    beta
        Decay per hour; default ln 2 / :data:`settings.GRAVITY_HALF_LIFE_H`.
    weights
        Hub name -> supply weight; default :data:`settings.GRAVITY_HUB_WEIGHTS`,
        where a hub not named weighs 1.

    Returns
    -------
    pandas.Series
        One value per market (same index): with unit weights, the number of
        hubs "at the door" the market's access is worth; 0 for a market no
        hub reaches.

    Examples
    --------
    A hub at 0 h counts 1, one a half-life away ½, an unreachable one 0:

    >>> markets = pd.DataFrame({"hours_from_A": [0.0, 4.0], "hours_from_B": [4.0, float("nan")]})
    >>> gravity_access(markets, beta=beta_for_half_life(4.0)).round(3).tolist()
    [1.5, 0.5]
    """
    beta = beta_for_half_life(settings.GRAVITY_HALF_LIFE_H) if beta is None else beta
    weights = settings.GRAVITY_HUB_WEIGHTS if weights is None else weights
    total = pd.Series(0.0, index=markets.index)
    for column in hub_columns(markets):
        weight = float(weights.get(column.removeprefix(HUB_HOURS_PREFIX), 1.0))
        hours = markets[column].to_numpy(float)
        total += np.where(np.isnan(hours), 0.0, weight * np.exp(-beta * np.nan_to_num(hours)))
    return total


def gravity_by_half_life(markets: pd.DataFrame, half_lives_h: tuple[float, ...] | None = None) -> pd.DataFrame:
    """:func:`gravity_access` for each half-life (default :data:`settings.GRAVITY_SENSITIVITY_HALF_LIVES_H`).

    Columns ``gravity_half_2h`` …, one row per market: the sensitivity of the
    index to β.
    """
    half_lives = settings.GRAVITY_SENSITIVITY_HALF_LIVES_H if half_lives_h is None else half_lives_h
    return pd.DataFrame(
        {f"gravity_half_{h:g}h": gravity_access(markets, beta_for_half_life(h)) for h in half_lives},
        index=markets.index,
    )


def market_people(markets: pd.DataFrame, areas: pd.DataFrame | None = None) -> pd.Series:
    """The people each market stands for: its province's census people spread evenly over its markets.

    Parameters
    ----------
    markets
        Markets with a ``province`` column.
    areas
        Optional, one row per people area with ``people`` and ``market`` (the
        index label of the market nearest it; see
        :func:`geo.reach.nearest_market_people`): each market then stands for
        the people of the areas nearest to it instead.

    Examples
    --------
    >>> markets = pd.DataFrame({"province": ["KP-10", "KP-10"]})  # Ryanggang, 719,269 in 2008
    >>> market_people(markets).tolist()
    [359634.5, 359634.5]
    """
    if areas is not None:
        held = areas.groupby("market")["people"].sum()
        return pd.Series(held.reindex(markets.index).fillna(0.0).to_numpy(float), index=markets.index)
    counts = markets["province"].map(markets["province"].value_counts())
    census = markets["province"].map(_census)
    return (census / counts).astype(float)


def _census(code: str) -> float:
    """A province's 2008 census count, NaN for a code without one."""
    found = population_of(code)
    return float(found.people) if found else math.nan


def people_within(markets: pd.DataFrame, people: pd.Series, hours: float, column: str = "total_h") -> pd.Series:
    """People within ``hours`` of a hub, per province (``column`` ``total_h``: hub → market time).

    Examples
    --------
    >>> markets = pd.DataFrame({"province": ["KP-10", "KP-10", "KP-09"], "total_h": [1.5, 5.0, float("nan")]})
    >>> people_within(markets, pd.Series([100.0, 50.0, 70.0]), 4).to_dict()
    {'KP-09': 0.0, 'KP-10': 100.0}
    """
    inside = markets[column].to_numpy(float) <= hours
    return (
        pd.Series(np.where(inside, people.to_numpy(float), 0.0), index=markets.index).groupby(markets["province"]).sum()
    )


def crossing_catchments(
    markets: gpd.GeoDataFrame, crossings: gpd.GeoDataFrame, people: pd.Series, people_basis: str = "markets"
) -> gpd.GeoDataFrame:
    """Each crossing's catchment: the markets whose best hub → market route uses it, and their people.

    Parameters
    ----------
    markets
        The routes stage's ``markets`` (``best_crossing``, NaN/None where unrouted).
    crossings
        The routes stage's ``crossings`` (``crossing_id``, ``usable``).
    people
        People per market (:func:`market_people`), same index as ``markets``.
    people_basis
        What ``people`` rests on, recorded in each row: ``markets`` (census
        counts spread over each province's markets) or ``areas``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per usable crossing, the schema of
        :data:`geo.schema.SCHEMAS` ``catchments``: ``markets``, ``people``,
        each as a share of all markets and of all people the markets stand
        for (people in provinces without a mapped market are in no
        catchment), the median hub → market hours of its markets, and their points
        as a MultiPoint (empty for a crossing no market's best route uses).

    Examples
    --------
    >>> import geo
    >>> layers = geo.demo_layers()
    >>> routes = geo.route_markets(layers)
    >>> table = crossing_catchments(routes.markets, routes.crossings, market_people(routes.markets))
    >>> int(table["markets"].sum()) == int(routes.markets["reachable"].sum())
    True
    """
    from geo.crossings import crossing_name

    usable = crossings[crossings["usable"].astype(bool)]
    best = markets["best_crossing"].where(markets["total_h"].notna())
    total_people = float(people.sum())
    rows = []
    for _, crossing in usable.iterrows():
        mine = (best == crossing["crossing_id"]).to_numpy()
        served = float(people[mine].sum())
        rows.append(
            {
                "crossing_id": crossing["crossing_id"],
                "crossing_name": crossing_name(crossing),
                "markets": int(mine.sum()),
                "markets_share": float(mine.sum() / len(markets)) if len(markets) else math.nan,
                "people": served,
                "people_share": served / total_people if total_people else math.nan,
                "people_basis": people_basis,
                "hub_h_median": float(markets.loc[mine, "total_h"].median()) if mine.any() else math.nan,
                "geometry": shapely.MultiPoint(list(markets.geometry[mine])) if mine.any() else shapely.MultiPoint(),
            }
        )
    frame = gpd.GeoDataFrame(rows, columns=[*SCHEMAS["catchments"], "geometry"], geometry="geometry", crs=markets.crs)
    return conform(frame, "catchments")
