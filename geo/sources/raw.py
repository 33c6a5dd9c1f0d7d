"""What every OpenStreetMap source returns: the :class:`RawOsm` bundle.

Overpass (:mod:`geo.sources.overpass`), local extracts
(:mod:`geo.sources.extracts`) and the demo fixture all end here, so the
layer builder never knows where the data came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import osmium.version
import pandas as pd

from geo import settings

SYNTHETIC_TAG = settings.SYNTHETIC_TAG

#: Tags copied from OSM into the raw frames, per kind of feature.
ROAD_KEYS = ("highway", "name", "name:en", "name:ko", "ref", "surface", "bridge", "oneway", "maxspeed")
#: Rail lines (ways) and stations (nodes) share one frame; ``railway`` tells them apart.
RAIL_KEYS = ("railway", "name", "name:en", "name:ko", "bridge", "usage", "service", "gauge", "electrified")
MARKET_KEYS = ("amenity", "name", "name:en", "name:ko", "name:ko-Latn")
CONTROL_KEYS = ("barrier", "name", "name:en", "name:ko")
BOUNDARY_KEYS = ("boundary", "admin_level", "ISO3166-2", "name", "name:en", "name:ko")
PLACE_KEYS = ("place", "name", "name:en", "name:zh", "name:ko", "population")
KINDS = ("boundaries", "roads", "rail", "markets", "border_controls", "places")
KEYS = {
    "boundaries": BOUNDARY_KEYS,
    "roads": ROAD_KEYS,
    "rail": RAIL_KEYS,
    "markets": MARKET_KEYS,
    "border_controls": CONTROL_KEYS,
    "places": PLACE_KEYS,
}


@dataclass
class RawOsm:
    """OSM features as read, before any cleaning. One frame per kind."""

    frames: dict[str, gpd.GeoDataFrame]
    provenance: dict = field(default_factory=dict)

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        return self.frames[kind]


def to_frame(rows: list[dict], keys: tuple[str, ...]) -> gpd.GeoDataFrame:
    # Local extracts record each object's version, so that the newest copy wins across files.
    versioned = ["osm_version"] if rows and "osm_version" in rows[0] else []
    columns = ["osm_type", "osm_id", *keys, SYNTHETIC_TAG, *versioned, "geometry"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=settings.STORE_CRS)


def tag_filters() -> dict[str, dict]:
    """The tag filters used on every source, recorded in each layer's provenance."""
    return {
        "roads": settings.ROAD_TAGS,
        "rail": settings.RAIL_TAGS,
        "stations": settings.STATION_TAGS,
        "markets": settings.MARKET_TAGS,
        "border_controls": settings.BORDER_CONTROL_TAGS,
        "places": settings.PLACE_TAGS,
        "boundaries": settings.BOUNDARY_TAGS,
    }


def tool_versions() -> dict[str, str]:
    from importlib.metadata import version

    from geo import __version__

    return {
        "hamji": __version__,
        # From its installed metadata: importing osmnx (and networkx) to read it cost 0.3 s of CPU per run.
        "osmnx": version("osmnx"),
        "pyosmium": osmium.version.pyosmium_release,
        "geopandas": gpd.__version__,
    }
