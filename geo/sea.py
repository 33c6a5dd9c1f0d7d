"""Sea links as crossings: one more entry into North Korea in the same multi-source routing.

Each link of :mod:`geo.sources.maritime` becomes a row shaped like a placed
crossing (:func:`geo.routes.compute_routes`): its North Korean end is the
port snapped to the road network, its "hub" the Chinese port, and its hub
time the hours from the Chinese quay to the North Korean one (wait for a
sailing, sail at :data:`settings.SEA_SPEED_KN`, :data:`settings.SEA_DWELL_H`
in port). Customs at the port take the border penalty, as at a land
crossing. A link shut on the routing date, or whose port is farther than
:data:`settings.SNAP_MAX_M` from a road, is listed with the reason and not
used.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geo import settings
from geo.sources.gazetteer import periods_text
from geo.sources.maritime import SEA_LINKS, SeaLink
from geo.status import dated_code, dated_reason

__all__ = ["sea_crossings", "sea_ports"]


def _row(link: SeaLink, day: str, penalties: dict[str, float]) -> dict:
    hours = link.sea_hours()
    return {
        "crossing_id": link.link_id,
        "name_en": link.name_en,
        "kp_town": link.kp_port,
        "cn_town": link.cn_port,
        "mode": "sea",
        "status": "open",
        "status_source": link.status_source,
        "year_opened": link.year_opened,
        "year_opened_source": link.year_opened_source,
        "periods": periods_text(link.periods),
        "coord_source": link.kp_coord_source,
        "province": link.kp_province,
        "cn_province": link.cn_province,
        "in_gazetteer": True,
        "in_osm": False,
        "geometry_source": "gazetteer",
        "facts_source": (
            f"{link.distance_source}; speed {settings.SEA_SPEED_KN:g} kn and {settings.SEA_DWELL_H:g} h in port "
            f"(assumptions, geo/settings.py); wait for a sailing {link.wait_h:.1f} h ({link.wait_source}); "
            f"Chinese port: {link.cn_coord_source}"
        ),
        "hub": link.cn_port,
        "hub_crossing_h": hours,
        "sea_km": link.distance_nm * 1.852,
        "cn_port_lon": link.cn_lon,
        "cn_port_lat": link.cn_lat,
        "penalty_h": penalties.get(link.link_id, settings.BORDER_PENALTY_H),
        "reason": dated_reason((link.year_opened,), link.year_opened_source, link.periods, day),
        "reason_code": dated_code((link.year_opened,), link.periods, day),
        "geometry": Point(link.kp_lon, link.kp_lat),
    }


def sea_ports() -> gpd.GeoDataFrame:
    """The North Korean ports of the sea links (store CRS), for the road graph to keep as nodes."""
    return gpd.GeoDataFrame(geometry=[Point(link.kp_lon, link.kp_lat) for link in SEA_LINKS], crs=settings.STORE_CRS)


def sea_crossings(snap, day: str, penalties: dict[str, float] | None = None) -> pd.DataFrame:
    """Every sea link as a placed crossing (store CRS), snapped by ``snap`` (measuring-CRS points -> node, metres).

    Parameters
    ----------
    snap
        The North Korean side's :meth:`~geo.network.Side.snap`.
    day
        ISO date routing asks about (:func:`geo.status.as_of_day`).
    penalties
        Hours of customs by link id; the others take :data:`settings.BORDER_PENALTY_H`.
    """
    rows = [_row(link, day, penalties or {}) for link in SEA_LINKS]
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.STORE_CRS)
    measured = frame.to_crs(settings.MEASURE_CRS).geometry
    node, metres = snap(np.column_stack([measured.x, measured.y]))
    frame["kp_node"], frame["kp_snap_m"] = node, metres
    frame["cn_node"], frame["cn_snap_m"] = -1, np.nan
    far = (metres > settings.SNAP_MAX_M) & frame["reason"].isna().to_numpy()
    frame.loc[far, "reason"] = f"port more than {settings.SNAP_MAX_M:,} m from the North Korean roads"
    frame.loc[far, "reason_code"] = "no_road_near"
    frame["usable"] = frame["reason"].isna()
    return frame
