"""Optimizers that update parameters in place from their gradients."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from deeplook.engine.layers import Array, Parameter
from deeplook.engine.registry import registry

if TYPE_CHECKING:
    from deeplook.engine.config import OptimizerConfig

# Optimizer state that decays geometrically (momentum, Adam's moments) drifts into float32 denormals,
# which make every later operation on it many times slower. Values this small are flushed to zero
# every FLUSH_EVERY steps: at a decay of 0.9 per step they cannot reach the denormal range (1.2e-38)
# in between.
FLUSH_BELOW = 1e-30
FLUSH_EVERY = 64


class Optimizer:
    """Base class: ``step()`` applies one update from the current gradients."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        self.grads: list[Array] = []
        for param in self.params:
            if param.grad is None:
                raise ValueError(f"{param.name} has no gradient buffer: it cannot be trained")
            self.grads.append(param.grad)
        self.lr = float(lr)
        self.steps = 0
        self._scratch = [np.empty_like(p.value) for p in self.params]

    def step(self) -> None:
        self.steps += 1
        for i, param in enumerate(self.params):
            self._update(i, param, self._scratch[i])
        if self.steps % FLUSH_EVERY == 0:
            for buffers in self._state_buffers():
                for array in buffers:
                    _flush_denormals(array)

    def _update(self, i: int, param: Parameter, scratch: Array) -> None:
        raise NotImplementedError

    def _state_buffers(self) -> list[list[Array]]:
        """Per kind of state, one array per parameter (aligned with ``params``)."""
        return []

    def _state_names(self) -> list[str]:
        return []

    def state_dict(self) -> dict[str, Array]:
        """Arrays that, loaded into an optimizer of the same kind, make it continue identically."""
        state: dict[str, Array] = {"steps": np.array(self.steps, dtype=np.int64)}
        for kind, buffers in zip(self._state_names(), self._state_buffers(), strict=True):
            for param, array in zip(self.params, buffers, strict=True):
                state[f"{kind}/{param.name}"] = array.copy()
        return state

    def load_state_dict(self, state: dict[str, Array]) -> None:
        expected = set(self.state_dict())
        if set(state) != expected:
            raise ValueError(f"optimizer state has keys {sorted(state)}, expected {sorted(expected)}")
        self.steps = int(state["steps"])
        for kind, buffers in zip(self._state_names(), self._state_buffers(), strict=True):
            for param, array in zip(self.params, buffers, strict=True):
                saved = state[f"{kind}/{param.name}"]
                if saved.shape != array.shape:
                    raise ValueError(f"{kind}/{param.name} has shape {saved.shape}, expected {array.shape}")
                array[...] = saved


class SGD(Optimizer):
    """Minibatch SGD, with optional momentum (``v = mu v - lr g; w += v``)."""

    def __init__(self, params: Iterable[Parameter], lr: float = 0.1, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p.value) for p in self.params] if self.momentum else []

    def _update(self, i: int, param: Parameter, scratch: Array) -> None:
        np.multiply(self.grads[i], self.lr, out=scratch)
        if self.momentum:
            v = self.velocity[i]
            v *= self.momentum
            v -= scratch
            param.value += v
        else:
            param.value -= scratch

    def _state_buffers(self) -> list[list[Array]]:
        return [self.velocity] if self.momentum else []

    def _state_names(self) -> list[str]:
        return ["velocity"] if self.momentum else []


class Adam(Optimizer):
    """Adam as in Keras: ``w -= lr_t m / (sqrt(v) + eps)`` with ``lr_t = lr sqrt(1-b2^t) / (1-b1^t)``."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-7,
    ) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]

    def _update(self, i: int, param: Parameter, scratch: Array) -> None:
        g, m, v = self.grads[i], self.m[i], self.v[i]
        t = self.steps
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        # m += (1 - b1) (g - m);  v += (1 - b2) (g^2 - v)
        np.subtract(g, m, out=scratch)
        scratch *= 1.0 - self.beta1
        m += scratch
        np.square(g, out=scratch)
        scratch -= v
        scratch *= 1.0 - self.beta2
        v += scratch
        # w -= lr_t m / (sqrt(v) + eps)
        np.sqrt(v, out=scratch)
        scratch += self.eps
        np.divide(m, scratch, out=scratch)
        scratch *= float(lr_t)
        param.value -= scratch

    def _state_buffers(self) -> list[list[Array]]:
        return [self.m, self.v]

    def _state_names(self) -> list[str]:
        return ["m", "v"]


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer: how to build it from a config, and which of the run settings it reads."""

    name: str
    label: str
    description: str
    build: Callable[[list[Parameter], OptimizerConfig], Optimizer]
    settings: tuple[str, ...]
    """Settings that apply only to this optimizer (beyond the learning rate and its decay)."""


OPTIMIZERS = registry(
    OptimizerSpec(
        "sgd",
        "SGD",
        "Stochastic gradient descent: each step moves every weight against its gradient, "
        "scaled by the learning rate; momentum keeps part of the previous step.",
        lambda params, c: SGD(params, c.lr, c.momentum),
        ("momentum",),
    ),
    OptimizerSpec(
        "adam",
        "Adam",
        "Adam: a step per weight from running averages of its gradient (direction) and of "
        "its square (scale), so every weight moves at about the learning rate's size.",
        lambda params, c: Adam(params, c.lr, c.beta1, c.beta2, c.eps),
        ("beta1", "beta2", "eps"),
    ),
)


def build_optimizer(config: OptimizerConfig, params: Iterable[Parameter]) -> Optimizer:
    """The optimizer a config names, over ``params``."""
    return OPTIMIZERS[config.name].build(list(params), config)


def _flush_denormals(array: Array) -> None:
    np.copyto(array, 0, where=np.abs(array) < FLUSH_BELOW)
