"""Open generated maps in headless Chromium the way a researcher would, with no CDN to reach.

The maps link Leaflet and its plugins from CDNs this machine cannot reach, so
every request for them is answered from the npm packages of package.json
(the same versions folium asks for). Basemap tile requests get a plain grey
tile; any other request off the machine is refused and recorded.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from geo import settings
from geo.maps import local_asset

CHROMIUM = Path(os.environ.get("HAMJI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
TILE_HOSTS = ("tile.openstreetmap.org",)
#: Where screenshots go, to be looked at (default: the test's temporary folder).
SCREENSHOTS = os.environ.get("HAMJI_SCREENSHOTS")


def _grey_tile() -> bytes:
    """A 256×256 light grey PNG, so screenshots look like a map without a tile server."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([232, 232, 228]) * 256 for _ in range(256))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


TILE = _grey_tile()
CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


def _missing(what: str, missing: list[str]) -> None:
    if missing:
        reason = f"{what} need " + " and ".join(missing)
        if os.environ.get("HAMJI_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)


def _assets_missing() -> list[str]:
    if (settings.ASSETS_DIR / "leaflet" / "dist" / "leaflet.js").exists():
        return []
    return [f"Leaflet's npm packages in {settings.ASSETS_DIR} (run 'npm ci')"]


def require_assets() -> None:
    """Skip (or, in CI, fail) an offline-map test when the npm packages are missing."""
    _missing("offline maps", _assets_missing())


def require_browser() -> None:
    """Skip (or, in CI, fail) when Chromium or the npm assets are missing."""
    chromium = [] if CHROMIUM.exists() else [f"Chromium at {CHROMIUM} (Debian packages chromium, chromium-driver)"]
    _missing("browser tests", chromium + _assets_missing())


@dataclass
class Visit:
    """What happened while a page was open."""

    page: object
    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    def screenshot(self, name: str, folder: Path) -> Path:
        target = Path(SCREENSHOTS or folder) / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(target))
        return target


@contextmanager
def chromium(serve_assets: bool = True):
    """A fresh headless Chromium (new profile); yields a function opening a local HTML file."""
    from playwright.sync_api import sync_playwright

    require_browser()
    profile = tempfile.mkdtemp(prefix="hamji-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 800},
            )

            def visit(path: Path, wait_ms: int = 800) -> Visit:
                page = context.new_page()
                seen = Visit(page)
                page.on("pageerror", lambda exc: seen.js_errors.append(str(exc)))
                page.on("console", lambda msg: seen.console_errors.append(msg.text) if msg.type == "error" else None)

                def route(handle):
                    url = handle.request.url
                    if url.startswith(("file:", "data:")):
                        return handle.continue_()
                    if any(host in url for host in TILE_HOSTS):
                        return handle.fulfill(status=200, body=TILE, content_type="image/png")
                    asset = local_asset(url) if serve_assets else None
                    if asset is not None and asset.exists():
                        seen.served.append(url)
                        return handle.fulfill(
                            status=200,
                            body=asset.read_bytes(),
                            content_type=CONTENT_TYPES.get(asset.suffix, "application/octet-stream"),
                        )
                    seen.refused.append(url)
                    return handle.abort()

                page.route("**/*", route)
                page.goto(Path(path).resolve().as_uri())
                page.wait_for_load_state("load")
                page.wait_for_timeout(wait_ms)
                return seen

            try:
                yield visit
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
