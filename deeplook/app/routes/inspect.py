"""Looking inside a run: weight images, layer health, confusion and its examples, test images."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Path, Query

from deeplook.app.deps import DatasetsDep, ReportsDep, ViewsDep
from deeplook.app.errors import ServiceError
from deeplook.app.schemas import (
    INVALID,
    MAX_CLASSES,
    MAX_TEST_SIZE,
    MAX_TRAIN_SIZE,
    RUN_ID_PATTERN,
    ConfusionOut,
    DatasetImages,
    Example,
    ExamplesOut,
    HealthSeries,
    HistogramOut,
    InspectOut,
    WeightImages,
    documented,
)
from deeplook.engine import inspect
from deeplook.engine.data import DATASETS
from deeplook.engine.inspect import EpochReport, Histogram

router = APIRouter(tags=["look inside"], responses=INVALID)

RunIdPath = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]
EpochQuery = Annotated[int | None, Query(ge=0, le=10_000, description="default: the latest")]
ClassQuery = Annotated[int | None, Query(ge=0, lt=MAX_CLASSES)]
MAX_INDICES = 2000
ERRORS = documented(
    e404="no such run, or no report for that epoch",
    e409="the report of that epoch is damaged (the others still answer)",
)


def _histogram(h: Histogram) -> HistogramOut:
    return HistogramOut(edges=h.edges.tolist(), counts=h.counts.tolist())


async def _load(reports: ReportsDep, run_id: str, epoch: int | None) -> EpochReport:
    return await asyncio.to_thread(reports.load, run_id, epoch)


@router.get("/api/runs/{run_id}/inspect", responses=ERRORS)
async def inspect_epoch(
    run_id: RunIdPath, views: ViewsDep, reports: ReportsDep, epoch: EpochQuery = None
) -> InspectOut:
    """Histograms of weights and gradients and each layer's health after an epoch."""
    await views.summary(run_id)
    report = await _load(reports, run_id, epoch)
    return InspectOut(
        run_id=run_id,
        epoch=report.epoch,
        epochs=reports.epochs(run_id),
        layers=report.layers,
        histograms={name: _histogram(h) for name, h in report.histograms.items()},
        gradient_histograms={name: _histogram(h) for name, h in report.gradient_histograms.items()},
    )


@router.get("/api/runs/{run_id}/health", responses=ERRORS)
async def layer_health(run_id: RunIdPath, views: ViewsDep, reports: ReportsDep) -> HealthSeries:
    """Every epoch's layer health as columns, and each epoch's weight histograms (for ridgelines)."""
    await views.summary(run_id)
    return await asyncio.to_thread(_health_series, reports, run_id)


def _health_series(reports: ReportsDep, run_id: str) -> HealthSeries:
    epochs: list[int] = []
    damaged: list[int] = []
    layers: dict[str, dict[str, list[float]]] = {}
    histograms: dict[str, list[HistogramOut]] = {}
    for epoch in reports.epochs(run_id):
        try:
            report = reports.load(run_id, epoch)
        except ServiceError as error:
            if error.code != "report_damaged":
                raise
            damaged.append(epoch)  # the others still tell their story
            continue
        epochs.append(epoch)
        for layer in report.layers:
            columns = layers.setdefault(layer.name, {})
            for measure in ("update_ratio", "saturated", "dead", "weight_rms", "gradient_rms"):
                columns.setdefault(measure, []).append(getattr(layer, measure))
        for name, h in report.histograms.items():
            if name.endswith(".W"):
                histograms.setdefault(name, []).append(_histogram(h))
    return HealthSeries(
        run_id=run_id, epochs=epochs, damaged=damaged, layers=layers, weight_histograms=histograms
    )


@router.get("/api/runs/{run_id}/weights", responses=ERRORS)
async def weight_images(
    run_id: RunIdPath,
    views: ViewsDep,
    reports: ReportsDep,
    epoch: EpochQuery = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1024)] = 100,
    live: Annotated[bool, Query(description="while training: the weights as they are now")] = False,
) -> WeightImages:
    """What each first-layer unit looks for: its incoming weights as an image of the input's shape."""
    summary = await views.summary(run_id)
    current = views.live_weights(run_id) if live else None
    if current is not None:
        first_layer, shown_epoch, step = current.first_layer, current.epoch, current.step
    else:
        report = await _load(reports, run_id, epoch)
        first_layer, shown_epoch, step = report.first_layer, report.epoch, None
    units = first_layer.shape[0]
    height, width = DATASETS[summary.dataset].image_shape
    chosen = first_layer[offset : offset + limit]
    return WeightImages(
        run_id=run_id,
        epoch=shown_epoch,
        step=step,
        live=current is not None,
        units=units,
        offset=offset,
        count=len(chosen),
        height=height,
        width=width,
        scale=float(np.abs(first_layer).max()) if units else 0.0,
        data=base64.b64encode(chosen.astype("<f2").tobytes()).decode(),
    )


