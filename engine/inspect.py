"""Views into a network: per-layer activations, value histograms, first-layer weights as images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.layers import Array
from engine.losses import softmax
from engine.model import Weights, parameter_names


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
