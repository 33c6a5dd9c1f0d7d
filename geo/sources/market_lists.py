"""Markets from a researcher's own list (CSV or GeoJSON), beside or instead of OSM's marketplaces.

OpenStreetMap maps only a fraction of North Korea's ~450 official markets;
researchers hold lists from satellite surveys. A list is untrusted input: it
is read with limits, every number checked, and every point that cannot be
used is reported with its reason, never dropped silently.

Columns (case-insensitive): ``name``; ``lon``/``lng``/``longitude``/``x``
and ``lat``/``latitude``/``y``; optional ``size`` (or ``stalls``) to weight
statistics, and ``source``. A GeoJSON file holds Point features with the
same properties.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo import settings
from geo.documents import geojson_features
from geo.errors import InputError, clip
from geo.io import read_text
from geo.provinces import assign_regions
from geo.schema import conform

__all__ = ["MarketList", "apply_market_lists", "read_market_list"]

MAX_LIST_BYTES = 50 * 1024**2
MAX_LIST_ROWS = 200_000
_LON, _LAT = ("lon", "lng", "long", "longitude", "x"), ("lat", "latitude", "y")


@dataclass
class MarketList:
    """One list as read: its points, and the rows that cannot be used, each with its reason."""

    path: Path
    points: pd.DataFrame
    rejected: list[dict] = field(default_factory=list)


def _column(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((columns[n] for n in names if n in columns), None)


def _rows_from_geojson(text: str, path: Path) -> pd.DataFrame:
    rows = []
    for number, feature in enumerate(geojson_features(text, "market list", path, option="markets"), 1):
        geometry = feature["geometry"] or {}
        coords = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        lon, lat = coords[:2] if isinstance(coords, list) and len(coords) >= 2 else (None, None)
        properties = _unique_names(feature["properties"], f"market list {path}, feature {number}: property")
        rows.append({**properties, "lon": lon, "lat": lat, "_row": number})
    return pd.DataFrame(rows)


def _unique_names(values: dict, where: str) -> dict:
    """``values`` keyed by lower-cased, stripped names; two names that are then one are an error."""
    named: dict[str, object] = {}
    spelled: dict[str, str] = {}
    for key, value in values.items():
        name = str(key).strip().lower()
        if name in named:
            raise InputError(
                f"{where} names {clip(spelled[name], 40)!r} and {clip(key, 40)!r} are the same once case and "
                "spaces are ignored; rename one",
                option="markets",
            )
        named[name], spelled[name] = value, str(key)
    return named


def _check_table_shape(text: str, path: Path) -> None:
    """Fail in one line on what pandas would read wrongly: a header naming a column twice (pandas renames
    the second ``lon.1``), and a row with more cells than the header (pandas takes the first column as an
    index if it is the first row, and blames a good row for the shifted cells)."""
    import io as _io

    rows = csv.reader(_io.StringIO(text))
    try:
        header = next(rows, [])
        seen: dict[str, str] = {}
        for name in header:
            key = name.strip().lower()
            if key in seen:
                raise InputError(
                    f"market list {path}: column names {clip(seen[key], 40)!r} and {clip(name, 40)!r} are the same "
                    "once case and spaces are ignored; rename one",
                    option="markets",
                )
            seen[key] = name
        for row in rows:
            if len(row) > len(header):
                raise InputError(
                    f"market list {path}, row {rows.line_num}: {len(row)} cells where the header has {len(header)}; "
                    'put a name with a comma in it in double quotes ("Market, Hoeryong")',
                    option="markets",
                )
    except csv.Error as exc:  # a cell over the csv module's limit of characters
        why = f"a cell longer than {csv.field_size_limit():,} characters" if "field limit" in str(exc) else exc
        raise InputError(
            f"market list {path}, row {rows.line_num}: {clip(why, 80)}; is this a CSV market list?", option="markets"
        ) from None


def read_market_list(path: Path) -> MarketList:
    """Read one list; fail in one line on a file without coordinates or with a bad number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "survey.csv").write_text("Name,Longitude,Latitude\\nHoeryong market,129.75,42.44\\n")
    >>> read_market_list(folder / "survey.csv").points[["name", "lon", "lat"]].values.tolist()
    [['Hoeryong market', 129.75, 42.44]]
    """
    path = Path(path)
    text = read_text(path, "market list", MAX_LIST_BYTES, option="markets")
    if path.suffix.lower() in (".geojson", ".json"):
        frame = _rows_from_geojson(text, path)
    else:
        import io as _io

        _check_table_shape(text, path)
        try:
            frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"market list {path} is not a CSV table ({clip(exc, 120)})", option="markets") from None
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        frame["_row"] = range(2, len(frame) + 2)  # the line in the file, after the header
    if len(frame) > MAX_LIST_ROWS:
        raise InputError(f"market list {path} has {len(frame):,} rows, more than {MAX_LIST_ROWS:,}", option="markets")
    columns = {c: c for c in frame.columns}
    lon, lat = _column(columns, _LON), _column(columns, _LAT)
    if lon is None or lat is None or len(frame) == 0:
        found = ", ".join(repr(c) for c in frame.columns if c != "_row") or "none"
        raise InputError(
            f"market list {path} has no {'rows' if len(frame) == 0 else 'coordinate columns'} (columns found: "
            f"{clip(found, 200)}); give 'name', 'lon' and 'lat' (WGS84 degrees)",
            option="markets",
        )
    points = pd.DataFrame({"_row": frame["_row"]})
    points["name"] = frame[_column(columns, ("name",))] if "name" in columns else None
    for target, column, low, high in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        values = pd.to_numeric(frame[column].replace("", None), errors="coerce")
        bad = values.isna() | ~values.between(low, high)
        if bad.any():
            first = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                f"market list {path}, row {points['_row'].iloc[first]}: {column} = "
                f"{clip(frame[column].iloc[first], 40)!r} is not a {target} in degrees ({low} to {high})",
                option="markets",
            )
        points[target] = values.astype(float)
    size = _column(columns, ("size", "stalls"))
    points["size"] = pd.to_numeric(frame[size], errors="coerce") if size else math.nan
    points["row_source"] = frame["source"].astype(str) if "source" in columns else None
    return MarketList(path, points)


def apply_market_lists(
    markets: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame, lists: list[MarketList], mode: str = "replace"
) -> tuple[gpd.GeoDataFrame, list[dict]]:
    """The markets layer with the lists' markets instead of (``replace``) or beside (``add``) OSM's.

    Each point goes to the province it lies in, or the nearest within
    :data:`settings.PROVINCE_SNAP_M` (a harbour just off a generalised coast;
    flagged ``province_snapped``). Points in China, or further out, are
    rejected with their reason. Returns the layer and a report per list.
    """
    if mode not in ("replace", "add"):
        raise InputError(f"market list mode {mode!r}: use 'replace' or 'add'", option="markets_mode")
    kp = provinces[provinces["country"] == "KP"].to_crs(settings.MEASURE_CRS).union_all()
    frames, next_id = [], 1
    reports: list[dict] = []
    for market_list in lists:
        points = market_list.points
        geometry = gpd.GeoSeries(
            shapely.points(points["lon"], points["lat"]), index=points.index, crs=settings.STORE_CRS
        )
        placed = assign_regions(geometry, provinces)
        inside = geometry.to_crs(settings.MEASURE_CRS).within(kp)
        reasons = pd.Series(None, index=points.index, dtype=object)
        reasons[placed["country"] == "CN"] = "on the Chinese side of the border"
        reasons[placed["country"].isna()] = (
            f"more than {settings.PROVINCE_SNAP_M / 1000:g} km outside the North Korean provinces of this build"
        )
        rejected = [
            {
                "file": str(market_list.path),
                "row": int(r["_row"]),
                "name": r["name"],
                "lon": r["lon"],
                "lat": r["lat"],
                "reason": reason,
            }
            for (_, r), reason in zip(points.iterrows(), reasons)
            if pd.notna(reason)
        ]
        keep = reasons.isna()
        label = f"list {market_list.path.name}"
        frame = gpd.GeoDataFrame(
            {
                "osm_type": "list",
                "osm_id": range(next_id, next_id + int(keep.sum())),
                "name": points.loc[keep, "name"].to_numpy(),
                "geom_type": "point",
                "area_m2": math.nan,
                "geometry_repaired": False,
                "source": [
                    f"{label}, row {r}" + (f" ({s})" if s else "")
                    for r, s in zip(points.loc[keep, "_row"], points.loc[keep, "row_source"].fillna(""))
                ],
                "size": points.loc[keep, "size"].to_numpy(),
                "province_snapped": (~inside[keep]).to_numpy(),
                **{c: placed.loc[keep, c].to_numpy() for c in placed.columns},
            },
            geometry=geometry[keep].to_numpy(),
            crs=settings.STORE_CRS,
        )
        next_id += len(frame)
        frames.append(frame)
        reports.append(
            {
                "file": str(market_list.path),
                "read": len(points),
                "kept": len(frame),
                "snapped": int(frame["province_snapped"].sum()),
                "rejected": rejected,
            }
        )
    if sum(r["kept"] for r in reports) == 0:
        raise InputError(
            "no point of the market list(s) lies in a North Korean province of this build ("
            + "; ".join(f"{Path(r['file']).name}: {len(r['rejected'])} rejected" for r in reports)
            + "); check that lon and lat are not swapped",
            option="markets",
        )
    own = markets.assign(province_snapped=False) if mode == "add" else markets.iloc[:0]
    merged = pd.concat([own, *frames], ignore_index=True)
    return conform(gpd.GeoDataFrame(merged, geometry="geometry", crs=settings.STORE_CRS), "markets"), reports
