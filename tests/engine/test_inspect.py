"""Inspection views: they must equal what they claim to show."""

import numpy as np

from engine import inspect
from engine.config import ModelConfig
from engine.model import MLP, parameter_names


def make_weights(hidden=(12, 6)):
    model = MLP.create(ModelConfig(hidden=hidden, activation="tanh", init="glorot"), np.random.default_rng(3))
    return model.snapshot()


def test_first_layer_images_are_the_weights_reshaped():
    weights = make_weights()
    images = inspect.first_layer_images(weights)
    assert images.shape == (12, 28, 28)
    for unit in range(12):
        np.testing.assert_array_equal(images[unit].ravel(), weights.arrays[0][:, unit])


def test_histogram_counts_sum_to_the_number_of_values():
    weights = make_weights()
    histograms = inspect.parameter_histograms(weights, bins=20)
    assert list(histograms) == parameter_names(weights.config)
    for name, array in zip(histograms, weights.arrays, strict=True):
        h = histograms[name]
        assert h.counts.sum() == array.size and len(h.edges) == 21
        assert h.edges[0] <= array.min() and h.edges[-1] >= array.max()


def test_histogram_of_constant_and_non_finite_values():
    h = inspect.histogram(np.array([0.0, 0.0, np.nan, np.inf]), bins=4)
    assert h.counts.sum() == 2 and h.edges[0] < 0 < h.edges[-1]


def test_activations_per_layer_for_one_input():
    weights = make_weights()
    x = np.random.default_rng(0).random(784, dtype=np.float32)
    hidden1, hidden2, probs = inspect.layer_activations(weights, x)
    W0, b0, W1, b1, *_ = weights.arrays
    np.testing.assert_allclose(hidden1, np.tanh(x @ W0 + b0), rtol=1e-5)
    np.testing.assert_allclose(hidden2, np.tanh(hidden1 @ W1 + b1), rtol=1e-5)
    np.testing.assert_allclose(probs, weights.predict_proba(x), rtol=1e-6)
