"""Optimizer steps against values computed by hand."""

import numpy as np
import pytest

from deeplook.engine.layers import Parameter
from deeplook.engine.optim import FLUSH_EVERY, SGD, Adam


def param(value, grad):
    return Parameter("p", np.array(value, dtype=np.float64), np.array(grad, dtype=np.float64))


def test_sgd_step():
    p = param([1.0, -2.0], [0.5, -1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.value, [0.95, -1.9])


def test_sgd_momentum_two_steps():
    p = param([1.0], [2.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()  # v = -0.2, w = 0.8
    np.testing.assert_allclose(p.value, [0.8])
    opt.step()  # v = 0.9 * -0.2 - 0.2 = -0.38, w = 0.42
    np.testing.assert_allclose(p.value, [0.42])


def test_adam_first_two_steps_match_keras_formula():
    p = param([1.0, 1.0], [0.5, -2.0])
    opt = Adam([p], lr=0.01, beta1=0.9, beta2=0.999, eps=1e-7)
    opt.step()
    # t=1: m = 0.1 g, v = 0.001 g^2, lr_t = 0.01 sqrt(0.001) / 0.1; step = lr_t m / (sqrt(v) + eps)
    g = np.array([0.5, -2.0])
    m, v = 0.1 * g, 0.001 * g**2
    lr_t = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expected = 1.0 - lr_t * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(p.value, expected, rtol=1e-10)
    np.testing.assert_allclose(p.value, [0.99, 1.01], rtol=1e-5)  # Adam's first step is ~lr * sign(g)

    p.grad[:] = [1.0, 1.0]
    opt.step()
    m = 0.9 * m + 0.1 * np.array([1.0, 1.0])
    v = 0.999 * v + 0.001 * np.array([1.0, 1.0])
    lr_t = 0.01 * np.sqrt(1 - 0.999**2) / (1 - 0.9**2)
    expected = expected - lr_t * m / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(p.value, expected, rtol=1e-10)


def test_state_round_trip_continues_identically():
    rng = np.random.default_rng(0)
    a = param(rng.standard_normal(5), rng.standard_normal(5))
    b = param(a.value.copy(), a.grad.copy())
    first = Adam([a], lr=0.1)
    first.step()
    second = Adam([b], lr=0.1)
    second.step()
    restored = Adam([b], lr=0.1)
    restored.load_state_dict(second.state_dict())
    first.step()
    restored.step()
    np.testing.assert_array_equal(a.value, b.value)
    with pytest.raises(ValueError, match="keys"):
        SGD([b], lr=0.1, momentum=0.9).load_state_dict(second.state_dict())


def test_decayed_state_is_flushed_before_it_becomes_denormal():
    p = Parameter("p", np.ones(4, np.float32), np.zeros(4, np.float32))
    opt = Adam([p], lr=1e-3)
    p.grad[:] = 1.0
    opt.step()
    p.grad[:] = 0.0  # a pixel that is always blank: its moments only decay from here
    tiny = np.finfo(np.float32).tiny
    for _ in range(2000):
        opt.step()
        nonzero = opt.m[0][opt.m[0] != 0]
        assert (np.abs(nonzero) >= tiny).all(), f"denormal first moment after {opt.steps} steps"
    assert opt.steps > 10 * FLUSH_EVERY and not opt.m[0].any()
