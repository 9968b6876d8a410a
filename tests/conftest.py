"""Fixtures shared by every test folder."""

import pytest

from deeplook.engine.data import Dataset, load_dataset


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    """The real MNIST through the real source chain (the user's cache after the first fetch)."""
    return load_dataset("mnist")
