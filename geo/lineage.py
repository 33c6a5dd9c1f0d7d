"""Which run made which file: every stage output records the files it was made from, and readers check it.

A file's identity is its contents (the first 16 hex digits of its SHA-256),
so a file copied in by hand from another run is told apart from the one it
replaced. (GeoPackages record when they were written, so two builds of the
same inputs have different identities.)
The routes GeoPackage records the layers it was routed on (provenance
``made_from``); the reach table records the layers and routes in its
``made_from_layers`` and ``made_from_routes`` columns. A stage that reads
several of these files refuses, with :class:`~geo.errors.MixedRunError`,
to combine files that were not made from one another.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo import io
from geo.errors import MixedRunError

__all__ = ["check_routes", "check_reach", "file_id"]

#: The reach table's columns naming what it was made from.
REACH_COLUMNS = {"layers": "made_from_layers", "routes": "made_from_routes"}


def file_id(path: Path) -> str:
    """The identity of a stage's file: the first 16 hex digits of its SHA-256."""
    return io.file_digest(path)[:16]


def check_routes(routes_file: Path, layers_file: Path) -> None:
    """Raise :class:`MixedRunError` unless the routes in ``routes_file`` were made from ``layers_file``."""
    made_from = io.read_provenance(routes_file, "markets").get("made_from") or {}
    if made_from.get("layers") != file_id(layers_file):
        raise MixedRunError(routes_file, layers_file, "routes")


def check_reach(reach: pd.DataFrame, reach_file: Path, layers_file: Path, routes_file: Path) -> None:
    """Raise :class:`MixedRunError` unless the reach table ``reach`` was made from these layers and routes."""
    for stage, source in (("layers", layers_file), ("routes", routes_file)):
        column = REACH_COLUMNS[stage]
        recorded = set(reach[column].astype(str)) if column in reach else set()
        if recorded != {file_id(source)}:
            raise MixedRunError(reach_file, source, "reach")
