"""MNIST and Fashion-MNIST, the real ones, verified: found locally, cached, or fetched."""

from deeplook.engine.data.base import DataError, ProgressCallback
from deeplook.engine.data.cache import default_cache_dir
from deeplook.engine.data.loader import Dataset, load_dataset
from deeplook.engine.data.specs import DATASETS, DatasetSpec

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "DatasetSpec",
    "ProgressCallback",
    "default_cache_dir",
    "load_dataset",
]
