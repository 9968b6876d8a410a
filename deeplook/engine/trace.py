"""One real training step, number by number, as the notebook teaches it: the forward pass, the loss,
every gradient of the backward pass and the update, produced by the same layers, loss and optimizer
that train (``Network.forward``, ``SoftmaxCrossEntropy``, ``Network.backward``, ``Optimizer.step``).

Arrays are named as in the notebook and the pattern extends to deeper networks: ``X``; per dense layer
``k`` (1-based) ``a{k} = z{k-1}·W{k} + b{k}`` with ``z0 = X``, then ``z{k} = f(a{k})`` for hidden
layers; the last ``a{L}`` gives ``y_hat = softmax(a{L})``; ``t`` the one-hot labels and ``Loss``.
Backward: ``dy = (y_hat - t) / batch`` (the gradient of ``a{L}``); per layer ``dW{k} = z{k-1}ᵀ·da{k}``,
``db{k} = Σ da{k}`` (``da{L}`` is ``dy``), ``dz{k-1} = da{k}·W{k}ᵀ`` and ``da{k-1} = f'(a{k-1}) ⊙ dz{k-1}``.

The optimizer starts fresh at the traced epoch (a run keeps its Adam moments only in its latest
checkpoint), exactly as a run's first step does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.config import OptimizerConfig, TrainConfig
from deeplook.engine.layers import Array
from deeplook.engine.losses import SoftmaxCrossEntropy
from deeplook.engine.model import MLP, Weights
from deeplook.engine.optim import SGD, Adam, Optimizer, build_optimizer

MAX_EXAMPLES = 100
MAX_STEPS = 20

Add = Callable[..., None]
"""``add(name, formula, code, values, stage, *inputs)``: record one array of the step."""


@dataclass(frozen=True, eq=False)
class Traced:
    """One array of the step: its notebook name, what computes it, and its values."""

    name: str
    formula: str
    code: str
    values: Array
    stage: str
    """forward, loss, backward or update."""
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class StepTrace:
    """Everything one step computed, in the order it computed it, and ``steps`` repeats of it."""

    arrays: list[Traced]
    losses: list[float]
    """The batch's loss before the first step, then after each of the ``steps`` updates."""
    predictions: list[Array]
    """The batch's ``y_hat`` before the first step, then after each update."""
    lr: float
    optimizer: str
    layers: int
    activation: str
    notes: dict[str, str] = field(default_factory=dict)

    def array(self, name: str) -> Array:
        return next(traced.values for traced in self.arrays if traced.name == name)

    @property
    def names(self) -> list[str]:
        return [traced.name for traced in self.arrays]


