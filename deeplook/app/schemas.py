"""Request and response bodies of the REST API, derived from the engine's registries and types.

The run settings a request may carry come from ``engine.config.SETTINGS``; run configs, epoch
metrics and layer health are the engine's own dataclasses; statuses are ``engine.status.RunStatus``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from deeplook.app.errors import ERRORS
from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.augment import AUGMENTATIONS
from deeplook.engine.coach import RULES
from deeplook.engine.config import (
    DEFAULT_PRESET,
    PRESETS,
    RACE_SHARED,
    RACES,
    SETTINGS,
    Setting,
    TrainConfig,
)
from deeplook.engine.data import DATASETS
from deeplook.engine.embedding import VIEWS
from deeplook.engine.initializers import INITIALIZERS
from deeplook.engine.inspect import LayerHealth
from deeplook.engine.optim import OPTIMIZERS
from deeplook.engine.status import REASONS, STATUSES, RunStatus
from deeplook.engine.train import EpochMetrics, LearningRateChange

RUN_ID_PATTERN = r"^[0-9a-f]{12}$"
RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]
if TYPE_CHECKING:  # the names are the registries' keys, known when the module loads
    DatasetName = str
    PresetName = str
    RaceName = str
else:
    DatasetName = Literal[tuple(DATASETS)]
    PresetName = Literal[tuple(PRESETS)]
    RaceName = Literal[tuple(RACES)]


def _common(values: set[Any], what: str) -> Any:
    if len(values) != 1:
        raise RuntimeError(f"the datasets disagree on {what}: {values}; the predict API needs one")
    return values.pop()


# Every dataset shares one image format; predict accepts it for any model.
IMAGE_SHAPE: tuple[int, int] = _common({spec.image_shape for spec in DATASETS.values()}, "image shape")
PIXELS: int = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
MAX_CLASSES = max(spec.classes for spec in DATASETS.values())
MAX_TEST_SIZE = max(spec.test_size for spec in DATASETS.values())
MAX_TRAIN_SIZE = max(spec.train_size for spec in DATASETS.values())


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(BaseModel):
    """Every error answer: what went wrong in English, or (422 from validation) a list naming each
    field; ``code`` and ``params`` say it again for programs (and for the dashboard to translate)."""

    detail: str | list[dict[str, object]]
    code: str | None = Field(None, description="a stable name of the error (see the README)")
    params: dict[str, str | int | float] | None = Field(None, description="the values its text quotes")


Responses = dict[int | str, dict[str, Any]]


def documented(**answers: str) -> Responses:
    """OpenAPI error responses with the ``Error`` body: ``documented(e404="no run with this id")``."""
    return {
        int(code.removeprefix("e")): {"model": Error, "description": text} for code, text in answers.items()
    }


# Declared on every router that takes input, replacing FastAPI's default 422 (a list only).
INVALID = documented(
    e400="a body that cannot be parsed (not JSON, not UTF-8, bad base64)",
    e413="a body larger than DEEPLOOK_MAX_BODY_BYTES",
    e422="invalid input: the message, or the fields, say what",
)
AUTH = documented(e401="a token is configured and none was sent", e403="the token sent is wrong")
NOT_FOUND = documented(e404="no run with this id")
CONFLICT = documented(e409="the run is not in a state that allows this")
QUEUE_FULL = documented(e429="too many runs wait already (DEEPLOOK_MAX_QUEUED_RUNS); see Retry-After")
STORAGE = documented(
    e503="the database does not take writes right now (locked)", e507="the disk is full: nothing was created"
)


# -- runs -------------------------------------------------------------------------------------------


def _bounds(setting: Setting) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if setting.minimum is not None:
        bounds["gt" if setting.exclusive_minimum else "ge"] = setting.minimum
    if setting.maximum is not None:
        bounds["lt" if setting.exclusive_maximum else "le"] = setting.maximum
    return bounds


def setting_type(setting: Setting) -> Any:
    """The pydantic type of one run setting, with its bounds and help, None allowed (not given)."""
    kind: Any
    if setting.kind == "choice":
        kind = Literal[setting.choices]
    elif setting.kind == "integer":
        kind = Annotated[int, Field(**_bounds(setting))]
    elif setting.kind == "number":
        kind = Annotated[float, Field(allow_inf_nan=False, **_bounds(setting))]
    else:
        item = Annotated[int, Field(**_bounds(setting))]
        kind = Annotated[list[item], Field(min_length=1, max_length=setting.max_items)]
    return Annotated[kind | None, Field(description=setting.help)]


if TYPE_CHECKING:

    class RunSettings(Strict):
        def model_dump(self, **kwargs: Any) -> dict[str, Any]: ...

else:
    RunSettings = create_model(
        "RunSettings",
        __base__=Strict,
        __doc__="Any run setting; one that is not given keeps the preset's value.",
        **{name: (setting_type(setting), None) for name, setting in SETTINGS.items()},
    )


Pace = Literal["full", "watchable", "step"]
PACE_HELP = (
    "full: as fast as it trains; watchable: each epoch stretched to about 20 s; step: paused, one step "
    "per request (POST /api/runs/{id}/step)"
)


class RunCreate(RunSettings):
    """A preset, with any setting given here replacing the preset's value."""

    preset: PresetName = Field(DEFAULT_PRESET, description="the settings to start from")
    name: str | None = Field(None, max_length=80, description="what to call the run (default: its settings)")
    pace: Pace = Field("full", description=PACE_HELP)

    def overrides(self) -> dict[str, Any]:
        """The settings given, by their names in ``engine.config.SETTINGS``."""
        return self.model_dump(exclude_none=True, exclude={"preset", "name", "pace"})


