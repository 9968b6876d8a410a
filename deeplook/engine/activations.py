"""Activation functions, one registry entry each: the layers, the config's choices, layer health and
the dashboard's labels all derive from ``ACTIVATIONS``.

An entry holds the function, its derivative (the "local gradient" backpropagation multiplies by) and
its health rule: a squashing function is unhealthy where it is flat (saturated), a ReLU-like one where
its input is never positive (dead). Adding an activation means adding an entry here and its words in
the dashboard's dictionaries; nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Literal

import numpy as np

from deeplook.engine.registry import registry

Array = np.ndarray


@dataclass(frozen=True)
class Saturation:
    """Flat regions of a squashing function: outputs below ``low`` or above ``high``, where the
    derivative is under a fifth of its peak and learning through the unit nearly stops."""

    low: float
    high: float
    kind: ClassVar[Literal["saturated"]] = "saturated"

    def share(self, pre: Array, out: Array) -> float:
        """Fraction of (probe image, unit) activations in a flat region."""
        return float(np.mean((out < self.low) | (out > self.high)))


@dataclass(frozen=True)
class DeadUnits:
    """ReLU-like functions: a unit whose input is never positive on the probe images passes
    (almost) no gradient, so it cannot learn its way back."""

    kind: ClassVar[Literal["dead"]] = "dead"

    def share(self, pre: Array, out: Array) -> float:
        """Fraction of units whose input is never positive on the probe images."""
        return float(np.mean(~(pre > 0).any(axis=0)))


HealthRule = Saturation | DeadUnits


@dataclass(frozen=True)
class ActivationSpec:
    """One activation function and everything that is said or measured about it."""

    name: str
    label: str
    formula: str
    description: str
    forward: Callable[[Array], Array]
    """``y = f(x)``: a new array in the input's dtype."""
    derivative: Callable[[Array, Array], Array]
    """``f'(x)``, given the input ``x`` and the output ``y`` (whichever is cheaper to use)."""
    health: HealthRule
    onnx_op: str
    """The ONNX operator that computes it (opset 20)."""
    onnx_attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """That operator's attributes (``Gelu``: the tanh approximation, as here)."""


def sigmoid(x: Array) -> Array:
    """Logistic function as ``(1 + tanh(x/2)) / 2``: no overflow for large ``|x|``."""
    out = np.multiply(x, 0.5)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def sigmoid_derivative(x: Array, y: Array) -> Array:
    """``y (1 - y)``: at most 0.25, at ``x = 0``."""
    d = np.subtract(1.0, y, dtype=y.dtype)
    d *= y
    return d


def tanh_derivative(x: Array, y: Array) -> Array:
    """``1 - y^2``: at most 1, at ``x = 0``."""
    d = np.square(y)
    np.subtract(1.0, d, out=d)
    return d


def relu(x: Array) -> Array:
    """``max(x, 0)`` in the input's dtype."""
    return np.maximum(x, 0.0, dtype=x.dtype)


def relu_derivative(x: Array, y: Array) -> Array:
    """1 where ``x > 0``, else 0 (the kink at 0 is taken as 0)."""
    return np.greater(x, 0).astype(x.dtype)


GELU_C = float(np.sqrt(2.0 / np.pi))
GELU_K = 0.044715


def gelu(x: Array) -> Array:
    """GELU, tanh approximation: ``x/2 (1 + tanh(c (x + k x^3)))`` with ``c = sqrt(2/pi)``."""
    inner = np.tanh(GELU_C * (x + GELU_K * x**3))
    inner += 1.0
    inner *= x
    inner *= 0.5
    return inner.astype(x.dtype, copy=False)


def gelu_derivative(x: Array, y: Array) -> Array:
    """``(1 + t)/2 + x/2 (1 - t^2) c (1 + 3k x^2)`` with ``t = tanh(c (x + k x^3))``."""
    t = np.tanh(GELU_C * (x + GELU_K * x**3))
    d = 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_K * x * x)
    d += 0.5 * (1.0 + t)
    return d.astype(x.dtype, copy=False)


SIGMOID = ActivationSpec(
    name="sigmoid",
    label="sigmoid",
    formula="σ(x) = 1 / (1 + e^(−x))",
    description="Squashes a neuron's sum into 0…1: smooth, but slow to learn where it is flat "
    "(its slope is at most 0.25).",
    forward=sigmoid,
    derivative=sigmoid_derivative,
    health=Saturation(low=0.05, high=0.95),
    onnx_op="Sigmoid",
)
TANH = ActivationSpec(
    name="tanh",
    label="tanh",
    formula="tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))",
    description="Squashes into −1…1 around zero, and often learns faster than sigmoid.",
    forward=np.tanh,
    derivative=tanh_derivative,
    health=Saturation(low=-0.9, high=0.9),
    onnx_op="Tanh",
)
RELU = ActivationSpec(
    name="relu",
    label="ReLU",
    formula="ReLU(x) = max(x, 0)",
    description="Keeps positive values and zeroes the rest: simple, fast, usual in deep nets.",
    forward=relu,
    derivative=relu_derivative,
    health=DeadUnits(),
    onnx_op="Relu",
)
GELU = ActivationSpec(
    name="gelu",
    label="GELU",
    formula="GELU(x) ≈ x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)))",
    description="A smooth ReLU: weighs its input by how likely a normal variable is below it "
    "(tanh approximation), as in BERT and GPT.",
    forward=gelu,
    derivative=gelu_derivative,
    health=DeadUnits(),
    onnx_op="Gelu",
    onnx_attributes=MappingProxyType({"approximate": "tanh"}),
)

ACTIVATIONS = registry(SIGMOID, TANH, RELU, GELU)
