"""Weight initialisers, one registry entry each; biases always start at zero."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deeplook.engine.activations import Array
from deeplook.engine.registry import registry

Sampler = Callable[[np.random.Generator, int, int, float], Array]
"""``(rng, fan_in, fan_out, std) -> W`` of shape (fan_in, fan_out), float64."""


@dataclass(frozen=True)
class Initializer:
    name: str
    label: str
    description: str
    sample: Sampler
    uses_std: bool = False
    """Whether the run setting ``init_std`` applies."""


def _normal(rng: np.random.Generator, fan_in: int, fan_out: int, std: float) -> Array:
    return rng.standard_normal((fan_in, fan_out)) * std


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int, std: float) -> Array:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def _he(rng: np.random.Generator, fan_in: int, fan_out: int, std: float) -> Array:
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)


INITIALIZERS = registry(
    Initializer(
        "normal",
        "normal (σ)",
        "Weights drawn from N(0, σ²) with a σ you choose, as in the notebook (σ = 0.01).",
        _normal,
        uses_std=True,
    ),
    Initializer(
        "glorot",
        "Glorot",
        "Uniform in ±√(6 / (fan_in + fan_out)): keeps the signal's size from layer to layer "
        "for sigmoid and tanh (Keras' default).",
        _glorot,
    ),
    Initializer(
        "he",
        "He",
        "Normal with σ = √(2 / fan_in): makes up for ReLU zeroing half its inputs.",
        _he,
    ),
)
