"""The provinces HamJi Explorer knows, and which of them are compared.

Codes are ISO 3166-2 (source: ISO 3166-2:KP as listed on
https://en.wikipedia.org/wiki/ISO_3166-2:KP — KP-11 and KP-12 are unused and
KP-15 Kaesong is listed in the current edition — and ISO 3166-2:CN for Jilin, CN-JL).
OpenStreetMap tags each province's ``boundary=administrative`` relation with
``ISO3166-2``; the aliases below match other spellings (Natural Earth,
GeoNames, OSM ``name:en``) so that reference data can be joined by name too.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from geo.errors import InputError, clip


@dataclass(frozen=True)
class Region:
    """A first-level division (or, for Yanbian, a Chinese prefecture)."""

    code: str
    name: str
    name_ko: str
    country: str
    group: str
    admin_level: int = 4
    aliases: tuple[str, ...] = field(default=())
    #: The Chinese name, for regions in China (labelled after the Korean one).
    name_zh: str = ""
    #: Built only when asked for (by name, or by the all-china supply model): most extracts lack it.
    optional: bool = False


#: Groups used by the comparison: the HamJi border provinces, the provinces far
#: from the border the published argument contrasts them with, the rest of
#: North Korea, and the Chinese side.
BORDER = "border"
FAR = "far"
OTHER = "other"
CHINA = "china"

REGIONS: tuple[Region, ...] = (
    Region(
        "KP-09",
        "North Hamgyong",
        "함경북도",
        "KP",
        BORDER,
        aliases=("Hamgyŏng-bukto", "Hamgyong-bukto", "Hamgyong-pukto", "Hambuk", "North Hamgyŏng"),
    ),
    Region(
        "KP-13",
        "Rason",
        "라선특별시",
        "KP",
        BORDER,
        aliases=("Rasŏn", "Rason City", "Rajin-Sonbong", "Nason-si", "Rason Special City"),
    ),
    Region("KP-10", "Ryanggang", "량강도", "KP", BORDER, aliases=("Ryanggang-do", "Yanggang-do", "Ryanggang Province")),
    Region("KP-05", "South Hwanghae", "황해남도", "KP", FAR, aliases=("Hwanghae-namdo", "South Hwanghae Province")),
    Region(
        "KP-06",
        "North Hwanghae",
        "황해북도",
        "KP",
        FAR,
        aliases=("Hwanghae-bukto", "Hwanghae-pukto", "North Hwanghae Province"),
    ),
    Region("KP-07", "Kangwon", "강원도", "KP", FAR, aliases=("Kangwŏn-do", "Kangwon-do", "Kangwon Province")),
    Region(
        "KP-01",
        "Pyongyang",
        "평양직할시",
        "KP",
        OTHER,
        aliases=("P'yŏngyang", "Pyongyang-si", "P'yongyang-si", "Pyongyang Capital City"),
    ),
    Region(
        "KP-02", "South Pyongan", "평안남도", "KP", OTHER, aliases=("P'yŏngan-namdo", "P'yongan-namdo", "Pyongan-namdo")
    ),
    Region(
        "KP-03", "North Pyongan", "평안북도", "KP", OTHER, aliases=("P'yŏngan-bukto", "P'yongan-bukto", "Pyongan-bukto")
    ),
    Region("KP-04", "Chagang", "자강도", "KP", OTHER, aliases=("Chagang-do",)),
    Region("KP-08", "South Hamgyong", "함경남도", "KP", OTHER, aliases=("Hamgyŏng-namdo", "Hamgyong-namdo", "Hamnam")),
    Region("KP-14", "Nampo", "남포특별시", "KP", OTHER, aliases=("Namp'o", "Nampho")),
    Region("KP-15", "Kaesong", "개성특급시", "KP", OTHER, aliases=("Kaesŏng", "Kaesong City")),
    Region(
        "CN-JL", "Jilin", "길림성", "CN", CHINA, aliases=("Jilin Sheng", "吉林省", "Jilin Province"), name_zh="吉林省"
    ),
    # Dandong-Sinuiju, where most of North Korea's China trade crosses, is in Liaoning.
    Region(
        "CN-LN",
        "Liaoning",
        "료녕성",
        "CN",
        CHINA,
        aliases=("Liaoning Sheng", "辽宁省", "Liaoning Province"),
        name_zh="辽宁省",
        optional=True,
    ),  # fmt: skip
)

#: Yanbian is a prefecture (OSM admin_level 5) inside Jilin; Chinese features
#: record it separately because the HamJi wholesalers sit there.
YANBIAN = Region(
    "CN-JL-YB",
    "Yanbian",
    "연변조선족자치주",
    "CN",
    CHINA,
    admin_level=5,
    aliases=("Yanbian Korean Autonomous Prefecture", "延边朝鲜族自治州", "延边州"),
    name_zh="延边朝鲜族自治州",
)

BY_CODE = {r.code: r for r in REGIONS}


def _fold(text: str) -> str:
    """Lower-case, strip accents, apostrophes, spaces and hyphens."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s'’`\-_.]", "", text.lower())


