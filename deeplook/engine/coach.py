"""A coach: rules that read a run's curves and layer health, and say what is going on and what to try.

Each rule has a stable code (the dashboard words it in each language), an English finding and advice
with ``{name}`` fields filled from its parameters, the evidence it read (measure, value, the limit it
crossed) and the changes to try (run settings, by their names in ``config.SETTINGS``). The thresholds
were measured on runs made to show each problem and on healthy runs of every preset (tests/engine/
test_coach.py and the README's table).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.config import TrainConfig
from deeplook.engine.inspect import LayerHealth
from deeplook.engine.layers import Array
from deeplook.engine.registry import registry
from deeplook.engine.train import EpochMetrics

HIGH_UPDATE_RATIO = 1e-2
"""An update this large a share of the weights, ten times the rule of thumb of 1e-3, overshoots."""
LOW_UPDATE_RATIO = 1e-4
LOSS_SPIKE = 1.5
"""A minibatch loss this many times a blind guess's (ln of the class count) after the first epoch: the
steps overshoot. (A run that learns nothing hovers at the guess's loss itself, a little above and below.)"""
FLAT_LOSS = 0.05
"""A training loss that fell by less than this share over the last epoch is flat."""
UNTRAINED_ACCURACY = 0.9
SATURATED = 0.8
"""Share of a squashing layer's activations in its flat tails beyond which it has stopped learning
(healthy sigmoid nets of the notebook stay below 0.6)."""
DEAD = 0.3
OVERFIT_GAP = 0.03
"""Train minus test accuracy."""
TEST_LOSS_RISE = 0.1
"""Test loss this share above its best, while the training loss keeps falling."""
PATIENCE = 5
"""Epochs without a better test accuracy (by IMPROVEMENT) after which a run is done learning."""
IMPROVEMENT = 0.001


@dataclass(frozen=True)
class Evidence:
    measure: str
    """train_loss, test_loss, test_accuracy, gap, step_loss, update_ratio, saturated, dead, gradient_rms"""
    value: float
    limit: float | None
    """The threshold it crossed (None: shown for context)."""
    epoch: int | None = None
    layer: str | None = None


@dataclass(frozen=True)
class RunHistory:
    """What the coach reads: the config, the completed epochs, every step's loss, and the latest
    epoch's layer health."""

    config: TrainConfig
    epochs: Sequence[EpochMetrics]
    step_losses: Array
    step_epochs: Array
    layers: Sequence[LayerHealth] = ()
    reason_code: str | None = None
    """Why the run ended, when it did (``diverged``: the loss ran away)."""
    lr: float | None = None
    """The learning rate set while it trained, if it was changed (None: the config's)."""


@dataclass(frozen=True)
class Advice:
    code: str
    params: Mapping[str, str | int | float]
    evidence: tuple[Evidence, ...]
    changes: Mapping[str, Any] = field(default_factory=dict)
    """Settings to try (empty: nothing to start)."""

    @property
    def finding(self) -> str:
        return RULES[self.code].finding.format(**self.params)

    @property
    def advice(self) -> str:
        return RULES[self.code].advice.format(**self.params)


@dataclass(frozen=True)
class Rule:
    code: str
    finding: str
    advice: str
    check: Callable[[RunHistory], Advice | None]


def _round(value: float) -> float:
    """One significant figure: a learning rate someone would type."""
    return float(f"{value:.1g}")


def _lr(history: RunHistory) -> float:
    return history.lr if history.lr is not None else history.config.optimizer.lr


def _lr_too_high(history: RunHistory) -> Advice | None:
    evidence: list[Evidence] = []
    chance = math.log(history.config.model.classes)
    if history.reason_code == "diverged":
        evidence.append(Evidence("step_loss", float(np.max(history.step_losses, initial=chance)), chance))
    later = history.step_losses[history.step_epochs > 1]
    if later.size and float(later.max()) > LOSS_SPIKE * chance:
        step = int(np.argmax(history.step_epochs > 1) + np.argmax(later))
        evidence.append(
            Evidence("step_loss", float(later.max()), LOSS_SPIKE * chance, int(history.step_epochs[step]))
        )
    epoch = _last_epoch(history)
    for layer in history.layers:
        if layer.update_ratio > HIGH_UPDATE_RATIO:
            ratio = layer.update_ratio
            evidence.append(Evidence("update_ratio", ratio, HIGH_UPDATE_RATIO, epoch, layer.name))
    if not evidence:
        return None
    lr = _lr(history)
    suggested = _round(lr / 10)
    return Advice("lr_too_high", {"lr": lr, "suggested": suggested}, tuple(evidence), {"lr": suggested})


def _lr_too_low(history: RunHistory) -> Advice | None:
    if len(history.epochs) < 2 or not history.layers:
        return None
    before, last = history.epochs[-2], history.epochs[-1]
    fell = (before.train_loss - last.train_loss) / max(before.train_loss, 1e-12)
    smallest = min(history.layers, key=lambda layer: layer.update_ratio)
    if (
        smallest.update_ratio >= LOW_UPDATE_RATIO
        or fell >= FLAT_LOSS
        or last.train_accuracy >= UNTRAINED_ACCURACY
    ):
        return None
    lr = _lr(history)
    suggested = _round(lr * 10)
    evidence = (
        Evidence("update_ratio", smallest.update_ratio, LOW_UPDATE_RATIO, last.epoch, smallest.name),
        Evidence("train_loss", last.train_loss, None, last.epoch),
        Evidence("train_accuracy", last.train_accuracy, UNTRAINED_ACCURACY, last.epoch),
    )
    return Advice("lr_too_low", {"lr": lr, "suggested": suggested}, evidence, {"lr": suggested})


def _worst_layer(history: RunHistory, kind: Literal["saturated", "dead"], limit: float) -> LayerHealth | None:
    """The layer with the largest share of ``kind`` units, when the run's activation is judged by that
    kind and the share is above ``limit``."""
    if ACTIVATIONS[history.config.model.activation].health.kind != kind or not history.layers:
        return None
    worst = max(history.layers, key=lambda layer: getattr(layer, kind))
    return worst if getattr(worst, kind) > limit else None


def _last_epoch(history: RunHistory) -> int | None:
    return history.epochs[-1].epoch if history.epochs else None


def _saturated(history: RunHistory) -> Advice | None:
    worst = _worst_layer(history, "saturated", SATURATED)
    if worst is None:
        return None
    epoch, first = _last_epoch(history), history.layers[0]
    evidence = (
        Evidence("saturated", worst.saturated, SATURATED, epoch, worst.name),
        Evidence("gradient_rms", first.gradient_rms, None, epoch, first.name),
    )
    activation = history.config.model.activation
    changes = {"activation": "relu", "init": "he"}
    return Advice("saturated", {"activation": activation, "share": worst.saturated}, evidence, changes)


def _dead(history: RunHistory) -> Advice | None:
    worst = _worst_layer(history, "dead", DEAD)
    if worst is None:
        return None
    lr = _lr(history)
    suggested = _round(lr / 10)
    evidence = (Evidence("dead", worst.dead, DEAD, _last_epoch(history), worst.name),)
    return Advice(
        "dead_units", {"share": worst.dead, "lr": lr, "suggested": suggested}, evidence, {"lr": suggested}
    )


def _overfitting(history: RunHistory) -> Advice | None:
    if len(history.epochs) < 3:
        return None
    last = history.epochs[-1]
    best = min(history.epochs, key=lambda e: e.test_loss)
    gap = last.train_accuracy - last.test_accuracy
    falling = last.train_loss < history.epochs[-2].train_loss
    rose = last.test_loss > best.test_loss * (1 + TEST_LOSS_RISE)
    if gap <= OVERFIT_GAP or not rose or not falling or best.epoch > last.epoch - 2:
        return None
    evidence = (
        Evidence("gap", gap, OVERFIT_GAP, last.epoch),
        Evidence("test_loss", last.test_loss, best.test_loss * (1 + TEST_LOSS_RISE), last.epoch),
        Evidence("test_loss", best.test_loss, None, best.epoch),
    )
    config = history.config
    changes: dict[str, Any] = {"train_size": None} if config.train_size else {"augment": "affine"}
    params = {"gap": gap, "best_epoch": best.epoch, "train_size": config.train_count}
    return Advice("overfitting", params, evidence, changes)


def _done(history: RunHistory) -> Advice | None:
    if len(history.epochs) <= PATIENCE:
        return None
    earlier, recent = history.epochs[:-PATIENCE], history.epochs[-PATIENCE:]
    before = max(e.test_accuracy for e in earlier)
    since = max(recent, key=lambda e: e.test_accuracy)
    if since.test_accuracy >= before + IMPROVEMENT:
        return None
    best = max(history.epochs, key=lambda e: e.test_accuracy)
    evidence = (
        Evidence("test_accuracy", best.test_accuracy, None, best.epoch),
        Evidence("test_accuracy", since.test_accuracy, before + IMPROVEMENT, since.epoch),
    )
    params = {"epochs": PATIENCE, "best": best.test_accuracy, "best_epoch": best.epoch}
    return Advice("done", params, evidence)


RULES: Mapping[str, Rule] = registry(
    Rule(
        "lr_too_high",
        "The learning rate {lr:g} is too high: the loss jumps above a blind guess, or each update "
        "moves the weights by more than 1% of their size.",
        "Try a learning rate of {suggested:g}.",
        _lr_too_high,
    ),
    Rule(
        "lr_too_low",
        "The learning rate {lr:g} is too low: the updates are tiny next to the weights and the "
        "loss has barely moved.",
        "Try a learning rate of {suggested:g}.",
        _lr_too_low,
    ),
    Rule(
        "saturated",
        "{share:.0%} of the {activation} units sit in the flat tails of the curve, where the "
        "gradient almost vanishes: the layers before them hardly learn.",
        "Try ReLU units (with He initial weights): they do not flatten for positive inputs.",
        _saturated,
    ),
    Rule(
        "dead_units",
        "{share:.0%} of the ReLU units never fire on the test digits: they pass no gradient and "
        "cannot learn their way back. Large steps pushed them there.",
        "Try a learning rate of {suggested:g} (or GELU units, which are never quite flat).",
        _dead,
    ),
    Rule(
        "overfitting",
        "Overfitting: training accuracy is {gap:.1%} above test accuracy and the test loss has "
        "been rising since epoch {best_epoch} while the training loss falls.",
        "Try more varied training images: all of them, or augmented ones; or stop at epoch {best_epoch}.",
        _overfitting,
    ),
    Rule(
        "done",
        "Done learning: the test accuracy has not improved in {epochs} epochs (best {best:.2%}, "
        "epoch {best_epoch}).",
        "More epochs will not help; pin epoch {best_epoch}, or try a larger network or augmented images.",
        _done,
    ),
    key="code",
)


def coach(history: RunHistory) -> list[Advice]:
    """Every rule's advice that applies to the run, in the order of ``RULES``."""
    return [advice for rule in RULES.values() if (advice := rule.check(history)) is not None]
