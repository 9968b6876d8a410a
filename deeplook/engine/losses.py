"""Softmax with cross-entropy, fused for stability and a simple gradient."""

from __future__ import annotations

import numpy as np

from deeplook.engine.layers import Array


def softmax(logits: Array) -> Array:
    """Row-wise softmax, shifted by the row maximum so ``exp`` never overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def log_softmax(logits: Array) -> Array:
    """Row-wise log-softmax via log-sum-exp: finite for any finite logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    shifted -= lse
    return shifted


class SoftmaxCrossEntropy:
    """Mean cross-entropy of ``softmax(logits)`` against integer labels.

    ``forward`` returns the loss and keeps the probabilities; ``backward`` returns
    ``(probs - onehot(labels)) / N``.
    """

    def __init__(self) -> None:
        self.probs: Array | None = None
        self._labels: Array | None = None

    def forward(self, logits: Array, labels: Array) -> float:
        logp = log_softmax(logits)
        rows = np.arange(len(labels))
        loss = -float(np.mean(logp[rows, labels], dtype=np.float64))
        self.probs = np.exp(logp, out=logp)
        self._labels = labels
        return loss

    def backward(self) -> Array:
        if self.probs is None or self._labels is None:
            raise RuntimeError("backward called before forward")
        n = len(self._labels)
        dlogits = self.probs.copy()
        dlogits[np.arange(n), self._labels] -= 1.0
        dlogits *= 1.0 / n
        return dlogits
