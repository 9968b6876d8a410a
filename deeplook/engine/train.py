"""Minibatch training as a generator of events; the caller decides how to show them.

``Trainer.run()`` yields a ``StepMetrics`` after every minibatch, an ``EpochMetrics`` (and a fresh
``Checkpoint``) after every epoch, and one ``RunFinished`` at the end. ``TrainControl`` stops or
pauses it from another thread; both take effect between two steps.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from threadpoolctl import threadpool_limits

from deeplook.engine.augment import AUGMENTATIONS
from deeplook.engine.config import TrainConfig
from deeplook.engine.data import Dataset
from deeplook.engine.layers import Array
from deeplook.engine.losses import SoftmaxCrossEntropy, log_softmax
from deeplook.engine.model import MLP, Weights
from deeplook.engine.optim import Optimizer, build_optimizer

EVAL_CHUNK = 10_000
PIXEL_SCALE = np.float32(1.0 / 255.0)
# A run has diverged when its loss is not finite, or when a moving average of the loss (decay
# LOSS_EMA_DECAY, started at chance level ln(classes)) exceeds DIVERGENCE_FACTOR times chance level:
# a stable log-softmax keeps the loss of an exploded network finite, but far worse than guessing.
LOSS_EMA_DECAY = 0.95
DIVERGENCE_FACTOR = 3.0


@dataclass(frozen=True)
class StepMetrics:
    step: int  # 1-based, counted over the whole run
    epoch: int  # the epoch this step belongs to, 1-based
    loss: float
    accuracy: float  # on this minibatch


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float  # training time of the epoch, evaluation excluded
    samples_per_second: float


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Everything needed to serve the model of a completed epoch or to resume training after it."""

    config: TrainConfig
    epoch: int
    step: int
    weights: Weights
    optimizer_state: dict[str, Array]
    rng_state: str  # JSON of the bit generator's state
    # For inspection (not saved): the last step's gradients and update / weight norm ratios per
    # array, and the test set's predictions by this epoch's model.
    gradients: tuple[Array, ...] = ()
    update_ratios: tuple[float, ...] = ()
    test: Evaluation | None = None


@dataclass(frozen=True)
class RunFinished:
    status: Literal["completed", "stopped", "diverged"]
    epoch: int  # last completed epoch
    step: int
    reason: str = ""


Event = StepMetrics | EpochMetrics | Checkpoint | RunFinished