_LOOKUP: dict[str, Region] = {}
for _region in (*REGIONS, YANBIAN):
    for _label in (_region.code, _region.name, _region.name_ko, *_region.aliases):
        _LOOKUP[_fold(_label)] = _region


class UnknownRegionError(InputError, ValueError):
    """A province name or code that is not in :data:`REGIONS`.

    Attributes
    ----------
    label : str
        The name or code as given.
    """

    def __init__(self, label: str, message: str):
        self.label = label
        super().__init__(message, option="regions")


def find_region(label: str) -> Region:
    """Return the region a code or name refers to.

    Parameters
    ----------
    label
        An ISO 3166-2 code (``KP-09``), an English name (``North Hamgyong``)
        or a known alias (``Hamgyŏng-bukto``); case and accents are ignored.

    Returns
    -------
    Region
    """
    region = _LOOKUP.get(_fold(label))
    if region is None:
        close = _closest(label)
        known = ", ".join(f"{r.code} {r.name}" for r in REGIONS)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise UnknownRegionError(label, f"unknown province {clip(label, 60)!r}; {hint}use one of: {known}")
    return region


def _closest(label: str) -> list[str]:
    """The regions whose code, name or alias is spelled most like ``label`` (difflib), by English name.

    Examples
    --------
    >>> _closest("North Hamgyon"), _closest("ryangang"), _closest("xyz")
    (['North Hamgyong', 'South Hamgyong'], ['Ryanggang'], [])
    """
    matches = difflib.get_close_matches(_fold(label), list(_LOOKUP), n=6, cutoff=0.75)
    return list(dict.fromkeys(_LOOKUP[match].name for match in matches))[:3]


def regions_in_group(*groups: str) -> list[Region]:
    """Regions whose group is one of ``groups``, in table order (optional ones only when named)."""
    return [r for r in REGIONS if r.group in groups and not r.optional]


def resolve_selection(labels: list[str] | None) -> list[Region]:
    """Turn province labels (codes, names in any script, or group names) into regions.

    ``None`` or ``["all"]`` selects every North Korean province and Jilin: the
    road network between a crossing and a distant market runs through
    provinces that are not compared themselves, so routing needs them all.
    ``border``, ``far`` and ``china`` select a group. Jilin is always added,
    since the hubs and the Chinese ends of the crossings are there.
    """
    if not labels or [lab.lower() for lab in labels] == ["all"]:
        return [r for r in REGIONS if not r.optional]
    chosen: list[Region] = []
    for label in labels:
        group = label.lower()
        if group == "all":
            picked = [r for r in REGIONS if not r.optional]
        else:
            picked = regions_in_group(group) if group in (BORDER, FAR, OTHER, CHINA) else [find_region(label)]
        if any(r.code == YANBIAN.code for r in picked):
            picked = [BY_CODE["CN-JL"]]
        chosen.extend(r for r in picked if r not in chosen)
    if BY_CODE["CN-JL"] not in chosen:
        chosen.append(BY_CODE["CN-JL"])
    return chosen
