"""Evaluating a network on a whole image set: the one chunked pass training, inspection and serving use."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeplook.engine.layers import Array
from deeplook.engine.losses import log_softmax
from deeplook.engine.model import Weights

EVAL_CHUNK = 10_000
"""Images per forward pass: large enough for BLAS, small enough to bound the memory of one pass."""
PIXEL_SCALE = np.float32(1.0 / 255.0)


def scale_pixels(images: Array, out: Array | None = None) -> Array:
    """uint8 pixels to float32 in [0, 1]."""
    return np.multiply(images, PIXEL_SCALE, out=out, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class Evaluation:
    loss: float
    """Mean cross-entropy."""
    accuracy: float
    predictions: Array
    """uint8 class per image."""
    confidence: Array
    """float32 probability of the predicted class, per image."""


def evaluate(weights: Weights, images: Array, labels: Array) -> Evaluation:
    """Loss, accuracy and every prediction over a whole uint8 image set, in chunks."""
    total_loss = 0.0
    predictions = np.empty(len(labels), np.uint8)
    confidence = np.empty(len(labels), np.float32)
    network = weights.network()
    for start in range(0, len(labels), EVAL_CHUNK):
        x = scale_pixels(images[start : start + EVAL_CHUNK])
        y = labels[start : start + EVAL_CHUNK].astype(np.intp)
        logp = log_softmax(network.forward(x))
        rows = np.arange(len(y))
        total_loss -= float(logp[rows, y].sum(dtype=np.float64))
        best = logp.argmax(axis=1)
        predictions[start : start + len(y)] = best
        confidence[start : start + len(y)] = np.exp(logp[rows, best])
    accuracy = int(np.count_nonzero(predictions == labels)) / len(labels)
    return Evaluation(total_loss / len(labels), accuracy, predictions, confidence)
