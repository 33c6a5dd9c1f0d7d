"""The locations of chosen nodes, read from a ``.osm.pbf`` file's blocks with numpy.

Why not libosmium: its location handler stores every node it sees (a China
extract is ~190 M nodes, 16 bytes each, 3 GB), and its id sets
(``IdFilter``, ``IdTracker``), which could choose the nodes first, are
bitmaps as long as the largest id: about 1.5 GB for today's node ids
(1.3e10) even when they hold a thousand. Here each block's dense nodes are
decoded in bulk (ids, latitudes, longitudes; tags and metadata are skipped
unread), and only the nodes whose id is in a sorted array are kept, so
memory follows the nodes kept, not the file. libosmium then loads them from
a small file (:func:`write_nodes`) and builds the ways as before.

The format is OSM's PBF (https://wiki.openstreetmap.org/wiki/PBF_Format):
blocks of raw or zlib-compressed protocol buffers. A file this module
cannot read (other compression, a required feature it does not know) raises
:class:`UnreadablePbf`, and the caller reads it another way.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["UnreadablePbf", "check_readable", "first_refs", "kept_locations", "way_refs", "write_nodes"]

#: Limits of the format: a block header at most 64 KiB, a block at most 32 MiB.
_MAX_HEADER = 64 * 1024
_MAX_BLOB = 32 * 1024 * 1024
_KNOWN_FEATURES = {"OsmSchema-V0.6", "DenseNodes"}
#: Top-level fields of a block: a string table, a group or two and three numbers in practice. Far more is
#: a crafted file (each field costs a Python step), read by libosmium instead.
_MAX_FIELDS = 10_000
#: Blocks decoded at once, on two threads: zlib releases Python's lock while it inflates, numpy in part.
_THREADS = 2
_IN_FLIGHT = 16


class UnreadablePbf(ValueError):
    """A PBF file, or a block of it, that this reader does not handle (the caller falls back)."""


@contextmanager
def _decoding() -> Iterator[None]:
    """numpy's own errors on a crafted block (an offset past the buffer, a negative count) as
    :class:`UnreadablePbf`, so that the caller falls back to libosmium, whose error is the one given."""
    try:
        yield
    except UnreadablePbf:
        raise
    except (ValueError, IndexError, OverflowError, TypeError) as exc:
        raise UnreadablePbf(f"a block this reader cannot decode ({exc})") from None


def _decoded(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` run under :func:`_decoding`."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _decoding():
            return function(*args, **kwargs)

    return run


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise UnreadablePbf("a number runs past its message")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


#: The "end" :func:`_fields` gives a number (a varint field): a field of the wrong wire type is skipped, as
#: libosmium skips it, never read as the other kind.
_NUMBER = -1


def _fields(buf: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, int]]:
    """``(field, value, end of value)`` of a message: for a length-delimited field the value is its start;
    for a number the end is :data:`_NUMBER`. Fixed-width fields (no field of the format) are skipped."""
    pos, end = start, len(buf) if end is None else end
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield field, value, _NUMBER
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise UnreadablePbf("a field runs past its message")
            yield field, pos, pos + length
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise UnreadablePbf(f"wire type {wire} is not in the format")


def _packed(buf: bytes, start: int, end: int) -> np.ndarray:
    """A packed run of varints as unsigned 64-bit numbers, decoded in bulk."""
    raw = np.frombuffer(buf, np.uint8, end - start, start)
    if raw.size == 0:
        return np.zeros(0, np.uint64)
    last = raw < 0x80
    if not last[-1]:
        raise UnreadablePbf("a packed run ends inside a number")
    ends = np.flatnonzero(last)
    if ends.size == raw.size:
        return raw.astype(np.uint64)  # every number is one byte
    starts = np.concatenate(([0], ends[:-1] + 1))
    within = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    if within.max() > 9:
        raise UnreadablePbf("a number longer than 64 bits")
    parts = (raw & 0x7F).astype(np.uint64) << (7 * within).astype(np.uint64)
    return np.bitwise_or.reduceat(parts, starts)


def _signed(values: np.ndarray) -> np.ndarray:
    """Protocol buffers' zigzag ``sint64`` to int64."""
    return (values >> np.uint64(1)).astype(np.int64) ^ -(values & np.uint64(1)).astype(np.int64)


