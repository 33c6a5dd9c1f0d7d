"""Where a plain ``hamji build`` writes: the current folder, not the installed package."""

import os
import subprocess
import sys
from pathlib import Path

from geo import settings


def test_demo_build_from_an_empty_folder_writes_layers_and_maps_there(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAMJI_")}
    done = subprocess.run(
        [sys.executable, "-m", "geo.cli", "build", "--demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "layers" / settings.LAYERS_GPKG).is_file()
    assert (tmp_path / "layers" / settings.REACH_CSV).is_file()
    assert (tmp_path / "layers" / settings.SUPPLY_MD).is_file()
    assert (tmp_path / "maps" / "index.html").is_file()
    assert (
        not (Path(settings.PROJECT_ROOT) / "layers" / settings.LAYERS_GPKG).exists()
        or Path(settings.PROJECT_ROOT) == tmp_path
    )
