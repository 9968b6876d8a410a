"""Real MNIST runs for the look-inside and coach tests: trained once per session, kept as events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deeplook.engine.coach import RunHistory
from deeplook.engine.config import configure, preset_config
from deeplook.engine.data import Dataset
from deeplook.engine.inspect import LayerHealth, epoch_report
from deeplook.engine.model import Weights, init_weights
from deeplook.engine.train import Checkpoint, EpochMetrics, RunFinished, StepMetrics, Trainer


@dataclass
class Trained:
    """A finished run: every epoch's weights (0: the start), metrics, step losses and last health."""

    config: Any
    weights: list[Weights] = field(default_factory=list)
    epochs: list[EpochMetrics] = field(default_factory=list)
    steps: list[StepMetrics] = field(default_factory=list)
    layers: list[list[LayerHealth]] = field(default_factory=list)
    """Per completed epoch, its layers' health."""
    reason_code: str | None = None

    def history(self, epochs: int | None = None) -> RunHistory:
        """What the coach reads after the last epoch (or after the first ``epochs``)."""
        end = len(self.epochs) if epochs is None else epochs
        steps = [s for s in self.steps if s.epoch <= end]
        return RunHistory(
            config=self.config,
            epochs=self.epochs[:end],
            step_losses=np.array([s.loss for s in steps]),
            step_epochs=np.array([s.epoch for s in steps]),
            layers=self.layers[end - 1] if end else [],
            reason_code=self.reason_code if end == len(self.epochs) else None,
        )


def train(data: Dataset, preset: str, **settings: Any) -> Trained:
    config = configure(preset_config(preset), settings)
    run = Trained(config, [Weights.freeze(config.model, init_weights(config.model, config.seed))])
    for event in Trainer(config, data).run():
        if isinstance(event, StepMetrics):
            run.steps.append(event)
        elif isinstance(event, EpochMetrics):
            run.epochs.append(event)
        elif isinstance(event, Checkpoint):
            run.weights.append(event.weights)
            report = epoch_report(
                event.epoch, event.weights, data.test_images, data.test_labels,
                event.gradients, event.update_ratios, event.test,
            )  # fmt: skip
            run.layers.append(report.layers)
        elif isinstance(event, RunFinished):
            run.reason_code = event.reason.code if event.reason is not None else None
    return run