class RaceCreate(Strict):
    """2-4 runs trained side by side from the same start and minibatches, differing in what you choose.

    Each variant's settings are applied over ``preset`` and ``settings`` (the ones every run shares);
    ``race`` names a ready-made comparison (see /api/info ``races``) whose fields the others override."""

    race: RaceName | None = Field(None, description="a ready-made comparison to start from")
    preset: PresetName | None = Field(None, description="the settings every run starts from")
    settings: RunSettings | None = Field(None, description="settings every run shares")
    variants: list[RunSettings] | None = Field(
        None, min_length=2, max_length=4, description="per run, the settings that make it different"
    )
    name: str | None = Field(None, max_length=80)


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
    name: str | None = Field(description="the name it was given, if any")
    status: RunStatus
    queue_position: int | None = Field(None, description="while queued: 1 is the next to start")
    race_id: str | None = Field(None, description="the race it belongs to, if any")
    pace: Pace = Field("full", description=PACE_HELP)
    reason: str = Field(description="why it is in this status, in English ('' when nothing to say)")
    reason_code: str | None = Field(description="the reason as a stable code (see /api/info reasons)")
    reason_params: dict[str, str | int | float] = Field(description="the values the reason's text quotes")
    preset: str | None
    config: TrainConfig
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
    epochs: list[EpochMetrics]
    steps: StepsOut
    lr_changes: list[LearningRateChange] = Field(
        default_factory=list, description="learning-rate changes made while it trained"
    )


class RunChange(Strict):
    """Changes to a run: a new learning rate or pace take effect between two steps of a training run;
    a name applies to any run."""

    lr: Annotated[float, Field(allow_inf_nan=False, **_bounds(SETTINGS["lr"]))] | None = None
    pace: Pace | None = Field(None, description=PACE_HELP)
    name: str | None = Field(None, max_length=80)


class RaceOut(BaseModel):
    id: str
    name: str
    created_at: float
    differs: list[str] = Field(description="the settings in which its runs differ")
    runs: list[RunSummary]


class RunMetrics(BaseModel):
    run: RunSummary
    epochs: list[EpochMetrics]
    steps: StepsOut


# -- predict ----------------------------------------------------------------------------------------


def _values(count: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": count, "maxItems": count}


PIXEL_VALUE: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": 1}
PIXELS_SCHEMA: dict[str, Any] = {
    "anyOf": [
        _values(PIXELS, PIXEL_VALUE),
        _values(IMAGE_SHAPE[0], _values(IMAGE_SHAPE[1], PIXEL_VALUE)),
    ],
    "description": f"{PIXELS} values in [0, 1] (row-major), or {IMAGE_SHAPE[0]} rows of "
    f"{IMAGE_SHAPE[1]}; ink is 1",
}
IMAGE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "a PNG or JPEG as base64 or a data URL",
}
EXACTLY_ONE: dict[str, Any] = {"oneOf": [{"required": ["pixels"]}, {"required": ["image"]}]}
"""The JSON schema's way of saying "give exactly one of pixels or image"."""


