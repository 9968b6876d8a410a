"""The training side of a run, as a generator of events: what a worker process or a Ray actor runs.

No web code and no disk writes here: the worker loads the shared dataset, trains, and yields events
(steps in batches, each epoch's checkpoint, model and look-inside report as bytes, live weights,
learning-rate changes, the end). The server records them; it is the only writer of the database
and of the run's files. Control reaches the run through an engine ``TrainControl``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from deeplook.engine import inspect, serialize
from deeplook.engine.config import TrainConfig
from deeplook.engine.data import DATASETS, DataError, Dataset
from deeplook.engine.data.base import ARRAY_KEYS
from deeplook.engine.data.checksums import verify
from deeplook.engine.status import Reason, RunStatus
from deeplook.engine.train import (
    Checkpoint,
    EpochMetrics,
    LearningRateChange,
    RunFinished,
    StepMetrics,
    TrainControl,
    Trainer,
)

STEP_BATCH_SECONDS = 0.05
"""Steps are sent in batches at most this often (a viewer sees at most 20 frames a second)."""
LIVE_WEIGHTS_SECONDS = 1.0
"""How often a copy of the first layer is sent for the live weight images."""


@dataclass(frozen=True)
class SharedDataset:
    """A verified dataset as read-only ``.npy`` files every worker of this machine maps, not copies."""

    name: str
    paths: dict[str, str]


@dataclass(frozen=True)
class Assignment:
    """What a worker is asked to do: train one run (from the start, or on from a checkpoint)."""

    run_id: str
    config: TrainConfig
    threads: int
    dataset: Any
    """A ``SharedDataset`` to map, the ``Dataset`` itself (a copy), or what another executor uses."""
    checkpoint: bytes | None = None
    schedule: tuple[LearningRateChange, ...] = ()
    pace: float = 0.0
    """Seconds per step at least (0: full speed)."""
    paused: bool = False
    niceness: int = 0
    """Lower the worker's CPU priority by this much before training (``os.nice``)."""


# -- events, worker to server -----------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    message: str
    fraction: float | None


@dataclass(frozen=True)
class Started:
    """The data is loaded and the first (or next) step is about to run."""

    epoch: int
    step: int
    pid: int
    """The process that trains (on the machine the worker runs on)."""


@dataclass(frozen=True, eq=False)
class Steps:
    """Consecutive steps as columns."""

    step: np.ndarray
    epoch: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray

    @classmethod
    def of(cls, steps: list[StepMetrics]) -> Steps:
        return cls(
            np.fromiter((s.step for s in steps), np.int64, len(steps)),
            np.fromiter((s.epoch for s in steps), np.int64, len(steps)),
            np.fromiter((s.loss for s in steps), np.float64, len(steps)),
            np.fromiter((s.accuracy for s in steps), np.float64, len(steps)),
        )


@dataclass(frozen=True, eq=False)
class Report:
    """The random start (epoch 0): its look-inside report and its weights, as ``.npz`` bytes."""

    epoch: int
    report: bytes
    model: bytes


@dataclass(frozen=True, eq=False)
class EpochDone:
    """An epoch ended: its metrics, its checkpoint (to resume), its model (to serve) and its report."""

    metrics: EpochMetrics
    checkpoint: bytes
    model: bytes
    report: bytes


@dataclass(frozen=True, eq=False)
class LiveWeights:
    """A copy of the first layer's weights taken mid-epoch."""

    epoch: int
    step: int
    first_layer: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Crashed:
    """The run could not go on; the server marks it failed with this reason."""

    reason: Reason


WorkerEvent = (
    Progress | Started | Steps | Report | EpochDone | LiveWeights | LearningRateChange | RunFinished | Crashed
)


# -- control, server to worker ----------------------------------------------------------------------

Action = Literal["pause", "resume", "stop", "step", "lr", "pace"]


@dataclass(frozen=True)
class Control:
    action: Action
    value: float = 0.0


def apply(control: TrainControl, message: Control) -> None:
    """Carry one control message out on the run's switches."""
    if message.action == "pause":
        control.pause()
    elif message.action == "resume":
        control.resume()
    elif message.action == "stop":
        control.stop()
    elif message.action == "step":
        control.step_once()
    elif message.action == "lr":
        control.set_learning_rate(message.value)
    elif message.action == "pace":
        control.set_pace(message.value)


