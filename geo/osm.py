"""Read OpenStreetMap: live from Overpass (through osmnx) or from local extracts.

Both paths return the same :class:`RawOsm` bundle of GeoDataFrames, so the
layer builder never knows where the data came from. Local extracts are read
with pyosmium (libosmium's Python bindings): one streaming reader for
``.osm.pbf``, ``.osm`` and ``.osm.bz2`` that also assembles multipolygon and
boundary relations into areas.
"""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

import geopandas as gpd
import osmium
import osmium.version
import pandas as pd
import requests
import shapely
from shapely.geometry import box

from geo import settings
from geo.errors import HamjiError, InputError, OverpassError, SourceError, clip
from geo.io import check_input_file

log = logging.getLogger(__name__)
SYNTHETIC_TAG = settings.SYNTHETIC_TAG

#: Tags copied from OSM into the raw frames, per kind of feature.
ROAD_KEYS = ("highway", "name", "name:en", "name:ko", "ref", "surface", "bridge", "oneway", "maxspeed")
RAIL_KEYS = ("railway", "name", "name:en", "bridge")
MARKET_KEYS = ("amenity", "name", "name:en", "name:ko")
CONTROL_KEYS = ("barrier", "name", "name:en", "name:ko")
BOUNDARY_KEYS = ("boundary", "admin_level", "ISO3166-2", "name", "name:en", "name:ko")
PLACE_KEYS = ("place", "name", "name:en", "name:zh", "name:ko", "population")
KINDS = ("boundaries", "roads", "rail", "markets", "border_controls", "places")
KEYS = {"boundaries": BOUNDARY_KEYS, "roads": ROAD_KEYS, "rail": RAIL_KEYS, "markets": MARKET_KEYS,
        "border_controls": CONTROL_KEYS, "places": PLACE_KEYS}


def _progress(message: str) -> None:
    log.info(message)


@dataclass
class RawOsm:
    """OSM features as read, before any cleaning. One frame per kind."""

    frames: dict[str, gpd.GeoDataFrame]
    provenance: dict = field(default_factory=dict)

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        return self.frames[kind]


def _frame(rows: list[dict], keys: tuple[str, ...]) -> gpd.GeoDataFrame:
    columns = ["osm_type", "osm_id", *keys, SYNTHETIC_TAG, "geometry"]
    frame = pd.DataFrame(rows, columns=columns)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=settings.STORE_CRS)


def tag_filters() -> dict[str, dict]:
    """The tag filters used on every source, recorded in each layer's provenance."""
    return {
        "roads": settings.ROAD_TAGS,
        "rail": settings.RAIL_TAGS,
        "markets": settings.MARKET_TAGS,
        "border_controls": settings.BORDER_CONTROL_TAGS,
        "places": settings.PLACE_TAGS,
        "boundaries": settings.BOUNDARY_TAGS,
    }


def _tool_versions() -> dict[str, str]:
    import osmnx

    from geo import __version__

    return {"hamji": __version__, "osmnx": osmnx.__version__, "pyosmium": osmium.version.pyosmium_release,
            "geopandas": gpd.__version__}


# --------------------------------------------------------------------------
# local extracts
# --------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_extract_path(path: Path) -> Path:
    """Fail with a one-line message unless ``path`` looks like a readable extract."""
    path = check_input_file(Path(path), "OSM extract", given=f"given to --osm or {settings.OSM_ENV_VAR}")
    if path.name.lower().endswith((".osh", ".osh.pbf", ".osh.bz2", ".osh.gz", ".osc", ".osc.gz", ".osc.bz2")):
        raise InputError(f"OSM extract {path} is a history or change file; give a plain extract "
                         "(.osm.pbf, .osm, .osm.bz2)")
    if not path.name.lower().endswith(settings.EXTRACT_SUFFIXES):
        raise InputError(f"OSM extract {path} is not an .osm.pbf, .osm or .osm.bz2 file; "
                         "download an extract (e.g. from Geofabrik) in one of those formats")
    if path.stat().st_size == 0:
        raise InputError(f"OSM extract {path} is empty; download it again")
    return path


