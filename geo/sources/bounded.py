"""Bounds on what an OSM extract may make HamJi read: compressed size, time and XML token length.

libosmium decompresses ``.gz`` and ``.bz2`` itself with no limit, and its
XML parser (expat up to 2.5) parses a token again from its start on every
buffer it is fed, so one long comment or attribute costs time quadratic in
its length. :func:`check_extract_stream` reads a compressed or XML extract
once, before libosmium does, and stops at the first of:

- more decompressed bytes than :data:`settings.DECOMPRESSED_MAX_BYTES`;
- a compression ratio above :data:`settings.COMPRESSION_MAX_RATIO` (a
  "bomb": real OSM XML compresses about 10 to 20 times);
- more time than :data:`settings.DECOMPRESS_MAX_S`;
- an XML token (markup between two ``<``, a comment, a processing
  instruction) longer than :data:`settings.XML_TOKEN_MAX_BYTES`, or a
  DOCTYPE or CDATA section (which OSM XML never holds).

A file that passes is then read by libosmium in time linear in its size.
"""

from __future__ import annotations

import bz2
import gzip
import re
import time
import zlib
from pathlib import Path

from geo import settings
from geo.errors import InputError, clip

_CHUNK = 4 << 20
#: A file this small (decompressed) is never called a bomb, whatever its ratio.
_RATIO_FLOOR_BYTES = 16 << 20
_SPECIAL = re.compile(rb"<[!?]")


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n < 2**30 else f"{n / 2**30:,.1f} GiB"


class _XmlTokens:
    """Fed the bytes of an XML file in chunks; raises at the first token longer than ``limit``."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.run = 0  # bytes since the last "<" outside comments and processing instructions
        self.end: bytes | None = None  # terminator of the comment or instruction we are in
        self.inside = 0  # its length so far
        self.carry = b""
        self.offset = 0  # bytes of the file before ``carry``

    def fail(self, what: str) -> None:
        raise InputError(
            f"OSM extract {clip(self.path, 120)} holds {what} near byte {self.offset:,}; OpenStreetMap XML "
            "never does: the file is damaged or not an extract (raise settings.XML_TOKEN_MAX_BYTES, or "
            "HAMJI_XML_TOKEN_MAX_BYTES, only for a file you trust)",
            option="osm_paths",
        )

    def feed(self, chunk: bytes, final: bool = False) -> None:
        data, pos = self.carry + chunk, 0
        while pos < len(data):
            pos = self._special(data, pos, final) if self.end else self._plain(data, pos, final)
            if pos < 0:  # the rest waits for the next chunk
                return
        self.offset += len(data)
        self.carry = b""

    def _keep(self, data: bytes, pos: int) -> int:
        self.offset += pos
        self.carry = data[pos:]
        return -1

    def _plain(self, data: bytes, pos: int, final: bool) -> int:
        found = _SPECIAL.search(data, pos)
        stop = found.start() if found else len(data)
        parts = data[pos:stop].split(b"<")
        longest = max([self.run + len(parts[0]), *(len(p) for p in parts[1:-1])]) if len(parts) > 1 else 0
        self.run = len(parts[-1]) if len(parts) > 1 else self.run + len(parts[0])
        if max(longest, self.run) > self.limit:
            self.fail(f"an XML token or text of more than {_mib(self.limit)}")
        if not found:
            return stop
        if len(data) - stop < 9 and not final:
            return self._keep(data, stop)
        head = data[stop : stop + 9]
        if head.startswith(b"<!--"):
            self.end, self.inside = b"-->", 0
            return stop + 4
        if head.startswith(b"<?"):
            self.end, self.inside = b"?>", 0
            return stop + 2
        self.offset += stop
        self.fail(f"a {'CDATA section' if head.startswith(b'<![CDATA[') else 'DOCTYPE or <! declaration'}")
        return -1

    def _special(self, data: bytes, pos: int, final: bool) -> int:
        assert self.end is not None  # feed calls this only inside a comment or instruction, which sets end
        end = data.find(self.end, pos)
        if end < 0:
            keep = len(data) - len(self.end) + 1
            self.inside += max(keep - pos, 0)
            if self.inside > self.limit:
                self.fail(f"an XML comment or processing instruction of more than {_mib(self.limit)}")
            return len(data) if final else self._keep(data, max(keep, pos))
        self.inside += end - pos
        if self.inside > self.limit:
            self.fail(f"an XML comment or processing instruction of more than {_mib(self.limit)}")
        self.end, self.run = None, 0
        return end + 2 if data[end : end + 2] == b"?>" else end + 3


def _open(path: Path, raw):
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if name.endswith(".bz2"):
        return bz2.BZ2File(raw, mode="rb")
    return raw


def _limit_error(path: Path, what: str, setting: str, env: str) -> InputError:
    return InputError(
        f"OSM extract {clip(path, 120)} {what}; if the file is a real extract, raise settings.{setting} (or set {env})",
        option="osm_paths",
    )


def check_extract_stream(path: Path) -> None:
    """Read a ``.osm``, ``.osm.gz`` or ``.osm.bz2`` extract once within HamJi's bounds, or raise.

    A ``.pbf`` is not read here: libosmium bounds each of its blocks itself.

    Raises
    ------
    InputError
        Naming the bound that was exceeded and the setting (and environment
        variable) that raises it; or saying the compressed data is damaged.
    """
    path = Path(path)
    if path.name.lower().endswith(".pbf"):
        return
    max_bytes, max_ratio = settings.DECOMPRESSED_MAX_BYTES, settings.COMPRESSION_MAX_RATIO
    max_s, tokens = settings.DECOMPRESS_MAX_S, _XmlTokens(path, settings.XML_TOKEN_MAX_BYTES)
    compressed = path.name.lower().endswith((".gz", ".bz2"))
    started, total = time.monotonic(), 0
    with path.open("rb") as raw:
        stream = _open(path, raw)
        try:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if compressed and total > max_bytes:
                    what = f"expands to more than {_mib(max_bytes)}"
                    raise _limit_error(path, what, "DECOMPRESSED_MAX_BYTES", "HAMJI_DECOMPRESSED_MAX_BYTES")
                if compressed and total > _RATIO_FLOOR_BYTES and total > max_ratio * max(raw.tell(), 1):
                    what = f"expands more than {max_ratio:g} times (a decompression bomb?)"
                    raise _limit_error(path, what, "COMPRESSION_MAX_RATIO", "HAMJI_COMPRESSION_MAX_RATIO")
                if time.monotonic() - started > max_s:
                    what = f"took more than {max_s:g} s to read through"
                    raise _limit_error(path, what, "DECOMPRESS_MAX_S", "HAMJI_DECOMPRESS_MAX_S")
                tokens.feed(chunk)
            tokens.feed(b"", final=True)
        except (OSError, EOFError, zlib.error) as exc:
            reason = clip(str(exc) or type(exc).__name__, 120)
            raise InputError(
                f"OSM extract {clip(path, 120)} cannot be decompressed ({reason}); the file is damaged or "
                "truncated, download it again",
                option="osm_paths",
            ) from None