@router.get("/api/runs/{run_id}/confusion", responses=ERRORS)
async def confusion(
    run_id: RunIdPath, views: ViewsDep, reports: ReportsDep, epoch: EpochQuery = None
) -> ConfusionOut:
    """The confusion matrix of an epoch's model on the whole test set."""
    names = list(DATASETS[(await views.summary(run_id)).dataset].class_names)
    report = await _load(reports, run_id, epoch)
    matrix = report.confusion
    total = int(matrix.sum())
    return ConfusionOut(
        run_id=run_id,
        epoch=report.epoch,
        class_names=names,
        matrix=matrix.tolist(),
        total=total,
        accuracy=float(np.trace(matrix)) / total if total else 0.0,
    )


@router.get("/api/runs/{run_id}/misclassified", responses=ERRORS)
async def misclassified(
    run_id: RunIdPath,
    views: ViewsDep,
    reports: ReportsDep,
    datasets: DatasetsDep,
    epoch: EpochQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 60,
    true: ClassQuery = None,
    predicted: ClassQuery = None,
) -> ExamplesOut:
    """Test images the epoch's model got wrong, most confident first; or one confusion cell's images
    (``true`` and ``predicted``; on the diagonal, the right answers)."""
    summary = await views.summary(run_id)
    report = await _load(reports, run_id, epoch)
    data = await asyncio.to_thread(datasets.get, summary.dataset)
    labels, predictions, confidence = data.test_labels, report.predictions, report.confidence
    match = inspect.examples(labels, predictions, confidence, true, predicted)
    index = match[:limit]
    return ExamplesOut(
        run_id=run_id,
        epoch=report.epoch,
        class_names=list(data.class_names),
        total=len(match),
        items=[
            Example(
                index=int(i),
                true=int(labels[i]),
                predicted=int(predictions[i]),
                confidence=float(confidence[i]),
            )
            for i in index
        ],
        pixels=base64.b64encode(data.test_images[index].tobytes()).decode(),
    )


TrainOffsetQuery = Annotated[int, Query(ge=0, lt=MAX_TRAIN_SIZE)]
LimitQuery = Annotated[int, Query(ge=1, le=500)]
IndicesQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_INDICES * 6,
        pattern=r"^\d{1,5}(,\d{1,5})*$",
        description=f"instead of offset and limit: up to {MAX_INDICES:,} indices, comma-separated "
        "(the images an embedding or a unit's favourites name)",
    ),
]


@router.get("/api/datasets/{name}/test", responses=documented(e404="unknown dataset"))
async def test_images(
    name: str,
    datasets: DatasetsDep,
    offset: Annotated[int, Query(ge=0, lt=MAX_TEST_SIZE)] = 0,
    limit: LimitQuery = 40,
    indices: IndicesQuery = None,
) -> DatasetImages:
    """Images of a dataset's test set, for galleries (pick one and predict it with ``pixels``)."""
    return await _images(datasets, name, "test", offset, limit, indices)


@router.get("/api/datasets/{name}/train", responses=documented(e404="unknown dataset"))
async def train_images(
    name: str,
    datasets: DatasetsDep,
    offset: TrainOffsetQuery = 0,
    limit: LimitQuery = 40,
    indices: IndicesQuery = None,
) -> DatasetImages:
    """Images of a dataset's training set, for galleries (the batches a step-by-step trace takes by index)."""
    return await _images(datasets, name, "train", offset, limit, indices)


async def _images(
    datasets: DatasetsDep,
    name: str,
    split: Literal["train", "test"],
    offset: int,
    limit: int,
    indices: str | None,
) -> DatasetImages:
    if name not in DATASETS:
        raise ServiceError("unknown_dataset", dataset=name, datasets=", ".join(DATASETS))
    data = await asyncio.to_thread(datasets.get, name)
    images, labels = (
        (data.train_images, data.train_labels) if split == "train" else (data.test_images, data.test_labels)
    )
    chosen: slice | np.ndarray = slice(offset, offset + limit)
    picked: list[int] | None = None
    if indices is not None:
        picked = [int(i) for i in indices.split(",")]
        if len(picked) > MAX_INDICES or max(picked) >= len(labels):
            raise ServiceError(
                "invalid_input",
                error=f"at most {MAX_INDICES:,} indices, each below {len(labels):,}",
            )
        chosen = np.array(picked)
    return DatasetImages(
        dataset=name,
        class_names=list(data.class_names),
        offset=offset if indices is None else 0,
        indices=picked,
        labels=labels[chosen].tolist(),
        pixels=base64.b64encode(images[chosen].tobytes()).decode(),
    )
