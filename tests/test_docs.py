"""The documentation's code runs: the README's "Use from Python" block and docs/explore.py."""

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


def test_explore_script_runs_end_to_end(tmp_path):
    out = tmp_path / "overview.html"
    done = _run([str(ROOT / "docs" / "explore.py"), str(out)], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "mini-HamJi demo fixture - synthetic" in done.stdout
    # The custom grouping's row counts the markets of its provinces.
    assert re.search(r"east coast\s+11\s", done.stdout) and re.search(r"south-west\s+5\s", done.stdout)
    assert "Wonjong–Quanhe bridge closed - markets whose nearest crossing changed: 2" in done.stdout
    html = out.read_text(encoding="utf-8")
    assert "DEMO" in html and "leaflet" in html.lower()


def test_package_exports_exactly_the_api():
    """``geo/__init__`` lists the API by hand (to load it lazily): it must name what ``geo.api`` exports."""
    import geo
    import geo.api

    assert set(geo.__all__) == {*geo.api.__all__, "HamjiError"}
    assert all(getattr(geo, name) is not None for name in geo.__all__)
