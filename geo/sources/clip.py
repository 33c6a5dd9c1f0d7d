"""Cut a large extract (``china-latest.osm.pbf``) down to what HamJi reads, without the osmium tool.

A user downloads China once and works on the result afterwards. The output
holds exactly what :mod:`geo.sources.extracts` would keep — the province
boundary relations of North Korea and Jilin, marketplace and border-control
relations, and the roads, rail, markets, border controls and towns near
:data:`settings.REGION_BBOX` — each with every member and node it
references, so that no relation is left incomplete (the failure of a plain
bounding-box clip). It is an extract for HamJi, not a general-purpose clip.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import cast

import osmium
import pandas as pd

from geo import io, settings
from geo.errors import InputError, OutputError
from geo.provinces import region_of_boundary
from geo.sources.bounded import check_extract_stream
from geo.sources.extracts import FileProgress, Progress, check_extract_path, node_index
from geo.sources.passes import FeaturePass, wanted_relation, wanted_tags

log = logging.getLogger(__name__)

__all__ = ["extract_region"]


def _region_relations(path: Path) -> list[int]:
    """Ids of the relations HamJi reads: the region's province boundaries, marketplaces, border controls."""
    keep = []
    relations = osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(
        osmium.filter.TagFilter(
            ("boundary", "administrative"), ("amenity", "marketplace"), ("barrier", "border_control")
        )
    )
    for rel in relations:
        kind = wanted_relation(rel.tags)
        if kind == "boundaries":
            tags = pd.Series({key: rel.tags.get(key) for key in ("ISO3166-2", "name", "name:en", "admin_level")})
            if region_of_boundary(tags) is None:
                continue  # another country's or province's boundary
        if kind:
            keep.append(rel.id)
    return keep


def extract_region(source: Path, target: Path, progress: Progress | None = None) -> dict:
    """Write the part of ``source`` HamJi reads to ``target`` (``.osm.pbf``), reference-complete.

    Parameters
    ----------
    source
        A large extract (a country, or China).
    target
        The file to write; written under a temporary name and renamed, so an
        interrupted run leaves no half-written file.
    progress
        As for :func:`geo.sources.extracts.read_extracts`.

    Returns
    -------
    dict
        Objects chosen (before their references are added) and the sizes.
    """
    source, target = check_extract_path(Path(source)), Path(target)
    if not target.name.endswith(".osm.pbf"):
        raise InputError(f"{target}: name the clipped extract *.osm.pbf", option="target")
    check_extract_stream(source)
    if target.resolve() == source.resolve():
        raise InputError(f"{target} is the extract being read; choose another name", option="target")
    io.ensure_writable(target.parent)
    # Made here, new and exclusive, so the writer never opens a path someone else put there (a link, say),
    # and with HamJi's temporary marker, so a sweep after a killed run removes it.
    prefix, suffix = io.temporary_name(target.name)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=suffix)
    os.close(handle)
    tmp = Path(name)
    relations = _region_relations(source)
    selector = FeaturePass(settings.REGION_BBOX)
    meter = FileProgress(source, progress)
    chosen = 0
    try:
        with (
            osmium.BackReferenceWriter(str(tmp), ref_src=str(source), overwrite=True) as writer,
            tempfile.TemporaryDirectory(prefix="hamji-nodes-", dir=settings.NODE_INDEX_DIR) as scratch,
        ):
            index = osmium.index.create_map(node_index(source, Path(scratch)))
            keys = osmium.filter.KeyFilter("highway", "railway", "amenity", "barrier", "place")
            # pyosmium annotates storage as str, yet takes a LocationTable (file_processor.py checks for one).
            processor = osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY)
            objects = processor.with_locations(cast(str, index))
            for obj in objects.with_filter(keys).with_filter(osmium.filter.TagFilter(*wanted_tags())):
                kept = selector.count
                selector.see(obj)
                if selector.count > kept:
                    writer.add(obj)
                    chosen += 1
                    if chosen % 4096 == 0:
                        meter.tick(chosen)
                        for kept_rows in (*selector.kept.rows.values(), *selector.kept.lines.values()):
                            kept_rows.clear()  # only the choice matters here, not the geometry
            for rel in osmium.FileProcessor(str(source), osmium.osm.RELATION).with_filter(
                osmium.filter.IdFilter(relations)
            ):
                writer.add(rel)
        meter.tick(chosen, done=True)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {target} ({exc.strerror or exc}); nothing was written") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    io.shareable(target)
    return {
        "objects": chosen,
        "relations": len(relations),
        "source_bytes": source.stat().st_size,
        "target_bytes": target.stat().st_size,
    }
