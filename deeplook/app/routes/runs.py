"""Runs: start, list, inspect, control, export and delete training runs."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Path, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from deeplook.app.deps import Authorized, ModelsDep, RunsDep, StoreDep
from deeplook.app.schemas import (
    INVALID,
    RUN_ID_PATTERN,
    Error,
    RunCreate,
    RunDetail,
    RunMetrics,
    RunSummary,
    StepsOut,
)
from deeplook.app.store import EPOCH_COLUMNS, STEP_COLUMNS, StepSeries
from deeplook.app.views import run_summary
from deeplook.engine.train import EpochMetrics

router = APIRouter(prefix="/api/runs", tags=["runs"], responses=INVALID)
# Model files can be larger than other bodies: main includes this router with its own size limit.
import_router = APIRouter(prefix="/api/runs", tags=["runs"], responses=INVALID)

RunIdPath = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]
NOT_FOUND = {404: {"model": Error, "description": "no run with this id"}}
CONFLICT = {409: {"model": Error, "description": "the run is not in a state that allows this"}}
AUTH = {
    401: {"model": Error, "description": "a token is configured and none was sent"},
    403: {"model": Error, "description": "the token sent is wrong"},
}
STOP_WAIT = 5.0  # seconds a stop request waits for the run to end


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[Authorized], responses={**CONFLICT, **AUTH}
)
async def start_run(request: RunCreate, runs: RunsDep) -> RunSummary:
    """Start training a preset, with any hyperparameter overridden; 409 while another run is active."""
    return runs.start(request)


@import_router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Authorized],
    responses={
        **AUTH,
        413: {"model": Error, "description": "the file is larger than DEEPLOOK_MAX_MODEL_BYTES"},
        422: {
            "model": Error,
            "description": "not a valid deeplook checkpoint (the current model keeps serving)",
        },
    },
)
async def import_model(file: UploadFile, runs: RunsDep) -> RunSummary:
    """Add a checkpoint (.npz from /model or ``deeplook train --save``) as a finished run that serves."""
    payload = await file.read()
    return await asyncio.to_thread(runs.import_checkpoint, payload)


@router.get("")
def list_runs(store: StoreDep) -> list[RunSummary]:
    """All runs, newest first."""
    return [run_summary(run) for run in store.list_runs()]


@router.get("/{run_id}", responses=NOT_FOUND)
async def get_run(run_id: RunIdPath, runs: RunsDep) -> RunDetail:
    """A run with its config, status, per-epoch metrics and downsampled step losses."""
    return await _off_loop_unless_active(runs, run_id)


@router.post("/{run_id}/pause", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH})
async def pause_run(run_id: RunIdPath, runs: RunsDep) -> RunSummary:
    """Pause the active run between two steps."""
    return runs.pause(run_id)


@router.post("/{run_id}/resume", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH})
async def resume_run(run_id: RunIdPath, runs: RunsDep) -> RunSummary:
    """Resume a paused run, or continue an interrupted, stopped or failed one from its last checkpoint."""
    return await runs.resume(run_id)


@router.post("/{run_id}/stop", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH})
async def stop_run(run_id: RunIdPath, runs: RunsDep) -> RunSummary:
    """Stop the active run within one step; it keeps the model of its last completed epoch."""
    run = runs.stop(run_id)
    if run.thread is not None:
        await asyncio.to_thread(run.thread.join, STOP_WAIT)
    return runs.summary(run_id)


@router.delete(
    "/{run_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Authorized],
    responses={**NOT_FOUND, **CONFLICT, **AUTH},
)
async def delete_run(run_id: RunIdPath, runs: RunsDep) -> Response:
    """Delete a finished run, its metrics and its model."""
    runs.delete(run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{run_id}/metrics", responses=NOT_FOUND)
def run_metrics(run_id: RunIdPath, runs: RunsDep, store: StoreDep) -> RunMetrics:
    """The full history as JSON: every step and every epoch."""
    summary = runs.summary(run_id)
    series = store.steps(run_id)
    return RunMetrics(
        run=summary,
        epochs=store.epochs(run_id),
        steps=StepsOut(**{column: getattr(series, column).tolist() for column in STEP_COLUMNS}),
    )


@router.get(
    "/{run_id}/metrics.csv",
    response_class=StreamingResponse,
    responses={**NOT_FOUND, 200: {"content": {"text/csv": {}}, "description": "one row per step and epoch"}},
)
def run_metrics_csv(run_id: RunIdPath, runs: RunsDep, store: StoreDep) -> StreamingResponse:
    """The full history as CSV: a row per step, and a row per epoch after its last step."""
    runs.summary(run_id)
    series = store.steps(run_id)
    epochs = store.epochs(run_id)
    return StreamingResponse(
        _csv_rows(series, epochs),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="deeplook-{run_id}.csv"'},
    )


@router.get(
    "/{run_id}/model",
    response_class=Response,
    responses={
        **NOT_FOUND,
        **CONFLICT,
        200: {"content": {"application/octet-stream": {}}, "description": "the checkpoint as .npz"},
    },
)
def download_model(run_id: RunIdPath, models: ModelsDep, runs: RunsDep) -> Response:
    """The checkpoint of the run's last completed epoch: an ``.npz`` with config, weights, optimizer state."""
    runs.summary(run_id)
    model = models.for_run(run_id)
    return Response(
        models.checkpoint_path(run_id).read_bytes(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="deeplook-{run_id}-epoch{model.epoch}.npz"'},
    )


async def _off_loop_unless_active(runs: RunsDep, run_id: str) -> RunDetail:
    active = runs.active
    if active is not None and active.id == run_id:
        return runs.detail(run_id)
    return await asyncio.to_thread(runs.detail, run_id)


EPOCH_VALUES = EPOCH_COLUMNS[2:]  # train_loss ... samples_per_second
CSV_COLUMNS = ["record", "epoch", "step", "loss", "accuracy", *EPOCH_VALUES]


def _csv_rows(series: StepSeries, epochs: list[EpochMetrics]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    by_step = {e.step: e for e in epochs}
    for step, epoch, loss, accuracy in zip(
        series.step.tolist(),
        series.epoch.tolist(),
        series.loss.tolist(),
        series.accuracy.tolist(),
        strict=True,
    ):
        writer.writerow(["step", epoch, step, loss, accuracy, *[""] * len(EPOCH_VALUES)])
        done = by_step.get(step)
        if done is not None:
            writer.writerow(
                ["epoch", done.epoch, done.step, "", "", *(getattr(done, c) for c in EPOCH_VALUES)]
            )
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
