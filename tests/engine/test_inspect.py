"""Inspection views: they must equal what they claim to show."""

import numpy as np
import pytest

from deeplook.engine import inspect, serialize
from deeplook.engine.config import PRESETS, ModelConfig
from deeplook.engine.model import MLP, parameter_names
from deeplook.engine.train import EpochMetrics, Trainer


def make_weights(hidden=(12, 6)):
    model = MLP.create(ModelConfig(hidden=hidden, activation="tanh", init="glorot"), 3)
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


@pytest.fixture(scope="module")
def first_epoch(mnist):
    """One epoch of notebook-sgd on the real MNIST: its metrics and its checkpoint."""
    trainer = Trainer(PRESETS["notebook-sgd"].config.replace(epochs=1), mnist)
    events = list(trainer.run())
    metrics = next(e for e in events if isinstance(e, EpochMetrics))
    return metrics, trainer.last_checkpoint


def report_of(checkpoint, mnist):
    return inspect.epoch_report(
        checkpoint.epoch,
        checkpoint.weights,
        mnist.test_images,
        mnist.test_labels,
        checkpoint.gradients,
        checkpoint.update_ratios,
        checkpoint.test,
    )


@pytest.mark.slow
def test_confusion_matrix_sums_to_the_test_set_and_its_trace_is_the_accuracy(first_epoch, mnist):
    metrics, checkpoint = first_epoch
    report = report_of(checkpoint, mnist)
    assert report.confusion.shape == (10, 10)
    assert report.confusion.sum() == len(mnist.test_labels) == 10_000
    assert np.trace(report.confusion) / 10_000 == metrics.test_accuracy
    np.testing.assert_array_equal(report.confusion.sum(axis=1), np.bincount(mnist.test_labels, minlength=10))


@pytest.mark.slow
def test_misclassified_images_really_are_misclassified_by_that_epochs_model(first_epoch, mnist):
    _, checkpoint = first_epoch
    report = report_of(checkpoint, mnist)
    index = inspect.examples(mnist.test_labels, report.predictions, report.confidence)[:50]
    assert len(index) == 50
    probs = checkpoint.weights.predict_proba(mnist.test_images[index] / 255)
    assert (probs.argmax(axis=1) != mnist.test_labels[index]).all()
    np.testing.assert_allclose(probs.max(axis=1), report.confidence[index], rtol=1e-4)
    assert np.all(np.diff(report.confidence[index]) <= 0)  # most confident mistakes first

    everything = inspect.examples(mnist.test_labels, report.predictions, report.confidence)
    assert len(everything) == 10_000 - np.trace(report.confusion)
    for true, predicted in ((4, 9), (7, 7)):
        cell = inspect.examples(mnist.test_labels, report.predictions, report.confidence, true, predicted)
        assert len(cell) == report.confusion[true, predicted]
        assert (mnist.test_labels[cell] == true).all() and (report.predictions[cell] == predicted).all()


@pytest.mark.slow
def test_report_views_match_the_weights_and_survive_a_round_trip(first_epoch, mnist, tmp_path):
    _, checkpoint = first_epoch
    report = report_of(checkpoint, mnist)
    np.testing.assert_array_equal(report.first_layer, checkpoint.weights.arrays[0].T)
    for name, array in zip(
        parameter_names(checkpoint.weights.config), checkpoint.weights.arrays, strict=True
    ):
        assert report.histograms[name].counts.sum() == array.size
        assert report.gradient_histograms[name].counts.sum() == array.size
    hidden, output = report.layers
    assert hidden.units == 50 and output.units == 10
    assert 0 <= hidden.saturated <= 1 and hidden.dead == 0
    assert 1e-5 < hidden.update_ratio < 1e-1  # an SGD step moves weights by a small fraction

    serialize.save_report(report, tmp_path / "epoch.npz")
    loaded = serialize.load_report(tmp_path / "epoch.npz")
    np.testing.assert_array_equal(loaded.confusion, report.confusion)
    np.testing.assert_allclose(loaded.first_layer, report.first_layer, atol=1e-3)
    assert loaded.layers == report.layers and loaded.epoch == report.epoch
    assert loaded.histograms.keys() == report.histograms.keys()


def test_saturation_and_dead_units_are_measured():
    config = ModelConfig(hidden=(4,), activation="relu", init="he", input_size=3, classes=2)
    model = MLP.create(config, 0)
    W0 = model.dense[0].W.value
    W0[:, 0] = -1.0  # unit 0 can never fire on non-negative inputs
    model.dense[0].b.value[0] = -1.0
    health = inspect.layer_health(
        model.snapshot(), (), (), np.random.default_rng(1).random((100, 3), np.float32)
    )
    assert health[0].dead == 0.25 and health[0].saturated == 0

    sigmoid = MLP.create(ModelConfig(hidden=(2,), input_size=1, classes=2), 0)
    sigmoid.dense[0].W.value[:] = [[100.0, 0.0]]  # unit 0 saturates on any non-zero input, unit 1 never
    probe = np.linspace(0.1, 1, 50, dtype=np.float32).reshape(-1, 1)
    assert inspect.layer_health(sigmoid.snapshot(), (), (), probe)[0].saturated == 0.5


def test_unit_contributions_are_activation_times_outgoing_weight():
    weights = make_weights()
    x = np.random.default_rng(0).random(784, dtype=np.float32)
    hidden = inspect.layer_activations(weights, x)[-2]
    push = inspect.unit_contributions(weights, hidden, target=3)
    assert hidden.shape == push.shape == (6,)
    np.testing.assert_allclose(push, hidden * weights.arrays[4][:, 3], rtol=1e-6)  # W2: 6 -> 10