class PixelsOrImage(Strict):
    """One input: its pixels, or a picture of it (exactly one of the two)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=EXACTLY_ONE)

    # Validated by ``_check_pixels`` (one message naming the problem); documented with its real bounds.
    pixels: Annotated[list[float] | list[list[float]] | None, WithJsonSchema(PIXELS_SCHEMA)] = None
    image: Annotated[str | None, WithJsonSchema(IMAGE_SCHEMA)] = None

    @field_validator("pixels")
    @classmethod
    def _check_pixels(cls, value: list[float] | list[list[float]] | None) -> list[float] | None:
        if value is None:
            return None
        try:
            array = np.asarray(value, dtype=np.float64)
        except ValueError:
            rows, cols = IMAGE_SHAPE
            raise ValueError(f"pixels must be {PIXELS} numbers or {rows} rows of {cols} numbers") from None
        if array.shape not in ((PIXELS,), IMAGE_SHAPE):
            rows, cols = IMAGE_SHAPE
            raise ValueError(
                f"pixels must be {PIXELS} values or {rows} rows of {cols}, got shape {list(array.shape)}"
            )
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


RETURN_PIXELS_HELP = f"also return the {PIXELS} values the network saw (after the picture's preprocessing)"


class PredictOptions(Strict):
    """What a prediction may ask for besides its input; a JSON body carries them as fields, a binary or
    image body as query parameters."""

    run_id: RunId | None = Field(None, description="default: the current model")
    epoch: Annotated[int, Field(ge=0)] | None = Field(
        None, description="with run_id: that epoch's model (0: the random start)"
    )
    explain: bool = Field(
        False,
        description="also return every layer's activations, the output scores before softmax, the last "
        "layer's contributions and the saliency of the input for `target`",
    )
    target: Annotated[int, Field(ge=0)] | None = Field(
        None, description="with explain: the class whose saliency is returned (default: the answer)"
    )
    return_pixels: bool = Field(False, description=RETURN_PIXELS_HELP)


class PredictRequest(PixelsOrImage, PredictOptions):
    """One input to classify, and which model answers."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={**EXACTLY_ONE, "dependentRequired": {"epoch": ["run_id"]}}
    )


class BatchOptions(Strict):
    run_id: RunId | None = None
    epoch: Annotated[int, Field(ge=0)] | None = None
    return_pixels: bool = Field(False, description=RETURN_PIXELS_HELP)


