"""People per province: North Korea's 2008 census, each figure with its source.

The 2008 census (Central Bureau of Statistics, Pyongyang, with UNFPA support;
reference day 1 October 2008) counted 24,052,231 people: nine provinces,
Pyongyang, and 702,372 in military camps that no province holds. Rason was
part of North Hamgyong from 2004 to 2009, so the census's North Hamgyong
figure includes it; HamJi, which draws Rason as its own region (as OSM
does), takes Rason's own 2008 count out of North Hamgyong's.

The arithmetic is checked by the tests: the rows below plus the military
camps give the national total exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CENSUS_MILITARY_CAMPS", "CENSUS_TOTAL", "PROVINCE_POPULATION", "Population", "population_of"]

_WIKI_CENSUS = (
    "Wikipedia, '2008 North Korean census' (https://en.wikipedia.org/wiki/2008_North_Korean_census): national "
    "total 24,052,231; census of 1-15 October 2008 by the Central Bureau of Statistics"
)
_WIKI_PROVINCES = (
    "Wikipedia, 'Provinces of North Korea' (https://en.wikipedia.org/wiki/Provinces_of_North_Korea), list of "
    "provinces with 2008 census populations, and 702,372 people in military camps"
)
_WIKI_RASON = (
    "Wikipedia, 'Rason' (https://en.wikipedia.org/wiki/Rason): population 196,954 (2008); part of North "
    "Hamgyong province 2004-2009"
)

#: The national total of the 2008 census, and the people in military camps counted in no province.
CENSUS_TOTAL = 24_052_231
CENSUS_MILITARY_CAMPS = 702_372
_RASON = 196_954
_NORTH_HAMGYONG_WITH_RASON = 2_327_362
_PROVINCES = {
    "KP-02": 4_051_696,  # South Pyongan (Nampo was part of it in 2008)
    "KP-03": 2_728_662,  # North Pyongan
    "KP-04": 1_299_830,  # Chagang
    "KP-05": 2_310_485,  # South Hwanghae
    "KP-06": 2_113_672,  # North Hwanghae
    "KP-07": 1_477_582,  # Kangwon
    "KP-08": 3_066_013,  # South Hamgyong
    "KP-10": 719_269,  # Ryanggang
}


@dataclass(frozen=True)
class Population:
    """A region's people in the 2008 census, and where the figure comes from."""

    code: str
    people: int
    year: int
    source: str


def _table() -> dict[str, Population]:
    rows = {code: Population(code, people, 2008, _WIKI_PROVINCES) for code, people in _PROVINCES.items()}
    rows["KP-09"] = Population(
        "KP-09",
        _NORTH_HAMGYONG_WITH_RASON - _RASON,
        2008,
        f"derived: North Hamgyong's census count 2,327,362 ({_WIKI_PROVINCES}) less Rason's 196,954 ({_WIKI_RASON})",
    )
    rows["KP-13"] = Population("KP-13", _RASON, 2008, _WIKI_RASON)
    pyongyang = CENSUS_TOTAL - CENSUS_MILITARY_CAMPS - sum(_PROVINCES.values()) - _NORTH_HAMGYONG_WITH_RASON
    rows["KP-01"] = Population(
        "KP-01",
        pyongyang,
        2008,
        f"derived: the national total ({_WIKI_CENSUS}) less the nine provinces and the military camps "
        f"({_WIKI_PROVINCES})",
    )
    return rows


#: ISO 3166-2 code -> the region's 2008 census population.
PROVINCE_POPULATION: dict[str, Population] = _table()


def population_of(code: str) -> Population | None:
    """The 2008 census population of a North Korean region, or None (Chinese regions, groups).

    Examples
    --------
    >>> population_of("KP-10").people, population_of("KP-01").people
    (719269, 3255288)
    """
    return PROVINCE_POPULATION.get(code)
