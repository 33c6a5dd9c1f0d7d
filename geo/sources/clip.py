"""Cut a large extract (``china-latest.osm.pbf``) down to what HamJi reads, without the osmium tool.

A user downloads China once and works on the result afterwards. The output
holds exactly what :mod:`geo.sources.extracts` would keep — the province
boundary relations of North Korea and Jilin, marketplace and border-control
relations, and the roads, rail, markets, border controls and towns near
:data:`settings.REGION_BBOX` — each with every member and node it
references, so that no relation is left incomplete (the failure of a plain
bounding-box clip). It is an extract for HamJi, not a general-purpose clip.

The choice needs no node-location index (16 bytes a node on disk for
China): every pass runs libosmium's C++ filters, so Python sees only what
they let through.

1. Relations: the region's boundaries, marketplaces and border controls.
2. Tagged nodes and ways (HamJi's tags): a node is chosen by its own
   location, as :class:`~geo.sources.passes.FeaturePass` chooses it; a way
   of a kind HamJi reads is a candidate, noted with its first node.
3. Those first nodes alone (an id filter): a candidate is chosen when its
   first node is near the region, as the reader's test has it (or is
   missing from the file: the reader then looks at the way).
4. libosmium completes the choice (``IdTracker``): the member ways of the
   relations and the nodes of every chosen way.
5. One filtered pass, all in libosmium, writes it all.

Passes 4 and 5 run in a child process (:mod:`geo.sources.osm_copy`), so
that a full disk is one clear error rather than libosmium ending the
process.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import cast

import numpy as np
import osmium

from geo import io, settings
from geo.errors import InputError, OutputError
from geo.sources import osm_copy
from geo.sources.bounded import check_extract_stream
from geo.sources.extracts import TAG_KEYS, FileProgress, Progress, check_extract_path
from geo.sources.passes import FeaturePass, road_class, wanted_relation, wanted_tags, way_kinds

log = logging.getLogger(__name__)

__all__ = ["extract_region"]


def _region_relations(path: Path) -> tuple[list[int], dict[str, list[int]]]:
    """Pass 1: ids of the relations HamJi reads (the region's province boundaries, marketplaces, border
    controls), and of their member nodes and ways (``"n"``, ``"w"``)."""
    relations = osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(
        osmium.filter.TagFilter(
            ("boundary", "administrative"), ("amenity", "marketplace"), ("barrier", "border_control")
        )
    )
    keep: list[int] = []
    members: dict[str, list[int]] = {"n": [], "w": []}
    for rel in relations:
        if wanted_relation(rel.tags):  # not another country's or province's boundary
            keep.append(rel.id)
            for member in cast(osmium.osm.Relation, rel).members:
                if member.type in members:
                    members[member.type].append(member.ref)
    return keep, members


def _tagged(source: Path, types) -> osmium.FileProcessor:
    """``source``'s objects of ``types`` that carry a tag HamJi reads (libosmium tests them in C++)."""
    processor = osmium.FileProcessor(str(source), types)
    keys = osmium.filter.KeyFilter(*TAG_KEYS)
    return processor.with_filter(keys).with_filter(osmium.filter.TagFilter(*wanted_tags()))


def _highway(way: osmium.osm.Way) -> str | None:
    return road_class(way.tags.get("highway"))


def _nodes_and_candidates(source: Path, meter: FileProgress) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Pass 2: the chosen nodes; the candidate ways and the id of each one's first node."""
    selector = FeaturePass(settings.REGION_BBOX)
    nodes: list[int] = []
    ways: list[int] = []
    first: list[int] = []
    for seen, obj in enumerate(_tagged(source, osmium.osm.NODE | osmium.osm.WAY)):
        if isinstance(obj, osmium.osm.Node):
            kept = selector.count
            selector.see(obj)
            if selector.count > kept:
                nodes.append(obj.id)
                for rows in selector.kept.rows.values():
                    rows.clear()  # only the choice matters here, not the geometry
        elif isinstance(obj, osmium.osm.Way) and len(obj.nodes) and any(way_kinds(obj, _highway(obj))):
            ways.append(obj.id)
            first.append(obj.nodes[0].ref)
        if seen % 4096 == 0:
            meter.tick(len(nodes) + len(ways))
    return nodes, np.asarray(ways, dtype=np.int64), np.asarray(first, dtype=np.int64)


def _near_region(source: Path, ways: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Pass 3: the candidate ways whose first node is near the region box, or not in the file at all."""
    margin = settings.REGION_WAY_MARGIN_DEG
    west, south, east, north = settings.REGION_BBOX
    wanted = np.unique(first)
    found, near = [], []
    for node in osmium.FileProcessor(str(source), osmium.osm.NODE).with_filter(osmium.filter.IdFilter(wanted)):
        found.append(node.id)
        location = cast(osmium.osm.Node, node).location
        if west - margin <= location.lon <= east + margin and south - margin <= location.lat <= north + margin:
            near.append(node.id)
    keep = np.isin(first, np.asarray(near, dtype=np.int64)) | ~np.isin(first, np.asarray(found, dtype=np.int64))
    return ways[keep]


def _write(source: Path, tmp: Path, target: Path, chosen: dict[str, list[int]]) -> None:
    """Passes 4 and 5, in a child process (a full disk must not crash this one, see
    :mod:`geo.sources.osm_copy`): the chosen objects, completed with every object they reference, written.

    What is there only as a reference keeps its tags: HamJi's reader decides on an object from the object
    and its nodes' locations alone, all of which the cut holds, so it decides as it would on the whole file
    (a tagged node of a chosen road, far from the region, is as far in the cut).
    """
    osm_copy.copy_osm(osm_copy.CopySpec(str(source), str(tmp), track=chosen), name=str(target))


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
    meter = FileProgress(source, progress)
    try:
        relations, members = _region_relations(source)
        nodes, candidates, first = _nodes_and_candidates(source, meter)
        ways = _near_region(source, candidates, first)
        chosen = {
            "n": sorted({*nodes, *members["n"]}),
            "w": sorted({*ways.tolist(), *members["w"]}),
            "r": sorted(set(relations)),
        }
        _write(source, tmp, target, chosen)
        meter.tick(len(nodes) + len(ways), done=True)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {target} ({exc.strerror or exc}); nothing was written") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    io.shareable(target)
    return {
        "objects": len(nodes) + len(ways),
        "relations": len(relations),
        "source_bytes": source.stat().st_size,
        "target_bytes": target.stat().st_size,
    }
