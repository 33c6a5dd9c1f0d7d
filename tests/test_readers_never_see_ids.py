"""What ``hamji build --demo`` and every shipped scenario give people to read holds no internal id, and links that work.

Everything is scanned as written: each HTML page whole (its tooltips and
popups are in it, as the strings folium binds), each Markdown file, and what
the commands print. Crossing ids (``wonjong_quanhe``) and OSM-derived ids
(``osm_node_113``) are for ``--penalty`` and scenario files only.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import geopandas as gpd
import pytest

from geo import settings
from geo.scenarios import shipped_scenarios

OSM_ID = re.compile(r"\bosm_(node|way|relation)_\d+")


def _hamji(*args: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAMJI_")}
    done = subprocess.run(
        [sys.executable, "-m", "geo.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, str]:
    """A demo build and every shipped scenario, run as a user would, in one empty folder; and all they printed.

    One scenario by ``hamji scenario``, the others in one ``hamji sensitivity`` (which writes each one's files
    the same way): eight processes took 78 s, the suite's slowest setup."""
    root = tmp_path_factory.mktemp("demo-run")
    first, *others = shipped_scenarios()
    printed = _hamji("build", "--demo", cwd=root) + _hamji("scenario", first, cwd=root)
    printed += _hamji("sensitivity", *(arg for name in others for arg in ("--scenario", name)), cwd=root)
    return root, printed


def _readable_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".html", ".md") and p.is_file())


def test_no_crossing_or_osm_id_in_any_page_markdown_or_message(demo_run):
    root, printed = demo_run
    ids = set(gpd.read_file(root / "layers" / settings.ROUTES_GPKG, layer="crossings")["crossing_id"])
    # The check knows the ids it looks for: the gazetteer's, and an OSM-only crossing's.
    assert "wonjong_quanhe" in ids and any(OSM_ID.fullmatch(i) for i in ids), ids
    files = _readable_files(root)
    names = {p.relative_to(root).as_posix() for p in files}
    # Every kind of page and summary was made: maps, index, scenario maps, reach, supply, differences.
    assert {"maps/overview.html", "maps/index.html", "layers/hamji_reach.md", "layers/hamji_supply.md"} <= names
    assert {f"maps/scenarios/{name}.html" for name in shipped_scenarios()} <= names
    assert {f"layers/scenarios/{name}/hamji_difference.md" for name in shipped_scenarios()} <= names
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")\b")
    found = {}
    for where, text in [
        *((p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")) for p in files),
        ("printed", printed),
    ]:
        hits = [m.group(0) for m in pattern.finditer(text)] + [m.group(0) for m in OSM_ID.finditer(text)]
        if hits:
            found[where] = sorted(set(hits))
    assert not found, found


def _hrefs(path: Path) -> list[str]:
    """Every link target of a page (also inside the JavaScript strings popups are written in) or a Markdown file."""
    text = path.read_text(encoding="utf-8")
    found = re.findall(r"\]\(([^)\s]+)\)", text) if path.suffix == ".md" else re.findall(r'href=\\?"([^"\\]+)', text)
    return [unquote(h).replace("&amp;", "&") for h in found]


def test_every_href_parses_as_a_url_or_names_a_file_that_is_there(demo_run):
    root, _ = demo_run
    checked = 0
    for path in _readable_files(root):
        for href in _hrefs(path):
            checked += 1
            url = urlparse(href)
            if url.scheme:
                assert url.scheme in ("http", "https") and "." in url.netloc, (path.name, href)
                assert not href.endswith((")", ":", ".", ",", ";")), (path.name, href)
                assert href.count("(") == href.count(")"), (path.name, href)
            elif not href.startswith("#"):
                assert (path.parent / url.path).exists(), (path.name, href)
    assert checked > 50
