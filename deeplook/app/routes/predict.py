"""Predictions from the current model or a named run's: pixels, a picture, a batch or a file."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Form, UploadFile

from deeplook.app.deps import ModelsDep, SettingsDep
from deeplook.app.errors import ServiceError
from deeplook.app.imaging import ImageError, ImageLimits, decode_base64_image, image_to_pixels
from deeplook.app.models import ServingModel
from deeplook.app.schemas import (
    INVALID,
    RUN_ID_PATTERN,
    BatchPredictRequest,
    BatchPredictResponse,
    PixelsOrImage,
    Prediction,
    PredictRequest,
    PredictResponse,
    documented,
)
from deeplook.engine import inspect

router = APIRouter(prefix="/api/predict", tags=["predict"], responses=INVALID)

ERRORS = documented(
    e400="bad base64 or data URL",
    e404="no run with this id, or no saved model of that epoch",
    e409="no trained model yet",
    e413="body or image too large",
    e422="invalid pixels, or a picture that is not a usable PNG/JPEG",
)


@router.post("", responses=ERRORS)
def predict(request: PredictRequest, models: ModelsDep, settings: SettingsDep) -> PredictResponse:
    """Classify one input: 784 pixels in [0, 1], or a PNG/JPEG (MNIST preprocessing is applied); the
    current model, or a run's model of an epoch."""
    model = models.get(request.run_id, request.epoch)
    return _answer(model, _pixels(request, _limits(settings)), request.explain, models.pinned)


@router.post("/batch", responses=ERRORS)
def predict_batch(
    request: BatchPredictRequest, models: ModelsDep, settings: SettingsDep
) -> BatchPredictResponse:
    """Classify up to DEEPLOOK_MAX_BATCH inputs in one forward pass."""
    if len(request.inputs) > settings.max_batch:
        error = f"at most {settings.max_batch} inputs per batch, got {len(request.inputs)}"
        raise ServiceError("invalid_input", error=error)
    model = models.get(request.run_id, request.epoch)
    limits = _limits(settings)
    batch = np.stack([_pixels(item, limits, index) for index, item in enumerate(request.inputs)])
    info = model.info(models.pinned)
    probabilities = model.weights.predict_proba(batch)
    return BatchPredictResponse(
        model=info,
        predictions=[
            Prediction(**_fields(info.class_names, x, p)) for x, p in zip(batch, probabilities, strict=True)
        ],
    )


@router.post("/file", responses=ERRORS)
async def predict_file(
    file: UploadFile,
    models: ModelsDep,
    settings: SettingsDep,
    run_id: Annotated[str | None, Form(pattern=RUN_ID_PATTERN)] = None,
    epoch: Annotated[int | None, Form(ge=0)] = None,
) -> PredictResponse:
    """Classify an uploaded PNG or JPEG file (multipart/form-data, field ``file``)."""
    model = await asyncio.to_thread(models.get, run_id, epoch)
    data = await file.read(settings.max_body_bytes + 1)
    try:
        pixels = await asyncio.to_thread(image_to_pixels, data, _limits(settings))
    except ImageError as error:
        raise image_error(error) from error
    return _answer(model, pixels, False, models.pinned)


def image_error(error: ImageError) -> ServiceError:
    code = {400: "bad_input", 413: "too_large"}.get(error.status, "invalid_input")
    return ServiceError(code, error=error.message)


def _answer(model: ServingModel, pixels: np.ndarray, explain: bool, pinned: bool) -> PredictResponse:
    """One prediction; with ``explain``, every layer's activations from the same forward pass."""
    info = model.info(pinned)
    if not explain:
        return PredictResponse(
            **_fields(info.class_names, pixels, model.weights.predict_proba(pixels)), model=info
        )
    layers = inspect.layer_activations(model.weights, pixels)
    fields = _fields(info.class_names, pixels, layers[-1])
    contributions = inspect.unit_contributions(model.weights, layers[-2], fields["digit"])
    return PredictResponse(
        **fields,
        model=info,
        activations=[layer.tolist() for layer in layers],
        contributions=contributions.tolist(),
    )


def _limits(settings: SettingsDep) -> ImageLimits:
    return ImageLimits(max_bytes=settings.max_body_bytes, max_pixels=settings.max_image_pixels)


def _pixels(item: PixelsOrImage, limits: ImageLimits, index: int | None = None) -> np.ndarray:
    if item.pixels is not None:
        return np.asarray(item.pixels, dtype=np.float32)
    assert item.image is not None
    try:
        return image_to_pixels(decode_base64_image(item.image, limits), limits)
    except ImageError as error:
        where = "" if index is None else f"inputs[{index}]: "
        raise image_error(ImageError(where + error.message, error.status)) from error


def _fields(names: list[str], pixels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """What every prediction carries: the winner, its name, the probabilities and the input seen."""
    winner = int(np.argmax(probabilities))
    return {
        "digit": winner,
        "label": names[winner],
        "probabilities": probabilities.astype(float).tolist(),
        "pixels": pixels.astype(float).tolist(),
    }
