"""Step curves: downsampling long ones while keeping their spikes, and the live run's history."""

from __future__ import annotations

import itertools

import numpy as np

from deeplook.app.messages import StepMessage
from deeplook.app.schemas import StepsOut
from deeplook.app.store import StepSeries
from deeplook.engine.train import EpochMetrics


def downsample_minmax(y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points of a long curve: each bucket's minimum and maximum, in order,
    always with the first and the last point. Returns their indices and, for each, the mean of the
    bucket it stands for (so a smoothed curve can be drawn faithfully from the kept points).

    Curves with at most ``max_points`` points are kept whole (each point its own mean).
    """
    n = len(y)
    if n <= max_points:
        return np.arange(n), np.asarray(y, dtype=np.float64)
    buckets = max((max_points - 2) // 2, 1)
    edges = np.linspace(0, n, buckets + 1).astype(np.intp)
    keep: list[int] = []
    means: list[float] = []
    for start, stop in itertools.pairwise(edges):
        if stop <= start:
            continue
        part = y[start:stop]
        chosen = {start + int(np.argmin(part)), start + int(np.argmax(part))}
        if start == 0:
            chosen.add(0)
        if stop == n:
            chosen.add(n - 1)
        mean = float(np.mean(part, dtype=np.float64))
        keep.extend(sorted(chosen))
        means.extend([mean] * len(chosen))
    return np.asarray(keep, dtype=np.intp), np.asarray(means)


def steps_out(
    step: np.ndarray, epoch: np.ndarray, loss: np.ndarray, accuracy: np.ndarray, max_points: int
) -> StepsOut:
    """Step columns for the API, min/max-downsampled to ``max_points`` when longer."""
    keep, means = downsample_minmax(loss, max_points)
    downsampled = len(keep) < len(loss)
    return StepsOut(
        step=step[keep].tolist(),
        epoch=epoch[keep].tolist(),
        loss=loss[keep].tolist(),
        accuracy=accuracy[keep].tolist(),
        downsampled=downsampled,
        loss_mean=means.tolist() if downsampled else None,
    )


class RunHistory:
    """The whole step and epoch history of the run being trained, kept on the event loop."""

    def __init__(self, steps: StepSeries | None = None, epochs: list[EpochMetrics] | None = None) -> None:
        self.step: list[int] = steps.step.tolist() if steps else []
        self.epoch: list[int] = steps.epoch.tolist() if steps else []
        self.loss: list[float] = steps.loss.tolist() if steps else []
        self.accuracy: list[float] = steps.accuracy.tolist() if steps else []
        self.epochs: list[EpochMetrics] = list(epochs or [])

    def add_steps(self, message: StepMessage) -> None:
        self.step += message.step
        self.epoch += message.epoch
        self.loss += message.loss
        self.accuracy += message.accuracy

    def add_epoch(self, metrics: EpochMetrics) -> None:
        self.epochs.append(metrics)

    def steps_out(self, max_points: int) -> StepsOut:
        return steps_out(
            np.asarray(self.step, dtype=np.int64),
            np.asarray(self.epoch, dtype=np.int64),
            np.asarray(self.loss, dtype=np.float64),
            np.asarray(self.accuracy, dtype=np.float64),
            max_points,
        )
