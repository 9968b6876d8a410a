"""Minibatch training as a generator of events; the caller decides how to show them.

``Trainer.run()`` yields a ``StepMetrics`` after every minibatch, an ``EpochMetrics`` (and a fresh
``Checkpoint``) after every epoch, a ``LearningRateChanged`` when the learning rate is changed mid-run,
and one ``RunFinished`` at the end. ``TrainControl`` stops, pauses, single-steps, paces or changes the
learning rate from another thread; every change takes effect between two steps.

Randomness comes from independent streams of the run's seed: one per layer for the initial weights,
one for the minibatch order. Runs that share a seed and a batch size therefore see the same minibatches
in the same order, and share their initial weights wherever layer shapes and initialisers agree.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from deeplook.engine.augment import AUGMENTATIONS
from deeplook.engine.config import TrainConfig
from deeplook.engine.data import Dataset
from deeplook.engine.documented import PYDANTIC_CONFIG
from deeplook.engine.evaluation import Evaluation, evaluate, scale_pixels
from deeplook.engine.layers import Array
from deeplook.engine.losses import SoftmaxCrossEntropy
from deeplook.engine.model import MLP, Weights, init_weights
from deeplook.engine.optim import Optimizer, build_optimizer
from deeplook.engine.status import Reason, RunStatus

# A run has diverged when its loss is not finite, or when a moving average of the loss (decay
# LOSS_EMA_DECAY, started at chance level ln(classes)) exceeds DIVERGENCE_FACTOR times chance level:
# a stable log-softmax keeps the loss of an exploded network finite, but far worse than guessing.
LOSS_EMA_DECAY = 0.95
DIVERGENCE_FACTOR = 3.0
ORDER_STREAM = 1
"""Spawn key of the minibatch-order stream (``model.INIT_STREAM`` is the initial weights')."""
AUGMENT_STREAM = 2
"""Spawn key of the augmentation's stream: runs that differ only in their augmentation keep one order."""


@dataclass(frozen=True)
class StepMetrics:
    """One training step."""

    __pydantic_config__: ClassVar = PYDANTIC_CONFIG
    step: int
    """1-based, counted over the whole run."""
    epoch: int
    """The epoch this step belongs to, 1-based."""
    loss: float
    """Mean cross-entropy of the minibatch, before the step's update."""
    accuracy: float
    """Share of the minibatch classified right."""


@dataclass(frozen=True)
class EpochMetrics:
    """One completed epoch, measured on the whole training and test sets."""

    __pydantic_config__: ClassVar = PYDANTIC_CONFIG
    epoch: int
    step: int
    """The run's last step in this epoch."""
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float
    """Training time of the epoch, evaluation excluded."""
    samples_per_second: float


@dataclass(frozen=True)
class LearningRateChange:
    """The learning rate became ``lr`` before step ``step`` (1-based); it decays per epoch from there."""

    __pydantic_config__: ClassVar = PYDANTIC_CONFIG
    step: int
    lr: float


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Everything needed to serve the model of a completed epoch or to resume training after it."""

    config: TrainConfig
    epoch: int
    step: int
    weights: Weights
    optimizer_state: dict[str, Array]
    rng_state: str
    """JSON of the minibatch-order generator's state."""
    augment_rng_state: str = ""
    """JSON of the augmentation generator's state ("" in files from before augmentation)."""
    lr_base: float = 0.0
    """The learning rate set last (by the config or a change), and the epoch it was set in: epoch
    ``e`` trains at ``lr_base * lr_decay ** (e - lr_base_epoch)``. 0 means the config's own."""
    lr_base_epoch: int = 1
    # For inspection (not saved): the last step's gradients and update / weight norm ratios per
    # array, and the test set's predictions by this epoch's model.
    gradients: tuple[Array, ...] = ()
    update_ratios: tuple[float, ...] = ()
    test: Evaluation | None = None


@dataclass(frozen=True)
class RunFinished:
    status: RunStatus
    """COMPLETED, STOPPED or DIVERGED."""
    epoch: int
    """The last completed epoch."""
    step: int
    reason: Reason | None = None


Event = StepMetrics | EpochMetrics | Checkpoint | LearningRateChange | RunFinished


class TrainControl:
    """Thread-safe switches read by the training loop between two steps: stop, pause, one step at a
    time, a pace (the least time from one step to the next) and a new learning rate."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._stopped = False
        self._paused = False
        self._granted = 0
        self._interval = 0.0
        self._last_step = 0.0
        self._learning_rate: float | None = None

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify_all()

    def pause(self) -> None:
        with self._condition:
            self._paused = True
            self._condition.notify_all()

    def resume(self) -> None:
        with self._condition:
            self._paused, self._granted = False, 0
            self._condition.notify_all()

    def step_once(self) -> None:
        """Pause after one more step (from a pause or while running)."""
        with self._condition:
            self._paused = True
            self._granted += 1
            self._condition.notify_all()

    def set_pace(self, seconds_per_step: float) -> None:
        """At least this long from one step to the next (0: as fast as it goes)."""
        with self._condition:
            self._interval = max(0.0, seconds_per_step)
            self._condition.notify_all()

    def set_learning_rate(self, lr: float) -> None:
        with self._condition:
            self._learning_rate = lr

    def take_learning_rate(self) -> float | None:
        """A learning rate set since the last call, or None."""
        with self._condition:
            lr, self._learning_rate = self._learning_rate, None
            return lr

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def paused(self) -> bool:
        return self._paused

    def before_step(self) -> None:
        """Return when the next step may run (or the run is stopped): not while paused, unless a single
        step was granted, and not before the pace allows."""
        with self._condition:
            while not self._stopped:
                if self._paused:
                    if self._granted > 0:
                        self._granted -= 1
                        break
                    self._condition.wait()
                    continue
                wait = self._last_step + self._interval - time.monotonic()
                if wait <= 0:
                    break
                self._condition.wait(wait)
            self._last_step = time.monotonic()


def stream(seed: int, key: int) -> np.random.Generator:
    """One of a run's independent random streams."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key,)))


def _state(rng: np.random.Generator) -> str:
    return json.dumps(rng.bit_generator.state)


def _restore(state: str) -> np.random.Generator:
    rng = np.random.default_rng()
    rng.bit_generator.state = json.loads(state)
    return rng


class Trainer:
    """Trains an MLP on a dataset from a config, from scratch or from a checkpoint.

    ``schedule`` holds learning-rate changes made during an earlier life of the run; those after the
    checkpoint are applied again at their steps, so a resumed run retraces the changed one exactly.
    """

    def __init__(
        self,
        config: TrainConfig,
        data: Dataset,
        resume: Checkpoint | None = None,
        schedule: Sequence[LearningRateChange] = (),
    ) -> None:
        self.config = config
        self.data = data
        self.images, self.train_labels = data.train_images, data.train_labels
        if config.train_size is not None:  # views of the first train_size images
            self.images, self.train_labels = (
                self.images[: config.train_size],
                self.train_labels[: config.train_size],
            )
        self.labels = self.train_labels.astype(np.intp)
        if resume is None:
            self.rng = stream(config.seed, ORDER_STREAM)
            self.augment_rng = stream(config.seed, AUGMENT_STREAM)
            self.model = MLP(config.model, init_weights(config.model, config.seed))
            self.optimizer: Optimizer = build_optimizer(config.optimizer, [self.model.flat])
            self.epoch, self.step = 0, 0
            self.lr_base, self.lr_base_epoch = config.optimizer.lr, 1
        else:
            if resume.config.model != config.model or resume.config.optimizer != config.optimizer:
                raise ValueError("the checkpoint was made with a different model or optimizer config")
            self.rng = _restore(resume.rng_state)
            augment_state = resume.augment_rng_state
            self.augment_rng = (
                _restore(augment_state) if augment_state else stream(config.seed, AUGMENT_STREAM)
            )
            self.model = MLP(config.model, resume.weights.arrays)
            self.optimizer = build_optimizer(config.optimizer, [self.model.flat])
            self.optimizer.load_state_dict(resume.optimizer_state)
            self.epoch, self.step = resume.epoch, resume.step
            self.lr_base = resume.lr_base or config.optimizer.lr
            self.lr_base_epoch = resume.lr_base_epoch
        self.schedule = {change.step: change.lr for change in schedule if change.step > self.step}
        self._epoch_seconds = 0.0
        self._update_ratios: tuple[float, ...] = ()
        self.last_checkpoint = resume if resume is not None else self.checkpoint()

    def checkpoint(self, weights: Weights | None = None, test: Evaluation | None = None) -> Checkpoint:
        """A copy of the current state; valid between epochs."""
        return Checkpoint(
            config=self.config,
            epoch=self.epoch,
            step=self.step,
            weights=weights or self.model.snapshot(),
            optimizer_state=self.optimizer.state_dict(),
            rng_state=_state(self.rng),
            augment_rng_state=_state(self.augment_rng),
            lr_base=self.lr_base,
            lr_base_epoch=self.lr_base_epoch,
            gradients=tuple(grad.copy() for grad in self.model.gradients()),
            update_ratios=self._update_ratios,
            test=test,
        )

    def learning_rate(self, epoch: int) -> float:
        """The learning rate epoch ``epoch`` (1-based) starts with."""
        return self.lr_base * self.config.optimizer.lr_decay ** (epoch - self.lr_base_epoch)

    def run(self, control: TrainControl | None = None, threads: int | None = None) -> Iterator[Event]:
        """Train the remaining epochs, yielding events; stops early when ``control`` says so.
        ``threads`` caps the BLAS threads (default: the config's)."""
        control = control or TrainControl()
        with threadpool_limits(limits=threads or self.config.blas_threads, user_api="blas"):
            while self.epoch < self.config.epochs:
                outcome = yield from self._run_epoch(control)
                if outcome is not None:
                    yield outcome
                    return
                yield from self._finish_epoch()
        yield RunFinished(RunStatus.COMPLETED, self.epoch, self.step)

    def _change_learning_rate(self, control: TrainControl, epoch: int) -> LearningRateChange | None:
        """A change asked for now, or one recorded for the next step: applied from that step on."""
        lr = control.take_learning_rate()
        recorded = self.schedule.pop(self.step + 1, None)
        lr = recorded if recorded is not None else lr
        if lr is None:
            return None
        self.optimizer.lr = self.lr_base = lr
        self.lr_base_epoch = epoch
        return LearningRateChange(self.step + 1, lr)

    def _run_epoch(self, control: TrainControl) -> Generator[Event, None, RunFinished | None]:
        """One pass over a fresh permutation; returns a ``RunFinished`` if the run must end."""
        images, labels = self.images, self.labels
        batch = self.config.batch_size
        pixels = np.empty((batch, images.shape[1]), np.uint8)
        inputs = np.empty((batch, images.shape[1]), np.float32)
        loss_fn = SoftmaxCrossEntropy()
        augmentation = AUGMENTATIONS[self.config.augment].augmentation
        epoch = self.epoch + 1
        self.optimizer.lr = self.learning_rate(epoch)
        chance = float(np.log(self.config.model.classes))
        average = chance
        order = self.rng.permutation(len(labels))
        started = time.perf_counter()
        for start in range(0, len(order), batch):
            control.before_step()
            if control.stopped:
                return RunFinished(RunStatus.STOPPED, self.epoch, self.step, Reason("stopped_by_request"))
            change = self._change_learning_rate(control, epoch)
            if change is not None:
                yield change
            index = order[start : start + batch]
            n = len(index)
            np.take(images, index, axis=0, out=pixels[:n])
            x = scale_pixels(pixels[:n], out=inputs[:n])
            if not augmentation.is_identity:  # its own stream, saved in checkpoints: resumes bit for bit
                x = augmentation.apply(x, self.augment_rng)
            y = labels[index]
            logits = self.model.forward(x)
            loss = loss_fn.forward(logits, y)
            average = LOSS_EMA_DECAY * average + (1 - LOSS_EMA_DECAY) * loss
            if not np.isfinite(loss) or average > DIVERGENCE_FACTOR * chance:
                if np.isfinite(loss):  # show the spike that ended the run (its update is not applied)
                    accuracy = float(np.count_nonzero(logits.argmax(axis=1) == y)) / n
                    yield StepMetrics(self.step + 1, epoch, loss, accuracy)
                params = {"loss": loss, "average": average, "chance": chance, "step": self.step + 1}
                return RunFinished(RunStatus.DIVERGED, self.epoch, self.step, Reason("diverged", params))
            self.model.backward(loss_fn.backward())
            last = start + batch >= len(order)
            before = self.model.flat.value.copy() if last else None
            self.optimizer.step()
            if before is not None:
                self._update_ratios = self._ratios(before)
            self.step += 1
            accuracy = float(np.count_nonzero(logits.argmax(axis=1) == y)) / n
            yield StepMetrics(self.step, epoch, loss, accuracy)
        self._epoch_seconds = time.perf_counter() - started
        if not np.isfinite(self.model.flat.value).all():
            reason = Reason("weights_not_finite", {"epoch": self.epoch + 1})
            return RunFinished(RunStatus.DIVERGED, self.epoch, self.step, reason)
        return None

    def _ratios(self, before: Array) -> tuple[float, ...]:
        """Per parameter array: the norm of the step just taken over the norm of the weights."""
        ratios, start = [], 0
        for param in self.model.parameters():
            old = before[start : start + param.value.size]
            start += param.value.size
            change = float(np.linalg.norm(param.value.ravel() - old))
            ratios.append(change / max(float(np.linalg.norm(old)), 1e-12))
        return tuple(ratios)

    def _finish_epoch(self) -> Iterator[Event]:
        self.epoch += 1
        weights = self.model.snapshot()
        data = self.data
        train = evaluate(weights, self.images, self.train_labels)
        test = evaluate(weights, data.test_images, data.test_labels)
        seconds = self._epoch_seconds
        yield EpochMetrics(
            epoch=self.epoch,
            step=self.step,
            train_loss=train.loss,
            train_accuracy=train.accuracy,
            test_loss=test.loss,
            test_accuracy=test.accuracy,
            seconds=seconds,
            samples_per_second=len(self.labels) / seconds if seconds > 0 else float("inf"),
        )
        self.last_checkpoint = self.checkpoint(weights, test)
        yield self.last_checkpoint
