"""Fixtures for engine tests: a tiny learnable dataset made here (the real MNIST has its own tests)."""

import numpy as np
import pytest

from deeplook.engine.data import Dataset
from deeplook.engine.data.specs import MNIST


def blob_dataset(train: int = 600, test: int = 200, seed: int = 0) -> Dataset:
    """Ten classes, each a bright 7x7 block at its own place on a noisy 28x28 canvas."""
    rng = np.random.default_rng(seed)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            row, col = divmod(int(label), 4)
            images[i, row * 7 + 2 : row * 7 + 9, col * 7 : col * 7 + 7] = 230
        return images.reshape(n, 784), labels

    train_images, train_labels = make(train)
    test_images, test_labels = make(test)
    return Dataset(
        name="mnist",
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        spec=MNIST,
        source="test blobs",
        cache_path=None,
    )


@pytest.fixture(scope="session")
def blobs() -> Dataset:
    return blob_dataset()


@pytest.fixture(scope="session")
def notebook_adam(mnist):
    """The notebook's Keras network trained its full 10 epochs on the real MNIST (about 10 s)."""
    from tests.engine.runs import train

    return train(mnist, "notebook-adam")
