"""Saliency, the hidden space and what each unit wants, on networks trained on the real MNIST."""

import numpy as np
import pytest

from deeplook.engine import embedding, maximize, saliency
from deeplook.engine.config import preset_config
from deeplook.engine.evaluation import scale_pixels
from deeplook.engine.model import Weights, init_weights

pytestmark = pytest.mark.slow


def _score(weights64: Weights, x: np.ndarray, target: int) -> float:
    return float(weights64.logits(x[None, :])[0, target])


@pytest.mark.parametrize("which", ["notebook-adam trained", "relu-adam start"])
def test_saliency_is_the_finite_difference_gradient_of_the_class_score(which, notebook_adam, mnist):
    if which == "notebook-adam trained":
        weights = notebook_adam.weights[-1]
    else:
        config = preset_config("relu-adam").model
        weights = Weights.freeze(config, init_weights(config, 5))
    weights64 = Weights.freeze(weights.config, [a.astype(np.float64) for a in weights.arrays])
    x = scale_pixels(mnist.test_images[7]).astype(np.float64)
    for target in (int(mnist.test_labels[7]), 3):
        found = saliency.saliency(weights, x, target)
        h = 1e-6
        numeric = np.empty_like(x)
        for i in range(x.size):
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            numeric[i] = (_score(weights64, up, target) - _score(weights64, down, target)) / (2 * h)
        assert np.max(np.abs(found.gradient - numeric)) < 1e-4
        assert found.score == pytest.approx(_score(weights64, x, target), abs=1e-12)


def test_integrated_gradients_add_up_to_the_score_difference(notebook_adam, mnist):
    weights = notebook_adam.weights[-1]
    for index in range(10):
        x = scale_pixels(mnist.test_images[index])
        target = int(np.argmax(weights.logits(x[None, :])))
        found = saliency.saliency(weights, x, target)
        difference = found.score - found.baseline_score
        assert abs(found.integrated.sum() - difference) <= 0.01 * abs(difference)
        # where there is no ink, nothing is attributed: the path starts from a blank image
        assert np.all(found.integrated[x == 0] == 0)


def test_a_target_outside_the_classes_is_refused(notebook_adam, mnist):
    with pytest.raises(ValueError, match="target must be a class"):
        saliency.saliency(notebook_adam.weights[-1], scale_pixels(mnist.test_images[0]), 10)


def test_training_pulls_the_classes_apart_in_the_hidden_space(notebook_adam, mnist):
    index = embedding.sample_indices(mnist.test_labels)
    images, labels = mnist.test_images[index], mnist.test_labels[index]
    assert len(index) == 2000 and np.all(np.bincount(labels) == 200)
    for view, gain in (("readout", 0.3), ("plain", 0.15)):
        path = list(embedding.trajectory(notebook_adam.weights, images, labels, view=view))
        assert len(path) == 11
        assert path[-1].separation - path[0].separation >= gain, (view, [p.separation for p in path])
        # the basis maps the layer's activations onto the points (so a drawing can be placed too)
        hidden = embedding.last_hidden(notebook_adam.weights[-1], images)
        assert np.allclose(path[-1].project(hidden), path[-1].points)
        assert np.sqrt(np.mean(np.sum(path[-1].points ** 2, axis=1))) == pytest.approx(1.0)


def test_each_epoch_is_turned_onto_the_one_before(notebook_adam, mnist):
    index = embedding.sample_indices(mnist.test_labels)
    images, labels = mnist.test_images[index], mnist.test_labels[index]
    aligned = list(embedding.trajectory(notebook_adam.weights[1:], images, labels))
    for before, after, weights in zip(aligned, aligned[1:], notebook_adam.weights[2:], strict=False):
        raw = embedding.embed(weights, images, labels)  # the same plane, unaligned
        moved = np.linalg.norm(after.points - before.points)
        assert moved <= np.linalg.norm(raw.points - before.points) + 1e-9
        assert after.separation == pytest.approx(raw.separation)  # a turn keeps every distance


def test_procrustes_finds_a_turn_and_a_mirror():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((50, 2))
    angle = 0.7
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mirror = np.diag([1.0, -1.0])
    target = points @ turn @ mirror
    assert np.allclose(points @ embedding.procrustes(points, target), target)


def test_nearest_neighbour_accuracy_counts_the_nearest_other_point():
    points = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [0.0, 0.05]])
    labels = np.array([0, 0, 1, 1, 1])
    # point 4's nearest is a 0; point 0's nearest is point 4 (a 1); the others are right
    assert embedding.nearest_neighbour_accuracy(points, labels) == pytest.approx(3 / 5)


@pytest.mark.parametrize("layer", [0, 1])
def test_each_units_wanted_image_drives_it_harder_than_any_test_digit(layer, notebook_adam, mnist):
    weights = notebook_adam.weights[-1]
    found = maximize.wanted(weights, layer, maximize.most_exciting(weights, layer, mnist.test_images))
    network = weights.network()
    z = maximize.unit_inputs(network, layer, scale_pixels(mnist.test_images)).astype(np.float64)
    assert np.allclose(found.best_test, z.max(axis=0), rtol=1e-5)
    assert np.all(found.reached > found.best_test)
    assert np.all((found.images >= 0) & (found.images <= 1))
    for unit in (0, len(found.units) - 1):
        assert list(found.top[unit]) == list(np.argsort(-z[:, unit], kind="stable")[: maximize.TOP])
    if layer == 1:  # the output layer: each class's image is read as that class
        answers = weights.logits(found.images).argmax(axis=1)
        assert list(answers) == list(range(10))


def test_total_variation_has_the_gradient_it_claims():
    rng = np.random.default_rng(1)
    x = rng.random((2, 784))
    value, grad = maximize.total_variation(x)
    h = 1e-6
    for i in (0, 29, 400, 783):
        up, down = x.copy(), x.copy()
        up[:, i] += h
        down[:, i] -= h
        numeric = (maximize.total_variation(up)[0] - maximize.total_variation(down)[0]) / (2 * h)
        assert np.allclose(grad[:, i], numeric, atol=1e-7)
    assert value.shape == (2,)


def test_a_smoothness_penalty_gives_smoother_images(notebook_adam, mnist):
    weights = notebook_adam.weights[-1]
    rough, _ = maximize.maximize(weights, 0, [0, 1, 2], tv=0.0)
    smooth, reached = maximize.maximize(weights, 0, [0, 1, 2], tv=20.0)
    assert np.all(maximize.total_variation(smooth)[0] < maximize.total_variation(rough)[0])
    assert np.all(np.isfinite(reached))
