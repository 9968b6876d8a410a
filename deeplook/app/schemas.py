"""Request and response bodies of the REST API, and the websocket messages."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deeplook.engine.augment import AugmentName
from deeplook.engine.config import Activation, DatasetName, Init, OptimizerName

RUN_ID_PATTERN = r"^[0-9a-f]{12}$"
RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]
Status = Literal[
    "loading-data", "running", "paused", "completed", "stopped", "diverged", "failed", "interrupted"
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(BaseModel):
    """Every error answer: what went wrong, in words, or (422 from validation) a list naming each field."""

    detail: str | list[dict[str, object]]


# Declared on every router that takes input, replacing FastAPI's default 422 (a list only).
INVALID: dict[int | str, dict[str, object]] = {
    400: {"model": Error, "description": "a body that cannot be parsed (not JSON, not UTF-8, bad base64)"},
    413: {"model": Error, "description": "a body larger than DEEPLOOK_MAX_BODY_BYTES"},
    422: {"model": Error, "description": "invalid input: the message, or the fields, say what"},
}


# -- runs -------------------------------------------------------------------------------------------


class RunCreate(Strict):
    """A preset, with any field given here replacing the preset's value."""

    preset: str = Field(
        "notebook-sgd", description="notebook-sgd, notebook-adam, relu-adam or relu-adam-augmented"
    )
    dataset: DatasetName | None = None
    hidden: (
        Annotated[list[Annotated[int, Field(ge=1, le=4096)]], Field(min_length=1, max_length=6)] | None
    ) = None
    activation: Activation | None = None
    init: Init | None = None
    init_std: Annotated[float, Field(gt=0, le=10)] | None = None
    optimizer: OptimizerName | None = None
    lr: (
        Annotated[float, Field(gt=0, le=1000, description="up to 1000, so divergence can be shown")] | None
    ) = None
    lr_decay: Annotated[float, Field(gt=0, le=1)] | None = None
    momentum: Annotated[float, Field(ge=0, lt=1)] | None = None
    batch_size: Annotated[int, Field(ge=1, le=60000)] | None = None
    epochs: Annotated[int, Field(ge=1, le=200)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    augment: AugmentName | None = Field(None, description="training-time augmentation; none for scans only")


class ModelSettings(BaseModel):
    hidden: list[int]
    activation: Activation
    init: Init
    init_std: float
    input_size: int
    classes: int


class OptimizerSettings(BaseModel):
    name: OptimizerName
    lr: float
    lr_decay: float
    momentum: float
    beta1: float
    beta2: float
    eps: float


class RunConfig(BaseModel):
    model: ModelSettings
    optimizer: OptimizerSettings
    batch_size: int
    epochs: int
    seed: int
    dataset: DatasetName
    threads: int | None
    augment: AugmentName


class EpochOut(BaseModel):
    epoch: int
    step: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float
    samples_per_second: float


class StepsOut(BaseModel):
    """Step metrics as columns (uPlot's data shape); ``downsampled`` when min/max buckets were kept."""

    step: list[int]
    epoch: list[int]
    loss: list[float]
    accuracy: list[float]
    downsampled: bool = False
    loss_mean: list[float] | None = Field(
        None, description="when downsampled: per kept point, the mean loss of the bucket it stands for"
    )


class RunSummary(BaseModel):
    id: str
    status: Status
    reason: str
    preset: str | None
    config: RunConfig
    dataset: DatasetName
    created_at: float
    started_at: float | None
    finished_at: float | None
    epochs_done: int
    epochs_total: int
    steps_done: int
    steps_per_epoch: int
    test_accuracy: float | None = Field(description="after the last completed epoch")
    checkpoint_epoch: int = Field(description="epoch of the saved model, -1 when none")


class RunDetail(RunSummary):
    epochs: list[EpochOut]
    steps: StepsOut


class RunMetrics(BaseModel):
    run: RunSummary
    epochs: list[EpochOut]
    steps: StepsOut


# -- predict ----------------------------------------------------------------------------------------


class PixelsOrImage(Strict):
    pixels: list[float] | list[list[float]] | None = Field(
        None, description="784 values in [0, 1] (row-major), or 28 rows of 28; ink is 1"
    )
    image: str | None = Field(None, description="a PNG or JPEG as base64 or a data URL")

    @field_validator("pixels")
    @classmethod
    def _check_pixels(cls, value: list[float] | list[list[float]] | None) -> list[float] | None:
        if value is None:
            return None
        try:
            array = np.asarray(value, dtype=np.float64)
        except ValueError:
            raise ValueError("pixels must be 784 numbers or 28 rows of 28 numbers") from None
        if array.shape not in ((784,), (28, 28)):
            raise ValueError(f"pixels must be 784 values or 28 rows of 28, got shape {list(array.shape)}")
        flat = array.ravel()
        bad = np.flatnonzero(~np.isfinite(flat))
        if bad.size:
            raise ValueError(f"pixels must be finite numbers: index {bad[0]} is {flat[bad[0]]}")
        outside = np.flatnonzero((flat < 0) | (flat > 1))
        if outside.size:
            raise ValueError(f"pixels must be in [0, 1]: index {outside[0]} is {flat[outside[0]]}")
        return flat.tolist()

    @model_validator(mode="after")
    def _exactly_one(self) -> PixelsOrImage:
        if (self.pixels is None) == (self.image is None):
            raise ValueError("give exactly one of 'pixels' or 'image'")
        return self


class PredictRequest(PixelsOrImage):
    run_id: RunId | None = Field(None, description="default: the current model")
    explain: bool = Field(False, description="also return every layer's activations")


class BatchPredictRequest(Strict):
    inputs: list[PixelsOrImage] = Field(min_length=1, description="at most DEEPLOOK_MAX_BATCH items")
    run_id: RunId | None = None


class ModelInfo(BaseModel):
    run_id: str
    epoch: int
    test_accuracy: float | None
    dataset: DatasetName
    class_names: list[str]


class Prediction(BaseModel):
    digit: int = Field(description="the winning class index")
    label: str = Field(description="the winning class name")
    probabilities: list[float]
    pixels: list[float] = Field(description="the 784 values the network saw, row-major")


class PredictResponse(Prediction):
    model: ModelInfo
    activations: list[list[float]] | None = Field(
        None, description="with explain: each hidden layer's activations, then the output probabilities"
    )
    contributions: list[float] | None = Field(
        None,
        description="with explain: per unit of the last hidden layer, its activation times its weight "
        "to the winning class (how much it pushed the answer)",
    )


class BatchPredictResponse(BaseModel):
    model: ModelInfo
    predictions: list[Prediction]


# -- service ----------------------------------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    ready: bool
    reason: str = ""
    model: ModelInfo | None = None


class Stats(BaseModel):
    websocket_clients: int
    active_run: str | None


class Info(BaseModel):
    """What a client needs to know before it starts."""

    version: str
    auth_required: bool
    presets: dict[str, RunConfig]
    datasets: list[str]
    max_batch: int
    max_body_bytes: int


# -- websocket messages (server to client) ----------------------------------------------------------


class SnapshotMessage(BaseModel):
    """First message on connect: the active or latest run with its whole (downsampled) history."""

    type: Literal["snapshot"] = "snapshot"
    run: RunDetail | None
    progress: ProgressMessage | None = None


class StepMessage(BaseModel):
    """Steps since the previous message, as columns."""

    type: Literal["step"] = "step"
    run_id: str
    step: list[int]
    epoch: list[int]
    loss: list[float]
    accuracy: list[float]


class EpochMessage(BaseModel):
    type: Literal["epoch"] = "epoch"
    run_id: str
    metrics: EpochOut


class StatusMessage(BaseModel):
    """A run changed status (or was created); carries the whole summary."""

    type: Literal["status"] = "status"
    run: RunSummary


class ProgressMessage(BaseModel):
    """Data loading progress of a run in 'loading-data'."""

    type: Literal["progress"] = "progress"
    run_id: str
    message: str
    fraction: float | None


class PongMessage(BaseModel):
    type: Literal["pong"] = "pong"


class BatchMessage(BaseModel):
    """Several messages in one frame, in the order they happened."""

    type: Literal["batch"] = "batch"
    messages: list[dict[str, object]]


class ClientMessage(Strict):
    """The only frame a client sends: a ping, answered with a pong."""

    type: Literal["ping"]


ServerMessage = (
    SnapshotMessage
    | StepMessage
    | EpochMessage
    | StatusMessage
    | ProgressMessage
    | PongMessage
    | BatchMessage
)


# -- look inside ------------------------------------------------------------------------------------


class HistogramOut(BaseModel):
    edges: list[float] = Field(description="bins + 1 ascending edges")
    counts: list[int]


class LayerHealthOut(BaseModel):
    name: str
    units: int
    weight_rms: float
    gradient_rms: float
    update_ratio: float = Field(description="norm of the epoch's last update over the norm of the weights")
    saturated: float = Field(description="fraction of sigmoid/tanh activations in a flat region (probe set)")
    dead: float = Field(description="fraction of ReLU units that never fire on the probe set")


class InspectOut(BaseModel):
    """One epoch's look inside a run (epoch 0 is the initial, random network)."""

    run_id: str
    epoch: int
    epochs: list[int] = Field(description="every epoch with a report")
    layers: list[LayerHealthOut]
    histograms: dict[str, HistogramOut] = Field(description="per array (dense0.W, dense0.b, ...)")
    gradient_histograms: dict[str, HistogramOut]


class HealthSeries(BaseModel):
    """Layer health over a run's epochs, as columns, and each epoch's weight histograms."""

    run_id: str
    epochs: list[int]
    layers: dict[str, dict[str, list[float]]] = Field(
        description="layer name -> measure (update_ratio, saturated, dead, weight_rms, gradient_rms)"
        " -> one value per epoch"
    )
    weight_histograms: dict[str, list[HistogramOut]] = Field(description="array name -> histogram per epoch")


class WeightImages(BaseModel):
    """First-layer weights, one image per hidden unit, as float16 (little-endian) in base64."""

    run_id: str
    epoch: int = Field(description="the completed epoch, or the epoch in progress when live")
    step: int | None
    live: bool = Field(description="taken mid-epoch from the model being trained")
    units: int = Field(description="hidden units in the first layer")
    offset: int
    count: int
    height: int
    width: int
    scale: float = Field(description="the largest |weight| over all units, for a symmetric colour scale")
    data: str = Field(description="base64 of count x height x width float16 values, row-major")


class ConfusionOut(BaseModel):
    run_id: str
    epoch: int
    class_names: list[str]
    matrix: list[list[int]] = Field(description="rows: true class, columns: predicted class")
    total: int
    accuracy: float


class Example(BaseModel):
    index: int = Field(description="index in the test set")
    true: int
    predicted: int
    confidence: float


class ExamplesOut(BaseModel):
    """Test images of one epoch's evaluation, with their 28x28 pixels as uint8 base64 (row-major)."""

    run_id: str
    epoch: int
    class_names: list[str]
    total: int = Field(description="how many images match, before the limit")
    items: list[Example]
    pixels: str = Field(description="base64 of len(items) x 784 uint8 values, ink = 255")


class DatasetImages(BaseModel):
    dataset: str
    class_names: list[str]
    offset: int
    labels: list[int]
    pixels: str = Field(description="base64 of len(labels) x 784 uint8 values of the test set, ink = 255")
