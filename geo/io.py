"""Reading and writing stage outputs without ever leaving a half-written file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import pyogrio

from geo import settings
from geo.errors import HamjiError

PROVENANCE_KEY = "hamji_provenance"


def ensure_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and prove a file can be written there."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".hamji-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise HamjiError(f"cannot write to output folder {folder} ({exc.strerror}); choose another with --out "
                         "or fix its permissions") from None
    return folder


def _sweep(folder: Path, pattern: str) -> None:
    """Remove temporary files a killed build left behind for the file about to be written."""
    for stale in Path(folder).glob(pattern):
        stale.unlink(missing_ok=True)


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: Path, metadata: dict) -> Path:
    """Write every layer into one GeoPackage, atomically.

    The layers go into a temporary file in the same folder, which replaces
    ``path`` only once complete, so an interrupted or failed build leaves the
    previous GeoPackage untouched.
    """
    path = Path(path)
    ensure_writable(path.parent)
    _sweep(path.parent, f".{path.stem}-*.gpkg")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".gpkg")
    os.close(fd)
    os.unlink(tmp)  # GDAL refuses to create a GeoPackage over an existing empty file
    try:
        text = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio",
                          layer_metadata={PROVENANCE_KEY: text})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8), readable as any new file would be."""
    path = Path(path)
    _sweep(path.parent, f".{path.name}-*")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp makes the file private (0600); a map or table is meant to be shared.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(data: dict, path: Path) -> Path:
    """Write ``data`` as JSON to ``path`` atomically."""
    return write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", path)


def replace_folder(staged: Path, target: Path) -> Path:
    """Put a fully written ``staged`` folder in place of ``target`` (which may exist).

    The old folder is moved aside first and removed only once the new one is
    in place, so an interruption leaves either the old or the new whole.
    """
    import shutil

    staged, target = Path(staged), Path(target)
    aside = target.with_name(f".{target.name}-old")
    shutil.rmtree(aside, ignore_errors=True)
    if target.exists():
        os.replace(target, aside)
    os.replace(staged, target)
    shutil.rmtree(aside, ignore_errors=True)
    return target


def read_layer(path: Path, layer: str) -> gpd.GeoDataFrame:
    """Read one layer from a stage's GeoPackage, with a clear error if it is missing."""
    path = Path(path)
    if not path.exists():
        raise HamjiError(f"{path} does not exist; run 'hamji layers' (or 'hamji build') first")
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise HamjiError(f"cannot read layer {layer!r} from {path} ({str(exc).splitlines()[0]}); "
                         "rerun 'hamji layers'") from None


def read_provenance(path: Path, layer: str) -> dict:
    """The provenance record stored with a layer."""
    info = pyogrio.read_info(path, layer=layer)
    text = (info.get("layer_metadata") or {}).get(PROVENANCE_KEY)
    return json.loads(text) if text else {}


def layers_path(out_dir: Path | None = None) -> Path:
    """Where the layers stage writes its GeoPackage."""
    return Path(out_dir or settings.LAYERS_DIR) / settings.LAYERS_GPKG
