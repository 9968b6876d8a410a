"""Predict answers serialised once, straight from the arrays (orjson), in the shape of the documented
``PredictResponse`` and ``BatchPredictResponse``; the model's part is serialised once per model."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from fastapi import Response

from deeplook.app.errors import ServiceError
from deeplook.app.models import ServingModel
from deeplook.engine import inspect
from deeplook.engine.saliency import IG_STEPS, saliency

OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class JSONBytes(Response):
    media_type = "application/json"


def prediction(
    names: tuple[str, ...], probabilities: np.ndarray, pixels: np.ndarray | None
) -> dict[str, Any]:
    """One ``Prediction``: the winner, its name, the probabilities and, when asked, the input seen."""
    winner = int(np.argmax(probabilities))
    fields: dict[str, Any] = {"digit": winner, "label": names[winner], "probabilities": probabilities}
    if pixels is not None:
        fields["pixels"] = pixels
    return fields


def single(
    model: ServingModel,
    pinned: bool,
    pixels: np.ndarray,
    explain: bool,
    return_pixels: bool,
    target: int | None = None,
) -> JSONBytes:
    """The answer to one input: a ``PredictResponse``; with ``explain`` (milliseconds: call it off the
    event loop) the layers, the scores before softmax and the saliency for ``target`` too."""
    names = model.class_names
    seen = pixels if return_pixels or explain else None
    if not explain:
        fields = prediction(names, model.weights.predict_proba(pixels), seen)
    else:
        if target is not None and target >= len(names):
            raise ServiceError("invalid_input", error=f"target must be a class in 0..{len(names) - 1}")
        layers = inspect.layer_activations(model.weights, pixels)
        fields = prediction(names, layers[-1], seen)
        fields["activations"] = layers
        fields["contributions"] = inspect.unit_contributions(model.weights, layers[-2], fields["digit"])
        explained = saliency(model.weights, pixels, fields["digit"] if target is None else target)
        fields["logits"] = explained.logits
        fields["saliency"] = {
            "target": explained.target,
            "score": explained.score,
            "baseline_score": explained.baseline_score,
            "steps": IG_STEPS,
            "gradient": explained.gradient,
            "integrated": explained.integrated,
        }
    fields["model"] = orjson.Fragment(model.info_json[pinned])
    return JSONBytes(orjson.dumps(fields, option=OPTIONS))


def batch(model: ServingModel, pinned: bool, pixels: np.ndarray, return_pixels: bool) -> JSONBytes:
    """The answer to a batch (N, PIXELS): a ``BatchPredictResponse``, from one forward pass."""
    names = model.class_names
    probabilities = model.weights.predict_proba(pixels)
    winners = probabilities.argmax(axis=1).tolist()
    rows = probabilities.tolist()  # float32 values as Python floats: one call for the whole batch
    seen = pixels.tolist() if return_pixels else None
    predictions = []
    for i, winner in enumerate(winners):
        item: dict[str, Any] = {"digit": winner, "label": names[winner], "probabilities": rows[i]}
        if seen is not None:
            item["pixels"] = seen[i]
        predictions.append(item)
    body = {"model": orjson.Fragment(model.info_json[pinned]), "predictions": predictions}
    return JSONBytes(orjson.dumps(body))
