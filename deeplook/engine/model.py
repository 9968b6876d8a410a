"""The multilayer perceptron: built from a config, trained in place, served from frozen weights.

There is one forward pass, ``Network.forward`` over the layers; a network that trains (``MLP``) and one
built over frozen weights to predict or to be looked inside (``Weights.network``) share it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.config import ModelConfig
from deeplook.engine.initializers import INITIALIZERS
from deeplook.engine.layers import Activation, Array, Dense, Layer, Parameter
from deeplook.engine.losses import softmax

INIT_STREAM = 0
"""Spawn key of the initial weights' streams, one per layer (``train.ORDER_STREAM`` is the order's)."""


def init_weights(config: ModelConfig, seed: int, dtype: type = np.float32) -> list[Array]:
    """Initial arrays ``[W0, b0, W1, b1, ...]``; biases start at zero. Layer ``i`` draws from its own
    stream of the seed, so two networks whose layer ``i`` has the same shape and initialiser start that
    layer with the same weights, whatever their other layers."""
    sample = INITIALIZERS[config.init].sample
    arrays: list[Array] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(config.sizes)):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(INIT_STREAM, i)))
        W = sample(rng, fan_in, fan_out, config.init_std)
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

    def network(self) -> Network:
        """A network over these arrays (no copy, no gradients) to predict or to look inside with."""
        params = [
            Parameter(name, array, None)
            for name, array in zip(parameter_names(self.config), self.arrays, strict=True)
        ]
        return Network(self.config, params)

    def activations(self, x: Array) -> list[Array]:
        """Every layer's output for a batch: hidden activations, then the logits."""
        network = self.network()
        logits = network.forward(np.asarray(x, dtype=self.arrays[0].dtype))
        return [*network.hidden_outputs(), logits]

    def logits(self, x: Array) -> Array:
        return self.network().forward(np.asarray(x, dtype=self.arrays[0].dtype))

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


class Network:
    """Dense layers with the config's activation between them; the last layer's output is the logits."""

    def __init__(self, config: ModelConfig, params: Sequence[Parameter]) -> None:
        shapes = parameter_shapes(config)
        if [tuple(p.value.shape) for p in params] != shapes:
            raise ValueError(f"arrays have shapes {[p.value.shape for p in params]}, expected {shapes}")
        self.config = config
        spec = ACTIVATIONS[config.activation]
        self.dense = [Dense(params[i], params[i + 1]) for i in range(0, len(params), 2)]
        self.activations = [Activation(spec) for _ in self.dense[:-1]]
        self.layers: list[Layer] = []
        for dense, activation in itertools.zip_longest(self.dense, self.activations):
            self.layers += [dense] if activation is None else [dense, activation]

    def forward(self, x: Array, depth: int | None = None) -> Array:
        """The logits; or with ``depth``, the output of the first ``depth`` layers only."""
        for layer in self.layers[:depth]:
            x = layer.forward(x)
        return x

    def backward(
        self,
        dlogits: Array,
        input_gradient: bool = False,
        arriving: list[Array] | None = None,
        depth: int | None = None,
    ) -> Array | None:
        """Backpropagate from the loss gradient; the input layer fills its parameter gradients, and
        computes ``dx`` (the gradient for the input) only when asked. ``arriving`` collects the gradient
        that reaches each layer (with respect to its output), from the last layer to the first. With
        ``depth``, ``dlogits`` is the gradient at the output of ``forward(x, depth)``."""
        dout = dlogits
        for layer in reversed(self.layers[1:depth]):
            if arriving is not None:
                arriving.append(dout)
            dout = layer.backward(dout)
        if arriving is not None:
            arriving.append(dout)
        if input_gradient:
            return self.dense[0].backward(dout)
        self.dense[0].backward_params(dout)
        return None

    def dense_depth(self, index: int) -> int:
        """The ``depth`` (for ``forward``/``backward``) whose output is dense layer ``index``'s: the
        input of its activation (the logits for the last)."""
        if not 0 <= index < len(self.dense):
            raise ValueError(f"dense layers are 0..{len(self.dense) - 1}, got {index}")
        return 2 * index + 1

    def hidden_outputs(self) -> list[Array]:
        """The hidden layers' activations from the last forward pass."""
        outputs = []
        for activation in self.activations:
            if activation.y is None:
                raise RuntimeError("no forward pass yet")
            outputs.append(activation.y)
        return outputs

    def parameters(self) -> list[Parameter]:
        return [p for layer in self.layers for p in layer.parameters()]

    def arrays(self) -> list[Array]:
        return [p.value for p in self.parameters()]

    def snapshot(self) -> Weights:
        return Weights.freeze(self.config, self.arrays())


class MLP(Network):
    """A network that trains: all parameters live in one contiguous vector (``flat``), each layer's
    arrays being views into it, so an optimizer updates the whole network in a few vectorised passes."""

    def __init__(self, config: ModelConfig, arrays: Sequence[Array]) -> None:
        shapes = parameter_shapes(config)
        if [tuple(a.shape) for a in arrays] != shapes:
            raise ValueError(f"arrays have shapes {[a.shape for a in arrays]}, expected {shapes}")
        dtype = arrays[0].dtype
        total = sum(int(np.prod(s)) for s in shapes)
        self.flat = Parameter("all", np.empty(total, dtype), np.zeros(total, dtype))
        assert self.flat.grad is not None
        values = _split(self.flat.value, shapes)
        grads = _split(self.flat.grad, shapes)
        for view, array in zip(values, arrays, strict=True):
            view[...] = array
        names = parameter_names(config)
        super().__init__(config, [Parameter(*p) for p in zip(names, values, grads, strict=True)])

    @classmethod
    def create(cls, config: ModelConfig, seed: int, dtype: type = np.float32) -> MLP:
        return cls(config, init_weights(config, seed, dtype))

    def gradients(self) -> list[Array]:
        """Each array's gradient from the last backward pass (views into ``flat.grad``)."""
        return [grad for p in self.parameters() if (grad := p.grad) is not None]


def _split(flat: Array, shapes: Sequence[tuple[int, ...]]) -> list[Array]:
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start : start + size].reshape(shape))
        start += size
    return views
