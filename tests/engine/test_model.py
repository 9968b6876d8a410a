"""The whole MLP: gradients, initialisation schemes, frozen weights and prediction."""

import numpy as np
import pytest

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.config import ModelConfig
from deeplook.engine.losses import SoftmaxCrossEntropy
from deeplook.engine.model import MLP, Weights, init_weights
from tests.engine.gradcheck import numerical_gradient, relative_error


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_two_hidden_layer_mlp_gradient_matches_numerical(activation):
    config = ModelConfig(hidden=(5, 4), activation=activation, init="glorot", input_size=6, classes=3)
    rng = np.random.default_rng(11)
    model = MLP.create(config, 11, dtype=np.float64)
    model.flat.value += rng.standard_normal(model.flat.value.shape) * 0.1  # non-zero biases too
    x = rng.standard_normal((8, 6))
    labels = rng.integers(0, 3, 8)

    def loss() -> float:
        return SoftmaxCrossEntropy().forward(model.forward(x), labels)

    loss_fn = SoftmaxCrossEntropy()
    loss_fn.forward(model.forward(x), labels)
    model.backward(loss_fn.backward())
    analytic = model.flat.grad.copy()

    assert relative_error(analytic, numerical_gradient(loss, model.flat.value)) < 1e-6


def test_layer_arrays_are_views_of_the_flat_vector():
    model = MLP.create(ModelConfig(hidden=(3,), input_size=4, classes=2), 0)
    model.flat.value[:] = 1.5
    assert all((p.value == 1.5).all() for p in model.parameters())
    assert [p.name for p in model.parameters()] == ["dense0.W", "dense0.b", "dense1.W", "dense1.b"]


@pytest.mark.parametrize(
    ("init", "expected_std"),
    [
        ("normal", 0.01),
        ("glorot", np.sqrt(6 / (784 + 256)) / np.sqrt(3)),  # uniform(-l, l) has std l / sqrt(3)
        ("he", np.sqrt(2 / 784)),
    ],
)
def test_initialisers_have_their_scale(init, expected_std):
    config = ModelConfig(hidden=(256,), init=init)
    W0, b0, *_ = init_weights(config, 1)
    assert W0.dtype == np.float32
    assert np.isclose(W0.std(), expected_std, rtol=0.02)
    assert not b0.any()


def test_glorot_stays_within_its_limit():
    W0 = init_weights(ModelConfig(hidden=(50,), init="glorot"), 2)[0]
    assert np.abs(W0).max() <= np.sqrt(6 / (784 + 50))


def test_predict_proba_for_one_vector_and_a_batch():
    model = MLP.create(ModelConfig(hidden=(20,), init="glorot"), 4)
    weights = model.snapshot()
    batch = np.random.default_rng(5).random((3, 784), dtype=np.float32)

    probs = weights.predict_proba(batch)
    single = weights.predict_proba(batch[1])

    assert probs.shape == (3, 10) and single.shape == (10,)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(single, probs[1], rtol=1e-5)
    np.testing.assert_allclose(probs, _softmax(model.forward(batch)), rtol=1e-5)
    with pytest.raises(ValueError, match="784"):
        weights.predict_proba(np.zeros(783, np.float32))


def test_snapshot_is_a_read_only_copy():
    model = MLP.create(ModelConfig(hidden=(4,)), 0)
    weights = model.snapshot()
    before = weights.arrays[0].copy()
    model.flat.value += 1.0
    np.testing.assert_array_equal(weights.arrays[0], before)
    with pytest.raises(ValueError):
        weights.arrays[0][0, 0] = 3.0
    assert isinstance(weights, Weights) and weights.is_finite()


def test_wrong_shapes_are_refused():
    config = ModelConfig(hidden=(4,))
    arrays = init_weights(config, 0)
    with pytest.raises(ValueError, match="shapes"):
        MLP(config, arrays[:-1])


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_frozen_network_matches_the_trained_one_and_gives_input_gradients():
    """One forward pass: the serving network over frozen weights equals the training network, and its
    backward pass reaches the input (what saliency maps use) without touching any weights."""
    model = MLP.create(ModelConfig(hidden=(6,), activation="gelu", input_size=5, classes=3), 3, np.float64)
    x = np.random.default_rng(4).standard_normal((2, 5))
    network = model.snapshot().network()
    np.testing.assert_array_equal(network.forward(x), model.forward(x))
    dx = network.backward(np.ones((2, 3)), input_gradient=True)
    assert dx is not None and dx.shape == (2, 5)
    assert all(p.grad is None for p in network.parameters())
    score = lambda: float(network.forward(x).sum())  # noqa: E731
    assert relative_error(dx, numerical_gradient(score, x)) < 1e-6
