"""The documentation's code runs: the README's "Use from Python" block, docs/explore.ipynb, the CLI page."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_readme_python_block_runs_and_writes_the_maps(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    done = _run(["-c", code], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    # North Hamgyong 8 + Rason 2 + South Hamgyong 1 markets in the fixture.
    assert re.search(r"east coast\s+11\s", done.stdout), done.stdout
    for page in ("overview.html", "comparison.html", "side_by_side.html"):
        assert (tmp_path / "maps" / page).stat().st_size > 100_000  # every market, road and band drawn
    assert "DEMO" in (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")


def test_explore_notebook_runs_end_to_end(tmp_path):
    """docs/explore.ipynb, executed again from scratch (nbclient) on the demo, offline."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "docs" / "explore.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = "\n".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "mini-HamJi demo fixture - synthetic" in text
    # The custom grouping's row counts the markets of its provinces.
    assert re.search(r"east coast\s+11\s", text) and re.search(r"south-west\s+5\s", text)
    assert "Wonjong–Quanhe bridge closed - markets whose nearest crossing changed: 2" in text
    shown = notebook.cells[-1].outputs[-1]
    assert shown.output_type == "execute_result" and "DEMO" in shown.data["text/html"]
    # The map inline is self-contained: Leaflet is in it, nothing is loaded from a CDN.
    assert "inlined by hamji maps" in shown.data["text/html"]
    assert not re.search(r"src=&quot;https?://", shown.data["text/html"])


def test_cli_reference_page_is_generated_from_the_parser():
    """docs/cli.md's marker becomes every command's --help (the MkDocs hook in docs/cli_reference.py)."""
    sys.path.insert(0, str(ROOT / "docs"))
    from cli_reference import MARKER, on_page_markdown

    from geo.cli_parser import make_parser

    page = on_page_markdown((ROOT / "docs" / "cli.md").read_text(encoding="utf-8"))
    assert MARKER not in page
    for command in ("layers", "routes", "reach", "maps", "scenario", "sensitivity", "compare", "extract", "build"):
        assert f"## hamji {command}\n" in page
    assert "--cdn" in page and "--penalty CROSSING=HOURS" in page
    assert make_parser().description.split()[0] in page


def test_readme_is_short_and_lists_the_prerequisites_before_the_tests():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    prerequisites, tests = readme.index("apt-get update"), readme.index("python -m pytest")
    assert prerequisites < tests
    for words in ("chromium-driver", "fonts-noto-cjk", "npm"):
        assert readme.index(words) < tests, words


def test_package_exports_exactly_the_api():
    """``geo/__init__`` lists the API by hand (to load it lazily): it must name what ``geo.api`` exports."""
    import geo
    import geo.api

    assert set(geo.__all__) == {*geo.api.__all__, "HamjiError"}
    assert all(getattr(geo, name) is not None for name in geo.__all__)


