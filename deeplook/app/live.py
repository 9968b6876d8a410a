"""What the server holds of a run that trains: its step curve (kept downsampled as it grows), its
epochs, its progress and live weights. Everything here is changed on the event loop only, and every
change costs time proportional to what arrived, never to the run's length.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from deeplook.app.hub import StepBatch
from deeplook.app.schemas import StepsOut
from deeplook.app.store import StepSeries
from deeplook.app.workers.base import Worker
from deeplook.app.workers.training import LiveWeights, Steps
from deeplook.engine.config import TrainConfig
from deeplook.engine.status import Reason, RunStatus
from deeplook.engine.train import EpochMetrics, LearningRateChange


class LiveSeries:
    """A growing step curve and its min/max downsampling, maintained incrementally.

    While the curve has at most ``max_points`` points it is kept whole. Beyond that it is cut into
    buckets of ``width`` steps (a power of two that doubles whenever there would be too many); each
    complete bucket contributes its minimum and maximum (with the bucket's mean loss, so a smoothed
    curve can be drawn faithfully), the incomplete last bucket its own, and the first and last points
    are always kept. Appending k steps costs O(k) amortised; a snapshot O(max_points), cached.
    """

    def __init__(self, max_points: int, stored: StepSeries | None = None) -> None:
        self.max_points = max_points
        self._buckets_max = max((max_points - 4) // 2, 1)
        self._reset()
        if stored is not None and len(stored):
            self.append(stored.step, stored.epoch, stored.loss, stored.accuracy)

    def _reset(self) -> None:
        self._size = 0
        self._columns = {name: np.empty(1024, dtype) for name, dtype in _DTYPES.items()}
        self._width = 1
        self._done = 0  # complete buckets summarised
        self._lows = np.empty(0, np.int64)
        self._highs = np.empty(0, np.int64)
        self._means = np.empty(0, np.float64)
        self._cached: StepsOut | None = None

    def __len__(self) -> int:
        return self._size

    @property
    def last_step(self) -> int:
        return int(self._columns["step"][self._size - 1]) if self._size else 0

    def append(self, step: np.ndarray, epoch: np.ndarray, loss: np.ndarray, accuracy: np.ndarray) -> None:
        """Add steps that follow the ones held (earlier or repeated step numbers are ignored)."""
        keep = step > self.last_step
        if not keep.all():
            step, epoch, loss, accuracy = step[keep], epoch[keep], loss[keep], accuracy[keep]
        k = len(step)
        if k == 0:
            return
        self._grow(self._size + k)
        for name, values in (("step", step), ("epoch", epoch), ("loss", loss), ("accuracy", accuracy)):
            self._columns[name][self._size : self._size + k] = values
        self._size += k
        self._cached = None
        if self._size > self.max_points:
            self._summarise()

    def truncate(self, step: int) -> None:
        """Forget the steps after ``step`` (a run resumed from an earlier checkpoint)."""
        keep = int(np.searchsorted(self._columns["step"][: self._size], step, side="right"))
        if keep == self._size:
            return
        columns = {name: values[:keep].copy() for name, values in self._columns.items()}
        self._reset()
        self.append(columns["step"], columns["epoch"], columns["loss"], columns["accuracy"])

    def whole(self) -> StepSeries:
        c = self._columns
        n = self._size
        return StepSeries(
            c["step"][:n].copy(), c["epoch"][:n].copy(), c["loss"][:n].copy(), c["accuracy"][:n].copy()
        )

    def steps_out(self) -> StepsOut:
        """The curve for the API: whole, or downsampled to at most ``max_points`` points."""
        if self._cached is None:
            self._cached = self._build()
        return self._cached

    def _build(self) -> StepsOut:
        n, c = self._size, self._columns
        if n <= self.max_points:
            return StepsOut.model_construct(  # the columns are ours: nothing to validate
                step=c["step"][:n].tolist(),
                epoch=c["epoch"][:n].tolist(),
                loss=c["loss"][:n].tolist(),
                accuracy=c["accuracy"][:n].tolist(),
                downsampled=False,
                loss_mean=None,
            )
        w, done = self._width, self._done
        start = done * w
        tail = c["loss"][start:n]
        picks = [self._lows, self._highs, np.array([0, n - 1])]
        if len(tail):
            picks.append(np.array([start + int(np.argmin(tail)), start + int(np.argmax(tail))]))
        index = np.unique(np.concatenate(picks))
        tail_mean = float(np.mean(tail, dtype=np.float64)) if len(tail) else 0.0
        bucket = index // w
        mean = np.where(bucket < done, self._means[np.minimum(bucket, done - 1)], tail_mean)
        return StepsOut.model_construct(
            step=c["step"][index].tolist(),
            epoch=c["epoch"][index].tolist(),
            loss=c["loss"][index].tolist(),
            accuracy=c["accuracy"][index].tolist(),
            downsampled=True,
            loss_mean=mean.tolist(),
        )

    def _summarise(self) -> None:
        """Summarise the buckets completed since the last call; widen them when there are too many."""
        while self._size // self._width > self._buckets_max:
            self._width *= 2
            self._done = 0
        complete = self._size // self._width
        if complete <= self._done:
            return
        w = self._width
        loss = self._columns["loss"][self._done * w : complete * w].reshape(-1, w)
        offsets = np.arange(self._done, complete, dtype=np.int64) * w
        lows = offsets + loss.argmin(axis=1)
        highs = offsets + loss.argmax(axis=1)
        means = loss.mean(axis=1, dtype=np.float64)
        if self._done == 0:
            self._lows, self._highs, self._means = lows, highs, means
        else:
            self._lows = np.concatenate([self._lows, lows])
            self._highs = np.concatenate([self._highs, highs])
            self._means = np.concatenate([self._means, means])
        self._done = complete

    def _grow(self, needed: int) -> None:
        capacity = len(self._columns["step"])
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name, values in self._columns.items():
            grown = np.empty(capacity, values.dtype)
            grown[: self._size] = values[: self._size]
            self._columns[name] = grown


RECENT_BATCHES = 64
"""About three seconds of step batches (one every 50 ms)."""

_DTYPES = {"step": np.int64, "epoch": np.int64, "loss": np.float64, "accuracy": np.float64}


@dataclass(eq=False)
class LiveRun:
    """A run that has a trainer, or waits for one: everything its summary and views need, in memory."""

    id: str
    config: TrainConfig
    series: LiveSeries
    status: RunStatus = RunStatus.QUEUED
    """Every run starts its life here (a new one, or a resumed one) queued for a trainer."""
    preset: str | None = None
    name: str | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    race: str | None = None
    pace: str = "full"
    epochs: list[EpochMetrics] = field(default_factory=list)
    lr_changes: list[LearningRateChange] = field(default_factory=list)
    checkpoint_epoch: int = -1
    resume_from: bytes | None = None
    """The checkpoint a resumed run goes on from."""
    worker: Worker | None = None
    pid: int | None = None
    """The training process, once it has started."""
    progress: tuple[str, float | None] | None = None
    live_weights: LiveWeights | None = None
    reason: Reason | None = None
    pause_requested: bool = False
    resuming: bool = False
    """Claimed by a resume that is still loading its checkpoint and history."""
    stopping: bool = False
    """A stop was asked for: the run ends as stopped, whatever its worker says next."""
    stop_reason: Reason | None = None
    final: tuple[RunStatus, Reason | None] | None = None
    """How the run ends, once its worker has said (or died)."""
    recent: deque[StepBatch] = field(default_factory=lambda: deque(maxlen=RECENT_BATCHES))
    """The last step batches sent: replayed after a snapshot a little older than now."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the run has left the live runs (its final status recorded)."""

    def add_steps(self, steps: Steps) -> None:
        self.series.append(steps.step, steps.epoch, steps.loss, steps.accuracy)
