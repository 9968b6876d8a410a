"""One training step, traced: the same numbers training computes, and the notebook's own functions."""

from __future__ import annotations

import numpy as np
import pytest

from deeplook.engine.config import OptimizerConfig, configure, preset_config
from deeplook.engine.data import Dataset
from deeplook.engine.data.specs import MNIST
from deeplook.engine.evaluation import scale_pixels
from deeplook.engine.model import Weights, init_weights
from deeplook.engine.trace import trace_step
from deeplook.engine.train import ORDER_STREAM, Trainer, stream


def batch_of(mnist, n=5):
    return mnist.train_images[:n], mnist.train_labels[:n].astype(np.intp)


@pytest.mark.parametrize(
    "optimizer",
    [
        OptimizerConfig(name="sgd", lr=0.1),
        OptimizerConfig(name="sgd", lr=0.1, momentum=0.9),
        OptimizerConfig(name="adam", lr=0.001),
    ],
    ids=["sgd", "momentum", "adam"],
)
def test_the_traced_update_is_one_trainer_step_bit_for_bit(mnist, optimizer):
    n = 5
    config = configure(preset_config("notebook-sgd"), {"batch_size": n, "epochs": 1})
    config = config.replace(optimizer=optimizer)
    images, labels = batch_of(mnist, n)
    order = stream(config.seed, ORDER_STREAM).permutation(n)  # the order the trainer will take them in
    tiny = Dataset(
        "mnist",
        images,
        labels.astype(np.uint8),
        mnist.test_images[:10],
        mnist.test_labels[:10],
        MNIST,
        "",
        None,
    )
    trainer = Trainer(config, tiny)
    start = trainer.model.snapshot()
    list(trainer.run())  # one epoch of one step
    traced = trace_step(config, start, scale_pixels(images[order]), labels[order])
    for k in (1, 2):
        np.testing.assert_array_equal(traced.array(f"W{k}"), trainer.model.dense[k - 1].W.value)
        np.testing.assert_array_equal(traced.array(f"b{k}"), trainer.model.dense[k - 1].b.value)
    np.testing.assert_array_equal(traced.array("W1 before"), start.arrays[0])


# -- the notebook's functions, transcribed (float64), combined as its train_step does ------------------


def affine_layer_forward(X, W, b):
    return np.dot(X, W) + b


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    delta = 1e-7  # as the notebook (and Deep Learning from Scratch) guards log(0)
    return -np.sum(t * np.log(y + delta)) / y.shape[0]


def affine_layer_backward(dout, cache):
    X, W = cache
    return np.dot(dout, W.T), np.dot(X.T, dout), np.sum(dout, axis=0)


def sigmoid_grad(a):
    return (1.0 - sigmoid(a)) * sigmoid(a)


def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, learning_rate):
    return (
        W1 - learning_rate * dW1,
        b1 - learning_rate * db1,
        W2 - learning_rate * dW2,
        b2 - learning_rate * db2,
    )


def train_step(X, t, W1, b1, W2, b2, learning_rate):
    a1 = affine_layer_forward(X, W1, b1)
    z1 = sigmoid(a1)
    a2 = affine_layer_forward(z1, W2, b2)
    y_hat = softmax(a2)
    loss = cross_entropy_error(y_hat, t)
    dy = (y_hat - t) / X.shape[0]
    dz1, dW2, db2 = affine_layer_backward(dy, (z1, W2))
    da1 = sigmoid_grad(a1) * dz1
    _, dW1, db1 = affine_layer_backward(da1, (X, W1))  # db1 from da1 (cell 17 sums dz1: a slip)
    new = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, learning_rate)
    return {
        "a1": a1,
        "z1": z1,
        "a2": a2,
        "y_hat": y_hat,
        "Loss": loss,
        "dy": dy,
        "dW2": dW2,
        "db2": db2,
        "dz1": dz1,
        "da1": da1,
        "dW1": dW1,
        "db1": db1,
        "W1": new[0],
        "b1": new[1],
        "W2": new[2],
        "b2": new[3],
    }


def test_the_trace_in_float64_equals_the_notebooks_own_functions(mnist):
    config = preset_config("notebook-sgd")  # 784-50-10 sigmoid, N(0, 0.01^2), SGD 0.1: the notebook's
    start = Weights.freeze(config.model, init_weights(config.model, 0, np.float64))
    images, labels = batch_of(mnist)
    X = images / 255.0
    traced = trace_step(config, start, X, labels, dtype=np.float64)
    t = np.eye(10)[labels]
    W1, b1, W2, b2 = start.arrays
    expected = train_step(X, t, W1, b1, W2, b2, 0.1)
    for name, values in expected.items():
        tolerance = 1e-6 if name == "Loss" else 1e-12  # the notebook's log(y + 1e-7) vs a stable log-softmax
        np.testing.assert_allclose(traced.array(name), values, rtol=0, atol=tolerance, err_msg=name)
    assert abs(traced.losses[0] - np.log(10)) < 0.05  # an untrained net guesses: about ln 10


def test_k_steps_on_one_batch_drive_its_loss_down(mnist):
    config = preset_config("notebook-sgd")
    start = Weights.freeze(config.model, init_weights(config.model, 0))
    images, labels = batch_of(mnist)
    traced = trace_step(config, start, scale_pixels(images), labels, steps=5)
    assert len(traced.losses) == 6 and len(traced.predictions) == 6
    assert all(b < a for a, b in zip(traced.losses, traced.losses[1:], strict=False))
    right = traced.predictions[-1][np.arange(5), labels]
    assert np.all(right > traced.predictions[0][np.arange(5), labels])  # y_hat moves toward t


def test_a_deeper_network_extends_the_names(mnist):
    config = configure(preset_config("relu-adam"), {"hidden": [16, 8]})
    start = Weights.freeze(config.model, init_weights(config.model, 1))
    images, labels = batch_of(mnist, 3)
    traced = trace_step(config, start, scale_pixels(images), labels)
    for name, shape in {
        "a1": (3, 16),
        "z1": (3, 16),
        "a2": (3, 8),
        "z2": (3, 8),
        "a3": (3, 10),
        "dy": (3, 10),
        "dW3": (8, 10),
        "dz2": (3, 8),
        "relu_grad(a2)": (3, 8),
        "da2": (3, 8),
        "dz1": (3, 16),
        "da1": (3, 16),
        "dW1": (784, 16),
        "m_W1": (784, 16),
        "step_W1": (784, 16),
    }.items():
        assert traced.array(name).shape == shape, name
    np.testing.assert_array_equal(traced.array("da2"), traced.array("relu_grad(a2)") * traced.array("dz2"))


def test_the_visible_gradient_check_agrees_with_backprop(mnist):
    from deeplook.engine.trace import check_gradient

    config = preset_config("notebook-sgd")
    start = Weights.freeze(config.model, init_weights(config.model, 0))
    images, labels = batch_of(mnist)
    for param, index in (("W1", (300, 7)), ("b1", (3,)), ("W2", (12, 4)), ("b2", (9,))):
        check = check_gradient(config, start, scale_pixels(images), labels, param, index)
        assert check.relative_error < 1e-6, (param, check)
    with pytest.raises(ValueError, match="outside"):
        check_gradient(config, start, scale_pixels(images), labels, "W1", (784, 0))
