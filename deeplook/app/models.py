"""Which model answers predictions: the current one, or a named run's saved checkpoint."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from deeplook.app.errors import Conflict, NotFound
from deeplook.app.schemas import ModelInfo
from deeplook.app.store import Store
from deeplook.engine import serialize
from deeplook.engine.data import DATASETS
from deeplook.engine.model import Weights

CACHED_CHECKPOINTS = 8


@dataclass(frozen=True, eq=False)
class ServingModel:
    """Frozen weights of one epoch of one run: safe to use from any thread."""

    run_id: str
    epoch: int
    test_accuracy: float | None
    dataset: str
    weights: Weights

    def info(self) -> ModelInfo:
        return ModelInfo(
            run_id=self.run_id,
            epoch=self.epoch,
            test_accuracy=self.test_accuracy,
            dataset=self.dataset,  # type: ignore[arg-type]
            class_names=list(DATASETS[self.dataset].class_names),
        )


class ModelRegistry:
    """The current model (swapped atomically after each epoch) and a small cache of others."""

    def __init__(self, store: Store, runs_dir: Path) -> None:
        self._store = store
        self._runs_dir = runs_dir
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], ServingModel] = OrderedDict()
        self.current: ServingModel | None = None

    def checkpoint_path(self, run_id: str) -> Path:
        """Where a run's checkpoint lives; ``run_id`` must already be validated."""
        return self._runs_dir / run_id / "checkpoint.npz"

    def set_current(self, model: ServingModel) -> None:
        self.current = model

    def reload_current(self) -> None:
        """The newest run with a trained checkpoint (epoch >= 1) becomes current; none: no model."""
        current = None
        for run in self._store.list_runs():
            if run.checkpoint_epoch >= 1:
                try:
                    current = self.for_run(run.id)
                except (NotFound, Conflict):
                    continue
                break
        self.current = current

    def forget(self, run_id: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == run_id]:
                del self._cache[key]
        if self.current is not None and self.current.run_id == run_id:
            self.reload_current()

    def get(self, run_id: str | None) -> ServingModel:
        """The model for ``run_id``, or the current one; ``Conflict`` when there is none yet."""
        if run_id is None:
            current = self.current
            if current is None:
                raise Conflict("no trained model yet: start a run and let it finish an epoch first")
            return current
        if self.current is not None and self.current.run_id == run_id:
            return self.current
        return self.for_run(run_id)

    def for_run(self, run_id: str) -> ServingModel:
        run = self._store.get_run(run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id!r}")
        if run.checkpoint_epoch < 1:
            raise Conflict(f"run {run_id} has no trained model yet (no epoch completed)")
        key = (run_id, run.checkpoint_epoch)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            checkpoint = serialize.load(self.checkpoint_path(run_id))
        except serialize.CheckpointError as error:
            raise Conflict(f"the model of run {run_id} cannot be loaded: {error}") from error
        model = ServingModel(
            run_id=run_id,
            epoch=checkpoint.epoch,
            test_accuracy=_accuracy_at(self._store, run_id, checkpoint.epoch),
            dataset=checkpoint.config.dataset,
            weights=checkpoint.weights,
        )
        with self._lock:
            self._cache[key] = model
            while len(self._cache) > CACHED_CHECKPOINTS:
                self._cache.popitem(last=False)
        return model


def _accuracy_at(store: Store, run_id: str, epoch: int) -> float | None:
    for metrics in store.epochs(run_id):
        if metrics.epoch == epoch:
            return metrics.test_accuracy
    return None
