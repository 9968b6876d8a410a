"""Softmax cross-entropy: the gradient, and stability at extreme logits."""

import numpy as np

from deeplook.engine.losses import SoftmaxCrossEntropy, softmax
from tests.engine.gradcheck import numerical_gradient, relative_error


def test_gradient_matches_numerical_and_the_closed_form():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((7, 10)) * 4
    labels = rng.integers(0, 10, 7)
    loss = SoftmaxCrossEntropy()

    loss.forward(logits, labels)
    grad = loss.backward()

    numerical = numerical_gradient(lambda: SoftmaxCrossEntropy().forward(logits, labels), logits)
    assert relative_error(grad, numerical) < 1e-6
    onehot = np.eye(10)[labels]
    np.testing.assert_allclose(grad, (softmax(logits) - onehot) / 7, rtol=1e-12)


def test_extreme_logits_give_finite_loss_and_gradient():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=np.float32)
    loss = SoftmaxCrossEntropy()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        right = loss.forward(logits, np.array([0, 1]))
        grad = loss.backward()
        wrong = SoftmaxCrossEntropy().forward(logits, np.array([1, 0]))
    assert right == 0.0
    # A confident mistake costs the logit gap, not log(0) = inf (the notebook's unguarded log).
    assert np.isclose(wrong, 2e4)
    assert np.isfinite(grad).all()


def test_uniform_logits_cost_log_classes():
    loss = SoftmaxCrossEntropy().forward(np.zeros((4, 10)), np.arange(4))
    assert np.isclose(loss, np.log(10))


def test_softmax_rows_sum_to_one():
    probs = softmax(np.random.default_rng(0).standard_normal((5, 10)) * 50)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
