"""One training step of a run, number by number (the Step by step tab): never changes the run."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, model_validator

from deeplook.app.deps import Authorized, DatasetsDep, ModelsDep, PicturesDep, ViewsDep
from deeplook.app.errors import ServiceError
from deeplook.app.pictures import Pictures
from deeplook.app.schemas import INVALID, MAX_CLASSES, RUN_ID_PATTERN, PixelsOrImage, Strict, documented
from deeplook.app.views import Body, json_body
from deeplook.engine import trace
from deeplook.engine.config import TrainConfig
from deeplook.engine.evaluation import scale_pixels
from deeplook.engine.model import Weights

router = APIRouter(tags=["step by step"], responses=INVALID)
RunIdPath = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]
INLINE = 2000
"""Arrays with at most this many values travel whole, as JSON numbers."""
EXCERPT = 16
"""A large array's exact values are sent for its top-left EXCERPT x EXCERPT corner..."""
IMAGE_SIDE = 256
"""...and the whole of it as a heat map of at most IMAGE_SIDE x IMAGE_SIDE cells (block means)."""


class LabelledImage(PixelsOrImage):
    label: Annotated[int, Field(ge=0, lt=MAX_CLASSES, description="the right answer")]


class BatchRequest(Strict):
    """Which network (a run's epoch; 0 is the random start) and which batch: training images, drawings."""

    epoch: Annotated[int, Field(ge=0)] = Field(0, description="0: the untrained start, as in the notebook")
    indices: list[Annotated[int, Field(ge=0)]] | None = Field(
        None,
        min_length=1,
        max_length=trace.MAX_EXAMPLES,
        description="training-set images (default 0-4, or none when images are given)",
    )
    images: list[LabelledImage] | None = Field(
        None, max_length=trace.MAX_EXAMPLES, description="drawn digits with their labels, after the indices"
    )

    @model_validator(mode="after")
    def _size(self) -> BatchRequest:
        if len(self.indices or []) + len(self.images or []) > trace.MAX_EXAMPLES:
            raise ValueError(f"a traced batch has at most {trace.MAX_EXAMPLES} examples")
        return self

    @property
    def training_indices(self) -> list[int]:
        if self.indices is not None:
            return self.indices
        return [] if self.images else [0, 1, 2, 3, 4]


class TraceRequest(BatchRequest):
    """Which network, which batch, how many steps."""

    steps: Annotated[int, Field(ge=1, le=trace.MAX_STEPS)] = Field(
        1, description="train this many steps on the same batch"
    )
    lr: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = Field(
        None, description="default: the run's learning rate"
    )
    full: bool = Field(False, description="every value of large arrays too (base64 float32)")


class ArrayOut(BaseModel):
    """An array. Small: ``values``, row-major. Large: ``excerpt`` (its top-left corner, exact) and ``image``
    (the whole array as a heat map: uint8 base64, row-major, ``image_shape``, 0 = ``min`` and
    255 = ``max``, each cell the mean of a block of values); with ``full`` asked: ``base64`` of every
    value as little-endian float32."""

    shape: list[int]
    min: float
    max: float
    values: list[float] | None = None
    excerpt: list[list[float]] | None = None
    image: str | None = None
    image_shape: list[int] | None = None
    base64: str | None = None


class TracedOut(BaseModel):
    name: str = Field(description="the notebook's name: X, a1, z1, ..., y_hat, t, Loss, dy, dW2, ...")
    stage: Literal["forward", "loss", "backward", "update"]
    formula: str
    code: str = Field(description="the notebook's line of NumPy for it")
    inputs: list[str]
    array: ArrayOut


class TraceOut(BaseModel):
    run_id: str
    epoch: int
    optimizer: str
    activation: str
    lr: float
    layers: int
    indices: list[int | None] = Field(description="per row of X: its training-set index (null: a drawing)")
    labels: list[int]
    arrays: list[TracedOut]
    losses: list[float] = Field(description="before the first update, then after each of the steps")
    predictions: list[ArrayOut] = Field(description="y_hat before the first update, then after each step")
    notes: dict[str, str]


def array_out(values: np.ndarray, full: bool = False) -> ArrayOut:
    array = np.asarray(values, dtype=np.float64)
    low, high = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    shape = list(array.shape)
    if array.size <= INLINE:
        return ArrayOut(shape=shape, values=array.ravel().tolist(), min=low, max=high)
    matrix = array.reshape(array.shape[0], -1) if array.ndim > 1 else array[None, :]
    heat = _block_means(matrix, IMAGE_SIDE)
    scale = 255.0 / (high - low) if high > low else 0.0
    image = np.rint((heat - low) * scale).astype(np.uint8)
    out = ArrayOut(
        shape=shape,
        min=low,
        max=high,
        excerpt=matrix[:EXCERPT, :EXCERPT].tolist(),
        image=base64.b64encode(image.tobytes()).decode(),
        image_shape=list(image.shape),
    )
    if full:
        out.base64 = base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode()
    return out


