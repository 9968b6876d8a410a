"""Datasets loaded once per process and shared by training runs and the look-inside routes."""

from __future__ import annotations

import threading

from deeplook.app.config import Settings
from deeplook.engine.data import Dataset, ProgressCallback, load_dataset


class DatasetCache:
    """Loads each dataset at most once (thread-safe) with the app's folder, cache and network settings."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loaded: dict[str, Dataset] = {}
        self._lock = threading.Lock()

    def get(self, name: str, progress: ProgressCallback | None = None) -> Dataset:
        with self._lock:
            if name not in self._loaded:
                if progress is not None:
                    progress(f"loading {name}", 0.0)
                self._loaded[name] = load_dataset(
                    name,
                    folder=self._settings.mnist_dir,
                    cache_dir=self._settings.cache_dir,
                    progress=progress,
                    allow_network=not self._settings.offline,
                )
            return self._loaded[name]
