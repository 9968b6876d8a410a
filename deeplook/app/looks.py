"""The look-inside views computed from a run's saved epochs (the hidden space, what each unit wants),
cached: an epoch's model never changes once saved, unless the epoch is trained again after a resume,
which the model file's stamp tells."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

import numpy as np

from deeplook.app.datasets import DatasetCache
from deeplook.app.errors import ServiceError
from deeplook.app.files import RunFiles
from deeplook.app.models import ModelRegistry
from deeplook.engine import embedding, maximize
from deeplook.engine.embedding import Projection
from deeplook.engine.maximize import Wanted

CACHED_PROJECTIONS = 1024
"""2,000 points each: about 40 MB at most."""
CACHED_WANTS = 4096
"""Units' wanted images (784 values each): about 25 MB at most."""
CACHED_TOPS = 16

Key = TypeVar("Key")
Value = TypeVar("Value")


class Cache(Generic[Key, Value]):
    """A thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Key, Value] = OrderedDict()

    def get(self, key: Key) -> Value | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: Key, value: Value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


Stamp = tuple[int, int] | None


class Looks:
    def __init__(self, models: ModelRegistry, datasets: DatasetCache, files: RunFiles) -> None:
        self._models = models
        self._datasets = datasets
        self._files = files
        self._projections: Cache[tuple[str, str, int], tuple[Stamp, Projection]] = Cache(CACHED_PROJECTIONS)
        self._wants: Cache[tuple[str, int, int, float, float, Stamp, int], Wanted] = Cache(CACHED_WANTS)
        self._top: Cache[tuple[str, int, int, Stamp], tuple[np.ndarray, np.ndarray]] = Cache(CACHED_TOPS)

    def _stamp(self, run_id: str, epoch: int) -> Stamp:
        try:
            status = self._files.model(run_id, epoch).stat()
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size

    def _epoch(self, run_id: str, epoch: int | None) -> tuple[int, list[int]]:
        epochs = self._models.epochs(run_id)
        if not epochs:
            raise ServiceError("no_trained_model", run=run_id)
        chosen = epochs[-1] if epoch is None else epoch
        if chosen not in epochs:
            raise ServiceError("no_epoch_model", run=run_id, epoch=chosen, epochs=", ".join(map(str, epochs)))
        return chosen, epochs

    def embedding(
        self, run_id: str, dataset: str, epoch: int | None, view: str
    ) -> tuple[int, list[int], list[Projection], np.ndarray, np.ndarray]:
        """(blocking) The chosen epoch, the epochs saved, and the projections of every saved epoch up to
        it (each aligned to the one before), with the sample's test indices and labels."""
        chosen, epochs = self._epoch(run_id, epoch)
        data = self._datasets.get(dataset)
        index = embedding.sample_indices(data.test_labels)
        images, labels = data.test_images[index], data.test_labels[index]
        path: list[Projection] = []
        previous: Projection | None = None
        reuse = True  # an epoch's cached projection holds only if the ones before it did
        for e in (e for e in epochs if e <= chosen):
            stamp, key = self._stamp(run_id, e), (run_id, view, e)
            cached = self._projections.get(key) if reuse else None
            if cached is not None and cached[0] == stamp:
                projection = cached[1]
            else:
                reuse = False
                weights = self._models.load(run_id, e).weights
                projection = embedding.embed(weights, images, labels, previous, view)
                self._projections.put(key, (stamp, projection))
            path.append(projection)
            previous = projection
        return chosen, epochs, path, index, labels

    def wanted(
        self,
        run_id: str,
        dataset: str,
        epoch: int | None,
        layer: int,
        units: range,
        l2: float,
        tv: float,
    ) -> tuple[int, int, Wanted]:
        """(blocking) The chosen epoch, the layer's unit count, and what ``units`` of ``layer`` want
        (those past the layer's last unit left out)."""
        chosen, _ = self._epoch(run_id, epoch)
        stamp = self._stamp(run_id, chosen)
        weights = self._models.load(run_id, chosen).weights
        layers = len(weights.config.sizes) - 1
        if not 0 <= layer < layers:
            raise ServiceError("invalid_input", error=f"layer must be in 0..{layers - 1}, got {layer}")
        width = weights.config.sizes[layer + 1]
        chosen_units = [u for u in units if u < width]
        key = (run_id, chosen, layer, l2, tv, stamp)
        found = {u: w for u in chosen_units if (w := self._wants.get((*key, u))) is not None}
        missing = [u for u in chosen_units if u not in found]
        if missing:
            top = self._top.get((run_id, chosen, layer, stamp))
            if top is None:
                data = self._datasets.get(dataset)
                top = maximize.most_exciting(weights, layer, data.test_images)
                self._top.put((run_id, chosen, layer, stamp), top)
            made = maximize.wanted(weights, layer, top, missing, l2=l2, tv=tv)
            for i, unit in enumerate(missing):
                found[unit] = made.take([i])
                self._wants.put((*key, unit), found[unit])
        return chosen, width, maximize.Wanted.join(layer, [found[u] for u in chosen_units])