# -- the run ----------------------------------------------------------------------------------------


def open_shared(shared: SharedDataset) -> Dataset:
    """Map a shared dataset's files read-only and check them against the dataset's MD5s."""
    spec = DATASETS[shared.name]
    try:
        arrays = {key: np.load(shared.paths[key], mmap_mode="r", allow_pickle=False) for key in ARRAY_KEYS}
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"cannot map the shared {shared.name} files: {error}") from error
    verify(arrays, spec, source="shared files")
    return Dataset.of(spec, arrays, source=f"shared: {shared.paths['train_images']}")


def training_events(
    assignment: Assignment, control: TrainControl, data: Dataset | None = None
) -> Iterator[WorkerEvent]:
    """Train the assigned run, yielding what the server must know; never raises."""
    try:
        if assignment.niceness:
            os.nice(assignment.niceness)
        yield Progress(f"opening {assignment.config.dataset}", None)
        shared = assignment.dataset
        data = data or (shared if isinstance(shared, Dataset) else open_shared(shared))
        yield Progress(f"{assignment.config.dataset} ready", 1.0)
        resume = serialize.load(assignment.checkpoint) if assignment.checkpoint else None
        trainer = Trainer(assignment.config, data, resume=resume, schedule=assignment.schedule)
        if resume is None:
            start = trainer.last_checkpoint
            yield Report(
                0, serialize.dumps_report(_report(start, data)), serialize.dumps(start, with_optimizer=False)
            )
        control.set_pace(assignment.pace)
        if assignment.paused:
            control.pause()
        yield Started(trainer.epoch, trainer.step, os.getpid())
        yield from _train(trainer, control, assignment.threads, data)
    except DataError as error:
        yield Crashed(Reason("data_failed", {"error": str(error)}))
    except Exception as error:  # the worker must report, whatever went wrong
        yield Crashed(Reason("error", {"error": f"{type(error).__name__}: {error}"}))


def _train(trainer: Trainer, control: TrainControl, threads: int, data: Dataset) -> Iterator[WorkerEvent]:
    pending: list[StepMetrics] = []
    metrics: EpochMetrics | None = None
    last_sent = last_live = time.monotonic()
    for event in trainer.run(control, threads):
        if isinstance(event, StepMetrics):
            pending.append(event)
            now = time.monotonic()
            if control.paused or now - last_sent >= STEP_BATCH_SECONDS:
                yield Steps.of(pending)
                pending, last_sent = [], now
            if now - last_live >= LIVE_WEIGHTS_SECONDS:
                first_layer = np.ascontiguousarray(trainer.model.dense[0].W.value.T)
                yield LiveWeights(event.epoch, event.step, first_layer)
                last_live = now
            continue
        if pending:
            yield Steps.of(pending)
            pending = []
        if isinstance(event, EpochMetrics):
            metrics = event
        elif isinstance(event, Checkpoint):
            if metrics is None or metrics.epoch != event.epoch:
                raise RuntimeError(f"checkpoint of epoch {event.epoch} without its metrics")
            yield EpochDone(
                metrics=metrics,
                checkpoint=serialize.dumps(event),
                model=serialize.dumps(event, with_optimizer=False),
                report=serialize.dumps_report(_report(event, data)),
            )
        elif isinstance(event, LearningRateChange | RunFinished):
            yield event


def _report(checkpoint: Checkpoint, data: Dataset) -> inspect.EpochReport:
    return inspect.epoch_report(
        checkpoint.epoch,
        checkpoint.weights,
        data.test_images,
        data.test_labels,
        checkpoint.gradients,
        checkpoint.update_ratios,
        checkpoint.test,
    )


def finished_normally(event: WorkerEvent) -> bool:
    """Whether this is the last event of a run that ended on its own terms."""
    return isinstance(event, RunFinished) and event.status in (
        RunStatus.COMPLETED,
        RunStatus.STOPPED,
        RunStatus.DIVERGED,
    )