def trace_step(
    config: TrainConfig,
    weights: Weights,
    x: Array,
    labels: Array,
    steps: int = 1,
    lr: float | None = None,
    dtype: type = np.float32,
) -> StepTrace:
    """Trace one step of ``config``'s training from ``weights`` on the batch ``x`` (n, inputs) in [0, 1]
    with integer ``labels``; then repeat the step ``steps`` - 1 more times on the same batch."""
    n = len(labels)
    if not 1 <= n <= MAX_EXAMPLES:
        raise ValueError(f"a traced batch has 1 to {MAX_EXAMPLES} examples, got {n}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be 1 to {MAX_STEPS}, got {steps}")
    settings = config.optimizer if lr is None else _with_lr(config.optimizer, lr)
    model = MLP(config.model, [np.asarray(a, dtype=dtype) for a in weights.arrays])
    optimizer = build_optimizer(settings, [model.flat])
    loss_fn = SoftmaxCrossEntropy()
    X: Array = np.asarray(x, dtype=dtype)
    y = np.asarray(labels, dtype=np.intp)
    layers = len(model.dense)
    spec = ACTIVATIONS[config.model.activation]
    arrays: list[Traced] = []

    def add(name: str, formula: str, code: str, values: Array, stage: str, *inputs: str) -> None:
        arrays.append(Traced(name, formula, code, np.array(values, copy=True), stage, inputs))

    # forward
    logits = model.forward(X)
    add("X", "X: the batch, one row per image", "X = x_batch", X, "forward")
    for k, dense in enumerate(model.dense, start=1):
        z_prev = "X" if k == 1 else f"z{k - 1}"
        out = model.layers[2 * (k - 1)]
        assert out is dense
        a = logits if k == layers else model.activations[k - 1].x
        assert a is not None
        add(
            f"a{k}",
            f"a{k} = {z_prev}·W{k} + b{k}",
            f"a{k} = np.dot({z_prev}, W{k}) + b{k}",
            a,
            "forward",
            z_prev,
            f"W{k}",
            f"b{k}",
        )
        if k < layers:
            z = model.activations[k - 1].y
            assert z is not None
            add(f"z{k}", f"z{k} = {spec.name}(a{k})", f"z{k} = {spec.name}(a{k})", z, "forward", f"a{k}")
    loss = loss_fn.forward(logits, y)
    assert loss_fn.probs is not None
    t = np.zeros_like(loss_fn.probs)
    t[np.arange(n), y] = 1
    add(
        "y_hat",
        f"y_hat = softmax(a{layers})",
        f"y_hat = softmax(a{layers})",
        loss_fn.probs,
        "forward",
        f"a{layers}",
    )
    add("t", "t: the right answers, one-hot", "t = one_hot(labels)", t, "loss")
    add(
        "Loss",
        "Loss = −(1/batch) Σ t · log(y_hat)",
        "Loss = cross_entropy_error(y_hat, t)",
        np.array(loss, dtype=dtype),
        "loss",
        "y_hat",
        "t",
    )

    # backward
    arriving: list[Array] = []
    model.backward(loss_fn.backward(), arriving=arriving)
    # arriving, from the last layer to the first: da{L}, dz{L-1}, da{L-1}, ..., dz1, da1
    add(
        "dy",
        "dy = (y_hat − t) / batch",
        "dy = (y_hat - t) / batch_size",
        arriving[0],
        "backward",
        "y_hat",
        "t",
    )
    grads = model.gradients()
    for k in range(layers, 0, -1):
        d_out = "dy" if k == layers else f"da{k}"
        z_prev = "X" if k == 1 else f"z{k - 1}"
        add(
            f"dW{k}",
            f"dW{k} = {z_prev}ᵀ·{d_out}",
            f"dW{k} = np.dot({z_prev}.T, {d_out})",
            grads[2 * (k - 1)],
            "backward",
            z_prev,
            d_out,
        )
        add(
            f"db{k}",
            f"db{k} = Σ {d_out}",
            f"db{k} = np.sum({d_out}, axis=0)",
            grads[2 * (k - 1) + 1],
            "backward",
            d_out,
        )
        if k > 1:
            j = k - 1
            dz = arriving[2 * (layers - k) + 1]
            add(
                f"dz{j}",
                f"dz{j} = {d_out}·W{k}ᵀ",
                f"dz{j} = np.dot({d_out}, W{k}.T)",
                dz,
                "backward",
                d_out,
                f"W{k}",
            )
            local = model.activations[j - 1].local_derivative()
            add(
                f"{spec.name}_grad(a{j})",
                f"{spec.name}'(a{j})",
                f"{spec.name}_grad(a{j})",
                local,
                "backward",
                f"a{j}",
            )
            add(
                f"da{j}",
                f"da{j} = {spec.name}'(a{j}) ⊙ dz{j}",
                f"da{j} = {spec.name}_grad(a{j}) * dz{j}",
                arriving[2 * (layers - k) + 2],
                "backward",
                f"{spec.name}_grad(a{j})",
                f"dz{j}",
            )

    # update
    before = [np.array(p.value, copy=True) for p in model.parameters()]
    optimizer.step()
    notes = _update_arrays(add, model, optimizer, before, layers)

    losses, predictions = [loss], [arrays[names_index(arrays, "y_hat")].values]
    for done in range(1, steps + 1):  # the loss and y_hat after each update
        losses.append(loss_fn.forward(model.forward(X), y))
        assert loss_fn.probs is not None
        predictions.append(np.array(loss_fn.probs, copy=True))
        if done < steps:
            model.backward(loss_fn.backward())
            optimizer.step()
    return StepTrace(
        arrays, losses, predictions, float(optimizer.lr), settings.name, layers, spec.name, notes
    )


def names_index(arrays: list[Traced], name: str) -> int:
    return next(i for i, traced in enumerate(arrays) if traced.name == name)


