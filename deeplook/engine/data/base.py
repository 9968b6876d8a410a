"""Shared vocabulary of the data package: the error type, the progress callback and the array keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ProgressCallback = Callable[[str, float | None], None]
"""Called with a message and a fraction in 0..1 (or None when the amount of work is unknown)."""

ArrayMap = dict[str, NDArray[np.uint8]]
"""The four arrays of a dataset, keyed by ARRAY_KEYS."""

ARRAY_KEYS = ("train_images", "train_labels", "test_images", "test_labels")


class DataError(Exception):
    """A dataset could not be found, read or verified; the message says what was expected and found."""


def silent(message: str, fraction: float | None) -> None:
    """A progress callback that shows nothing."""


@dataclass(frozen=True)
class Found:
    """Arrays a source produced (not yet verified) and a human-readable name of that source."""

    arrays: ArrayMap
    source: str
