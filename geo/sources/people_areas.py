"""People by area (county populations, say), so that reach is weighted by where people live.

The 2008 census publishes a count per county, but HamJi ships only the
province totals (:mod:`geo.sources.population`), and with nothing finer the
reach table takes each province's people to live like its markets. A
researcher with finer counts brings them as a GeoJSON file of areas: each
area's people are then given the times of the market nearest to it (see
:func:`geo.reach.province_reach`).

The file is a FeatureCollection of Polygon or MultiPolygon features (lon/lat)
whose properties hold ``population``, a whole number (``196954``, ``196 954``
or ``196,954``), and optionally ``name`` (or ``name:en``) and ``source`` (or
``source:population``). An OpenStreetMap boundary export fits as it is:
boundaries tagged ``population=`` are used, the others skipped and counted.
A file is untrusted input, read with limits; a bad count fails in one line
that names the feature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely

from geo import settings
from geo.documents import load_json
from geo.errors import InputError, clip
from geo.io import read_text

__all__ = ["PeopleAreas", "read_people_areas"]

MAX_AREAS_BYTES = 100 * 1024**2
MAX_AREAS = 100_000
#: More people than this in one area is not a count (only China and India hold more).
MAX_AREA_PEOPLE = 1_000_000_000
_OPTION = "people_areas"
_COUNT = re.compile(r"\d{1,3}(?:[ ,]\d{3})+|\d+")


@dataclass
class PeopleAreas:
    """Areas with people counts as read (``name``, ``population``, ``source``, polygons in lon/lat)."""

    path: Path
    areas: gpd.GeoDataFrame
    #: Features with no population (an OSM export's untagged boundaries), left out.
    skipped: int


def _count(value: object, label: str, path: Path) -> int | None:
    """A whole number of people, or ``None`` for an empty value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"{path}: {label} has a population that is not a number", option=_OPTION)
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not _COUNT.fullmatch(text):
        raise InputError(f"{path}: {label} has population {clip(text)!r}, not a whole number of people", option=_OPTION)
    people = int(re.sub(r"[ ,]", "", text[:40]))  # a longer number is over the bound anyway
    if len(text) > 40 or people > MAX_AREA_PEOPLE:
        raise InputError(
            f"{path}: {label} has population {clip(text, 40)}, more than the {MAX_AREA_PEOPLE:,} people any one area "
            "can hold; check the column",
            option=_OPTION,
        )
    return people


def _polygon(geometry: object, label: str, path: Path) -> shapely.Geometry:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InputError(f"{path}: {label} is not a polygon; people areas are polygons", option=_OPTION)
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.GEOSException):
        raise InputError(f"{path}: {label} has broken coordinates", option=_OPTION) from None
    if shape.is_empty:
        raise InputError(f"{path}: {label} has an empty polygon", option=_OPTION)
    west, south, east, north = shape.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InputError(
            f"{path}: {label} has coordinates that are not longitude and latitude (a projected file?); "
            "save it in EPSG:4326",
            option=_OPTION,
        )
    return shapely.make_valid(shape) if not shape.is_valid else shape


def read_people_areas(path: Path) -> PeopleAreas:
    """Read a GeoJSON file of areas with people counts; fail in one line on anything unusable.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> square = {"type": "Polygon", "coordinates": [[[129, 42], [130, 42], [130, 43], [129, 43], [129, 42]]]}
    >>> features = [{"type": "Feature", "geometry": square, "properties": {"name": "A", "population": "1 200"}}]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "areas.geojson"
    >>> _ = path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    >>> read_people_areas(path).areas[["name", "population"]].values.tolist()
    [['A', 1200]]
    """
    path = Path(path)
    text = read_text(path, "people areas file", MAX_AREAS_BYTES, option=_OPTION)
    data = load_json(text, "people areas file", path, option=_OPTION, kind="GeoJSON (a FeatureCollection)")
    if not isinstance(data, dict):
        raise InputError(f"people areas file {path} is not GeoJSON (a FeatureCollection)", option=_OPTION)
    features = data.get("features")
    if not isinstance(features, list):
        raise InputError(f"people areas file {path} has no 'features' list", option=_OPTION)
    if len(features) > MAX_AREAS:
        raise InputError(
            f"people areas file {path} has {len(features):,} features, more than {MAX_AREAS:,}", option=_OPTION
        )
    rows, skipped = [], 0
    for number, feature in enumerate(features, 1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        name = next((str(properties[k]) for k in ("name:en", "name") if properties.get(k)), "")
        label = f"feature {number}" + (f" ({clip(name)})" if name else "")
        people = _count(properties.get("population"), label, path)
        if people is None:
            skipped += 1
            continue
        source = next((str(properties[k]) for k in ("source", "source:population") if properties.get(k)), "")
        rows.append(
            {
                "name": name or f"feature {number}",
                "population": people,
                "source": source or f"{path.name}, feature {number}",
                "geometry": _polygon(feature.get("geometry"), label, path),
            }
        )
    if not rows:
        raise InputError(
            f"people areas file {path} has no feature with a 'population' property "
            f"({skipped} without one); add each area's count of people",
            option=_OPTION,
        )
    areas = gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.STORE_CRS)
    return PeopleAreas(path, areas, skipped)