def _deltas(buf: bytes, start: int, end: int) -> np.ndarray:
    return np.cumsum(_signed(_packed(buf, start, end)))


def _plain_node(buf: bytes, start: int, end: int) -> tuple[int, int, int]:
    ident = lat = lon = 0
    for field, value, stop in _fields(buf, start, end):
        if stop != _NUMBER:
            continue
        if field == 1:
            ident = (value >> 1) ^ -(value & 1)
        elif field == 8:
            lat = (value >> 1) ^ -(value & 1)
        elif field == 9:
            lon = (value >> 1) ^ -(value & 1)
    return ident, lat, lon


def _wanted_in(ident: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Which of ``ident`` are in ``wanted`` (sorted): searched only in the part of it the block's ids span."""
    if ident.size == 0 or wanted.size == 0:
        return np.zeros(ident.size, bool)
    low = np.searchsorted(wanted, ident.min(), side="left")
    high = np.searchsorted(wanted, ident.max(), side="right")
    span = wanted[low:high]
    if span.size == 0:
        return np.zeros(ident.size, bool)
    at = np.searchsorted(span, ident).clip(0, span.size - 1)
    return span[at] == ident


def _dense_nodes(block: bytes, start: int, end: int, wanted: np.ndarray) -> list[np.ndarray]:
    """A dense group's wanted nodes as ``[ids, lat, lon]`` (raw units). The coordinates are decoded only
    for a group that holds a wanted node: most of a China file's hold none."""
    dense = {f: (v, s) for f, v, s in _fields(block, start, end) if f in (1, 8, 9) and s != _NUMBER}
    ident = _deltas(block, *dense[1]) if 1 in dense else np.zeros(0, np.int64)
    keep = _wanted_in(ident, wanted)
    if not keep.any():
        return [np.zeros(0, np.int64)] * 3
    lat, lon = (_deltas(block, *dense[f]) if f in dense else np.zeros(0, np.int64) for f in (8, 9))
    if not ident.size == lat.size == lon.size:
        raise UnreadablePbf("a block's node ids and coordinates differ in number")
    return [ident[keep], lat[keep], lon[keep]]


def _group_nodes(block: bytes, start: int, end: int, wanted: np.ndarray) -> list[np.ndarray]:
    """A primitive group's wanted nodes as ``[ids, lat, lon]`` (raw units); its ways and relations are
    skipped."""
    parts: list[list[np.ndarray]] = []
    plain: list[tuple[int, int, int]] = []
    for field, value, stop in _fields(block, start, end):
        if stop == _NUMBER:
            continue
        if field == 2:
            parts.append(_dense_nodes(block, value, stop, wanted))
        elif field == 1:
            plain.append(_plain_node(block, value, stop))
    if plain:
        columns = [np.array(column, dtype=np.int64) for column in zip(*plain)]
        keep = _wanted_in(columns[0], wanted)
        parts.append([column[keep] for column in columns])
    if not parts:
        return [np.zeros(0, np.int64)] * 3
    return [np.concatenate([p[i] for p in parts]) for i in range(3)]


def _degrees_e7(raw: np.ndarray, granularity: int, offset: int) -> np.ndarray:
    """Raw block units to libosmium's 1e-7 degrees (int64), truncated toward zero as libosmium does."""
    if not 0 < granularity < 1 << 31 or abs(offset) > 1 << 62 or (raw.size and np.abs(raw).max() > 1 << 31):
        raise UnreadablePbf("a block's coordinates are out of the format's range")
    nano = raw * granularity + offset
    return np.where(nano >= 0, nano // 100, -((-nano) // 100))


def _block_nodes(block: bytes, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The wanted nodes of one decompressed block: ids, and x, y in 1e-7 degrees."""
    granularity, lat_offset, lon_offset = 100, 0, 0
    groups = []
    for count, (field, value, stop) in enumerate(_fields(block)):
        if count > _MAX_FIELDS:
            raise UnreadablePbf("a block of more fields than any OSM writer makes")
        if field == 2 and stop != _NUMBER:
            groups.append((value, stop))
        elif stop == _NUMBER and field in (17, 19, 20):
            granularity, lat_offset, lon_offset = (
                value if field == 17 else granularity,
                _int64(value) if field == 19 else lat_offset,
                _int64(value) if field == 20 else lon_offset,
            )
    ids, x, y = [], [], []
    for start, end in groups:
        ident, lat, lon = _group_nodes(block, start, end, wanted)
        if ident.size == 0:
            continue
        lon_e7 = _degrees_e7(lon, granularity, lon_offset)
        lat_e7 = _degrees_e7(lat, granularity, lat_offset)
        # A location off the globe is no location (libosmium's is invalid): the node counts as missing.
        valid = (np.abs(lon_e7) <= 1_800_000_000) & (np.abs(lat_e7) <= 900_000_000)
        ids.append(ident[valid])
        x.append(lon_e7[valid].astype(np.int32))
        y.append(lat_e7[valid].astype(np.int32))
    if not ids:
        empty = np.zeros(0, np.int64)
        return empty, empty.astype(np.int32), empty.astype(np.int32)
    return np.concatenate(ids), np.concatenate(x), np.concatenate(y)


def _int64(value: int) -> int:
    """A plain (not zigzag) protocol-buffer int64, which arrives as an unsigned varint."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unpack(blob: bytes) -> bytes:
    raw = compressed = size = None
    for field, value, stop in _fields(blob):
        if field == 2 and stop == _NUMBER:
            size = value
        elif stop == _NUMBER:
            continue
        elif field == 1:
            raw = blob[value:stop]
        elif field == 3:
            compressed = blob[value:stop]
        elif field in (4, 5, 6, 7):
            raise UnreadablePbf("a block compressed other than by zlib")
    if raw is not None:
        return raw
    if compressed is None:
        raise UnreadablePbf("a block with no data")
    if size is not None and size > _MAX_BLOB:
        raise UnreadablePbf("a block larger than the format allows")
    inflate = zlib.decompressobj()
    try:
        # Bounded: a block that says it is small may inflate to gigabytes.
        data = inflate.decompress(compressed, _MAX_BLOB)
    except zlib.error as exc:
        raise UnreadablePbf(f"a damaged block ({exc})") from None
    if inflate.unconsumed_tail:
        raise UnreadablePbf("a block larger than the format allows")
    return data


def _blobs(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(type, blob)`` for every block of the file, read in order."""
    with open(path, "rb") as handle:
        while head := handle.read(4):
            size = int.from_bytes(head, "big")
            if len(head) < 4 or size > _MAX_HEADER:
                raise UnreadablePbf("a block header that is not PBF")
            header = handle.read(size)
            kind, length = "", 0
            for field, value, stop in _fields(header):
                if field == 1 and stop != _NUMBER:
                    kind = header[value:stop].decode("ascii", "replace")
                elif field == 3 and stop == _NUMBER:
                    length = value
            if length > _MAX_BLOB:
                raise UnreadablePbf("a block larger than the format allows")
            blob = handle.read(length)
            if len(blob) < length:
                raise UnreadablePbf("the file ends inside a block")
            yield kind, blob


def _features(header_block: bytes) -> tuple[set[str], set[str]]:
    required: set[str] = set()
    optional: set[str] = set()
    for field, value, stop in _fields(header_block):
        if field in (4, 5) and stop != _NUMBER:
            (required if field == 4 else optional).add(header_block[value:stop].decode("utf-8", "replace"))
    return required, optional


def _features_of(blobs: Iterator[tuple[str, bytes]]) -> set[str]:
    """The optional features of a file's header block; raises unless this reader knows every required one."""
    kind, blob = next(blobs, ("", b""))
    if kind != "OSMHeader":
        raise UnreadablePbf("the file does not start with a PBF header")
    required, optional = _features(_unpack(blob))
    if required - _KNOWN_FEATURES:
        raise UnreadablePbf(f"the file needs {', '.join(sorted(required - _KNOWN_FEATURES))}")
    return optional


@_decoded
def check_readable(path: Path) -> None:
    """Raise :class:`UnreadablePbf` unless this reader knows the file's header and its first data block."""
    blobs = _blobs(Path(path))
    _features_of(blobs)
    for kind, blob in blobs:
        if kind == "OSMData":
            _block_nodes(_unpack(blob), np.zeros(0, np.int64))
            return


@_decoded
def kept_locations(path: Path, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The locations of the nodes of ``path`` whose ids are in ``wanted``.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.
    wanted
        Node ids, sorted and unique (``np.unique``).

    Returns
    -------
    tuple of numpy.ndarray
        ``(ids, x, y)``: the ids found, in file order, and their longitude and
        latitude in 1e-7 degrees (libosmium's ``Location.x`` and ``.y``).

    Raises
    ------
    UnreadablePbf
        When the file is not PBF as this reader knows it.
    """
    wanted = np.asarray(wanted, dtype=np.int64)
    blobs = _blobs(Path(path))
    # Every block is read, even after the ways of a file whose header says it is sorted: nothing checks
    # that claim (osmium cat sets it on any file), and nodes after it would be lost without a word.
    _features_of(blobs)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def decode(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _block_nodes(_unpack(blob), wanted)

    with ThreadPoolExecutor(_THREADS) as pool:
        pending: list = []
        for kind, blob in blobs:
            if kind != "OSMData":
                continue  # the format lets a reader skip blocks of a type it does not know
            pending.append(pool.submit(decode, blob))
            if len(pending) >= _IN_FLIGHT:
                _collect(pending.pop(0), found)
        for future in pending:
            _collect(future, found)
    if not found:
        empty = np.zeros(0, np.int32)
        return np.zeros(0, np.int64), empty, empty
    ids, x, y = (np.concatenate([part[i] for part in found]) for i in range(3))
    # A node given twice (a file of several versions that does not say so): the last one read, as
    # libosmium's index keeps the last location it is given.
    order = np.argsort(ids, kind="stable")
    last = np.ones(ids.size, bool)
    last[:-1] = ids[order][1:] != ids[order][:-1]
    keep = np.sort(order[last])
    return ids[keep], x[keep], y[keep]


def _collect(future, found: list) -> None:
    ids, x, y = future.result()
    if ids.size:
        found.append((ids, x, y))


def _ref_runs(block: bytes, start: int, end: int, runs: list[tuple[int, int]]) -> None:
    """Add the byte range of each way's packed references in one primitive group to ``runs``.

    A tight loop, not :func:`_fields`: it runs once per field of every way (every key of a way's
    fields is one byte, as the format's field numbers are below 16).
    """
    pos = start
    while pos < end:
        key = block[pos]
        length, pos = _varint(block, pos + 1) if key & 7 == 2 else (0, pos + 1)
        if key != 0x1A:  # not a way (field 3): skip it
            pos = pos + length if key & 7 == 2 else _varint(block, pos)[1]
            continue
        way_end, pos = pos + length, pos
        while pos < way_end:
            key = block[pos]
            wire = key & 7
            if wire == 0:
                pos = _varint(block, pos + 1)[1]
            elif wire == 2:
                size, pos = _varint(block, pos + 1)
                if key == 0x42:  # field 8: the references
                    runs.append((pos, pos + size))
                pos += size
            else:
                raise UnreadablePbf(f"wire type {wire} in a way")
        if pos != way_end:
            raise UnreadablePbf("a way runs past its message")


def _block_ways(block: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The ways of one decompressed block: how many references each has, and all of them, decoded in bulk."""
    runs: list[tuple[int, int]] = []
    for count, (field, value, stop) in enumerate(_fields(block)):
        if count > _MAX_FIELDS:
            raise UnreadablePbf("a block of more fields than any OSM writer makes")
        if field == 2 and stop != _NUMBER:
            _ref_runs(block, value, stop, runs)
    if not runs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # One decode for the block's runs laid end to end; the deltas then restart at each way.
    joined = b"".join(block[start:end] for start, end in runs)
    # Numbers in each run: the number ends (bytes below 0x80) up to the run's last byte, less those before.
    ends = np.cumsum(np.frombuffer(joined, np.uint8) < 0x80)
    run_ends = np.cumsum([end - start for start, end in runs])
    counts = np.diff(ends[run_ends - 1], prepend=0)
    total = np.cumsum(_signed(_packed(joined, 0, len(joined))))
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    before = np.where(first > 0, total[np.maximum(first - 1, 0)], 0)
    return counts, total - np.repeat(before, counts)


def _ways(path: Path) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    blobs = _blobs(Path(path))
    _features_of(blobs)
    for kind, blob in blobs:
        if kind == "OSMData":
            yield _block_ways(_unpack(blob))


@_decoded
def first_refs(path: Path) -> np.ndarray:
    """The first node reference of every way of a PBF file that has references, in file order (as
    :func:`way_refs` counts the ways: libosmium writes no references field for a way without nodes)."""
    parts = []
    for counts, refs in _ways(path):
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # A references field that holds no number (crafted) gives -1: no node has that id.
        parts.append(np.where(counts > 0, refs[np.minimum(starts, max(refs.size - 1, 0))] if refs.size else -1, -1))
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


@_decoded
def way_refs(path: Path, keep: np.ndarray | None = None) -> np.ndarray:
    """Every node reference of the ways of a PBF file, unsorted, with repeats; with ``keep`` (one flag a
    way, in file order, as :func:`first_refs` gives them), of the kept ways only."""
    parts, seen = [], 0
    for counts, refs in _ways(path):
        if keep is not None:
            refs = refs[np.repeat(keep[seen : seen + counts.size], counts)]
        seen += counts.size
        parts.append(refs)
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


# --------------------------------------------------------------------------
# writing: the kept nodes as a small PBF file for libosmium
# --------------------------------------------------------------------------

_NODES_PER_BLOCK = 8000


def _varint_bytes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unsigned 64-bit numbers as varints laid end to end, encoded in bulk; and each one's length."""
    values = values.astype(np.uint64)
    lengths = np.ones(values.size, np.int64)
    for k in range(1, 10):
        lengths += values >= np.uint64(1 << (7 * k))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    out = np.zeros(int(lengths.sum()), np.uint8)
    for k in range(int(lengths.max(initial=1))):
        here = lengths > k
        byte = (values[here] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (lengths[here] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[here] + k] = (byte | more).astype(np.uint8)
    return out, lengths


def _small_varint(value: int) -> bytes:
    """One varint, for the few numbers of a block's framing (numpy costs more than it saves here)."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _zigzag(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.int64)
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def _key(field: int, wire: int) -> bytes:
    return _small_varint((field << 3) | wire)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _small_varint(len(payload)) + payload


def _blob(kind: str, payload: bytes) -> bytes:
    blob = _length_delimited(1, payload) + _key(2, 0) + _small_varint(len(payload))
    header = _length_delimited(1, kind.encode()) + _key(3, 0) + _small_varint(len(blob))
    return len(header).to_bytes(4, "big") + header + blob


def write_nodes(path: Path, ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Write untagged nodes (ids; x, y in 1e-7 degrees) as a sorted ``.osm.pbf`` file libosmium reads.

    Blocks are stored uncompressed: the file lives only as long as one read.
    """
    order = np.argsort(ids, kind="stable")
    first = np.arange(0, ids.size, _NODES_PER_BLOCK)
    columns = []
    # Coordinates in units of 100 nanodegrees (granularity 100, the default); each column as deltas that
    # start again in every block, all encoded at once and cut into blocks after.
    for field, values in ((1, ids), (8, y), (9, x)):
        values = np.asarray(values, np.int64)[order]
        deltas = np.diff(values, prepend=0)
        deltas[first] = values[first]
        raw, lengths = _varint_bytes(_zigzag(deltas))
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        columns.append((field, raw, bounds))
    features = b"".join(_length_delimited(4, name.encode()) for name in ("OsmSchema-V0.6", "DenseNodes"))
    with open(path, "wb") as out:
        out.write(_blob("OSMHeader", features + _length_delimited(5, b"Sort.Type_then_ID")))
        for start in first.tolist():
            stop = min(start + _NODES_PER_BLOCK, ids.size)
            dense = b"".join(
                _length_delimited(field, raw[bounds[start] : bounds[stop]].tobytes()) for field, raw, bounds in columns
            )
            group = _length_delimited(2, dense)
            out.write(_blob("OSMData", _length_delimited(1, _length_delimited(1, b"")) + _length_delimited(2, group)))
