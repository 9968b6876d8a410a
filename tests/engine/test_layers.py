"""Every layer's backward pass against centered differences, in float64."""

import numpy as np
import pytest

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.layers import Activation, Dense
from tests.engine.gradcheck import numerical_gradient, relative_error

EVERY_ACTIVATION = pytest.mark.parametrize("name", list(ACTIVATIONS))

TOLERANCE = 1e-6


def weighted_sum(layer, x, weights):
    """A scalar function of the layer's output, so any dout can be checked."""
    return lambda: float(np.sum(layer.forward(x) * weights))


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_dense_gradients_match_numerical(rng):
    x = rng.standard_normal((5, 4))
    layer = Dense.of(rng.standard_normal((4, 3)), rng.standard_normal(3))
    dout = rng.standard_normal((5, 3))
    f = weighted_sum(layer, x, dout)

    layer.forward(x)
    dx = layer.backward(dout)

    assert relative_error(dx, numerical_gradient(f, x)) < TOLERANCE
    assert relative_error(layer.W.grad, numerical_gradient(f, layer.W.value)) < TOLERANCE
    # The notebook summed the bias gradient over the wrong array; this is the check that catches it.
    assert relative_error(layer.b.grad, numerical_gradient(f, layer.b.value)) < TOLERANCE


@EVERY_ACTIVATION
def test_activation_gradients_match_numerical(rng, name):
    x = rng.standard_normal((6, 5)) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep away from ReLU's kink, where the derivative is undefined
    layer = Activation(ACTIVATIONS[name])
    dout = rng.standard_normal((6, 5))

    layer.forward(x)
    dx = layer.backward(dout)

    assert relative_error(dx, numerical_gradient(weighted_sum(layer, x, dout), x)) < TOLERANCE


@EVERY_ACTIVATION
def test_backward_leaves_dout_untouched(rng, name):
    layer = Activation(ACTIVATIONS[name])
    layer.forward(rng.standard_normal((3, 4)))
    dout = rng.standard_normal((3, 4))
    before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, before)


def test_sigmoid_saturates_without_overflow_in_float32():
    x = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = Activation(ACTIVATIONS["sigmoid"]).forward(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-7)


@EVERY_ACTIVATION
def test_activations_keep_float32(name):
    x = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    layer = Activation(ACTIVATIONS[name])
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones_like(x)).dtype == np.float32


@EVERY_ACTIVATION
def test_derivative_is_the_slope_of_the_function(name):
    """The registry's derivative against centered differences of its own forward function, pointwise."""
    spec = ACTIVATIONS[name]
    x = np.linspace(-4, 4, 801)
    x = x[np.abs(x) > 1e-3]  # ReLU's kink
    eps = 1e-6
    slope = (spec.forward(x + eps) - spec.forward(x - eps)) / (2 * eps)
    assert relative_error(spec.derivative(x, spec.forward(x)), slope) < TOLERANCE


def test_gelu_is_relu_like_far_from_zero_and_smooth_near_it():
    gelu = ACTIVATIONS["gelu"]
    x = np.array([-8.0, -1.0, 0.0, 1.0, 8.0])
    y = gelu.forward(x)
    np.testing.assert_allclose(y[[0, 2, 4]], [0.0, 0.0, 8.0], atol=1e-9)
    np.testing.assert_allclose(y[[1, 3]], [-0.158808, 0.841192], atol=1e-5)  # the tanh approximation
    np.testing.assert_allclose(gelu.derivative(np.zeros(1), np.zeros(1)), [0.5])


@EVERY_ACTIVATION
def test_health_rule_flags_what_it_should(name):
    """Saturating functions: outputs pushed to their flat ends count; ReLU-like: units never active."""
    spec = ACTIVATIONS[name]
    pre = np.full((20, 3), 0.0)
    pre[:, 0] = 30.0  # far into the flat region (or always on)
    pre[:, 1] = -30.0  # far the other way (or never on: dead)
    # the third unit sits at 0: neither flat (sigmoid 0.5, tanh 0) nor ever positive (dead)
    assert spec.health.share(pre, spec.forward(pre)) == pytest.approx(2 / 3)