def _update_arrays(
    add: Add, model: MLP, optimizer: Optimizer, before: list[Array], layers: int
) -> dict[str, str]:
    """The weights before and after, with what the optimizer computed between (moments for Adam)."""
    names = [f"{kind}{k}" for k in range(1, layers + 1) for kind in ("W", "b")]
    params = model.parameters()
    sizes = [p.value.size for p in params]
    offsets = np.cumsum([0, *sizes])

    def per_param(flat: Array, i: int) -> Array:
        return flat[offsets[i] : offsets[i + 1]].reshape(params[i].value.shape)

    notes = {}
    for i, name in enumerate(names):
        add(f"{name} before", f"{name}: before the update", f"{name}", before[i], "update")
        if isinstance(optimizer, Adam):
            t = optimizer.steps
            m, v = per_param(optimizer.m[0], i), per_param(optimizer.v[0], i)
            add(
                f"m_{name}",
                f"m = β1·m + (1 − β1)·d{name}",
                f"m = beta1 * m + (1 - beta1) * d{name}",
                m,
                "update",
            )
            add(
                f"v_{name}",
                f"v = β2·v + (1 − β2)·d{name}²",
                f"v = beta2 * v + (1 - beta2) * d{name}**2",
                v,
                "update",
            )
            c1, c2 = 1 / (1 - optimizer.beta1**t), 1 / (1 - optimizer.beta2**t)
            notes["adam"] = (
                f"bias corrections at step {t}: m̂ = m / (1 − β1^{t}) = m × {c1:.6g}, "
                f"v̂ = v / (1 − β2^{t}) = v × {c2:.6g}. deeplook's Adam (as Keras) "
                "folds them into the learning rate: step = lr·√(1 − β2^t)/(1 − β1^t) · m / (√v + ε)"
            )
            formula = "step = lr · m̂ / (√v̂ + ε)"
            code = "step = lr * m_hat / (np.sqrt(v_hat) + eps)"
        elif isinstance(optimizer, SGD) and optimizer.momentum:
            velocity = per_param(optimizer.velocity[0], i)
            add(
                f"velocity_{name}",
                f"v = μ·v − lr·d{name}",
                f"v = momentum * v - lr * d{name}",
                velocity,
                "update",
            )
            formula, code = "step = −v", "step = -v"
        else:
            formula, code = f"step = lr · d{name}", f"step = learning_rate * d{name}"
        add(f"step_{name}", formula, code, before[i] - params[i].value, "update", f"d{name}")
        add(
            name,
            f"{name} = {name} − step",
            f"{name} -= step",
            params[i].value,
            "update",
            f"{name} before",
            f"step_{name}",
        )
    return notes


def _with_lr(settings: OptimizerConfig, lr: float) -> OptimizerConfig:
    return dataclasses.replace(settings, lr=lr)


@dataclass(frozen=True)
class GradientCheck:
    """One weight's derivative two ways: backpropagation's, and centered differences of the loss."""

    backprop: float
    numerical: float
    loss_plus: float
    loss_minus: float
    eps: float

    @property
    def relative_error(self) -> float:
        scale = max(abs(self.backprop) + abs(self.numerical), 1e-300)
        return abs(self.backprop - self.numerical) / scale


def check_gradient(
    config: TrainConfig,
    weights: Weights,
    x: Array,
    labels: Array,
    param: str,
    index: tuple[int, ...],
    eps: float = 1e-4,
) -> GradientCheck:
    """d Loss / d ``param[index]`` (``param`` as the trace names it: W1, b1, W2, ...) by backpropagation
    and by ``(Loss(w + eps) - Loss(w - eps)) / 2 eps``, in float64 (the idea behind the tests)."""
    model = MLP(config.model, [np.asarray(a, dtype=np.float64) for a in weights.arrays])
    names = [f"{kind}{k}" for k in range(1, len(model.dense) + 1) for kind in ("W", "b")]
    if param not in names:
        raise ValueError(f"param must be one of {', '.join(names)}, got {param!r}")
    target = model.parameters()[names.index(param)]
    if len(index) != target.value.ndim or any(
        not 0 <= i < n for i, n in zip(index, target.value.shape, strict=True)
    ):
        raise ValueError(f"{param} has shape {list(target.value.shape)}; index {list(index)} is outside it")
    X, y = np.asarray(x, dtype=np.float64), np.asarray(labels, dtype=np.intp)
    loss_fn = SoftmaxCrossEntropy()
    loss_fn.forward(model.forward(X), y)
    model.backward(loss_fn.backward())
    assert target.grad is not None
    backprop = float(target.grad[index])
    saved = float(target.value[index])
    target.value[index] = saved + eps
    plus = SoftmaxCrossEntropy().forward(model.forward(X), y)
    target.value[index] = saved - eps
    minus = SoftmaxCrossEntropy().forward(model.forward(X), y)
    target.value[index] = saved
    return GradientCheck(backprop, (plus - minus) / (2 * eps), plus, minus, eps)
