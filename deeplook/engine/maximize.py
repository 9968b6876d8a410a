"""What each unit wants to see: the input that drives a unit hardest (activation maximisation), found by
gradient ascent through the network's own backward pass, and the test images that drive it hardest.

The ascent raises the unit's input (its pre-activation ``z``: the same order as its activation, without
the flat tails of a squashing function where gradients vanish) minus an L2 penalty on the pixels and an
optional total-variation penalty (smoothness), keeping every pixel in the inputs' range [0, 1]. All
units of a layer climb at once, one batch row each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deeplook.engine.evaluation import EVAL_CHUNK, scale_pixels
from deeplook.engine.layers import Array, Parameter
from deeplook.engine.model import Network, Weights
from deeplook.engine.optim import Adam

STEPS = 200
"""Ascent steps (Adam on the pixels)."""
STEP_SIZE = 0.05
L2 = 1.0
"""Default weight of the L2 penalty: ``L2 * mean(x²)``, at most L2 for a white image."""
TV = 0.0
"""Default weight of the total-variation penalty: ``TV * mean |neighbour differences|``."""
TOP = 8
"""Test images kept per unit, most exciting first."""
SIDE = 28


@dataclass(frozen=True, eq=False)
class Wanted:
    """For each chosen unit of one layer: its preferred input and the test images it likes best."""

    layer: int
    """Dense layer index; the last is the output layer (its units are the classes)."""
    units: Array
    images: Array
    """(units, pixels) float in [0, 1]."""
    reached: Array
    """(units,) the unit's input z for its image."""
    activation: Array
    """(units,) its activation there (for the output layer: the class probability)."""
    best_test: Array
    """(units,) the highest z any test image gives it."""
    top: Array
    """(units, TOP) indices of the test images with the highest z, highest first."""
    top_values: Array

    def take(self, rows: Sequence[int]) -> Wanted:
        """These units only (positions in ``units``)."""
        pick = np.asarray(rows)
        return Wanted(layer=self.layer, **{name: getattr(self, name)[pick] for name in ARRAYS})

    @classmethod
    def join(cls, layer: int, parts: Sequence[Wanted]) -> Wanted:
        """The units of several parts of the same layer, in order."""
        if not parts:
            return cls(layer=layer, **{name: np.zeros(0) for name in ARRAYS})
        return cls(
            layer=layer, **{name: np.concatenate([getattr(p, name) for p in parts]) for name in ARRAYS}
        )


ARRAYS = ("units", "images", "reached", "activation", "best_test", "top", "top_values")


def total_variation(images: Array, side: int = SIDE) -> tuple[Array, Array]:
    """Per row: the mean absolute difference between horizontal and vertical neighbours (smoothed at
    0, so it has a gradient), and that gradient."""
    grid = images.reshape(len(images), side, side)
    eps = 1e-3
    dx, dy = np.diff(grid, axis=2), np.diff(grid, axis=1)
    ax, ay = np.sqrt(dx**2 + eps**2), np.sqrt(dy**2 + eps**2)
    count = dx[0].size + dy[0].size
    value = (ax.sum(axis=(1, 2)) + ay.sum(axis=(1, 2))) / count
    gx, gy = dx / ax / count, dy / ay / count
    grad = np.zeros_like(grid)
    grad[:, :, 1:] += gx
    grad[:, :, :-1] -= gx
    grad[:, 1:, :] += gy
    grad[:, :-1, :] -= gy
    return value, grad.reshape(images.shape)


def unit_inputs(network: Network, layer: int, x: Array) -> Array:
    """Every unit's input z at dense layer ``layer`` for a batch."""
    return network.forward(x, network.dense_depth(layer))


def maximize(
    weights: Weights,
    layer: int,
    units: Sequence[int] | Array | None = None,
    steps: int = STEPS,
    l2: float = L2,
    tv: float = TV,
    seed: int = 0,
) -> tuple[Array, Array]:
    """Gradient ascent from a grey image with a little noise: each unit's image (units, pixels) and
    the z it reaches."""
    weights64 = Weights.freeze(weights.config, [a.astype(np.float64) for a in weights.arrays])
    network = weights64.network()
    depth = network.dense_depth(layer)
    chosen = np.arange(weights.config.sizes[layer + 1]) if units is None else np.asarray(units)
    pixels = weights.config.input_size
    rng = np.random.default_rng(seed)
    x = np.clip(0.5 + 0.01 * rng.standard_normal((len(chosen), pixels)), 0.0, 1.0)
    seed_grad = np.zeros((len(chosen), weights.config.sizes[layer + 1]))
    seed_grad[np.arange(len(chosen)), chosen] = 1.0
    image = Parameter.of("image", x)
    assert image.grad is not None
    optimizer = Adam([image], lr=STEP_SIZE)
    smooth = tv > 0 and pixels == SIDE * SIDE
    for _ in range(steps):
        network.forward(x, depth)
        grad = network.backward(seed_grad, input_gradient=True, depth=depth)
        assert grad is not None
        grad -= l2 * 2.0 * x / pixels
        if smooth:
            grad -= tv * total_variation(x)[1]
        np.negative(grad, out=image.grad)  # ascent: the optimizer descends on the negative
        optimizer.step()
        np.clip(x, 0.0, 1.0, out=x)
    reached = network.forward(x, depth)[np.arange(len(chosen)), chosen]
    return x, reached


def most_exciting(weights: Weights, layer: int, images: Array, top: int = TOP) -> tuple[Array, Array]:
    """For every unit of ``layer``: the indices of the ``top`` uint8 images giving it the highest z, and
    those z values, highest first."""
    network = weights.network()
    chunks = [
        unit_inputs(network, layer, scale_pixels(images[start : start + EVAL_CHUNK])).astype(np.float64)
        for start in range(0, len(images), EVAL_CHUNK)
    ]
    z = np.concatenate(chunks).T  # (units, images)
    top = min(top, z.shape[1])
    best = np.argpartition(-z, top - 1, axis=1)[:, :top]
    order = np.argsort(-np.take_along_axis(z, best, axis=1), axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)
    return best, np.take_along_axis(z, best, axis=1)


def wanted(
    weights: Weights,
    layer: int,
    exciting: tuple[Array, Array],
    units: Sequence[int] | Array | None = None,
    l2: float = L2,
    tv: float = TV,
    steps: int = STEPS,
) -> Wanted:
    """Preferred inputs of ``units`` (default: all) of dense ``layer``, with their most exciting test
    images from ``exciting`` (``most_exciting`` of the same layer)."""
    chosen = np.arange(weights.config.sizes[layer + 1]) if units is None else np.asarray(units)
    images, reached = maximize(weights, layer, chosen, steps, l2, tv)
    network = Weights.freeze(weights.config, [a.astype(np.float64) for a in weights.arrays]).network()
    z = unit_inputs(network, layer, images)
    if layer == len(network.dense) - 1:
        shifted = np.exp(z - z.max(axis=1, keepdims=True))
        outputs = shifted / shifted.sum(axis=1, keepdims=True)
    else:
        outputs = network.activations[layer].spec.forward(z)
    top, top_values = exciting
    return Wanted(
        layer=layer,
        units=chosen,
        images=images.astype(np.float32),
        reached=reached,
        activation=outputs[np.arange(len(chosen)), chosen],
        best_test=top_values[chosen, 0],
        top=top[chosen],
        top_values=top_values[chosen],
    )
