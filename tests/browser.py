"""Open generated maps in headless Chromium the way a researcher would, with no CDN to reach.

The maps inline Leaflet and its plugins; maps written with ``--cdn`` link
them from CDNs this machine cannot reach, so every request for them is
answered from the shipped copies (the same versions folium asks for).
Basemap tile requests get a plain grey tile (or, with ``tiles=False``, are
refused as with no network); any other request off the machine is refused
and recorded.
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
    return [f"Leaflet's files in {settings.ASSETS_DIR} (unset HAMJI_ASSETS_DIR)"]


def require_assets() -> None:
    """Skip (or, in CI, fail) an offline-map test when the Leaflet files are missing."""
    _missing("offline maps", _assets_missing())


def require_browser() -> None:
    """Skip (or, in CI, fail) when Chromium or the Leaflet files are missing."""
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
def chromium(serve_assets: bool = True, viewport: tuple[int, int] = (1280, 800), tiles: bool = True):
    """A fresh headless Chromium (new profile); yields a function opening a local HTML file.

    ``viewport`` is the window's (width, height); a phone is (390, 844).
    """
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
                viewport={"width": viewport[0], "height": viewport[1]},
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
                    if tiles and any(host in url for host in TILE_HOSTS):
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


#: ``marketLayers()``: every market's circle on every Leaflet map of the page, in drawing order.
MARKET_LAYERS_JS = """const marketLayers = () => {
  const found = [];
  for (const key of Object.keys(window)) {
    let map; try { map = window[key]; } catch (e) { continue; }
    if (window.L && map instanceof L.Map)
      map.eachLayer(layer => { if (layer.options && layer.options.className === 'hamji-market') found.push(layer); });
  }
  return found;
};"""


#: Every text a reader can bring up on a page: the page's own, and every
#: tooltip and popup bound to a layer of any Leaflet map on it (called for
#: each feature where folium binds a function). Parsed with DOMParser, which
#: neither runs scripts nor loads images.
_READABLE_TEXT_JS = """() => {
  const texts = [document.body.innerText];
  const parse = html => new DOMParser().parseFromString(String(html), 'text/html').body.textContent;
  if (!window.L) return texts;
  for (const key of Object.keys(window)) {
    let map;
    try { map = window[key]; } catch (e) { continue; }
    if (!(map instanceof L.Map)) continue;
    map.eachLayer(layer => {
      for (const bound of [layer.getTooltip && layer.getTooltip(), layer.getPopup && layer.getPopup()]) {
        if (!bound) continue;
        const targets = layer.getLayers ? layer.getLayers() : [layer];
        for (const target of targets) {
          let content = bound._content;
          if (typeof content === 'function') {
            try { content = content(target); } catch (e) { content = ''; }
          }
          if (content instanceof Node) content = content.outerHTML || content.textContent;
          texts.push(parse(content));
        }
      }
    });
  }
  return texts;
}"""


def readable_texts(page) -> list[str]:
    """The page's text and the text of every tooltip and popup on its maps."""
    return page.evaluate(_READABLE_TEXT_JS)


_COUNT_COLOURS_JS = """async ([source, colours, tolerance]) => {
  const image = new Image();
  image.src = source;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const rgb = colours.map(hex => [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)));
  const counts = colours.map(() => 0);
  for (let i = 0; i < data.length; i += 4) {
    rgb.forEach(([r, g, b], k) => {
      if (Math.abs(data[i] - r) <= tolerance && Math.abs(data[i + 1] - g) <= tolerance
          && Math.abs(data[i + 2] - b) <= tolerance) counts[k] += 1;
    });
  }
  return counts;
}"""


def colour_pixels(page, colours: list[str], tolerance: int = 2) -> dict[str, int]:
    """How many pixels of a screenshot of ``page`` have each colour (decoded by the page's own canvas)."""
    import base64

    png = base64.b64encode(page.screenshot()).decode()
    counts = page.evaluate(_COUNT_COLOURS_JS, [f"data:image/png;base64,{png}", colours, tolerance])
    return dict(zip(colours, counts))


_GLYPHS_JS = """([selector, characters]) => {
  const font = getComputedStyle(document.querySelector(selector)).font;
  return characters.map(character => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 48;
    const context = canvas.getContext('2d');
    context.font = font;
    context.fillText(character, 4, 36);
    return canvas.toDataURL();
  });
}"""


def glyph_images(page, selector: str, characters: list[str]) -> list[str]:
    """Each character drawn alone in the font of ``selector``'s element, as a PNG data URL."""
    return page.evaluate(_GLYPHS_JS, [selector, characters])
