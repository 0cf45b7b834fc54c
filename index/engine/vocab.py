"""Token -> term id, held in four numpy arrays so that it saves, loads and memory-maps like the rest.

The tokens' UTF-8 bytes are concatenated in term-id order (``blob``, with offsets ``off``), and a
hash table with crc32 buckets (``bstart``, ``bids``) finds a token's id with one bucket scan.  No
Python dict of the vocabulary is built at load: a million-term index opens in milliseconds.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

ARRAY_NAMES = ("vocab_blob", "vocab_off", "vocab_bstart", "vocab_bids")


class Vocab:
    """The vocabulary: ``get(token) -> term id`` (-1 if absent) and ``token(term id) -> token``."""

    __slots__ = ("bids", "blob", "bstart", "mask", "off")

    def __init__(self, blob: Array, off: Array, bstart: Array, bids: Array):
        self.blob, self.off, self.bstart, self.bids = blob, off, bstart, bids
        self.mask = len(bstart) - 2

    @classmethod
    def build(cls, tokens: list[str]) -> Vocab:
        """The vocabulary of ``tokens``, term id i being ``tokens[i]``."""
        raw = [t.encode("utf-8", "surrogatepass") for t in tokens]
        off = np.zeros(len(raw) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, raw), np.int64, len(raw)), out=off[1:])
        blob = np.frombuffer(b"".join(raw), np.uint8).copy()
        size = 1 << max(0, (len(raw) - 1).bit_length())
        h = np.fromiter(map(zlib.crc32, raw), np.int64, len(raw)) & (size - 1)
        bids = np.argsort(h, kind="stable").astype(np.int32)
        bstart = np.zeros(size + 1, np.int64)
        np.cumsum(np.bincount(h, minlength=size), out=bstart[1:])
        if off[-1] < 2**31:
            return cls(blob, off.astype(np.int32), bstart.astype(np.int32), bids)
        return cls(blob, off, bstart, bids)

    @classmethod
    def from_arrays(cls, arrays: dict[str, Array]) -> Vocab:
        """The vocabulary held in ``arrays`` (as ``arrays()`` returns them, saved or loaded)."""
        return cls(*(arrays[name] for name in ARRAY_NAMES))

    def __len__(self) -> int:
        return len(self.off) - 1

    def get(self, token: str) -> int:
        """The term id of ``token``; -1 if it is not in the vocabulary."""
        raw = token.encode("utf-8", "surrogatepass")
        h = zlib.crc32(raw) & self.mask
        lo, hi = self.bstart[h : h + 2].tolist()
        for i in range(lo, hi):
            t = int(self.bids[i])
            a, b = self.off[t : t + 2].tolist()
            if b - a == len(raw) and self.blob[a:b].tobytes() == raw:
                return t
        return -1

    def token(self, t: int) -> str:
        """The token of term id ``t`` (0 <= t < len(self))."""
        a, b = self.off[t : t + 2].tolist()
        return str(self.blob[a:b].tobytes().decode("utf-8", "surrogatepass"))

    def arrays(self) -> dict[str, Array]:
        """The four arrays by name (ARRAY_NAMES), for saving with the index."""
        return dict(zip(ARRAY_NAMES, (self.blob, self.off, self.bstart, self.bids)))
