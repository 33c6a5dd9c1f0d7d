"""How soon each map shows in headless Chromium: first contentful paint, and the page loaded (the map drawn).

The maps inline their scripts, so by the ``load`` event Leaflet has drawn
every layer; first contentful paint may come earlier (the header). Each page
is opened cold in a fresh page of a fresh browser profile, with every request
off the machine refused (the maps need none; tiles are not waited for).
Needs Playwright and Debian's Chromium, as the browser tests do.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

CHROMIUM = Path(os.environ.get("HAMJI_CHROMIUM", "/usr/bin/chromium"))

_TIMINGS_JS = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return {fcp_ms: paint ? paint.startTime : null, load_ms: nav ? nav.loadEventEnd : null,
          markers: document.querySelectorAll('path.hamji-market').length};
}"""


def paint_times(pages: list[Path], viewport: tuple[int, int] = (1280, 800)) -> dict[str, dict]:
    """Per page: first contentful paint and load end (ms after navigation start), and the markets drawn."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="hamji-paint-")
    results = {}
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
                viewport={"width": viewport[0], "height": viewport[1]},
            )
            try:
                for path in pages:
                    page = context.new_page()
                    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
                    page.goto(Path(path).resolve().as_uri(), wait_until="load")
                    page.wait_for_timeout(300)  # the paint entry is recorded after the frame
                    results[Path(path).name] = page.evaluate(_TIMINGS_JS)
                    page.close()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return results
