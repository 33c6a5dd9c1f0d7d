"""Reruns skip stages whose inputs, settings and code are unchanged, and say so."""

from conftest import digest

from geo import settings
from geo.cli import main


def run(root, capsys, *extra):
    assert main(["build", "--demo", "--out", str(root / "layers"), "--maps", str(root / "maps"), *extra]) == 0
    return capsys.readouterr().out


def state(root):
    return {
        p.name: (digest(p), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".hamji.lock"
    }


def test_unchanged_rerun_skips_every_stage(tmp_path, capsys):
    run(tmp_path, capsys)
    before = state(tmp_path)
    out = run(tmp_path, capsys)
    for stage in ("layers", "routes", "reach", "maps"):
        assert f"{stage}: unchanged inputs, settings and code" in out
    assert state(tmp_path) == before  # not even rewritten


def test_a_changed_input_reruns_that_stage_and_what_follows(tmp_path, capsys):
    run(tmp_path, capsys)
    speeds = tmp_path / "speeds.toml"
    speeds.write_text(
        "[KP]\nmotorway = 50\ntrunk = 45\nprimary = 40\nsecondary = 30\ntertiary = 25\n"
        "unclassified = 20\ntrack = 5\n[CN]\nmotorway = 90\ntrunk = 70\nprimary = 60\n"
        "secondary = 50\ntertiary = 40\nunclassified = 30\ntrack = 15\n"
    )
    out = run(tmp_path, capsys, "--speeds", str(speeds))
    assert "layers: unchanged" in out
    for stage in ("routes", "reach", "maps"):
        assert f"{stage}: unchanged" not in out


def test_a_touched_output_is_rebuilt(tmp_path, capsys):
    run(tmp_path, capsys)
    (tmp_path / "maps" / "overview.html").write_text("edited by hand")
    out = run(tmp_path, capsys)
    assert "reach: unchanged" in out and "maps: unchanged" not in out
    assert settings.DEMO_STAMP in (tmp_path / "maps" / "overview.html").read_text()


def test_force_rebuilds(tmp_path, capsys):
    run(tmp_path, capsys)
    out = run(tmp_path, capsys, "--force")
    assert "unchanged" not in out


def test_stage_keys_are_the_same_in_every_process():
    """A rerun is a new process: the settings digest must not depend on anything one process makes (addresses)."""
    import subprocess
    import sys

    script = "from geo import cache; print(cache.settings_digest(), cache.code_digest())"
    digests = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
               for _ in range(2)}  # fmt: skip
    assert len(digests) == 1