class _ExtractReader:
    """Collects the features HamJi needs from one pass of pyosmium."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {kind: [] for kind in KINDS}
        self.wkb = osmium.geom.WKBFactory()
        self.latest = None
        self.synthetic = False
        self.objects = 0
        self.not_assembled = 0
        self._market_rings: dict[int, tuple] = {}
        self._broken_markets: list[int] = []

    @staticmethod
    def _tags(obj, keys: tuple[str, ...]) -> dict:
        tags = obj.tags
        return {key: tags.get(key) for key in (*keys, SYNTHETIC_TAG)}

    def _row(self, kind: str, osm_type: str, osm_id: int, obj, keys, geometry) -> None:
        row = {"osm_type": osm_type, "osm_id": osm_id, "geometry": geometry, **self._tags(obj, keys)}
        if row[SYNTHETIC_TAG] == "yes":
            self.synthetic = True
        self.rows[kind].append(row)

    def _point(self, node):
        return shapely.Point(node.location.lon, node.location.lat)

    def node(self, node) -> None:
        tags = node.tags
        if tags.get("amenity") == "marketplace":
            self._row("markets", "node", node.id, node, MARKET_KEYS, self._point(node))
        if tags.get("barrier") == "border_control":
            self._row("border_controls", "node", node.id, node, CONTROL_KEYS, self._point(node))
        if tags.get("place") in settings.PLACE_TAGS["place"]:
            self._row("places", "node", node.id, node, PLACE_KEYS, self._point(node))

    def way(self, way) -> None:
        tags = way.tags
        if tags.get("amenity") == "marketplace" and way.is_closed():
            # Kept in case libosmium cannot assemble the area (a broken ring):
            # then the market is repaired from this ring instead of lost.
            self._market_rings[way.id] = (self._ring(way), self._tags(way, MARKET_KEYS))
        highway = tags.get("highway")
        is_road = highway in settings.ROAD_TAGS["highway"]
        is_rail = tags.get("railway") in settings.RAIL_TAGS["railway"] and tags.get("bridge", "no") != "no"
        if not (is_road or is_rail):
            return
        try:
            line = shapely.from_wkb(self.wkb.create_linestring(way))
        except (osmium.InvalidLocationError, RuntimeError):
            # A way whose nodes were clipped off by the extract: nothing to draw.
            return
        if is_road:
            self._row("roads", "way", way.id, way, ROAD_KEYS, line)
        if is_rail:
            self._row("rail", "way", way.id, way, RAIL_KEYS, line)

    def area(self, area) -> None:
        tags = area.tags
        is_market = tags.get("amenity") == "marketplace"
        is_boundary = (not area.from_way() and tags.get("boundary") == "administrative"
                       and tags.get("admin_level") in settings.BOUNDARY_TAGS["admin_level"])
        is_control = tags.get("barrier") == "border_control"
        if not (is_market or is_boundary or is_control):
            return
        try:
            geometry = shapely.from_wkb(self.wkb.create_multipolygon(area))
        except RuntimeError:
            if is_market and area.from_way():
                self._broken_markets.append(area.orig_id())
            else:
                self.not_assembled += 1  # reported in the build summary, not dropped silently
            return
        osm_type = "way" if area.from_way() else "relation"
        if is_market:
            self._row("markets", osm_type, area.orig_id(), area, MARKET_KEYS, geometry)
        if is_boundary:
            self._row("boundaries", osm_type, area.orig_id(), area, BOUNDARY_KEYS, geometry)
        if is_control:
            self._row("border_controls", osm_type, area.orig_id(), area, CONTROL_KEYS, geometry.centroid)

    def _ring(self, way):
        try:
            return shapely.from_wkb(self.wkb.create_linestring(way))
        except (osmium.InvalidLocationError, RuntimeError):
            return None

    def _repair_markets(self) -> None:
        """Markets whose closed way libosmium could not assemble: the ring made valid (bow ties and all)."""
        for way_id in self._broken_markets:
            ring, tags = self._market_rings.get(way_id, (None, None))
            if ring is None or len(ring.coords) < 4:
                self.not_assembled += 1
                continue
            # The layers stage repairs the ring (make_valid) and flags it.
            row = {"osm_type": "way", "osm_id": way_id, "geometry": shapely.Polygon(ring.coords), **tags}
            self.rows["markets"].append(row)

    def read(self, path: Path) -> None:
        keys = ("highway", "railway", "amenity", "barrier", "boundary", "place")
        processor = (osmium.FileProcessor(str(path)).with_areas()
                     .with_filter(osmium.filter.KeyFilter(*keys)))
        for obj in processor:
            self.objects += 1
            if self.objects % 500_000 == 0:
                _progress(f"  {path.name}: {self.objects:,} tagged objects read")
            stamp = obj.timestamp if hasattr(obj, "timestamp") else None
            if stamp is not None and stamp.year > 1970 and (self.latest is None or stamp > self.latest):
                self.latest = stamp
            if obj.is_node():
                self.node(obj)
            elif obj.is_way():
                self.way(obj)
            elif obj.is_area():
                self.area(obj)
        self._repair_markets()


def _header_timestamp(path: Path) -> str | None:
    try:
        header = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header()
    except RuntimeError:
        return None
    return header.get("osmosis_replication_timestamp") or header.get("timestamp") or None


def read_extracts(paths: list[Path]) -> RawOsm:
    """Read one or more local OSM extracts.

    Parameters
    ----------
    paths
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` files; features present in
        several (e.g. a country extract and a neighbouring clip) are kept once.

    Returns
    -------
    RawOsm
    """
    if not paths:
        raise HamjiError(f"no OSM extract given; pass --osm FILE or set {settings.OSM_ENV_VAR}")
    frames: dict[str, list[gpd.GeoDataFrame]] = {kind: [] for kind in KINDS}
    inputs, stamps, synthetic, not_assembled = [], [], False, 0
    for path in (check_extract_path(Path(p)) for p in paths):
        _progress(f"reading {path} …")
        reader = _ExtractReader()
        try:
            reader.read(path)
        except RuntimeError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise HamjiError(f"cannot read OSM extract {path}: {reason}; the file is corrupt or truncated, "
                             "download it again") from None
        if reader.objects == 0:
            raise HamjiError(f"OSM extract {path} holds no roads, markets, boundaries or border controls; "
                             "check that it is an extract of the HamJi region")
        header_stamp = _header_timestamp(path)
        stamp = header_stamp or (reader.latest.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                                 if reader.latest else None)
        stamps.append(stamp)
        synthetic = synthetic or reader.synthetic
        not_assembled += reader.not_assembled
        inputs.append({"path": str(path.resolve()), "sha256": _sha256(path), "osm_timestamp": stamp,
                       "timestamp_from": "file header" if header_stamp else "latest object"})
        for kind in KINDS:
            frames[kind].append(_frame(reader.rows[kind], KEYS[kind]))
    merged = {}
    for kind, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        merged[kind] = gpd.GeoDataFrame(frame.drop_duplicates(["osm_type", "osm_id"]).reset_index(drop=True),
                                        geometry="geometry", crs=settings.STORE_CRS)
    known = [s for s in stamps if s]
    provenance = {
        "source": "local extract" + ("s" if len(inputs) > 1 else ""),
        "inputs": inputs,
        # The oldest input bounds how current the combined data is.
        "osm_timestamp": min(known) if known else None,
        "tag_filters": tag_filters(),
        "tools": _tool_versions(),
        "synthetic": synthetic,
        "areas_not_assembled": not_assembled,
    }
    return RawOsm(merged, provenance)


# --------------------------------------------------------------------------
# Overpass, through osmnx
# --------------------------------------------------------------------------

class _OverpassGuard:
    """Checks every Overpass answer before osmnx parses or caches it.

    osmnx treats an HTML error page served with status 200 as "no features",
    returns (without caching) an answer whose ``remark`` says the query timed
    out or ran out of memory, and retries 429/504 forever. Installed as a
    ``requests`` response hook, this guard retries 429/504 a bounded number
    of times and turns every other failure into an :class:`OverpassError`,
    raised before osmnx sees the answer, so a bad answer is never cached and
    never becomes an empty layer.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.query = "Overpass"

    def __call__(self, response: requests.Response, *args, **kwargs) -> requests.Response:
        if response.request.method != "POST" or not response.url.rstrip("/").endswith("/interpreter"):
            return response  # osmnx's /status probe for its rate limit
        for _ in range(settings.OVERPASS_RETRIES):
            if response.status_code not in (429, 504):
                break
            time.sleep(settings.OVERPASS_RETRY_PAUSE_S)
            retry = response.request.copy()
            retry.hooks = {"response": []}
            with requests.Session() as session:
                response = session.send(retry, timeout=settings.OVERPASS_TIMEOUT)
        self.check(response)
        return response

    def check(self, response: requests.Response) -> dict:
        """The answer's JSON, or an :class:`OverpassError` saying what is wrong with it."""
        if response.status_code in (429, 504):
            what = "too many requests" if response.status_code == 429 else "gateway timeout"
            self.fail(f"HTTP {response.status_code} ({what}) after {settings.OVERPASS_RETRIES} retries")
        if not response.ok:
            self.fail(f"HTTP {response.status_code} {response.reason}")
        try:
            data = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type").split(";")[0]
            self.fail(f"the answer is not JSON but {kind} (an error page?)")
        if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
            self.fail("the answer is JSON without an 'elements' list")
        if data.get("remark"):
            self.fail(clip(data["remark"]))
        return data

    def fail(self, reason: str) -> NoReturn:
        raise OverpassError(self.url, self.query, reason)


_GUARD: _OverpassGuard | None = None


def configure_osmnx(overpass_url: str) -> _OverpassGuard:
    """Point osmnx at ``overpass_url`` with HamJi's cache, limits and answer checks."""
    import osmnx as ox

    global _GUARD
    _GUARD = _OverpassGuard(overpass_url)
    ox.settings.overpass_url = overpass_url.rstrip("/")
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(settings.OVERPASS_CACHE_DIR)
    ox.settings.requests_timeout = settings.OVERPASS_TIMEOUT
    ox.settings.max_query_area_size = settings.OVERPASS_MAX_QUERY_AREA_M2
    ox.settings.requests_kwargs = {"hooks": {"response": [_GUARD]}}
    ox.settings.log_console = False
    return _GUARD


def overpass_timestamp(overpass_url: str) -> str:
    """Ask Overpass for the date of its data; fail clearly if it cannot be reached."""
    url = overpass_url.rstrip("/") + "/interpreter"
    guard = _OverpassGuard(overpass_url)
    guard.query = "data date"
    try:
        response = requests.post(url, data={"data": "[out:json][timeout:25];out;"}, timeout=30,
                                 hooks={"response": [guard]})
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise SourceError(f"cannot reach Overpass at {overpass_url} ({reason}); check the network, set "
                          "--overpass-url, or use a local extract with --osm") from None
    stamp = guard.check(response).get("osm3s", {}).get("timestamp_osm_base")
    if not isinstance(stamp, str):
        guard.fail("the answer has no osm3s.timestamp_osm_base: is this an Overpass API?")
    return clip(stamp, 40)


def _features(polygon, tags: dict, keys: tuple[str, ...], query: str) -> gpd.GeoDataFrame:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    if _GUARD is not None:
        _GUARD.query = query
    try:
        with warnings.catch_warnings():
            # osmnx warns that it splits a large area into several queries: expected here.
            warnings.simplefilter("ignore", UserWarning)
            found = ox.features_from_polygon(polygon, tags)
    except InsufficientResponseError:
        # Every answer passed the guard: the area really holds none of these.
        return _frame([], keys)
    except requests.RequestException as exc:
        raise OverpassError(ox.settings.overpass_url, query, f"the request failed ({type(exc).__name__})") from None
    found = found.reset_index().rename(columns={"element": "osm_type", "id": "osm_id"})
    # osmnx splits large polygons into several requests and keeps every copy
    # of a feature that more than one of them returned.
    found = found.drop_duplicates(["osm_type", "osm_id"])
    for key in (*keys, SYNTHETIC_TAG):
        if key not in found.columns:
            found[key] = None
    found = found[["osm_type", "osm_id", *keys, SYNTHETIC_TAG, "geometry"]]
    return gpd.GeoDataFrame(found, geometry="geometry", crs=settings.STORE_CRS)


def fetch_boundaries(overpass_url: str) -> gpd.GeoDataFrame:
    """Province and prefecture boundary relations in the HamJi query box."""
    import osmnx as ox

    configure_osmnx(overpass_url)
    # One request: split into cells, every cell would return the same few
    # province relations with all their member ways again.
    ox.settings.max_query_area_size = float("inf")
    _progress("fetching province boundaries from Overpass …")
    try:
        found = _features(box(*settings.BOUNDARY_QUERY_BBOX),
                          {"admin_level": settings.BOUNDARY_TAGS["admin_level"]}, BOUNDARY_KEYS, "province boundaries")
    finally:
        ox.settings.max_query_area_size = settings.OVERPASS_MAX_QUERY_AREA_M2
    keep = (found["osm_type"] == "relation") & (found["boundary"] == "administrative")
    keep &= found.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    return found[keep].reset_index(drop=True)


def fetch_features(overpass_url: str, area, border_area) -> dict[str, gpd.GeoDataFrame]:
    """Roads and markets inside ``area``; border controls and rail bridges in ``border_area``."""
    configure_osmnx(overpass_url)
    _progress("fetching roads from Overpass …")
    roads = _features(area, settings.ROAD_TAGS, ROAD_KEYS, "roads")
    roads = roads[(roads["osm_type"] == "way") & (roads.geom_type == "LineString")]
    _progress("fetching markets from Overpass …")
    markets = _features(area, settings.MARKET_TAGS, MARKET_KEYS, "markets")
    markets = markets[markets["amenity"] == "marketplace"]
    _progress("fetching border controls and rail bridges from Overpass …")
    controls = _features(border_area, settings.BORDER_CONTROL_TAGS, CONTROL_KEYS, "border controls")
    controls = controls[controls["barrier"] == "border_control"]
    controls = controls.set_geometry(controls.geometry.representative_point()) if len(controls) else controls
    _progress("fetching towns and cities from Overpass …")
    places = _features(area, settings.PLACE_TAGS, PLACE_KEYS, "towns and cities")
    places = places[(places["osm_type"] == "node") & places["place"].isin(settings.PLACE_TAGS["place"])]
    rail = _features(border_area, settings.RAIL_TAGS, RAIL_KEYS, "rail bridges")
    rail = rail[(rail["osm_type"] == "way") & rail["bridge"].notna() & (rail["bridge"] != "no")
                & (rail.geom_type == "LineString")]
    return {"roads": roads.reset_index(drop=True), "markets": markets.reset_index(drop=True),
            "border_controls": controls.reset_index(drop=True), "rail": rail.reset_index(drop=True),
            "places": places.reset_index(drop=True)}


def overpass_provenance(overpass_url: str, stamp: str, frames: dict[str, gpd.GeoDataFrame]) -> dict:
    """Provenance record of an Overpass read."""
    synthetic = any((frame[SYNTHETIC_TAG] == "yes").any() for frame in frames.values() if len(frame))
    return {
        "source": "Overpass API",
        "inputs": [{"url": overpass_url, "osm_timestamp": stamp,
                    "fetched_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}],
        "osm_timestamp": stamp,
        "tag_filters": tag_filters(),
        "tools": _tool_versions(),
        "synthetic": synthetic,
    }
