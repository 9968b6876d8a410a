"""Views into a network: per-layer activations, value histograms, first-layer weights as images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.documented import PYDANTIC_CONFIG
from deeplook.engine.evaluation import Evaluation, evaluate, scale_pixels
from deeplook.engine.layers import Array
from deeplook.engine.losses import softmax
from deeplook.engine.model import Weights, parameter_names


@dataclass(frozen=True)
class Histogram:
    edges: Array  # bins + 1 ascending edges
    counts: Array  # int64 per bin; sums to the number of finite values


def histogram(values: Array, bins: int = 30) -> Histogram:
    """Counts of the finite values in ``bins`` equal-width bins spanning their range."""
    finite = values[np.isfinite(values)].ravel()
    if finite.size == 0:
        return Histogram(np.zeros(bins + 1), np.zeros(bins, dtype=np.int64))
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return Histogram(edges, counts.astype(np.int64))


def parameter_histograms(weights: Weights, bins: int = 30) -> dict[str, Histogram]:
    """A histogram per named array: ``dense0.W``, ``dense0.b``, ..."""
    names = parameter_names(weights.config)
    return {name: histogram(array, bins) for name, array in zip(names, weights.arrays, strict=True)}


def gradient_histograms(
    weights: Weights, gradients: tuple[Array, ...], bins: int = 30
) -> dict[str, Histogram]:
    """A histogram per named gradient array (same names as the parameters)."""
    names = parameter_names(weights.config)
    return {name: histogram(grad, bins) for name, grad in zip(names, gradients, strict=True)}


def layer_activations(weights: Weights, x: Array) -> list[Array]:
    """For one input (784,) or a batch: each hidden layer's activations, then the output probabilities."""
    single = np.ndim(x) == 1
    outputs = weights.activations(np.atleast_2d(x))
    outputs[-1] = softmax(outputs[-1])
    return [o[0] for o in outputs] if single else outputs


def first_layer_images(weights: Weights, side: int = 28) -> Array:
    """The first layer's incoming weights, one ``side x side`` image per hidden unit: (units, side, side)."""
    W = weights.arrays[0]
    if W.shape[0] != side * side:
        raise ValueError(f"the first layer has {W.shape[0]} inputs, not {side}x{side}")
    return np.ascontiguousarray(W.T).reshape(W.shape[1], side, side)


# -- per-epoch views of a run ------------------------------------------------------------------------

PROBE_SIZE = 1000
"""Test images whose hidden activations measure saturation and dead units."""


@dataclass(frozen=True)
class LayerHealth:
    """How a dense layer is doing: weight scale, last update size, and its units' activity."""

    __pydantic_config__: ClassVar = PYDANTIC_CONFIG
    name: str
    units: int
    weight_rms: float
    gradient_rms: float
    update_ratio: float
    """Norm of the epoch's last update over the norm of the weights (healthy around 1e-3)."""
    saturated: float
    """Share of (probe image, unit) activations in a flat region of a squashing activation."""
    dead: float
    """Share of units of a ReLU-like activation whose input is never positive on the probe images."""


@dataclass(frozen=True, eq=False)
class EpochReport:
    """Everything the look-inside views show about one epoch of one run."""

    epoch: int
    first_layer: Array  # (units, inputs) float32: each unit's incoming weights
    histograms: dict[str, Histogram]
    gradient_histograms: dict[str, Histogram]
    layers: list[LayerHealth]
    confusion: Array  # (classes, classes) int64; rows are true classes, columns predictions
    predictions: Array  # uint8 per test image
    confidence: Array  # float32 per test image


def confusion_matrix(labels: Array, predictions: Array, classes: int) -> Array:
    """Counts of (true class, predicted class) pairs."""
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (labels.astype(np.intp), predictions.astype(np.intp)), 1)
    return matrix


def examples(
    labels: Array,
    predictions: Array,
    confidence: Array,
    true: int | None = None,
    predicted: int | None = None,
) -> Array:
    """Indices of the images of one confusion cell, most confident first.

    Without both classes, or with two different ones: the mistakes (optionally of one true or one
    predicted class). With the same class twice: that class's right answers (a diagonal cell).
    """
    if true is not None and true == predicted:
        chosen = (labels == true) & (predictions == true)
    else:
        chosen = predictions != labels
        if true is not None:
            chosen &= labels == true
        if predicted is not None:
            chosen &= predictions == predicted
    index = np.flatnonzero(chosen)
    return index[np.argsort(-confidence[index], kind="stable")]


def layer_health(
    weights: Weights, gradients: tuple[Array, ...], update_ratios: tuple[float, ...], probe: Array
) -> list[LayerHealth]:
    """Health of each dense layer, measured on the float32 ``probe`` images by the activation's own
    rule (saturated share for squashing functions, dead units for ReLU-like ones)."""
    rule = ACTIVATIONS[weights.config.activation].health
    network = weights.network()
    network.forward(probe)
    health = []
    for i, (W, _) in enumerate(weights.layers):
        saturated, dead = 0.0, 0.0
        if i < len(network.activations):
            layer = network.activations[i]
            assert layer.x is not None and layer.y is not None
            share = rule.share(layer.x, layer.y)
            saturated, dead = (share, 0.0) if rule.kind == "saturated" else (0.0, share)
        grad = gradients[2 * i] if gradients else np.zeros_like(W)
        health.append(
            LayerHealth(
                name=f"dense{i}",
                units=int(W.shape[1]),
                weight_rms=float(np.sqrt(np.mean(np.square(W, dtype=np.float64)))),
                gradient_rms=float(np.sqrt(np.mean(np.square(grad, dtype=np.float64)))),
                update_ratio=float(update_ratios[2 * i]) if update_ratios else 0.0,
                saturated=saturated,
                dead=dead,
            )
        )
    return health


def epoch_report(
    epoch: int,
    weights: Weights,
    test_images: Array,
    test_labels: Array,
    gradients: tuple[Array, ...] = (),
    update_ratios: tuple[float, ...] = (),
    test: Evaluation | None = None,
) -> EpochReport:
    """The look-inside views of one epoch; ``test`` is the test set's evaluation by this epoch's model
    (evaluated here when not given)."""
    if test is None:
        test = evaluate(weights, test_images, test_labels)
    probe = scale_pixels(test_images[:PROBE_SIZE])
    return EpochReport(
        epoch=epoch,
        first_layer=np.ascontiguousarray(weights.arrays[0].T),
        histograms=parameter_histograms(weights),
        gradient_histograms=gradient_histograms(weights, gradients) if gradients else {},
        layers=layer_health(weights, gradients, update_ratios, probe),
        confusion=confusion_matrix(test_labels, test.predictions, weights.config.classes),
        predictions=test.predictions,
        confidence=test.confidence,
    )


def unit_contributions(weights: Weights, hidden: Array, target: int) -> Array:
    """Each last-hidden unit's push toward ``target``: its activation (from ``layer_activations``)
    times its weight to the target's logit."""
    return hidden * weights.arrays[-2][:, target]
