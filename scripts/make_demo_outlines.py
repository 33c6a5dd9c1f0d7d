"""Developer tool: write the demo fixture's real province outlines (geo/data/outlines/).

Run: python scripts/make_demo_outlines.py WORLD_MAP_GPKG

WORLD_MAP_GPKG is ``usr/share/qgis/resources/data/world_map.gpkg`` from the
Debian package ``qgis-common`` (3.22.16+dfsg-1, bookworm; ``apt-get download
qgis-common``, then ``dpkg-deb -x``): Natural Earth 1:10m admin-1 states and
provinces v4.1.0, generalised, public domain. The script keeps North Korea's
provinces, Jilin and Liaoning, tags each with its ISO 3166-2 code and rounds
coordinates to 1e-4 degrees (about 10 m); the output is committed, so users
and CI never need the package.
"""

import hashlib
import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

#: Natural Earth's names (the ``name`` column) to ISO 3166-2 codes.
CODES = {
    "Hamgyŏng-bukto": "KP-09",
    "Rasŏn": "KP-13",
    "Ryanggang": "KP-10",
    "Hamgyŏng-namdo": "KP-08",
    "Chagang-do": "KP-04",
    "P'yŏngan-bukto": "KP-03",
    "P'yŏngan-namdo": "KP-02",
    "P'yŏngyang": "KP-01",
    "Hwanghae-bukto": "KP-06",
    "Hwanghae-namdo": "KP-05",
    "Kangwŏn-do": "KP-07",
    "Jilin": "CN-JL",
    "Liaoning": "CN-LN",
}
TARGET = Path(__file__).resolve().parents[1] / "geo" / "data" / "outlines" / "natural_earth_admin1.geojson"


def main(source: Path) -> None:
    frame = gpd.read_file(source, layer="states_provinces")
    frame = frame[frame["name"].isin(CODES) & frame["adm0_a3"].isin(["PRK", "CHN"])].to_crs(4326)
    assert len(frame) == len(CODES), sorted(set(CODES) - set(frame["name"]))
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    features = [
        {
            "type": "Feature",
            "properties": {"code": CODES[row.name], "ne_name": row.name},
            "geometry": shapely.geometry.mapping(shapely.set_precision(row.geometry, 1e-4)),
        }
        for row in frame.sort_values("name").itertuples()
    ]
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:10m admin-1 states and provinces v4.1.0 (public domain), generalised, as "
        "shipped in Debian qgis-common 3.22.16+dfsg-1 (usr/share/qgis/resources/data/world_map.gpkg, "
        f"layer states_provinces, sha256 {digest}); coordinates rounded to 1e-4 degrees",
        "features": features,
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}: {len(features)} provinces, {TARGET.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
