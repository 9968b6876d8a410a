"""The on-disk cache: one compressed .npz of uint8 arrays per dataset, written atomically."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deeplook.engine.data.base import ARRAY_KEYS, ArrayMap, DataError
from deeplook.engine.files import npz_bytes, write_atomically


def default_cache_dir() -> Path:
    """$DEEPLOOK_CACHE_DIR, else $XDG_CACHE_HOME/deeplook, else ~/.cache/deeplook."""
    override = os.environ.get("DEEPLOOK_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "deeplook"
    return Path.home() / ".cache" / "deeplook"


def cache_file(cache_dir: Path, name: str) -> Path:
    """Where a dataset's cache lives (a name no Keras or IDX file uses, so none is mistaken for it)."""
    return cache_dir / f"{name}.uint8.npz"


def read_npz(path: Path, *, layouts: Sequence[tuple[str, ...]] = (ARRAY_KEYS,)) -> ArrayMap:
    """Load the four arrays of an .npz file without pickles.

    Each layout names four keys that map in order onto ARRAY_KEYS; the one matching the file is used.
    """
    try:
        # np.load is given an open file, not a path: on a damaged zip it would leak its own handle.
        with open(path, "rb") as stream:
            loaded = np.load(stream, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise DataError(f"{path}: expected an .npz archive of arrays, found a single .npy array")
            with loaded as archive:
                found = sorted(archive.files)
                keys = next((layout for layout in layouts if sorted(layout) == found), None)
                if keys is None:
                    expected = " or ".join(str(list(layout)) for layout in layouts)
                    raise DataError(f"{path}: expected arrays {expected}, found {found}")
                return {ours: archive[theirs] for ours, theirs in zip(ARRAY_KEYS, keys, strict=True)}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a readable .npz of arrays ({error})") from error


def write_npz(path: Path, arrays: ArrayMap) -> None:
    """Write arrays as a compressed .npz, atomically."""
    write_atomically(path, npz_bytes(dict(arrays), compress=True))  # uint8 images: 55 MB -> 11 MB
