"""Leaflet and its plugins: inlined from the copies shipped in ``geo/data/assets/`` (the default), or from the CDN."""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from pathlib import Path

from geo import settings
from geo.errors import InputError

LEAFLET_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
LEAFLET_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")
#: folium's popups are built with jQuery; nothing else of folium's defaults
#: (Bootstrap, Font Awesome, awesome-markers) is used by these maps.
JQUERY_JS = ("jquery", "https://code.jquery.com/jquery-3.7.1.min.js")

#: CDN folders folium loads from -> folder inside :data:`settings.ASSETS_DIR`
#: (the files of the npm packages of package.json, same versions, shipped with
#: their licences in ``geo/data/assets/``; ``scripts/vendor_map_assets.py`` copies them).
ASSET_FOLDERS = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/": "leaflet/dist/",
    "https://code.jquery.com/": "jquery/dist/",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/": "leaflet-minimap/dist/",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/": "leaflet.fullscreen/",
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/": "leaflet-search/",
}
#: The search box (folium.plugins.Search loads the same files).
SEARCH_JS = ("leaflet_search", "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js")
SEARCH_CSS = ("leaflet_search_css", "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css")
#: Where the npm package names a file differently from the CDN.
ASSET_RENAMES = {
    "jquery-3.7.1.min.js": "jquery.min.js",
    "Control.MiniMap.js": "Control.MiniMap.min.js",
    "Control.MiniMap.css": "Control.MiniMap.min.css",
    "Control.FullScreen.min.js": "Control.FullScreen.js",
}


def local_asset(url: str, assets_dir: Path | None = None) -> Path | None:
    """The file in the npm packages that serves a CDN ``url`` folium loads, or ``None``."""
    assets_dir = Path(assets_dir or settings.ASSETS_DIR)
    for prefix, folder in ASSET_FOLDERS.items():
        if url.startswith(prefix):
            rest = url[len(prefix) :].split("?")[0]
            name = rest.rsplit("/", 1)[-1]
            rest = rest[: len(rest) - len(name)] + ASSET_RENAMES.get(name, name)
            return assets_dir / folder / rest
    return None


def check_assets(assets_dir: Path | None = None) -> None:
    """Fail in one line, before any drawing, if the files to inline are missing."""
    assets_dir = Path(assets_dir or settings.ASSETS_DIR)
    for _, url in (LEAFLET_JS, JQUERY_JS, LEAFLET_CSS):
        path = local_asset(url, assets_dir)
        if path is None or not path.exists():  # None: no local folder serves the URL (as in inline_assets)
            raise InputError(
                f"self-contained maps need {url} in {assets_dir}, which holds no copy of it; unset "
                "HAMJI_ASSETS_DIR (the copies shipped with hamji are used), or make maps that load "
                "Leaflet from the internet instead",
                option="offline",
            )


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_assets(html: str, assets_dir: Path | None = None) -> str:
    """Replace every CDN ``<script src>`` and stylesheet link with the file's content.

    CSS ``url(...)`` references (Leaflet's control icons) become data URIs,
    so the page needs no network at all except for basemap tiles.
    """
    assets_dir = Path(assets_dir or settings.ASSETS_DIR)

    def read(url: str) -> tuple[Path, str]:
        path = local_asset(url, assets_dir)
        if path is None or not path.exists():
            raise InputError(
                f"self-contained maps need {url} in {assets_dir}, which holds no copy of it; unset "
                "HAMJI_ASSETS_DIR (the copies shipped with hamji are used), or make maps that load "
                "Leaflet from the internet instead",
                option="offline",
            )
        return path, path.read_text(encoding="utf-8")

    def credit(path: Path) -> str:
        package = assets_dir / path.relative_to(assets_dir).parts[0] / "package.json"
        info = json.loads(package.read_text()) if package.exists() else {}
        return (
            f"/*! {info.get('name', path.name)} {info.get('version', '')}, licence: "
            f"{info.get('license', 'see the package')}; inlined by hamji maps */\n"
        )

    def script(match: re.Match) -> str:
        path, text = read(match.group(1))
        return "<script>" + credit(path) + text.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match) -> str:
        path, text = read(match.group(1))

        def embed(ref: re.Match) -> str:
            target = ref.group(2)
            if target.startswith(("data:", "#", "http")):
                return ref.group(0)
            local = (path.parent / target.split("?")[0].split("#")[0]).resolve()
            return f"url({_data_uri(local)})" if local.exists() else ref.group(0)

        text = re.sub(r"url\((['\"]?)([^)'\"]+)\1\)", embed, text)
        return "<style>" + credit(path) + text.replace("</style", "<\\/style") + "</style>"

    html = re.sub(r'<script src="(https?://[^"]+)"></script>', script, html)
    return re.sub(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/?>', style, html)
