"""The one check every source of a dataset goes through.

Every source (folder, cache, mirror, package) is verified the same way: the arrays it produced are
turned back into the exact bytes of the uncompressed IDX files (header + raw bytes) and those are
MD5-hashed against the dataset's spec (``specs.py``).
"""

from __future__ import annotations

import hashlib

import numpy as np

from deeplook.engine.data.base import ARRAY_KEYS, ArrayMap, DataError
from deeplook.engine.data.idx import idx_header
from deeplook.engine.data.specs import DatasetSpec


def idx_md5(array: np.ndarray, shape: tuple[int, ...]) -> str:
    """MD5 of the IDX file that holds this array with the given IDX shape, without copying the data."""
    digest = hashlib.md5(idx_header(shape), usedforsecurity=False)
    digest.update(np.ascontiguousarray(array).data.cast("B"))
    return digest.hexdigest()


def verify(arrays: ArrayMap, spec: DatasetSpec, *, source: str) -> None:
    """Check that four arrays are exactly the dataset's files; raise DataError naming what differs."""
    if sorted(arrays) != sorted(ARRAY_KEYS):
        raise DataError(f"{source}: expected arrays {list(ARRAY_KEYS)}, found {sorted(arrays)}")
    for idx_file in spec.files:
        array = arrays[idx_file.key]
        count = idx_file.shape[0]
        flat_shape = (count, int(np.prod(idx_file.shape[1:]))) if len(idx_file.shape) > 1 else (count,)
        if array.dtype != np.uint8 or array.shape not in (flat_shape, idx_file.shape):
            raise DataError(
                f"{source}: expected {idx_file.key} as uint8 {flat_shape}, found {array.dtype} {array.shape}"
            )
        found = idx_md5(array, idx_file.shape)
        if found != idx_file.md5:
            raise DataError(
                f"{source}: {idx_file.key} does not match {spec.name}'s {idx_file.stem}: "
                f"expected MD5 {idx_file.md5}, found {found}"
            )
