"""MNIST and Fashion-MNIST, the real ones, verified: found locally, cached, or fetched."""

from engine.data.base import DataError, ProgressCallback
from engine.data.cache import default_cache_dir
from engine.data.loader import DATASETS, Dataset, load_dataset

__all__ = ["DATASETS", "DataError", "Dataset", "ProgressCallback", "default_cache_dir", "load_dataset"]
