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
