"""Predictions from the current model or a named run's: pixels, a picture, a batch or a file."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Form, HTTPException, UploadFile

from deeplook.app.deps import ModelsDep, SettingsDep
from deeplook.app.imaging import ImageError, ImageLimits, decode_base64_image, image_to_pixels
from deeplook.app.models import ServingModel
from deeplook.app.schemas import (
    INVALID,
    RUN_ID_PATTERN,
    BatchPredictRequest,
    BatchPredictResponse,
    Error,
    PixelsOrImage,
    Prediction,
    PredictRequest,
    PredictResponse,
)
from deeplook.engine import inspect

router = APIRouter(prefix="/api/predict", tags=["predict"], responses=INVALID)

ERRORS = {
    400: {"model": Error, "description": "bad base64 or data URL"},
    404: {"model": Error, "description": "no run with this id"},
    409: {"model": Error, "description": "no trained model yet"},
    413: {"model": Error, "description": "body or image too large"},
    422: {"model": Error, "description": "invalid pixels, or a picture that is not a usable PNG/JPEG"},
}


@router.post("", responses=ERRORS)
def predict(request: PredictRequest, models: ModelsDep, settings: SettingsDep) -> PredictResponse:
    """Classify one input: 784 pixels in [0, 1], or a PNG/JPEG (MNIST preprocessing is applied)."""
    model = models.get(request.run_id)
    return _answer(model, _pixels(request, _limits(settings)), request.explain)


@router.post("/batch", responses=ERRORS)
def predict_batch(
    request: BatchPredictRequest, models: ModelsDep, settings: SettingsDep
) -> BatchPredictResponse:
    """Classify up to DEEPLOOK_MAX_BATCH inputs in one forward pass."""
    if len(request.inputs) > settings.max_batch:
        raise HTTPException(422, f"at most {settings.max_batch} inputs per batch, got {len(request.inputs)}")
    model = models.get(request.run_id)
    limits = _limits(settings)
    batch = np.stack([_pixels(item, limits, index) for index, item in enumerate(request.inputs)])
    info = model.info()
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
) -> PredictResponse:
    """Classify an uploaded PNG or JPEG file (multipart/form-data, field ``file``)."""
    model = models.get(run_id)
    data = await file.read(settings.max_body_bytes + 1)
    try:
        pixels = image_to_pixels(data, _limits(settings))
    except ImageError as error:
        raise HTTPException(error.status, error.message) from error
    return _answer(model, pixels, explain=False)


def _answer(model: ServingModel, pixels: np.ndarray, explain: bool) -> PredictResponse:
    """One prediction; with ``explain``, every layer's activations from the same forward pass."""
    info = model.info()
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
        raise HTTPException(error.status, where + error.message) from error


def _fields(names: list[str], pixels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """What every prediction carries: the winner, its name, the probabilities and the input seen."""
    winner = int(np.argmax(probabilities))
    return {
        "digit": winner,
        "label": names[winner],
        "probabilities": probabilities.astype(float).tolist(),
        "pixels": pixels.astype(float).tolist(),
    }
