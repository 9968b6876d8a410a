"""MNIST and Fashion-MNIST, the real ones, verified: found locally, cached, or fetched."""

from engine.data.base import DataError, ProgressCallback
from engine.data.cache import default_cache_dir
from engine.data.checksums import SPECS
from engine.data.loader import DATASETS, Dataset, load_dataset

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "ProgressCallback",
    "class_names",
    "default_cache_dir",
    "load_dataset",
]


def class_names(dataset: str) -> tuple[str, ...]:
    """The names of a dataset's classes, by class index, without loading it."""
    return SPECS[dataset].class_names
