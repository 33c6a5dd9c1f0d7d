"""Skip a stage whose inputs, settings and code are unchanged since it last wrote its outputs.

A stage's key is a SHA-256 over its input files' contents, its parameters,
every setting in :mod:`geo.settings` and the library's own source. After a
stage writes its outputs, the key and the outputs' checksums are recorded in
``.hamji_cache.json`` beside them; a rerun with the same key whose outputs
are all still there, unmodified, is skipped. Anything else reruns.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from geo import io, settings
from geo.errors import InputError

RECORD = ".hamji_cache.json"
_PACKAGE = Path(__file__).resolve().parent


def code_digest() -> str:
    """SHA-256 over the library's Python sources and shipped data (scenarios, outlines, basemap, map assets)."""
    digest = hashlib.sha256()
    shipped = [p for p in _PACKAGE.glob("data/**/*") if p.is_file()]
    for path in sorted([*_PACKAGE.rglob("*.py"), *shipped]):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


#: Settings that change how a run reaches its data or names its files, never what it computes.
_NOT_RESULTS = frozenset({"OVERPASS_STATUS_TIMEOUT", "OVERPASS_RETRIES", "OVERPASS_MAX_QUERY_AREA_M2", "OSM_ENV_VAR"})
_FILE_NAMES = ("_CSV", "_MD", "_SVG", "_GPKG", "_META")


def settings_digest() -> str:
    """SHA-256 over the settings that can change a stage's results.

    Left out: where files go and what they are called, and how Overpass is
    reached (timeouts, retries, query splitting), which change no result.
    The shipped data (offline map assets included) is in :func:`code_digest`.
    """
    values = {
        name: repr(getattr(settings, name))
        for name in dir(settings)
        # Private tables are not settings (``_FROM_ENV`` holds functions: their repr differs every run).
        if name.isupper()
        and not name.startswith("_")
        and name not in _NOT_RESULTS
        and not name.endswith(_FILE_NAMES)
        and not isinstance(getattr(settings, name), Path)
    }
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def stage_key(stage: str, inputs: list[Path], params: dict) -> str:
    """The key of one run of ``stage``: what it reads and how."""
    for path in inputs:
        if not Path(path).is_file():
            raise InputError(f"{path} is not a file (a folder?); move it away and run the build again")
    record = {
        "stage": stage,
        "code": code_digest(),
        "settings": settings_digest(),
        "params": params,
        # By name and contents, not by where they are: a run works on staged copies (geo.staging).
        "inputs": [[Path(p).name, io.file_digest(p)] for p in inputs],
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def _read(folder: Path) -> dict:
    """The record, or an empty one if it is missing or damaged (then every stage simply reruns)."""
    try:
        record = json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {
        stage: entry
        for stage, entry in record.items()
        if isinstance(entry, dict) and isinstance(entry.get("outputs"), dict)
    }


def is_current(stage: str, key: str, outputs: list[Path]) -> bool:
    """Whether ``outputs`` were last written by a run with this ``key`` and are untouched since."""
    entry = _read(Path(outputs[0]).parent).get(stage, {})
    if entry.get("key") != key:
        return False
    recorded = entry.get("outputs", {})
    return all(Path(p).is_file() and recorded.get(Path(p).name) == io.file_digest(p) for p in outputs)


def remember(stage: str, key: str, outputs: list[Path]) -> None:
    """Record that ``outputs`` are what a run with ``key`` wrote (after they are in place)."""
    folder = Path(outputs[0]).parent
    record = _read(folder)
    record[stage] = {"key": key, "outputs": {Path(p).name: io.file_digest(p) for p in outputs}}
    io.write_json(record, folder / RECORD)
