"""OPL text (osmium's one-line-per-object format) built a column at a time from numpy arrays.

Formatting one line per object in Python costs about a microsecond and a
half a node, which at Geofabrik's China size (about 190 M nodes) is most of
an hour. :class:`Lines` lays out many lines at once as a byte matrix, one
row a line and every field a block of columns of fixed width: numbers
zero-padded (``n000123``: libosmium reads leading zeros), strings padded
with spaces, which OPL takes between fields and at the end of a line. So a
string may only end a field (a tag list, a user name, a node list), and
only ASCII keys and values that need no OPL escaping are written. The
padding never reaches the PBF: osmium reads the values, not the text.
"""

from __future__ import annotations

import numpy as np

#: Widest non-negative int64 in decimal digits.
_INT64_DIGITS = 19
#: "0000" … "9999" as 4-byte words: a number's digits are looked up four at a time.
_FOUR_DIGITS = np.array([f"{i:04d}".encode() for i in range(10_000)], dtype="S4").view(np.uint32)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative integers, zero-padded on the left."""
    groups = -(-width // 4)
    left = values
    words = []
    for _ in range(groups):
        left, low = np.divmod(left, 10_000)
        words.append(_FOUR_DIGITS[low])
    matrix = np.stack(words[::-1], 1).view(np.uint8)  # most significant group first
    return matrix[:, groups * 4 - width :]


class Table:
    """Strings encoded once as a space-padded byte matrix, one row a string, for :meth:`Lines.pick`."""

    def __init__(self, strings: list[str]):
        encoded = [text.encode("ascii") for text in strings]
        width = max(1, max(map(len, encoded)))
        self.matrix = np.frombuffer(b"".join(text.ljust(width) for text in encoded), np.uint8).reshape(-1, width)
        self.lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))


class Lines:
    """``n`` OPL lines, assembled left to right by the methods below, then turned into bytes by :meth:`text`."""

    def __init__(self, n: int):
        self.n = n
        self._blocks: list[np.ndarray] = []

    def extend(self, other: Lines) -> Lines:
        """Another set of ``n`` lines' fields, appended block by block."""
        self._blocks += other._blocks
        return self

    def block(self, columns: np.ndarray) -> Lines:
        """Bytes already laid out: an (n, width) matrix, or (1, width) for every line."""
        self._blocks.append(columns)
        return self

    def same(self, text: str) -> Lines:
        """The same text on every line."""
        self._blocks.append(np.frombuffer(text.encode("ascii"), np.uint8)[None, :])
        return self

    def number(self, values: np.ndarray, digits: int | None = None) -> Lines:
        """Non-negative integers in decimal, zero-padded to ``digits`` (default: as many as the largest needs)."""
        values = np.asarray(values, dtype=np.int64)
        if values.size and int(values.min()) < 0:
            raise ValueError("Lines.number writes non-negative integers only")
        width = digits or (len(str(int(values.max()))) if values.size else 1)
        if width > _INT64_DIGITS:
            raise ValueError(f"{width} digits do not fit in int64")
        self._blocks.append(_digits(values, width))
        return self

    def degrees(self, values: np.ndarray) -> Lines:
        """Coordinates with OSM's seven decimals (non-negative: China's are all east and north)."""
        units = np.round(np.asarray(values, dtype=np.float64) * 1e7).astype(np.int64)
        return self.number(units // 10_000_000).same(".").number(units % 10_000_000, digits=7)

    def pick(self, table: Table | list[str], index: np.ndarray) -> Lines:
        """``table[index]`` on each line, padded with spaces: only at the end of a field."""
        table = table if isinstance(table, Table) else Table(table)
        self._blocks.append(table.matrix[np.asarray(index, dtype=np.int64)])
        return self

    def joined(self, *parts: tuple[Table, np.ndarray]) -> Lines:
        """One field made of several strings each (``table[index]`` of every part, an empty string where a part
        is absent), run together, then padded with spaces: a tag list of optional tags."""
        rows = np.arange(self.n)
        lengths = [table.lengths[index] for table, index in parts]
        out = np.full((self.n, max(1, sum(table.matrix.shape[1] for table, _ in parts))), ord(" "), np.uint8)
        at = np.zeros(self.n, np.int64)
        for (table, index), length in zip(parts, lengths):
            for column in range(table.matrix.shape[1]):
                has = column < length
                out[rows[has], at[has] + column] = table.matrix[index[has], column]
            at += length
        self._blocks.append(out[:, : max(1, int(at.max()))])
        return self

    def matrix(self) -> np.ndarray:
        """The lines as an (n, width) byte matrix, each row ended by a newline."""
        blocks = [*self._blocks, np.frombuffer(b"\n", np.uint8)[None, :]]
        out = np.empty((self.n, sum(block.shape[1] for block in blocks)), np.uint8)
        at = 0
        for block in blocks:
            out[:, at : at + block.shape[1]] = block
            at += block.shape[1]
        return out

    def text(self) -> bytes:
        """The lines as text."""
        return self.matrix().tobytes()


def interleave(first: np.ndarray, second: np.ndarray) -> bytes:
    """Two sets of lines as text, alternately (first[0], second[0], first[1], …), the shorter padded at the end."""
    width = max(first.shape[1], second.shape[1])
    out = np.full((first.shape[0] + second.shape[0], width), ord(" "), np.uint8)
    out[0::2, : first.shape[1] - 1] = first[:, :-1]
    out[1::2, : second.shape[1] - 1] = second[:, :-1]
    out[:, -1] = ord("\n")
    return out.tobytes()
