"""Persistence: one ``.npy`` file per array and a ``meta.json``, memory-mapped on load.

A saved index opens in milliseconds whatever its size: ``np.load(mmap_mode="r")`` maps each
array, and the pages a query touches are read in by the OS (and shared between processes that
open the same files).  ``meta.json`` holds the format version and the corpus statistics
(documents, tokens, avgdl, average idf); an index of another format is refused, not misread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np

from . import params
from .layout import ARRAY_NAMES, Array, Layout
from .vocab import ARRAY_NAMES as VOCAB_NAMES


def save(lay: Layout, directory: Path) -> None:
    """Write the layout into ``directory`` (created if needed): one .npy per array + meta.json."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, arr in lay.arrays().items():
        np.save(directory / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
    meta = {"format": params.FORMAT, **lay.meta(), "k1": params.K1, "b": params.B, "epsilon": params.EPSILON}
    (directory / "meta.json").write_text(json.dumps(meta))


def load(directory: Path, *, mmap: bool = True) -> Layout:
    """The layout saved in ``directory``, its arrays memory-mapped read-only if ``mmap``.

    Raises FileNotFoundError if a file is missing, ValueError if the format is not this one's.
    """
    directory = Path(directory)
    meta = json.loads((directory / "meta.json").read_text())
    if meta.get("format") != params.FORMAT:
        raise ValueError(
            f"unsupported index format {meta.get('format')!r} in {directory} (expected "
            f"{params.FORMAT}): rebuild the index"
        )
    mode: Literal["r"] | None = "r" if mmap else None
    arrays: dict[str, Array] = {}
    for name in ARRAY_NAMES + VOCAB_NAMES:
        a = np.load(directory / f"{name}.npy", mmap_mode=mode, allow_pickle=False)
        # plain ndarray views of the maps: np.memmap's Python-level subclass hooks cost on every op
        arrays[name] = a.view(np.ndarray) if isinstance(a, np.memmap) else a
    return Layout(arrays, meta)
