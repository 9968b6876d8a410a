"""Datasets loaded once per server and shared with every worker without a copy each."""

from __future__ import annotations

import logging
import threading
from typing import Any

from deeplook.app.config import Settings
from deeplook.app.workers.base import Executor
from deeplook.engine.data import Dataset, ProgressCallback, load_dataset

logger = logging.getLogger("deeplook.data")


class DatasetCache:
    """Loads each dataset at most once (thread-safe) with the app's folder, cache and network settings,
    then has the executor share it; the server itself reads the shared copy too."""

    def __init__(self, settings: Settings, executor: Executor) -> None:
        self._settings = settings
        self._executor = executor
        self._loaded: dict[str, tuple[Dataset, Any]] = {}
        self._lock = threading.Lock()

    def get(self, name: str, progress: ProgressCallback | None = None) -> Dataset:
        """The verified dataset (blocking: call it off the event loop)."""
        return self._entry(name, progress)[0]

    def handle(self, name: str, progress: ProgressCallback | None = None) -> Any:
        """What a worker's assignment carries to reach the dataset."""
        return self._entry(name, progress)[1]

    def _entry(self, name: str, progress: ProgressCallback | None) -> tuple[Dataset, Any]:
        with self._lock:
            if name not in self._loaded:
                if progress is not None:
                    progress(f"loading {name}", 0.0)
                data = load_dataset(
                    name,
                    folder=self._settings.mnist_dir,
                    cache_dir=self._settings.cache_dir,
                    progress=progress,
                    allow_network=not self._settings.offline,
                )
                try:
                    self._loaded[name] = self._executor.share(data)
                except OSError as error:  # no room for the shared copy: each worker gets its own
                    logger.warning("could not share %s (%s): workers will each hold a copy", name, error)
                    self._loaded[name] = (data, data)
            return self._loaded[name]
