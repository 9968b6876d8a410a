"""The multilayer perceptron: built from a config, trained in place, served from frozen weights."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deeplook.engine.config import ModelConfig
from deeplook.engine.layers import ACTIVATION_FUNCTIONS, ACTIVATIONS, Array, Dense, Layer, Parameter
from deeplook.engine.losses import softmax


def init_weights(config: ModelConfig, rng: np.random.Generator, dtype: type = np.float32) -> list[Array]:
    """Initial arrays ``[W0, b0, W1, b1, ...]``; biases start at zero."""
    arrays: list[Array] = []
    sizes = config.sizes
    for fan_in, fan_out in itertools.pairwise(sizes):
        if config.init == "normal":
            W = rng.standard_normal((fan_in, fan_out)) * config.init_std
        elif config.init == "glorot":
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-limit, limit, (fan_in, fan_out))
        else:  # he
            W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        arrays += [W.astype(dtype), np.zeros(fan_out, dtype)]
    return arrays


def parameter_names(config: ModelConfig) -> list[str]:
    """Names of the arrays, in the order of ``init_weights``: ``dense0.W, dense0.b, ...``."""
    return [f"dense{i}.{kind}" for i in range(len(config.sizes) - 1) for kind in ("W", "b")]


def parameter_shapes(config: ModelConfig) -> list[tuple[int, ...]]:
    sizes = config.sizes
    return [shape for n, m in itertools.pairwise(sizes) for shape in ((n, m), (m,))]


@dataclass(frozen=True, eq=False)
class Weights:
    """An immutable copy of a network's arrays: safe to read from any thread while training goes on."""

    config: ModelConfig
    arrays: tuple[Array, ...]

    @classmethod
    def freeze(cls, config: ModelConfig, arrays: Sequence[Array]) -> Weights:
        frozen = []
        for array in arrays:
            copy = np.array(array, copy=True)
            copy.setflags(write=False)
            frozen.append(copy)
        return cls(config, tuple(frozen))

    @property
    def layers(self) -> list[tuple[Array, Array]]:
        """``[(W, b), ...]`` per dense layer."""
        return list(zip(self.arrays[0::2], self.arrays[1::2], strict=True))

    def activations(self, x: Array) -> list[Array]:
        """Every layer's output for a batch: hidden activations, then the logits."""
        activation = ACTIVATION_FUNCTIONS[self.config.activation]
        outputs = []
        h = np.asarray(x, dtype=self.arrays[0].dtype)
        layers = self.layers
        for i, (W, b) in enumerate(layers):
            h = h @ W
            h += b
            if i < len(layers) - 1:
                h = activation(h)
            outputs.append(h)
        return outputs

    def logits(self, x: Array) -> Array:
        return self.activations(x)[-1]

    def predict_proba(self, x: Array) -> Array:
        """Class probabilities for one 784-vector (returns shape (classes,)) or a batch (N, classes)."""
        single = np.ndim(x) == 1
        batch = np.atleast_2d(x)
        if batch.shape[1] != self.config.input_size:
            raise ValueError(f"expected inputs of {self.config.input_size} values, got {batch.shape[1]}")
        probs = softmax(self.logits(batch))
        return probs[0] if single else probs

    def is_finite(self) -> bool:
        return all(bool(np.isfinite(a).all()) for a in self.arrays)


class MLP:
    """Dense layers with an activation between them; the last layer's output is the logits.

    All parameters live in one contiguous vector (``flat``), each layer's arrays being views into it,
    so an optimizer can update the whole network with a handful of vectorised operations.
    """

    def __init__(self, config: ModelConfig, arrays: Sequence[Array]) -> None:
        shapes = parameter_shapes(config)
        if [tuple(a.shape) for a in arrays] != shapes:
            raise ValueError(f"arrays have shapes {[a.shape for a in arrays]}, expected {shapes}")
        dtype = arrays[0].dtype
        self.config = config
        total = sum(int(np.prod(s)) for s in shapes)
        self.flat = Parameter("all", np.empty(total, dtype), np.zeros(total, dtype))
        values = _split(self.flat.value, shapes)
        grads = _split(self.flat.grad, shapes)
        for view, array in zip(values, arrays, strict=True):
            view[...] = array
        self.dense: list[Dense] = []
        self.layers: list[Layer] = []
        for i in range(len(shapes) // 2):
            layer = Dense(values[2 * i], values[2 * i + 1], name=f"dense{i}")
            layer.W.grad, layer.b.grad = grads[2 * i], grads[2 * i + 1]
            self.dense.append(layer)
            self.layers.append(layer)
            if i < len(shapes) // 2 - 1:
                self.layers.append(ACTIVATIONS[config.activation]())

    @classmethod
    def create(cls, config: ModelConfig, rng: np.random.Generator, dtype: type = np.float32) -> MLP:
        return cls(config, init_weights(config, rng, dtype))

    def forward(self, x: Array) -> Array:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dlogits: Array) -> None:
        """Backpropagate; the input layer fills its gradients but computes no ``dx``."""
        dout = dlogits
        for layer in reversed(self.layers[1:]):
            dout = layer.backward(dout)
        self.dense[0].backward_params(dout)

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def arrays(self) -> list[Array]:
        return [p.value for p in self.parameters()]

    def snapshot(self) -> Weights:
        return Weights.freeze(self.config, self.arrays())


def _split(flat: Array, shapes: Sequence[tuple[int, ...]]) -> list[Array]:
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start : start + size].reshape(shape))
        start += size
    return views
