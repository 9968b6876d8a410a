"""Layers with a forward pass that keeps what the backward pass needs.

Contract: ``forward(x)`` returns the output; ``backward(dout)`` fills the parameters' gradients and
returns ``dx``; ``dout`` is never modified. Arrays are float32 on the training path; the same code runs
in float64 for gradient checks. What a layer keeps (its input ``x``, an activation's output ``y``) is
public, so the step-by-step trace can show the numbers training used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeplook.engine.activations import ActivationSpec, Array

__all__ = ["Activation", "Array", "Dense", "Layer", "Parameter"]


@dataclass(eq=False)
class Parameter:
    """A trainable array and its gradient (None in a network that only predicts)."""

    name: str
    value: Array
    grad: Array | None

    @classmethod
    def of(cls, name: str, value: Array) -> Parameter:
        """Wrap ``value`` with a zero gradient of the same shape and dtype."""
        return cls(name, value, np.zeros_like(value))


class Layer:
    """Base class: a differentiable function of a batch ``x`` of shape (batch, features)."""

    x: Array | None = None
    """The input of the last forward pass."""

    def forward(self, x: Array) -> Array:
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return []

    def _input(self) -> Array:
        if self.x is None:
            raise RuntimeError("backward called before forward")
        return self.x


class Dense(Layer):
    """Affine map ``x @ W + b``."""

    def __init__(self, W: Parameter, b: Parameter) -> None:
        self.W = W
        self.b = b

    @classmethod
    def of(cls, W: Array, b: Array, name: str = "dense") -> Dense:
        """A layer that owns its arrays and zero gradients."""
        return cls(Parameter.of(f"{name}.W", W), Parameter.of(f"{name}.b", b))

    @property
    def in_features(self) -> int:
        return int(self.W.value.shape[0])

    @property
    def out_features(self) -> int:
        return int(self.W.value.shape[1])

    def forward(self, x: Array) -> Array:
        self.x = x
        out: Array = x @ self.W.value
        out += self.b.value
        return out

    def backward_params(self, dout: Array) -> None:
        """Fill ``dW = xᵀ dout`` and ``db = Σ dout`` (rows summed); the first layer needs no ``dx``."""
        x = self._input()
        if self.W.grad is not None and self.b.grad is not None:
            np.matmul(x.T, dout, out=self.W.grad)
            np.sum(dout, axis=0, out=self.b.grad)

    def backward(self, dout: Array) -> Array:
        self.backward_params(dout)
        dx: Array = dout @ self.W.value.T
        return dx

    def parameters(self) -> list[Parameter]:
        return [self.W, self.b]


class Activation(Layer):
    """An element-wise activation from the registry; ``dx = f'(x) ⊙ dout``."""

    def __init__(self, spec: ActivationSpec) -> None:
        self.spec = spec
        self.y: Array | None = None

    def forward(self, x: Array) -> Array:
        self.x = x
        self.y = self.spec.forward(x)
        return self.y

    def local_derivative(self) -> Array:
        """``f'(x)`` at the last forward pass's input."""
        x = self._input()
        assert self.y is not None
        return self.spec.derivative(x, self.y)

    def backward(self, dout: Array) -> Array:
        dx = self.local_derivative()
        dx *= dout
        return dx
