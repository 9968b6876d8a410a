"""Workers as Ray actors, for when one machine is not enough (``pip install 'deeplook[ray]'``,
``DEEPLOOK_EXECUTOR=ray``, ``DEEPLOOK_RAY_ADDRESS`` to join a cluster; without it a local instance
starts with the server).

Each run is one actor. Its ``train`` method is a streaming generator: every event the training yields
travels back as soon as it happens, and a thread of the server reads them in order. Control goes
through the actor's ``control`` method, which runs beside ``train`` (a threaded actor). Each dataset is
put in the object store once; actors read it from there without a copy each. The server stays the only
writer of the database and of the run files: checkpoints come back as bytes in the events.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import RayError

from deeplook.app.workers.base import Deliver, Exited
from deeplook.app.workers.training import Assignment, Control, WorkerEvent, apply, training_events
from deeplook.engine.data import DATASETS, Dataset
from deeplook.engine.data.base import ARRAY_KEYS
from deeplook.engine.data.checksums import verify
from deeplook.engine.train import TrainControl


@dataclass(frozen=True)
class StoredDataset:
    """A dataset's four arrays in Ray's object store."""

    name: str
    arrays: Any  # ray.ObjectRef of {key: array}


class RunActor:
    """One run, in a Ray worker process."""

    def __init__(self) -> None:
        self._control = TrainControl()

    def train(self, assignment: Assignment) -> Any:
        stored: StoredDataset = assignment.dataset
        arrays = ray.get(stored.arrays)
        spec = DATASETS[stored.name]
        verify(arrays, spec, source="Ray's object store")
        data = Dataset.of(spec, arrays, source="Ray object store")
        yield from training_events(assignment, self._control, data)

    def control(self, message: Control) -> None:
        apply(self._control, message)


ACTOR_OPTIONS: dict[str, Any] = {"num_cpus": 1, "max_concurrency": 2, "max_restarts": 0}
"""One core per run; two threads, so that ``control`` runs beside ``train``; a dead actor stays dead."""


class RayWorker:
    def __init__(self, actor: Any) -> None:
        self._actor = actor

    @property
    def where(self) -> str:
        return f"Ray actor {self._actor._actor_id.hex()}"

    def send(self, message: Control) -> None:
        self._actor.control.remote(message)  # not awaited: it takes effect between two steps

    def kill(self) -> None:
        ray.kill(self._actor, no_restart=True)


class RayExecutor:
    """Each run as an actor of a Ray cluster (a local one when no address is given)."""

    name = "ray"

    def __init__(self, address: str | None) -> None:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        self._actor = ray.remote(**ACTOR_OPTIONS)(RunActor)
        self._stored: dict[str, StoredDataset] = {}

    def share(self, dataset: Dataset) -> tuple[Dataset, StoredDataset]:
        stored = self._stored.get(dataset.name)
        if stored is None:
            arrays = {key: getattr(dataset, key) for key in ARRAY_KEYS}
            stored = self._stored[dataset.name] = StoredDataset(dataset.name, ray.put(arrays))
        return dataset, stored

    def start(self, assignment: Assignment, deliver: Deliver, exited: Exited) -> RayWorker:
        actor: Any = self._actor.options(name=f"deeplook-run-{assignment.run_id}-{id(assignment):x}").remote()
        events = actor.train.remote(assignment)
        reader = threading.Thread(
            target=_read, args=(events, actor, deliver, exited), name=f"ray-{assignment.run_id}", daemon=True
        )
        reader.start()
        return RayWorker(actor)

    def close(self) -> None:
        """The Ray instance stays up for the process (a cluster is not ours to stop)."""


def _read(events: Any, actor: Any, deliver: Deliver, exited: Exited) -> None:
    """Every event of the actor's stream, in order; then how it ended."""
    cause = "exit code 0"
    try:
        for ref in events:
            event: WorkerEvent = ray.get(ref)
            deliver(event)
    except RayError as error:
        cause = f"its Ray actor died: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
    finally:
        with contextlib.suppress(RayError):
            ray.kill(actor, no_restart=True)
        exited(cause)
