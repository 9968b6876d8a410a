"""Store records to API schemas."""

from __future__ import annotations

import dataclasses
import math

from deeplook.app.schemas import EpochOut, RunConfig, RunSummary
from deeplook.app.store import RunRecord
from deeplook.engine.config import TrainConfig
from deeplook.engine.train import EpochMetrics

TRAIN_SIZE = 60_000  # both datasets have 60,000 training images


def run_config(config: TrainConfig) -> RunConfig:
    return RunConfig.model_validate(config.to_dict())


def run_summary(run: RunRecord) -> RunSummary:
    return RunSummary(
        id=run.id,
        status=run.status,  # type: ignore[arg-type]
        reason=run.reason,
        preset=run.preset,
        config=run_config(run.config),
        dataset=run.config.dataset,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        epochs_done=run.epochs_done,
        epochs_total=run.config.epochs,
        steps_done=run.steps_done,
        steps_per_epoch=math.ceil(TRAIN_SIZE / run.config.batch_size),
        test_accuracy=run.test_accuracy,
        checkpoint_epoch=run.checkpoint_epoch,
    )


def epoch_out(metrics: EpochMetrics) -> EpochOut:
    return EpochOut(**dataclasses.asdict(metrics))