def _size(n: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if n >= size and n % size == 0:
            return f"{n // size:,.0f} {unit}"
    return f"{n:,.0f} bytes"


def _h(seconds: float) -> str:
    return f"{seconds / 3600:g} h"


def _count(n: float) -> str:
    return f"{n:,}"


#: (limit, where the code holds it, how its value reads): every bound on what an input can make HamJi do.
LIMITS = [
    ("size a `.gz` or `.bz2` extract may expand to", "settings.DECOMPRESSED_MAX_BYTES", _size),
    ("times a compressed extract may expand (checked once past 16 MiB)", "settings.COMPRESSION_MAX_RATIO", "{:g}"),
    ("time to read a compressed or XML extract through", "settings.DECOMPRESS_MAX_S", _h),
    ("one XML token (tag, comment, text)", "settings.XML_TOKEN_MAX_BYTES", _size),
    ("an Overpass request, connecting and the whole answer", "settings.OVERPASS_TIMEOUT", "{:g} s"),
    ("an Overpass answer, decompressed", "settings.OVERPASS_MAX_ANSWER_BYTES", _size),
    ("the first Overpass request (the data date)", "settings.OVERPASS_STATUS_TIMEOUT", "{:g} s"),
    ("retries of an Overpass 429 or 504", "settings.OVERPASS_RETRIES", "{}"),
    ("pause before each retry", "settings.OVERPASS_RETRY_PAUSE_S", "{:g} s"),
    ("area of one Overpass query (larger ones are split)", "settings.OVERPASS_MAX_QUERY_AREA_M2", "{:,.0f} m²"),
    ("a speed (speed table, scenario)", "settings.MAX_SPEED_KMH", "{} km/h"),
    ("a border penalty (`--penalty`, scenario)", "settings.MAX_PENALTY_H", "{} h"),
    ("a scenario's speed scale", "scenarios.MAX_SPEED_SCALE", "{}"),
    ("an added crossing's distance from the border", "scenarios.ADDED_CROSSING_MAX_M", lambda v: f"{v / 1000:g} km"),
    ("a scenario file", "scenarios.MAX_SCENARIO_BYTES", _size),
    ("a scenario's name", "scenarios.MAX_NAME_CHARS", "{:,} characters"),
    ("a scenario's description", "scenarios.MAX_DESCRIPTION_CHARS", "{:,} characters"),
    ("a speed table file", "io.read_text", _size),
    ("a market list file", "market_lists.MAX_LIST_BYTES", _size),
    ("rows of a market list", "market_lists.MAX_LIST_ROWS", _count),
    ("a people areas file", "people_areas.MAX_AREAS_BYTES", _size),
    ("areas in a people areas file", "people_areas.MAX_AREAS", _count),
    ("nesting of a JSON or TOML input", "documents.MAX_DEPTH", "{} levels"),
    ("one HTML map (geometry is simplified until it fits)", "settings.MAP_MAX_BYTES", lambda v: f"{v / 1e6:g} MB"),
    ("folders followed inside `scenarios/` when staging", "staging._MAX_DEPTH", "{} deep"),
    ("a commit journal read back", "staging._JOURNAL_MAX_BYTES", _size),
]


def _value(where: str):
    """The value the code uses, by ``module.NAME``; a setting from the environment at its default."""
    import importlib
    import inspect

    from geo import settings

    module, name = where.split(".")
    if module == "settings" and name in settings._FROM_ENV:
        return settings._FROM_ENV[name][2]  # the page documents the default, not this process's environment
    package = "geo.sources" if module in ("market_lists", "people_areas", "bounded") else "geo"
    value = getattr(importlib.import_module(f"{package}.{module}"), name)
    return inspect.signature(value).parameters["max_bytes"].default if callable(value) else value


def limits_table() -> str:
    """The limits table of docs/security.md, made from the values the code uses (so the page stays true)."""
    from geo import settings
    from geo.sources import bounded

    assert _size(bounded._RATIO_FLOOR_BYTES) == "16 MiB"  # as the ratio's row says
    env = {f"settings.{name}": variable for name, (variable, *_) in settings._FROM_ENV.items()}
    lines = ["| limit | value | set in | environment variable |", "|---|---|---|---|"]
    for what, where, shown in LIMITS:
        value = shown.format(_value(where)) if isinstance(shown, str) else shown(_value(where))
        variable = f"`{env[where]}`" if where in env else ""
        lines.append(f"| {what} | {value} | `{where}` | {variable} |")
    return "\n".join(lines)


def environment_table() -> str:
    """Every ``HAMJI_*`` variable the settings read, with what it sets and the values it takes."""
    from geo import settings

    lines = ["| variable | sets | takes | default |", "|---|---|---|---|"]
    for name, (variable, _, default, allowed) in settings._FROM_ENV.items():
        shown = "the system's temporary folder" if default is None else f"`{default}`"
        if name == "ASSETS_DIR":
            shown = "`geo/data/assets`"
        lines.append(f"| `{variable}` | `settings.{name}` | {allowed} | {shown} |")
    return "\n".join(lines)


def test_security_page_lists_every_limit_as_the_code_has_it():
    page = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert limits_table() in page, "docs/security.md's limits table is out of date; it should read:\n" + limits_table()
    assert environment_table() in page, "docs/security.md's variables table is out of date:\n" + environment_table()
