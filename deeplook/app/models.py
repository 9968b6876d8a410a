"""Which model answers predictions.

The rule, documented in the README: a pinned model (``PUT /api/models/current``: a run, and an epoch or
its latest) when one is pinned; otherwise the newest run (by creation) that has finished an epoch, at
its latest epoch. Several runs may train at once; the current model changes only when that rule's
answer does, never half-way through a swap. Any run's any saved epoch can also be asked for by name.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from deeplook.app.errors import ServiceError
from deeplook.app.files import RunFiles
from deeplook.app.schemas import ModelInfo
from deeplook.app.store import Pin, RunRecord, Store
from deeplook.engine import serialize
from deeplook.engine.data import DATASETS
from deeplook.engine.model import Weights

CACHED_MODELS = 16


@dataclass(frozen=True, eq=False)
class ServingModel:
    """Frozen weights of one epoch of one run: safe to use from any thread."""

    run_id: str
    epoch: int
    test_accuracy: float | None
    dataset: str
    weights: Weights
    created_at: float = 0.0
    """When its run was created (the default rule serves the newest run)."""

    def info(self, pinned: bool = False) -> ModelInfo:
        return ModelInfo(
            run_id=self.run_id,
            epoch=self.epoch,
            test_accuracy=self.test_accuracy,
            dataset=self.dataset,
            class_names=list(DATASETS[self.dataset].class_names),
            pinned=pinned,
        )

    @functools.cached_property
    def class_names(self) -> tuple[str, ...]:
        return tuple(DATASETS[self.dataset].class_names)

    @functools.cached_property
    def info_json(self) -> tuple[bytes, bytes]:
        """``info()`` serialised once: (not pinned, pinned), for answers that embed it."""
        return self.info(False).model_dump_json().encode(), self.info(True).model_dump_json().encode()


class ModelRegistry:
    def __init__(self, store: Store, files: RunFiles) -> None:
        self._store = store
        self._files = files
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], ServingModel] = OrderedDict()
        self.current: ServingModel | None = None
        self.pin: Pin | None = None

    @property
    def pinned(self) -> bool:
        return self.pin is not None and self.current is not None and self.current.run_id == self.pin.run_id

    # -- changes ------------------------------------------------------------------------------------

    def recorded(self, model: ServingModel) -> None:
        """A run recorded an epoch: remember its model, and serve it if the rule says so."""
        with self._lock:
            self._remember(model)
        current = self.current
        if self.pin is not None:
            if self.pin.run_id == model.run_id and self.pin.epoch is None:
                self.current = model
            return
        if current is None or current.run_id == model.run_id or model.created_at >= current.created_at:
            self.current = model

    def reload(self) -> None:
        """Compute the current model from the store and the files (blocking: call it off the loop)."""
        self.pin = self._store.pinned()
        if self.pin is not None:
            try:
                self.current = self.load(self.pin.run_id, self.pin.epoch)
                return
            except ServiceError:
                pass  # a pinned model that is gone or damaged: fall back to the rule
        current = None
        for run in self._store.list_runs():  # newest first
            if run.checkpoint_epoch >= 1:
                try:
                    current = self.load(run.id, None, run)
                except ServiceError:
                    continue
                break
        self.current = current

    def forget(self, run_id: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == run_id]:
                del self._cache[key]

    # -- reads --------------------------------------------------------------------------------------

    def get(self, run_id: str | None, epoch: int | None = None) -> ServingModel:
        """The current model (no run named), or a run's model of an epoch (default: its latest)."""
        if run_id is None and epoch is None:
            current = self.current
            if current is None:
                raise ServiceError("no_model")
            return current
        if run_id is None:
            raise ServiceError("invalid_input", error="an epoch needs a run_id")
        current = self.current
        if current is not None and current.run_id == run_id and epoch in (None, current.epoch):
            return current
        return self.load(run_id, epoch)

    def at_hand(self, run_id: str | None, epoch: int | None = None) -> ServingModel | None:
        """What ``get`` answers when it needs neither the database nor a file (so it can run on the
        event loop); None when it does. Raises what ``get`` raises for no model or an epoch alone."""
        if run_id is None:
            return self.get(None, epoch)
        current = self.current
        if current is not None and current.run_id == run_id and epoch in (None, current.epoch):
            return current
        if epoch is None:
            return None  # a run's latest epoch is in the database
        with self._lock:
            return self._cache.get((run_id, epoch))

    def load(self, run_id: str, epoch: int | None, run: RunRecord | None = None) -> ServingModel:
        """A run's model of ``epoch`` (None: the latest), from memory or its file (blocking)."""
        run = run or self._store.get_run(run_id)
        if run is None:
            raise ServiceError("run_not_found", run=run_id)
        if epoch is None:
            if run.checkpoint_epoch < 1:
                raise ServiceError("no_trained_model", run=run_id)
            epoch = run.checkpoint_epoch
        key = (run_id, epoch)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        path = self._path(run, epoch)
        try:
            checkpoint = serialize.load(path)
        except serialize.CheckpointError as error:
            raise ServiceError("model_damaged", run=run_id, error=str(error)) from error
        accuracy = next((e.test_accuracy for e in self._store.epochs(run_id) if e.epoch == epoch), None)
        model = ServingModel(
            run_id, epoch, accuracy, checkpoint.config.dataset, checkpoint.weights, run.created_at
        )
        with self._lock:
            self._remember(model)
        return model

    def epochs(self, run_id: str) -> list[int]:
        """The epochs of a run with a saved model (0: the random start)."""
        return self._files.epochs(run_id, "models")

    def _path(self, run: RunRecord, epoch: int) -> Path:
        path = self._files.model(run.id, epoch)
        if path.exists():
            return path
        if epoch == run.checkpoint_epoch:  # runs from before per-epoch models keep only their last
            return self._files.checkpoint(run.id, epoch)
        available = ", ".join(map(str, self.epochs(run.id))) or "none"
        raise ServiceError("no_epoch_model", run=run.id, epoch=epoch, epochs=available)

    def _remember(self, model: ServingModel) -> None:
        self._cache[(model.run_id, model.epoch)] = model
        self._cache.move_to_end((model.run_id, model.epoch))
        while len(self._cache) > CACHED_MODELS:
            self._cache.popitem(last=False)
