"""Every layer's backward pass against centered differences, in float64."""

import numpy as np
import pytest

from deeplook.engine.layers import Dense, ReLU, Sigmoid, Tanh
from tests.engine.gradcheck import numerical_gradient, relative_error

TOLERANCE = 1e-6


def weighted_sum(layer, x, weights):
    """A scalar function of the layer's output, so any dout can be checked."""
    return lambda: float(np.sum(layer.forward(x) * weights))


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_dense_gradients_match_numerical(rng):
    x = rng.standard_normal((5, 4))
    layer = Dense(rng.standard_normal((4, 3)), rng.standard_normal(3))
    dout = rng.standard_normal((5, 3))
    f = weighted_sum(layer, x, dout)

    layer.forward(x)
    dx = layer.backward(dout)

    assert relative_error(dx, numerical_gradient(f, x)) < TOLERANCE
    assert relative_error(layer.W.grad, numerical_gradient(f, layer.W.value)) < TOLERANCE
    # The notebook summed the bias gradient over the wrong array; this is the check that catches it.
    assert relative_error(layer.b.grad, numerical_gradient(f, layer.b.value)) < TOLERANCE


@pytest.mark.parametrize("activation", [Sigmoid, Tanh, ReLU])
def test_activation_gradients_match_numerical(rng, activation):
    x = rng.standard_normal((6, 5)) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep away from ReLU's kink, where the derivative is undefined
    layer = activation()
    dout = rng.standard_normal((6, 5))

    layer.forward(x)
    dx = layer.backward(dout)

    assert relative_error(dx, numerical_gradient(weighted_sum(layer, x, dout), x)) < TOLERANCE


@pytest.mark.parametrize("activation", [Sigmoid, Tanh, ReLU])
def test_backward_leaves_dout_untouched(rng, activation):
    layer = activation()
    layer.forward(rng.standard_normal((3, 4)))
    dout = rng.standard_normal((3, 4))
    before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, before)


def test_sigmoid_saturates_without_overflow_in_float32():
    x = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = Sigmoid().forward(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-7)


@pytest.mark.parametrize("activation", [Sigmoid, Tanh, ReLU])
def test_activations_keep_float32(activation):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    layer = activation()
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones_like(x)).dtype == np.float32