def _block_means(matrix: np.ndarray, side: int) -> np.ndarray:
    """The matrix shrunk to at most ``side`` x ``side`` by averaging blocks of whole rows and columns."""
    rows, cols = matrix.shape
    fy, fx = -(-rows // side), -(-cols // side)
    padded = np.full((-(-rows // fy) * fy, -(-cols // fx) * fx), np.nan)
    padded[:rows, :cols] = matrix
    blocks = padded.reshape(padded.shape[0] // fy, fy, padded.shape[1] // fx, fx)
    return np.nanmean(blocks, axis=(1, 3))


@router.post(
    "/api/runs/{run_id}/trace",
    response_model=TraceOut,
    dependencies=[Authorized],  # no change to the run, but work for the server: as every POST
    responses=documented(e404="no such run or epoch", e409="no model"),
)
async def trace_run(
    http: Request,
    run_id: RunIdPath,
    request: TraceRequest,
    views: ViewsDep,
    models: ModelsDep,
    datasets: DatasetsDep,
    pictures: PicturesDep,
) -> Response:
    """Every array of one training step of the run's network at an epoch, on a batch of training images
    and/or drawings: forward, loss, backward, update (and the loss and y_hat after k steps)."""
    summary = await views.summary(run_id)
    model = await asyncio.to_thread(models.load, run_id, request.epoch)
    x, labels_array, indices = await _batch(request, datasets, summary.dataset, pictures)
    body = await asyncio.to_thread(
        lambda: _answer(run_id, request, summary.config, model.weights, x, labels_array, indices)
    )
    return json_body(http, body)


def _answer(
    run_id: str,
    request: TraceRequest,
    config: TrainConfig,
    weights: Weights,
    x: np.ndarray,
    labels: np.ndarray,
    indices: list[int],
) -> Body:
    """The trace and its JSON (and gzip), made off the event loop: a big network's is a megabyte."""
    traced = trace.trace_step(config, weights, x, labels, request.steps, request.lr)
    out = TraceOut(
        run_id=run_id,
        epoch=request.epoch,
        optimizer=traced.optimizer,
        activation=traced.activation,
        lr=traced.lr,
        layers=traced.layers,
        indices=[*indices, *([None] * len(request.images or []))],
        labels=labels.tolist(),
        arrays=[
            TracedOut(
                name=t.name,
                stage=t.stage,  # type: ignore[arg-type]
                formula=t.formula,
                code=t.code,
                inputs=list(t.inputs),
                array=array_out(t.values, request.full),
            )
            for t in traced.arrays
        ],
        losses=traced.losses,
        predictions=[array_out(p) for p in traced.predictions],
        notes=traced.notes,
    )
    body = Body(out.model_dump_json(), level=1)
    body.gzip  # noqa: B018 (compressed here, not on the loop)
    return body


async def _batch(
    request: BatchRequest, datasets: DatasetsDep, dataset: str, pictures: Pictures
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The batch a request names: its training images (scaled to [0, 1]), then its drawings, and labels."""
    data = await asyncio.to_thread(datasets.get, dataset)
    indices = request.training_indices
    if any(i >= len(data.train_labels) for i in indices):
        raise ServiceError("invalid_input", error=f"indices must be below {len(data.train_labels):,}")
    rows = [scale_pixels(data.train_images[indices])] if indices else []
    labels = [int(data.train_labels[i]) for i in indices]
    for image in request.images or []:
        drawn = image.pixels is None
        row = await pictures.pixels(image.image or "") if drawn else np.asarray(image.pixels, np.float32)
        rows.append(row[None, :])
        labels.append(image.label)
    return np.concatenate(rows), np.array(labels, dtype=np.intp), indices


class GradientCheckRequest(BatchRequest):
    param: str = Field(pattern=r"^[Wb][1-9][0-9]?$", description="W1, b1, W2, ... as the trace names them")
    index: list[Annotated[int, Field(ge=0)]] = Field(
        min_length=1, max_length=2, description="the weight's position"
    )
    eps: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1e-4


class GradientCheckOut(BaseModel):
    """The engine's ``GradientCheck`` (read from its attributes, the relative error included)."""

    backprop: float = Field(description="d Loss / d weight from backpropagation")
    numerical: float = Field(description="(Loss(w + eps) - Loss(w - eps)) / (2 eps)")
    loss_plus: float
    loss_minus: float
    eps: float
    relative_error: float


@router.post(
    "/api/runs/{run_id}/gradient-check",
    dependencies=[Authorized],
    responses=documented(e404="no such run or epoch", e409="no model"),
)
async def gradient_check(
    run_id: RunIdPath,
    request: GradientCheckRequest,
    views: ViewsDep,
    models: ModelsDep,
    datasets: DatasetsDep,
    pictures: PicturesDep,
) -> GradientCheckOut:
    """One weight's derivative of the loss two ways: backpropagation's and a centered difference (on the
    batch a trace takes: training images by index and drawings)."""
    summary = await views.summary(run_id)
    model = await asyncio.to_thread(models.load, run_id, request.epoch)
    x, labels, _ = await _batch(request, datasets, summary.dataset, pictures)
    try:
        check = await asyncio.to_thread(
            trace.check_gradient,
            summary.config,
            model.weights,
            x,
            labels,
            request.param,
            tuple(request.index),
            request.eps,
        )
    except ValueError as error:
        raise ServiceError("invalid_input", error=str(error)) from error
    return GradientCheckOut.model_validate(check, from_attributes=True)
