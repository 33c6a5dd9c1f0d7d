"""Read OpenStreetMap live from an Overpass API server, through osmnx.

Every answer passes :class:`_OverpassGuard` before osmnx parses or caches
it, so a failed query is an :class:`~geo.errors.OverpassError`, never an
empty layer.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import types
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import NoReturn

import geopandas as gpd
import requests
from shapely.geometry import box

from geo import settings
from geo.errors import InputError, OverpassError, SourceError, clip
from geo.provinces import border_line, check_coverage, match_provinces
from geo.regions import Region
from geo.sources.raw import (
    BOUNDARY_KEYS,
    CONTROL_KEYS,
    MARKET_KEYS,
    PLACE_KEYS,
    RAIL_KEYS,
    ROAD_KEYS,
    SYNTHETIC_TAG,
    RawOsm,
    tag_filters,
    to_frame,
    tool_versions,
)

log = logging.getLogger(__name__)


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
    """Point osmnx at ``overpass_url`` with HamJi's cache, limits and answer checks.

    Changes ``osmnx.settings`` for good: call it inside :func:`osmnx_settings`,
    which puts every setting back afterwards.
    """
    import osmnx as ox

    global _GUARD
    _GUARD = _OverpassGuard(overpass_url)
    ox.settings.overpass_url = overpass_url.rstrip("/")
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(settings.OVERPASS_CACHE_DIR)
    ox.settings.requests_timeout = max(1, round(settings.OVERPASS_TIMEOUT))  # an Overpass QL [timeout:] is whole
    ox.settings.max_query_area_size = settings.OVERPASS_MAX_QUERY_AREA_M2
    ox.settings.requests_kwargs = {"hooks": {"response": [_GUARD]}}
    ox.settings.log_console = False
    # osmnx's /status probe loops (and recurses) on a status page it does not
    # understand; the guard bounds the retries of a rate-limited answer instead.
    ox.settings.overpass_rate_limit = False
    # Never ask a public DNS-over-HTTPS server where the Overpass host is.
    ox.settings.doh_url_template = None
    return _GUARD


@contextmanager
def osmnx_settings() -> Iterator[None]:
    """Every ``osmnx.settings`` value as it was before the block, restored after it (even on an error)."""
    import osmnx as ox

    saved = {
        name: (dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value)
        for name, value in vars(ox.settings).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType | types.FunctionType | type)
    }
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)


@contextmanager
def _deadline(seconds: float, url: str, query: str) -> Iterator[None]:
    """Raise :class:`OverpassError` if the block (connect and the whole answer) takes over ``seconds``.

    ``requests``' timeout bounds each read, not the answer: a server sending
    a byte now and then never trips it. An interval timer does; it works in
    the main thread only (elsewhere the block runs with the per-read timeout).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(*_) -> None:
        raise OverpassError(url, query, f"no complete answer within {seconds:g} s (the server stalled or is too slow)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _requests_needed(polygon) -> int:
    """How many requests osmnx splits ``polygon`` into (1 if its private helper is gone)."""
    try:
        from osmnx._overpass import _make_overpass_polygon_coord_strs

        return max(len(_make_overpass_polygon_coord_strs(polygon)), 1)
    except (ImportError, ValueError, TypeError):
        return 1


def overpass_timestamp(overpass_url: str) -> str:
    """Ask Overpass for the date of its data; fail clearly if it cannot be reached."""
    url = overpass_url.rstrip("/") + "/interpreter"
    guard = _OverpassGuard(overpass_url)
    guard.query = "data date"
    try:
        seconds = min(settings.OVERPASS_STATUS_TIMEOUT, settings.OVERPASS_TIMEOUT)
        with _deadline(seconds, overpass_url, guard.query):
            response = requests.post(
                url,
                data={"data": "[out:json][timeout:25];out;"},
                timeout=seconds,
                hooks={"response": [guard]},
            )
            data = guard.check(response)
    except requests.ConnectionError as exc:  # ConnectTimeout included
        reason = type(exc).__name__
        raise SourceError(
            f"cannot reach Overpass at {overpass_url} ({reason}); check the network and the "
            "server address, or use a local extract",
            option="overpass_url",
        ) from None
    except requests.RequestException as exc:
        guard.fail(f"the answer broke off or was malformed ({type(exc).__name__})")
    status = data.get("osm3s")
    stamp = (status if isinstance(status, dict) else {}).get("timestamp_osm_base")
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
            parts = _requests_needed(polygon) if ox.settings.max_query_area_size != float("inf") else 1
            with _deadline(parts * (settings.OVERPASS_TIMEOUT + 10), ox.settings.overpass_url, query):
                found = ox.features_from_polygon(polygon, tags)
    except InsufficientResponseError:
        # Every answer passed the guard: the area really holds none of these.
        return to_frame([], keys)
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
    log.info("fetching province boundaries from Overpass …")
    try:
        found = _features(
            box(*settings.BOUNDARY_QUERY_BBOX),
            {"admin_level": settings.BOUNDARY_TAGS["admin_level"]},
            BOUNDARY_KEYS,
            "province boundaries",
        )
    finally:
        ox.settings.max_query_area_size = settings.OVERPASS_MAX_QUERY_AREA_M2
    keep = (found["osm_type"] == "relation") & (found["boundary"] == "administrative")
    keep &= found.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    return found[keep].reset_index(drop=True)


def fetch_features(overpass_url: str, area, border_area) -> dict[str, gpd.GeoDataFrame]:
    """Roads, rail, markets and towns inside ``area``; border controls in ``border_area``."""
    configure_osmnx(overpass_url)
    log.info("fetching roads from Overpass …")
    roads = _features(area, settings.ROAD_TAGS, ROAD_KEYS, "roads")
    roads = roads[(roads["osm_type"] == "way") & (roads.geom_type == "LineString")]
    log.info("fetching markets from Overpass …")
    markets = _features(area, settings.MARKET_TAGS, MARKET_KEYS, "markets")
    markets = markets[markets["amenity"] == "marketplace"]
    log.info("fetching border controls from Overpass …")
    controls = _features(border_area, settings.BORDER_CONTROL_TAGS, CONTROL_KEYS, "border controls")
    controls = controls[controls["barrier"] == "border_control"]
    controls = controls.set_geometry(controls.geometry.representative_point()) if len(controls) else controls
    log.info("fetching towns and cities from Overpass …")
    places = _features(area, settings.PLACE_TAGS, PLACE_KEYS, "towns and cities")
    places = places[(places["osm_type"] == "node") & places["place"].isin(settings.PLACE_TAGS["place"])]
    log.info("fetching railways and stations from Overpass …")
    wanted = {"railway": [*settings.RAIL_TAGS["railway"], *settings.STATION_TAGS["railway"]]}
    rail = _features(area, wanted, RAIL_KEYS, "railways and stations")
    lines = (
        (rail["osm_type"] == "way")
        & (rail.geom_type == "LineString")
        & rail["railway"].isin(settings.RAIL_TAGS["railway"])
    )
    stations = (rail["osm_type"] == "node") & rail["railway"].isin(settings.STATION_TAGS["railway"])
    rail = rail[lines | stations]
    return {
        "roads": roads.reset_index(drop=True),
        "markets": markets.reset_index(drop=True),
        "border_controls": controls.reset_index(drop=True),
        "rail": rail.reset_index(drop=True),
        "places": places.reset_index(drop=True),
    }


def overpass_provenance(overpass_url: str, stamp: str, frames: dict[str, gpd.GeoDataFrame]) -> dict:
    """Provenance record of an Overpass read."""
    synthetic = any((frame[SYNTHETIC_TAG] == "yes").any() for frame in frames.values() if len(frame))
    return {
        "source": "Overpass API",
        "inputs": [
            {
                "url": overpass_url,
                "osm_timestamp": stamp,
                "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ],
        "osm_timestamp": stamp,
        "tag_filters": tag_filters(),
        "tools": tool_versions(),
        "synthetic": synthetic,
    }


def read_overpass(url: str, selection: list[Region], allow_empty: bool = False) -> RawOsm:
    """Everything HamJi needs for the ``selection`` of provinces, from the Overpass server at ``url``.

    The province boundaries come first: the other queries ask only for the
    area of the selected provinces (and a strip along the border for the
    crossings), so that a query stays small enough for a public server.
    """
    _ = settings.OVERPASS_RETRY_PAUSE_S, settings.OVERPASS_CACHE_DIR  # a bad environment value fails before any request
    if not str(url).startswith(("http://", "https://")):
        raise InputError(
            f"Overpass URL {clip(url, 120)!r} is not an http:// or https:// URL (from the overpass_url option or "
            "HAMJI_OVERPASS_URL); give the server's API address, e.g. https://overpass-api.de/api",
            option="overpass_url",
        )
    with osmnx_settings():
        return _read_overpass(url, selection, allow_empty)


def _read_overpass(url: str, selection: list[Region], allow_empty: bool) -> RawOsm:
    stamp = overpass_timestamp(url)
    boundaries = fetch_boundaries(url)
    everything = match_provinces(boundaries)
    check_coverage(everything, selection, f"Overpass at {url}")
    chosen = everything[everything["code"].isin({r.code for r in selection})].to_crs(settings.MEASURE_CRS)
    # Buffered so that bridges and border posts on the boundary are inside;
    # simplified so that the query polygon sent to Overpass stays short.
    area = chosen.union_all().buffer(2_000).simplify(500)
    border_area = border_line(everything).buffer(settings.BORDER_CONTROL_MAX_M).simplify(200)
    area, border_area = gpd.GeoSeries([area, border_area], crs=settings.MEASURE_CRS).to_crs(settings.STORE_CRS)
    frames = fetch_features(url, area, border_area)
    if frames["roads"].empty and not allow_empty:
        # A province with no roads at all in OSM is far likelier a failed or
        # truncated answer than the truth.
        raise SourceError(
            f"Overpass at {url} returned no roads for "
            + ", ".join(r.name for r in selection)
            + "; nothing was written. Check the server, or allow an empty answer if that is expected",
            option="allow_empty",
        )
    frames["boundaries"] = boundaries
    return RawOsm(frames, overpass_provenance(url, stamp, frames))
