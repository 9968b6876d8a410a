"""Runs: start, list, inspect, control, export and delete training runs."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from deeplook.app.deps import Authorized, FilesDep, ModelsDep, RunsDep, StoreDep, ViewsDep
from deeplook.app.errors import ServiceError
from deeplook.app.schemas import (
    AUTH,
    CONFLICT,
    INVALID,
    NOT_FOUND,
    QUEUE_FULL,
    RUN_ID_PATTERN,
    STORAGE,
    RunChange,
    RunCreate,
    RunDetail,
    RunMetrics,
    RunSummary,
    StepsOut,
    documented,
)
from deeplook.app.store import EPOCH_COLUMNS, STEP_COLUMNS, StepSeries
from deeplook.app.views import json_body
from deeplook.engine.train import EpochMetrics

router = APIRouter(prefix="/api/runs", tags=["runs"], responses=INVALID)
# Model files can be larger than other bodies: main includes this router with its own size limit.
import_router = APIRouter(prefix="/api/runs", tags=["runs"], responses=INVALID)

RunIdPath = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Authorized],
    responses={**AUTH, **QUEUE_FULL, **STORAGE},
)
async def start_run(request: RunCreate, runs: RunsDep) -> RunSummary:
    """Start training a preset, with any setting overridden: at once while fewer than
    DEEPLOOK_MAX_ACTIVE_RUNS train, else queued (``queue_position``)."""
    return await runs.start(request)


@import_router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Authorized],
    responses={
        **AUTH,
        **STORAGE,
        **documented(
            e413="the file is larger than DEEPLOOK_MAX_MODEL_BYTES",
            e422="not a valid deeplook checkpoint (the current model keeps serving)",
        ),
    },
)
async def import_model(file: UploadFile, runs: RunsDep) -> RunSummary:
    """Add a checkpoint (.npz from /model or ``deeplook train --save``) as a finished run that serves."""
    return await runs.import_checkpoint(file.file)


@router.get("")
async def list_runs(views: ViewsDep) -> list[RunSummary]:
    """All runs, newest first (live ones as they are right now)."""
    return await views.list_runs()


@router.get("/{run_id}", response_model=RunDetail, responses=NOT_FOUND)
async def get_run(run_id: RunIdPath, views: ViewsDep, request: Request) -> Response:
    """A run with its config, status, per-epoch metrics, learning-rate changes and downsampled steps
    (a training run's at most a quarter of a second old)."""
    return json_body(request, await views.detail_body(run_id))


@router.patch("/{run_id}", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH, **STORAGE})
async def change_run(run_id: RunIdPath, change: RunChange, runs: RunsDep) -> RunSummary:
    """Rename a run, or change a training run's learning rate or pace; a change takes effect between
    two steps and is recorded (with its step), so a resumed run makes it again at the same step."""
    return await runs.change(run_id, change)


@router.post("/{run_id}/pause", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH})
async def pause_run(run_id: RunIdPath, runs: RunsDep) -> RunSummary:
    """Pause a training run between two steps."""
    return await runs.pause(run_id)


@router.post("/{run_id}/step", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH})
async def step_run(run_id: RunIdPath, runs: RunsDep) -> RunSummary:
    """Train exactly one more step of a training run, then stay paused."""
    return await runs.step(run_id)


@router.post(
    "/{run_id}/resume", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH, **QUEUE_FULL}
)
async def resume_run(run_id: RunIdPath, runs: RunsDep) -> RunSummary:
    """Resume a paused run, or continue an interrupted, stopped or failed one from its last checkpoint
    (queued like a new run when all trainers are busy)."""
    return await runs.resume(run_id)


@router.post("/{run_id}/stop", dependencies=[Authorized], responses={**NOT_FOUND, **CONFLICT, **AUTH})
async def stop_run(run_id: RunIdPath, runs: RunsDep) -> RunSummary:
    """Stop a run within one step (it keeps the model of its last completed epoch); a queued run is
    cancelled."""
    return await runs.stop(run_id)


@router.delete(
    "/{run_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Authorized],
    responses={**NOT_FOUND, **CONFLICT, **AUTH, **STORAGE},
)
async def delete_run(run_id: RunIdPath, runs: RunsDep) -> Response:
    """Delete a finished (or queued) run, its metrics and its models."""
    await runs.delete(run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{run_id}/metrics", responses=NOT_FOUND)
async def run_metrics(run_id: RunIdPath, views: ViewsDep, store: StoreDep) -> RunMetrics:
    """The full history as JSON: every step and every epoch."""
    summary = await views.summary(run_id)
    live = views.live_series(run_id)
    if live is not None:  # the last second of steps may not be written yet
        series, epochs = live.whole(), (await views.detail(run_id)).epochs
    else:
        series = await asyncio.to_thread(store.steps, run_id)
        epochs = await asyncio.to_thread(store.epochs, run_id)
    return RunMetrics(
        run=summary,
        epochs=epochs,
        steps=StepsOut(**{column: getattr(series, column).tolist() for column in STEP_COLUMNS}),
    )


@router.get(
    "/{run_id}/metrics.csv",
    response_class=StreamingResponse,
    responses={**NOT_FOUND, 200: {"content": {"text/csv": {}}, "description": "one row per step and epoch"}},
)
async def run_metrics_csv(run_id: RunIdPath, views: ViewsDep, store: StoreDep) -> StreamingResponse:
    """The full history as CSV: a row per step, and a row per epoch after its last step."""
    await views.summary(run_id)
    series, epochs = await asyncio.to_thread(lambda: (store.steps(run_id), store.epochs(run_id)))
    return StreamingResponse(
        iterate_in_threadpool(_csv_rows(series, epochs)),
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
async def download_model(
    run_id: RunIdPath,
    models: ModelsDep,
    views: ViewsDep,
    files: FilesDep,
    epoch: Annotated[
        int | None,
        Query(
            ge=0,
            description="an epoch's model (weights only; 0: the random start); default: the "
            "last checkpoint, with its optimizer state to resume",
        ),
    ] = None,
) -> Response:
    """The checkpoint of the run's last completed epoch (an ``.npz`` with config, weights and optimizer
    state), or the weights of a given epoch."""
    await views.summary(run_id)
    model = await asyncio.to_thread(models.load, run_id, epoch)
    path = files.checkpoint(run_id, model.epoch) if epoch is None else files.model(run_id, model.epoch)
    try:
        payload = await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        raise ServiceError("model_damaged", run=run_id, error=error.strerror or str(error)) from error
    return Response(
        payload,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="deeplook-{run_id}-epoch{model.epoch}.npz"'},
    )


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
