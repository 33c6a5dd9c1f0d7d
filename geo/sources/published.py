"""Published counts of North Korean markets, each with the source it comes from.

OpenStreetMap maps only some of North Korea's markets, and published counts
disagree with each other (they count different things: official "general
markets", or street markets too). The reach table prints OSM's count beside
these so a reader sees how much of the country OSM covers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedCount:
    """One published market count for a province (or ``KP`` for the country)."""

    code: str
    markets: int
    year: int
    by: str
    source: str
    note: str = ""


_MOON_2016 = (
    "Moon Young-soon (satellite imagery and defector interviews), reported by UPI/Yonhap, "
    "21 Nov 2016: http://gephardtdaily.com/business/"
    "north-korea-regime-legitimizing-countrys-expanding-markets-study-says/"
)
_NIS_2015 = (
    "South Korean intelligence estimate reported by Yonhap, 27 Dec 2015, via NK Economy Watch: "
    "https://www.nkeconwatch.com/2015/12/27/"
    "some-new-south-korean-intelligence-estimate-figures-on-markets-in-north-korea/"
)
_MELVIN_2016 = (
    "Curtis Melvin (US-Korea Institute at SAIS), satellite imagery count reported by Radio Free "
    "Asia, via Daily NK Japan: http://dailynk.jp/archives/85155 and KBS World: "
    "http://world.kbs.co.kr/service/news_view.htm?Seq_Code=66609&lang=g"
)

#: Most recent first within a province; the reach table shows the first.
PUBLISHED_COUNTS: tuple[PublishedCount, ...] = (
    PublishedCount(
        "KP",
        436,
        2016,
        "Curtis Melvin, USKI",
        _MELVIN_2016,
        "official markets on satellite imagery; five months later the same count gave 468",
    ),
    PublishedCount("KP", 450, 2016, "Moon Young-soon", _MOON_2016, "about 450 legally operating markets"),
    PublishedCount("KP-02", 67, 2016, "Moon Young-soon", _MOON_2016),
    PublishedCount("KP-09", 63, 2016, "Moon Young-soon", _MOON_2016),
    PublishedCount("KP-03", 59, 2016, "Moon Young-soon", _MOON_2016),
    PublishedCount("KP", 306, 2015, "South Korean intelligence", _NIS_2015),
    PublishedCount("KP-02", 37, 2015, "South Korean intelligence", _NIS_2015),
    PublishedCount("KP-08", 36, 2015, "South Korean intelligence", _NIS_2015),
    PublishedCount("KP-03", 34, 2015, "South Korean intelligence", _NIS_2015),
    PublishedCount("KP-01", 23, 2015, "South Korean intelligence", _NIS_2015),
)


def published_for(code: str) -> list[PublishedCount]:
    """Every published count for a province code (or ``KP``), most recent first."""
    return sorted((p for p in PUBLISHED_COUNTS if p.code == code), key=lambda p: -p.year)
