"""Store records to API schemas."""

from __future__ import annotations

from deeplook.app.schemas import RunSummary
from deeplook.app.store import RunRecord


def run_summary(run: RunRecord) -> RunSummary:
    reason = run.reason
    return RunSummary(
        id=run.id,
        name=run.name,
        status=run.status,
        race_id=run.race_id,
        reason=reason.text if reason else "",
        reason_code=reason.code if reason else None,
        reason_params=dict(reason.params) if reason else {},
        preset=run.preset,
        config=run.config,
        dataset=run.config.dataset,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        epochs_done=run.epochs_done,
        epochs_total=run.config.epochs,
        steps_done=run.steps_done,
        steps_per_epoch=run.config.steps_per_epoch(),
        test_accuracy=run.test_accuracy,
        checkpoint_epoch=run.checkpoint_epoch,
    )
