"""Developer tool: copy the Leaflet files the maps inline from ``node_modules/`` into ``geo/data/assets/``.

Run after ``npm ci`` (package.json pins the versions folium asks for):
``python scripts/vendor_map_assets.py``. Only the files a map loads are kept,
with each package's licence and package.json (which names its version and
licence for the comment written in front of each inlined file);
``tests/test_maps.py`` checks that the copies equal the npm packages.
"""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE, TARGET = ROOT / "node_modules", ROOT / "geo" / "data" / "assets"

#: npm package -> the files of it the maps use (the licence and package.json first).
FILES = {
    "leaflet": [
        "LICENSE",
        "package.json",
        "dist/leaflet.js",
        "dist/leaflet.css",
        "dist/images/layers.png",
        "dist/images/layers-2x.png",
        "dist/images/marker-icon.png",
    ],
    "jquery": ["LICENSE.txt", "package.json", "dist/jquery.min.js"],
    "leaflet-minimap": [
        "LICENSE.txt",
        "package.json",
        "dist/Control.MiniMap.min.js",
        "dist/Control.MiniMap.min.css",
        "dist/images/toggle.png",
        "dist/images/toggle.svg",
    ],
    "leaflet.fullscreen": [
        "LICENSE",
        "package.json",
        "Control.FullScreen.js",
        "Control.FullScreen.css",
        "icon-fullscreen.svg",
    ],
    "leaflet-search": [
        "license.txt",
        "package.json",
        "dist/leaflet-search.min.js",
        "dist/leaflet-search.min.css",
        "images/search-icon.png",
        "images/loader.gif",
    ],
}


def main() -> None:
    if TARGET.exists():
        for package in FILES:
            shutil.rmtree(TARGET / package, ignore_errors=True)
    total = 0
    for package, names in FILES.items():
        for name in names:
            source, target = SOURCE / package / name, TARGET / package / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            total += target.stat().st_size
    print(f"wrote {TARGET}: {sum(map(len, FILES.values()))} files, {total / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
