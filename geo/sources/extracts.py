"""Read local OpenStreetMap extracts (``.osm.pbf``, ``.osm``, ``.osm.bz2``) with pyosmium.

One streaming pass of libosmium's Python bindings per file, which also
assembles multipolygon and boundary relations into areas.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC
from pathlib import Path

import geopandas as gpd
import osmium
import pandas as pd
import shapely

from geo import settings
from geo.errors import HamjiError, InputError
from geo.io import check_input_file
from geo.sources.raw import (
    BOUNDARY_KEYS,
    CONTROL_KEYS,
    KEYS,
    KINDS,
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_extract_path(path: Path) -> Path:
    """Fail with a one-line message unless ``path`` looks like a readable extract."""
    path = check_input_file(Path(path), "OSM extract", option="osm_paths")
    if path.name.lower().endswith((".osh", ".osh.pbf", ".osh.bz2", ".osh.gz", ".osc", ".osc.gz", ".osc.bz2")):
        raise InputError(
            f"OSM extract {path} is a history or change file; give a plain extract (.osm.pbf, .osm, .osm.bz2)"
        )
    if not path.name.lower().endswith(settings.EXTRACT_SUFFIXES):
        raise InputError(
            f"OSM extract {path} is not an .osm.pbf, .osm or .osm.bz2 file; "
            "download an extract (e.g. from Geofabrik) in one of those formats"
        )
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
        is_boundary = (
            not area.from_way()
            and tags.get("boundary") == "administrative"
            and tags.get("admin_level") in settings.BOUNDARY_TAGS["admin_level"]
        )
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
        processor = osmium.FileProcessor(str(path)).with_areas().with_filter(osmium.filter.KeyFilter(*keys))
        for obj in processor:
            self.objects += 1
            if self.objects % 500_000 == 0:
                log.info(f"  {path.name}: {self.objects:,} tagged objects read")
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
        raise HamjiError("no OSM extract given; name at least one", option="osm_paths")
    frames: dict[str, list[gpd.GeoDataFrame]] = {kind: [] for kind in KINDS}
    inputs, stamps, synthetic, not_assembled = [], [], False, 0
    for path in (check_extract_path(Path(p)) for p in paths):
        log.info(f"reading {path} …")
        reader = _ExtractReader()
        try:
            reader.read(path)
        except RuntimeError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise HamjiError(
                f"cannot read OSM extract {path}: {reason}; the file is corrupt or truncated, download it again"
            ) from None
        if reader.objects == 0:
            raise HamjiError(
                f"OSM extract {path} holds no roads, markets, boundaries or border controls; "
                "check that it is an extract of the HamJi region"
            )
        header_stamp = _header_timestamp(path)
        stamp = header_stamp or (
            reader.latest.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if reader.latest else None
        )
        stamps.append(stamp)
        synthetic = synthetic or reader.synthetic
        not_assembled += reader.not_assembled
        inputs.append(
            {
                "path": str(path.resolve()),
                "sha256": _sha256(path),
                "osm_timestamp": stamp,
                "timestamp_from": "file header" if header_stamp else "latest object",
            }
        )
        for kind in KINDS:
            frames[kind].append(to_frame(reader.rows[kind], KEYS[kind]))
    merged = {}
    for kind, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True)
        merged[kind] = gpd.GeoDataFrame(
            frame.drop_duplicates(["osm_type", "osm_id"]).reset_index(drop=True),
            geometry="geometry",
            crs=settings.STORE_CRS,
        )
    known = [s for s in stamps if s]
    provenance = {
        "source": "local extract" + ("s" if len(inputs) > 1 else ""),
        "inputs": inputs,
        # The oldest input bounds how current the combined data is.
        "osm_timestamp": min(known) if known else None,
        "tag_filters": tag_filters(),
        "tools": tool_versions(),
        "synthetic": synthetic,
        "areas_not_assembled": not_assembled,
    }
    return RawOsm(merged, provenance)
