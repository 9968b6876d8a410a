"""Looking further inside a run: the hidden space per epoch, what each unit wants, and the coach."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from deeplook.app.deps import LooksDep, ReportsDep, ViewsDep
from deeplook.app.errors import ServiceError
from deeplook.app.schemas import INVALID, RUN_ID_PATTERN, documented
from deeplook.engine import coach as coaching
from deeplook.engine import embedding, maximize
from deeplook.engine.data import DATASETS
from deeplook.engine.inspect import LayerHealth

router = APIRouter(tags=["look inside"], responses=INVALID)

RunIdPath = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]
EpochQuery = Annotated[int | None, Query(ge=0, le=10_000, description="default: the latest; 0 the start")]
MAX_UNITS = 64
"""Units per request to ``/wants`` (each is a gradient ascent of its own)."""
ERRORS = documented(e404="no such run, or no model saved for that epoch", e409="no epoch finished yet")


class EmbeddingOut(BaseModel):
    """The last hidden layer's activations of a fixed sample of test digits, in 2-D at one epoch.

    Point ``i`` is test image ``indices[i]`` (class ``labels[i]``) at (``x[i]``, ``y[i]``). Any other
    activations of the layer (a drawing's, from ``/api/predict`` with ``explain``) land at
    ``(h - mean) @ basis``. Each epoch's plane is turned onto the previous saved epoch's, so points move
    rather than flip from one epoch to the next."""

    run_id: str
    epoch: int
    epochs: list[int] = Field(description="the epochs with a saved model (0: the random start)")
    view: str = Field(description="; ".join(f"{k}: {v}" for k, v in embedding.VIEWS.items()))
    indices: list[int]
    labels: list[int]
    x: list[float]
    y: list[float]
    mean: list[float]
    basis: list[list[float]] = Field(description="units x 2")
    explained: list[float] = Field(description="share of the variance along each axis")
    separation: list[float] = Field(
        description="per saved epoch up to this one: leave-one-out 1-nearest-neighbour accuracy in 2-D"
    )
    separation_epochs: list[int]


@router.get("/api/runs/{run_id}/embedding", responses=ERRORS)
async def hidden_space(
    run_id: RunIdPath,
    views: ViewsDep,
    looks: LooksDep,
    epoch: EpochQuery = None,
    view: Annotated[str, Query(pattern="^(" + "|".join(embedding.VIEWS) + ")$")] = embedding.DEFAULT_VIEW,
) -> EmbeddingOut:
    """How the classes come apart: PCA of the last hidden layer on 2,000 test digits (200 per class)."""
    summary = await views.summary(run_id)
    chosen, epochs, path, index, labels = await asyncio.to_thread(
        looks.embedding, run_id, summary.dataset, epoch, view
    )
    last = path[-1]
    points = np.round(last.points, 4)
    return EmbeddingOut(
        run_id=run_id,
        epoch=chosen,
        epochs=epochs,
        view=view,
        indices=index.tolist(),
        labels=labels.tolist(),
        x=points[:, 0].tolist(),
        y=points[:, 1].tolist(),
        mean=last.mean.tolist(),
        basis=last.basis.tolist(),
        explained=last.explained.tolist(),
        separation=[p.separation for p in path],
        separation_epochs=[e for e in epochs if e <= chosen],
    )


class WantsOut(BaseModel):
    """What units of one layer want to see: for each, the input that drives it hardest (gradient ascent
    on the pixels from grey, under the penalties) and the test images that drive it hardest."""

    run_id: str
    epoch: int
    layer: int = Field(description="dense layer index; the last is the output layer (units = classes)")
    layers: int
    units: int = Field(description="units in the layer")
    offset: int
    count: int
    l2: float
    tv: float
    steps: int
    height: int
    width: int
    images: str = Field(description="base64 of count x height x width uint8 values (255 = ink)")
    reached: list[float] = Field(description="each unit's input z for its image")
    activation: list[float] = Field(description="its activation there (the output layer: probability)")
    best_test: list[float] = Field(description="the highest z any test image gives it")
    top: list[list[int]] = Field(description=f"the {maximize.TOP} test images with the highest z")
    top_values: list[list[float]]


@router.get("/api/runs/{run_id}/wants", responses=ERRORS)
async def unit_wants(
    run_id: RunIdPath,
    views: ViewsDep,
    looks: LooksDep,
    epoch: EpochQuery = None,
    layer: Annotated[int, Query(ge=0, le=16)] = 0,
    offset: Annotated[int, Query(ge=0, le=4096)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_UNITS)] = 32,
    l2: Annotated[float, Query(ge=0, le=100, description="weight of mean(x²)")] = maximize.L2,
    tv: Annotated[float, Query(ge=0, le=100, description="weight of the total variation")] = maximize.TV,
) -> WantsOut:
    """Activation maximisation for units ``offset`` .. ``offset + limit - 1`` of ``layer``."""
    summary = await views.summary(run_id)
    chosen, width, found = await asyncio.to_thread(
        looks.wanted, run_id, summary.dataset, epoch, layer, range(offset, offset + limit), l2, tv
    )
    height, side = DATASETS[summary.dataset].image_shape
    pixels = np.rint(found.images * 255).astype(np.uint8)
    return WantsOut(
        run_id=run_id,
        epoch=chosen,
        layer=layer,
        layers=len(summary.config.model.sizes) - 1,
        units=width,
        offset=offset,
        count=len(found.units),
        l2=l2,
        tv=tv,
        steps=maximize.STEPS,
        height=height,
        width=side,
        images=base64.b64encode(pixels.tobytes()).decode(),
        reached=found.reached.tolist(),
        activation=found.activation.tolist(),
        best_test=found.best_test.tolist(),
        top=found.top.astype(int).tolist(),
        top_values=found.top_values.tolist(),
    )


class EvidenceOut(BaseModel):
    measure: str
    value: float
    limit: float | None = Field(description="the threshold it crossed (null: shown for context)")
    epoch: int | None
    layer: str | None


class AdviceOut(BaseModel):
    code: str = Field(description="stable: the dashboard words it in each language")
    finding: str = Field(description="what is going on, in English")
    advice: str = Field(description="what to try, in English")
    params: dict[str, str | int | float]
    evidence: list[EvidenceOut]
    changes: dict[str, Any] = Field(
        description="run settings to try (null: leave the setting at its default); empty: nothing to start"
    )


class CoachOut(BaseModel):
    run_id: str
    epoch: int = Field(description="the last completed epoch read")
    advice: list[AdviceOut]


@router.get("/api/runs/{run_id}/coach", responses=documented(e404="no such run"))
async def run_coach(run_id: RunIdPath, views: ViewsDep, reports: ReportsDep) -> CoachOut:
    """What the run's curves and layer health say, and what to try: the rules of ``engine/coach.py``."""
    detail = await views.detail(run_id)
    layers: list[LayerHealth] = []
    if detail.epochs:
        try:
            layers = (await asyncio.to_thread(reports.load, run_id)).layers
        except ServiceError as error:  # no report yet, or a damaged one: the curves still speak
            if error.code not in ("no_reports", "report_damaged"):
                raise
    history = coaching.RunHistory(
        config=detail.config,
        epochs=detail.epochs,
        step_losses=np.asarray(detail.steps.loss, dtype=np.float64),
        step_epochs=np.asarray(detail.steps.epoch, dtype=np.int64),
        layers=layers,
        reason_code=detail.reason_code,
        lr=detail.lr_changes[-1].lr if detail.lr_changes else None,
    )
    return CoachOut(
        run_id=run_id,
        epoch=detail.epochs[-1].epoch if detail.epochs else 0,
        advice=[
            AdviceOut(
                code=a.code,
                finding=a.finding,
                advice=a.advice,
                params=dict(a.params),
                evidence=[EvidenceOut(**vars(e)) for e in a.evidence],
                changes=dict(a.changes),
            )
            for a in coaching.coach(history)
        ],
    )
