"""MNIST and Fashion-MNIST, the real ones, verified: found locally, cached, or fetched."""

from deeplook.engine.data.base import DataError, ProgressCallback
from deeplook.engine.data.cache import default_cache_dir
from deeplook.engine.data.checksums import SPECS
from deeplook.engine.data.loader import DATASETS, Dataset, load_dataset

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