class BatchPredictRequest(BatchOptions):
    """Inputs classified in one forward pass by one model."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"dependentRequired": {"epoch": ["run_id"]}})

    inputs: list[PixelsOrImage] = Field(min_length=1, description="at most DEEPLOOK_MAX_BATCH items")


class ModelInfo(BaseModel):
    run_id: str
    epoch: int
    test_accuracy: float | None
    dataset: DatasetName
    class_names: list[str]
    pinned: bool = Field(False, description="whether it answers because it was pinned")


class Prediction(BaseModel):
    digit: int = Field(description="the winning class index")
    label: str = Field(description="the winning class name")
    probabilities: list[float]
    pixels: list[float] | None = Field(
        None, description=f"with return_pixels (or explain): the {PIXELS} values the network saw, row-major"
    )


class SaliencyOut(BaseModel):
    """Which pixels made the network give a class its score (the score is the class's logit)."""

    target: int = Field(description="the class explained")
    score: float = Field(description="the class's score (logit) for the input")
    baseline_score: float = Field(description="its score for a blank image, where the path starts")
    steps: int = Field(description="points of the integrated-gradients path (midpoint rule)")
    gradient: list[float] = Field(description="d score / d pixel, one per pixel, row-major")
    integrated: list[float] = Field(
        description="integrated gradients per pixel: they add up to about score - baseline_score"
    )


class PredictResponse(Prediction):
    model: ModelInfo
    activations: list[list[float]] | None = Field(
        None, description="with explain: each hidden layer's activations, then the output probabilities"
    )
    logits: list[float] | None = Field(None, description="with explain: the output scores before softmax")
    contributions: list[float] | None = Field(
        None,
        description="with explain: per unit of the last hidden layer, its activation times its weight "
        "to the winning class (how much it pushed the answer; negative: against it)",
    )
    saliency: SaliencyOut | None = Field(None, description="with explain: the saliency for `target`")


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
    training: list[str] = Field(description="runs with a trainer (loading, running or paused)")
    queued: list[str] = Field(description="runs waiting for a trainer, next first")
    executor: str
    workers: dict[str, str] = Field(description="run id -> where its trainer runs (a pid, a Ray actor)")
    pending_steps: int = Field(description="step metrics not yet written to the database")
    database_locked_for: float = Field(
        description="seconds the database has refused writes (0: it takes them)"
    )


class Projection(BaseModel):
    """The public fields of an engine registry's entry, read from its attributes (``model_validate``)."""

    model_config = ConfigDict(from_attributes=True)


class Choice(Projection):
    """One entry of a registry (an initialiser, an optimizer): its name, label and what it does."""

    name: str
    label: str
    description: str


class HealthRuleOut(Projection):
    kind: Literal["saturated", "dead"]
    low: float | None = Field(None, description="saturated: outputs below this are in a flat region")
    high: float | None = Field(None, description="saturated: outputs above this are in a flat region")


class ActivationOut(Choice):
    formula: str
    health: HealthRuleOut


class DatasetOut(Choice):
    class_names: list[str]
    image_shape: tuple[int, int]
    train_size: int
    test_size: int


class StatusOut(BaseModel):
    name: RunStatus
    active: bool
    resumable: bool
    description: str


class PresetOut(Projection):
    name: str
    description: str
    config: TrainConfig


class RacePresetOut(BaseModel):
    name: str
    description: str
    preset: str
    settings: dict[str, Any]
    variants: list[dict[str, Any]]


class SettingOut(Projection):
    """One run setting: its type, bounds and meaning (the dashboard builds its form from these)."""

    name: str
    section: Literal["", "model", "optimizer"] = Field(description="the part of a run config holding it")
    field: str = Field(description="its name in that part of the config")
    kind: Literal["integer", "number", "choice", "sizes"]
    help: str
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool
    exclusive_maximum: bool
    choices: list[str]
    registry: str | None = Field(description="for choices: the list of this document they come from")
    max_items: int | None
    optional: bool
    advanced: bool
    applies_when: tuple[str, list[str]] | None

    @field_validator("registry", mode="before")
    @classmethod
    def _no_registry(cls, value: object) -> object:
        return value or None


class Limits(BaseModel):
    max_batch: int
    max_body_bytes: int
    max_model_bytes: int
    max_active_runs: int = Field(description="runs that train at once; further starts are queued")
    max_queued_runs: int = Field(description="runs that may wait; beyond, a start gets 429 (queue_full)")


class CoachRuleOut(Projection):
    code: str
    finding: str = Field(description="English template with {named} fields from the advice's params")
    advice: str


class Info(BaseModel):
    """What a client needs to know before it starts: every registry and limit of this server."""

    version: str
    auth_required: bool
    default_preset: str
    presets: list[PresetOut]
    races: list[RacePresetOut]
    race_shared: list[str] = Field(
        description="the settings every run of a race shares (so that they see the same minibatches)"
    )
    settings: list[SettingOut]
    activations: list[ActivationOut]
    initializers: list[Choice]
    optimizers: list[Choice]
    augmentations: list[Choice]
    datasets: list[DatasetOut]
    statuses: list[StatusOut]
    reasons: dict[str, str] = Field(description="reason code -> English template with {named} fields")
    errors: dict[str, str] = Field(
        description="error code -> English template with {named} fields (an error answer's code and params)"
    )
    coach: list[CoachRuleOut] = Field(description="the coach's rules (GET /api/runs/{id}/coach)")
    embedding_views: list[Choice] = Field(description="the views of GET /api/runs/{id}/embedding")
    limits: Limits


def registries() -> dict[str, Any]:
    """The registry part of ``Info``, from the engine's tables."""
    return {
        "default_preset": DEFAULT_PRESET,
        "presets": [PresetOut.model_validate(p) for p in PRESETS.values()],
        "races": [
            RacePresetOut(
                name=r.name,
                description=r.description,
                preset=r.base,
                settings=dict(r.common),
                variants=[dict(v) for v in r.variants],
            )
            for r in RACES.values()
        ],
        "race_shared": list(RACE_SHARED),
        "settings": [SettingOut.model_validate(s) for s in SETTINGS.values()],
        "activations": [ActivationOut.model_validate(a) for a in ACTIVATIONS.values()],
        "initializers": [Choice.model_validate(i) for i in INITIALIZERS.values()],
        "augmentations": [Choice.model_validate(a) for a in AUGMENTATIONS.values()],
        "optimizers": [Choice.model_validate(o) for o in OPTIMIZERS.values()],
        "datasets": [DatasetOut.model_validate(d) for d in DATASETS.values()],
        "statuses": [
            StatusOut(name=status, active=i.active, resumable=i.resumable, description=i.description)
            for status, i in STATUSES.items()
        ],
        "reasons": {code: reason.template for code, reason in REASONS.items()},
        "errors": {code: kind.template for code, kind in ERRORS.items()},
        "coach": [CoachRuleOut.model_validate(r) for r in RULES.values()],
        "embedding_views": [Choice(name=name, label=name, description=text) for name, text in VIEWS.items()],
    }


# -- look inside ------------------------------------------------------------------------------------


class HistogramOut(BaseModel):
    edges: list[float] = Field(description="bins + 1 ascending edges")
    counts: list[int]


class InspectOut(BaseModel):
    """One epoch's look inside a run (epoch 0 is the initial, random network)."""

    run_id: str
    epoch: int
    epochs: list[int] = Field(description="every epoch with a report")
    layers: list[LayerHealth]
    histograms: dict[str, HistogramOut] = Field(description="per array (dense0.W, dense0.b, ...)")
    gradient_histograms: dict[str, HistogramOut]


class HealthSeries(BaseModel):
    """Layer health over a run's epochs, as columns, and each epoch's weight histograms."""

    run_id: str
    epochs: list[int]
    damaged: list[int] = Field(default_factory=list, description="epochs whose report file is damaged")
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
    indices: list[int] | None = Field(None, description="the indices asked for, if any (else from offset)")
    labels: list[int]
    pixels: str = Field(description="base64 of len(labels) x 784 uint8 values of the split, ink = 255")