class TrainControl:
    """Thread-safe stop and pause switches, read by the training loop between steps."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_if_paused(self) -> None:
        self._running.wait()


def scale_pixels(images: Array, out: Array | None = None) -> Array:
    """uint8 pixels to float32 in [0, 1]."""
    return np.multiply(images, PIXEL_SCALE, out=out, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class Evaluation:
    loss: float  # mean cross-entropy
    accuracy: float
    predictions: Array  # uint8 class per image
    confidence: Array  # float32 probability of the predicted class


def evaluate(weights: Weights, images: Array, labels: Array) -> Evaluation:
    """Loss, accuracy and every prediction over a whole uint8 image set, in chunks."""
    total_loss = 0.0
    predictions = np.empty(len(labels), np.uint8)
    confidence = np.empty(len(labels), np.float32)
    for start in range(0, len(labels), EVAL_CHUNK):
        x = scale_pixels(images[start : start + EVAL_CHUNK])
        y = labels[start : start + EVAL_CHUNK]
        logp = log_softmax(weights.logits(x))
        total_loss -= float(logp[np.arange(len(y)), y].sum(dtype=np.float64))
        best = logp.argmax(axis=1)
        predictions[start : start + len(y)] = best
        confidence[start : start + len(y)] = np.exp(logp[np.arange(len(y)), best])
    accuracy = int(np.count_nonzero(predictions == labels)) / len(labels)
    return Evaluation(total_loss / len(labels), accuracy, predictions, confidence)


class Trainer:
    """Trains an MLP on a dataset from a config, from scratch or from a checkpoint."""

    def __init__(self, config: TrainConfig, data: Dataset, resume: Checkpoint | None = None) -> None:
        self.config = config
        self.data = data
        self.labels = data.train_labels.astype(np.intp)
        if resume is None:
            self.rng = np.random.default_rng(config.seed)
            self.model = MLP.create(config.model, self.rng)
            self.optimizer: Optimizer = build_optimizer(config.optimizer, [self.model.flat])
            self.epoch, self.step = 0, 0
        else:
            if resume.config.model != config.model or resume.config.optimizer != config.optimizer:
                raise ValueError("the checkpoint was made with a different model or optimizer config")
            self.rng = np.random.default_rng()
            self.rng.bit_generator.state = json.loads(resume.rng_state)
            self.model = MLP(config.model, resume.weights.arrays)
            self.optimizer = build_optimizer(config.optimizer, [self.model.flat])
            self.optimizer.load_state_dict(resume.optimizer_state)
            self.epoch, self.step = resume.epoch, resume.step
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
            rng_state=json.dumps(self.rng.bit_generator.state),
            gradients=tuple(p.grad.copy() for p in self.model.parameters()),
            update_ratios=self._update_ratios,
            test=test,
        )

    def run(self, control: TrainControl | None = None) -> Iterator[Event]:
        """Train the remaining epochs, yielding events; stops early when ``control`` says so."""
        control = control or TrainControl()
        with threadpool_limits(limits=self.config.blas_threads, user_api="blas"):
            while self.epoch < self.config.epochs:
                outcome = yield from self._run_epoch(control)
                if outcome is not None:
                    yield outcome
                    return
                yield from self._finish_epoch()
        yield RunFinished("completed", self.epoch, self.step)

    def _run_epoch(self, control: TrainControl) -> Generator[Event, None, RunFinished | None]:
        """One pass over a fresh permutation; returns a ``RunFinished`` if the run must end."""
        images, labels = self.data.train_images, self.labels
        batch = self.config.batch_size
        pixels = np.empty((batch, images.shape[1]), np.uint8)
        inputs = np.empty((batch, images.shape[1]), np.float32)
        loss_fn = SoftmaxCrossEntropy()
        augmentation = None if self.config.augment == "none" else AUGMENTATIONS[self.config.augment]
        epoch = self.epoch + 1
        settings = self.config.optimizer
        self.optimizer.lr = settings.lr * settings.lr_decay ** (epoch - 1)
        chance = float(np.log(self.config.model.classes))
        average = chance
        order = self.rng.permutation(len(labels))
        started = time.perf_counter()
        for start in range(0, len(order), batch):
            control.wait_if_paused()
            if control.stopped:
                return RunFinished("stopped", self.epoch, self.step, "stopped by request")
            index = order[start : start + batch]
            n = len(index)
            np.take(images, index, axis=0, out=pixels[:n])
            x = scale_pixels(pixels[:n], out=inputs[:n])
            if augmentation is not None:  # draws from self.rng: a resumed run stays bit-identical
                x = augmentation.apply(x, self.rng)
            y = labels[index]
            logits = self.model.forward(x)
            loss = loss_fn.forward(logits, y)
            average = LOSS_EMA_DECAY * average + (1 - LOSS_EMA_DECAY) * loss
            if not np.isfinite(loss) or average > DIVERGENCE_FACTOR * chance:
                if np.isfinite(loss):  # show the spike that ended the run (its update is not applied)
                    accuracy = float(np.count_nonzero(logits.argmax(axis=1) == y)) / n
                    yield StepMetrics(self.step + 1, epoch, loss, accuracy)
                return RunFinished(
                    "diverged",
                    self.epoch,
                    self.step,
                    f"loss reached {loss:.4g} (running mean {average:.4g}, chance level {chance:.3g}) "
                    f"at step {self.step + 1}",
                )
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
            return RunFinished("diverged", self.epoch, self.step, "weights became non-finite")
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
        train = evaluate(weights, data.train_images, self.labels)
        test = evaluate(weights, data.test_images, data.test_labels.astype(np.intp))
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
