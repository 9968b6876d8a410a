"""Which pixels made the network say what it said: the gradient of a class's score (its logit, before
softmax) with respect to the input, and integrated gradients along a path from a blank image. Both use
the network's own backward pass (``Network.backward`` with the input gradient)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deeplook.engine.layers import Array
from deeplook.engine.model import Weights

IG_STEPS = 64
"""Points of the path integral (midpoint rule): enough for completeness within 1% on MNIST nets."""


@dataclass(frozen=True, eq=False)
class Saliency:
    target: int
    score: float
    """The class's logit for the input."""
    baseline_score: float
    """The class's logit for the blank baseline."""
    gradient: Array
    """d score / d input, one value per pixel."""
    integrated: Array
    """Integrated gradients: (x - baseline) times the mean gradient along the path; they add up to
    about ``score - baseline_score`` (completeness)."""
    logits: Array
    """Every class's score for the input."""


def score_gradients(weights: Weights, x: Array, target: int) -> tuple[Array, Array]:
    """For a batch of inputs (n, pixels): their scores (n, classes) and the gradient of ``target``'s
    (n, pixels)."""
    network = weights.network()
    inputs = np.atleast_2d(np.asarray(x, dtype=weights.arrays[0].dtype))
    logits = network.forward(inputs)
    seed = np.zeros_like(logits)
    seed[:, target] = 1.0
    gradient = network.backward(seed, input_gradient=True)
    assert gradient is not None
    return logits, gradient


def saliency(weights: Weights, x: Array, target: int, steps: int = IG_STEPS) -> Saliency:
    """Plain gradient and integrated gradients of ``target``'s score for one input (pixels,)."""
    if not 0 <= target < weights.config.classes:
        raise ValueError(f"target must be a class in 0..{weights.config.classes - 1}, got {target}")
    x = np.asarray(x, dtype=np.float64).ravel()
    weights64 = Weights.freeze(weights.config, [a.astype(np.float64) for a in weights.arrays])
    logits, gradient = score_gradients(weights64, x, target)
    baseline = np.zeros_like(x)
    alphas = (np.arange(steps) + 0.5) / steps
    path = baseline + alphas[:, None] * (x - baseline)
    _, along = score_gradients(weights64, path, target)
    base_logits, _ = score_gradients(weights64, baseline, target)
    integrated = (x - baseline) * along.mean(axis=0)
    score, base_score = float(logits[0, target]), float(base_logits[0, target])
    return Saliency(target, score, base_score, gradient[0], integrated, logits[0])
