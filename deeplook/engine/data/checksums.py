"""Known hashes of MNIST and Fashion-MNIST, and the one check every source goes through.

Every source (folder, cache, mirror, package) is verified the same way: the arrays it produced are
turned back into the exact bytes of the uncompressed IDX files (header + raw bytes) and those are
MD5-hashed against the table below.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from deeplook.engine.data.base import ARRAY_KEYS, ArrayMap, DataError
from deeplook.engine.data.idx import idx_header


@dataclass(frozen=True)
class IdxFile:
    """One of a dataset's four IDX files: its array key, file name stem, IDX shape and MD5."""

    key: str
    stem: str
    shape: tuple[int, ...]
    md5: str


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset must look like: its four files with their hashes, and its class names."""

    name: str
    files: tuple[IdxFile, ...]
    class_names: tuple[str, ...]

    def file(self, key: str) -> IdxFile:
        """The file stored under an array key such as "train_images"."""
        for idx_file in self.files:
            if idx_file.key == key:
                return idx_file
        raise KeyError(key)


# Canonical MNIST: MD5s of the four uncompressed IDX files, as published with the dataset.
MNIST = DatasetSpec(
    name="mnist",
    files=(
        IdxFile(
            "train_images", "train-images-idx3-ubyte", (60000, 28, 28), "6bbc9ace898e44ae57da46a324031adb"
        ),
        IdxFile("train_labels", "train-labels-idx1-ubyte", (60000,), "a25bea736e30d166cdddb491f175f624"),
        IdxFile("test_images", "t10k-images-idx3-ubyte", (10000, 28, 28), "2646ac647ad5339dbf082846283269ea"),
        IdxFile("test_labels", "t10k-labels-idx1-ubyte", (10000,), "27ae3e4e09519cfbb04c329615203637"),
    ),
    class_names=tuple(str(digit) for digit in range(10)),
)

# Fashion-MNIST publishes MD5s of its .gz files only:
#   train-images-idx3-ubyte.gz 8d4fb7e6c68d591d4c3dfef9ec88bf0d
#   train-labels-idx1-ubyte.gz 25c81989df183df01b3e8a0aad5dffbe
#   t10k-images-idx3-ubyte.gz  bef4ecab320f06d8554ea6380940ec79
#   t10k-labels-idx1-ubyte.gz  bb300cfdad3c16e7a12a480ee83cd310
# The MD5s below are of the uncompressed IDX bytes, derived once from Debian's dataset-fashion-mnist
# (0.0~git20200523.55506a9-1, /usr/share/datasets/fashion-mnist/*.gz). Debian's .gz files differ from the
# published ones only in the gzip header (strip-nondeterminism dropped the file name and set the mtime
# to the package date): putting back the original header (FNAME = the file's stem, mtime 1504176606 for
# the train files and 1504176627 for the t10k files, XFL 0, OS 3) in front of Debian's unchanged deflate
# streams reproduces all four published .gz MD5s byte for byte, so these are Zalando's data. Other
# projects record the same uncompressed MD5s.
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    files=(
        IdxFile(
            "train_images", "train-images-idx3-ubyte", (60000, 28, 28), "f4a8712d7a061bf5bd6d2ca38dc4d50a"
        ),
        IdxFile("train_labels", "train-labels-idx1-ubyte", (60000,), "9018921c3c673c538a1fc5bad174d6f9"),
        IdxFile("test_images", "t10k-images-idx3-ubyte", (10000, 28, 28), "8181f5470baa50b63fa0f6fddb340f0a"),
        IdxFile("test_labels", "t10k-labels-idx1-ubyte", (10000,), "15d484375f8d13e6eb1aabb0c3f46965"),
    ),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
)

SPECS = MappingProxyType({spec.name: spec for spec in (MNIST, FASHION_MNIST)})


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
