"""Layers with a forward pass that keeps what the backward pass needs.

Contract: ``forward(x)`` returns the output; ``backward(dout)`` fills the parameters' gradients and
returns ``dx``; ``dout`` is never modified. Arrays are float32 on the training path; the same code runs
in float64 for gradient checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(eq=False)
class Parameter:
    """A trainable array and its gradient, updated in place by an optimizer."""

    name: str
    value: Array
    grad: Array

    @classmethod
    def of(cls, name: str, value: Array) -> Parameter:
        """Wrap ``value`` with a zero gradient of the same shape and dtype."""
        return cls(name, value, np.zeros_like(value))


def sigmoid(x: Array) -> Array:
    """Logistic function as ``(1 + tanh(x/2)) / 2``: no overflow for large ``|x|``."""
    out = np.multiply(x, 0.5)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def relu(x: Array) -> Array:
    """``max(x, 0)`` in the input's dtype."""
    return np.maximum(x, 0.0, dtype=x.dtype)


ACTIVATION_FUNCTIONS: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": relu,
}


class Layer:
    """Base class: a differentiable function of a batch ``x`` of shape (batch, features)."""

    def forward(self, x: Array) -> Array:
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return []


class Dense(Layer):
    """Affine map ``x @ W + b``."""

    def __init__(self, W: Array, b: Array, name: str = "dense") -> None:
        self.W = Parameter.of(f"{name}.W", W)
        self.b = Parameter.of(f"{name}.b", b)
        self._x: Array | None = None

    @property
    def in_features(self) -> int:
        return int(self.W.value.shape[0])

    @property
    def out_features(self) -> int:
        return int(self.W.value.shape[1])

    def forward(self, x: Array) -> Array:
        self._x = x
        out: Array = x @ self.W.value
        out += self.b.value
        return out

    def backward_params(self, dout: Array) -> None:
        """Fill dW and db only; the first layer of a network needs no dx."""
        if self._x is None:
            raise RuntimeError("backward called before forward")
        np.matmul(self._x.T, dout, out=self.W.grad)
        np.sum(dout, axis=0, out=self.b.grad)

    def backward(self, dout: Array) -> Array:
        self.backward_params(dout)
        dx: Array = dout @ self.W.value.T
        return dx

    def parameters(self) -> list[Parameter]:
        return [self.W, self.b]


class Sigmoid(Layer):
    """Logistic function; its gradient is ``y (1 - y)``."""

    def __init__(self) -> None:
        self._out: Array | None = None

    def forward(self, x: Array) -> Array:
        self._out = sigmoid(x)
        return self._out

    def backward(self, dout: Array) -> Array:
        if self._out is None:
            raise RuntimeError("backward called before forward")
        y = self._out
        dx = np.subtract(1.0, y, dtype=y.dtype)
        dx *= y
        dx *= dout
        return dx


class Tanh(Layer):
    """Hyperbolic tangent."""

    def __init__(self) -> None:
        self._out: Array | None = None

    def forward(self, x: Array) -> Array:
        self._out = np.tanh(x)
        return self._out

    def backward(self, dout: Array) -> Array:
        if self._out is None:
            raise RuntimeError("backward called before forward")
        dx = np.square(self._out)
        np.subtract(1.0, dx, out=dx)
        dx *= dout
        return dx


class ReLU(Layer):
    """Rectified linear unit, ``max(x, 0)``; the gradient at 0 is taken as 0."""

    def __init__(self) -> None:
        self._mask: Array | None = None

    def forward(self, x: Array) -> Array:
        self._mask = x > 0
        return relu(x)

    def backward(self, dout: Array) -> Array:
        if self._mask is None:
            raise RuntimeError("backward called before forward")
        return np.multiply(dout, self._mask, dtype=dout.dtype)


ACTIVATIONS: dict[str, type[Layer]] = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
