"""The look-inside API on real runs: weight images, health, confusion, examples, Fashion-MNIST."""

import base64
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from deeplook.engine import serialize
from deeplook.engine.model import MLP
from tests.support import finished, trained_app, wait_for_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist):
    run = {"preset": "notebook-sgd", "epochs": 3, "seed": 4}
    with trained_app(tmp_path_factory.mktemp("data"), **run) as (client, done):
        yield client, done, serialize.load(client.get(f"/api/runs/{done['id']}/model").content)


def decode_images(body):
    values = np.frombuffer(base64.b64decode(body["data"]), dtype="<f2")
    return values.reshape(body["count"], body["height"], body["width"])


def test_weight_images_are_the_first_layer_reshaped_at_epoch_0_and_the_last(trained):
    client, run, checkpoint = trained
    last = client.get(f"/api/runs/{run['id']}/weights").json()
    assert (last["epoch"], last["units"], last["count"], last["live"]) == (3, 50, 50, False)
    W0 = checkpoint.weights.arrays[0]
    np.testing.assert_allclose(decode_images(last), W0.T.reshape(50, 28, 28), atol=1e-3)
    assert np.isclose(last["scale"], np.abs(W0).max(), rtol=1e-3)

    first = client.get(f"/api/runs/{run['id']}/weights", params={"epoch": 0, "offset": 10, "limit": 5}).json()
    initial = MLP.create(checkpoint.config.model, checkpoint.config.seed).arrays()[0]
    np.testing.assert_allclose(decode_images(first), initial.T[10:15].reshape(5, 28, 28), atol=1e-4)
    assert first["offset"] == 10 and first["count"] == 5


def test_inspect_and_health_cover_every_epoch_from_the_random_start(trained):
    client, run, _ = trained
    view = client.get(f"/api/runs/{run['id']}/inspect").json()
    assert view["epoch"] == 3 and view["epochs"] == [0, 1, 2, 3]
    sizes = {"dense0.W": 784 * 50, "dense0.b": 50, "dense1.W": 50 * 10, "dense1.b": 10}
    assert {name: sum(h["counts"]) for name, h in view["histograms"].items()} == sizes
    assert {name: sum(h["counts"]) for name, h in view["gradient_histograms"].items()} == sizes
    assert [layer["name"] for layer in view["layers"]] == ["dense0", "dense1"]
    assert 0 < view["layers"][0]["update_ratio"] < 1

    start = client.get(f"/api/runs/{run['id']}/inspect", params={"epoch": 0}).json()
    assert start["layers"][0]["update_ratio"] == 0  # nothing has been learned yet

    health = client.get(f"/api/runs/{run['id']}/health").json()
    assert health["epochs"] == [0, 1, 2, 3]
    assert all(len(values) == 4 for values in health["layers"]["dense0"].values())
    assert len(health["weight_histograms"]["dense0.W"]) == 4
    assert client.get(f"/api/runs/{run['id']}/inspect", params={"epoch": 9}).status_code == 404


def test_confusion_matrix_matches_the_reported_accuracy(trained):
    client, run, _ = trained
    body = client.get(f"/api/runs/{run['id']}/confusion").json()
    matrix = np.array(body["matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == body["total"] == 10_000
    assert np.trace(matrix) / 10_000 == body["accuracy"] == run["test_accuracy"]
    assert body["class_names"] == [str(d) for d in range(10)]


def test_misclassified_examples_are_wrong_for_the_model_and_sorted(trained, mnist):
    client, run, checkpoint = trained
    body = client.get(f"/api/runs/{run['id']}/misclassified", params={"limit": 40}).json()
    confusion = np.array(client.get(f"/api/runs/{run['id']}/confusion").json()["matrix"])
    assert body["total"] == 10_000 - np.trace(confusion) and len(body["items"]) == 40
    pixels = np.frombuffer(base64.b64decode(body["pixels"]), np.uint8).reshape(40, 784)
    index = [item["index"] for item in body["items"]]
    np.testing.assert_array_equal(pixels, mnist.test_images[index])
    predicted = checkpoint.weights.predict_proba(pixels / 255).argmax(axis=1)
    assert (predicted == [item["predicted"] for item in body["items"]]).all()
    assert (predicted != mnist.test_labels[index]).all()
    confidences = [item["confidence"] for item in body["items"]]
    assert confidences == sorted(confidences, reverse=True)

    cell = client.get(f"/api/runs/{run['id']}/misclassified", params={"true": 4, "predicted": 9}).json()
    assert cell["total"] == confusion[4, 9]
    assert all(item["true"] == 4 and item["predicted"] == 9 for item in cell["items"])
    diagonal = client.get(f"/api/runs/{run['id']}/misclassified", params={"true": 1, "predicted": 1}).json()
    assert diagonal["total"] == confusion[1, 1]


def test_live_weights_during_training(trained):
    client, _, _ = trained
    run_id = client.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 50, "batch_size": 10}).json()[
        "id"
    ]
    try:
        deadline = time.monotonic() + 30
        while not (body := client.get(f"/api/runs/{run_id}/weights", params={"live": True}).json()).get(
            "live"
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.1)
        assert body["epoch"] >= 1 and body["step"] > 0 and body["count"] == 50
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "running"
    finally:
        client.post(f"/api/runs/{run_id}/stop")


def test_test_set_gallery_and_explanations(trained, mnist):
    client, run, checkpoint = trained
    gallery = client.get("/api/datasets/mnist/test", params={"offset": 0, "limit": 5}).json()
    assert gallery["labels"] == [7, 2, 1, 0, 4]
    pixels = np.frombuffer(base64.b64decode(gallery["pixels"]), np.uint8).reshape(5, 784)
    np.testing.assert_array_equal(pixels, mnist.test_images[:5])
    assert client.get("/api/datasets/cifar/test").status_code == 404
    picked = client.get("/api/datasets/mnist/test", params={"indices": "9999,3,3"}).json()
    assert picked["indices"] == [9999, 3, 3] and picked["labels"] == mnist.test_labels[[9999, 3, 3]].tolist()
    picked_pixels = np.frombuffer(base64.b64decode(picked["pixels"]), np.uint8).reshape(3, 784)
    np.testing.assert_array_equal(picked_pixels, mnist.test_images[[9999, 3, 3]])
    for wrong in ("10000", "1,,2", "-1", ",".join(["1"] * 2001)):
        answer = client.get("/api/datasets/mnist/test", params={"indices": wrong})
        assert answer.status_code == 422, wrong

    body = {"pixels": (pixels[0] / 255).tolist(), "explain": True, "run_id": run["id"]}
    answer = client.post("/api/predict", json=body).json()
    hidden = np.array(answer["activations"][0])
    W1 = checkpoint.weights.arrays[2]
    np.testing.assert_allclose(answer["contributions"], hidden * W1[:, answer["digit"]], rtol=1e-4, atol=1e-6)


def test_training_set_gallery_by_offset_and_by_indices(trained, mnist):
    client = trained[0]
    gallery = client.get("/api/datasets/mnist/train", params={"offset": 0, "limit": 5}).json()
    assert gallery["labels"] == [5, 0, 4, 1, 9]  # the notebook's first five training digits
    pixels = np.frombuffer(base64.b64decode(gallery["pixels"]), np.uint8).reshape(5, 784)
    np.testing.assert_array_equal(pixels, mnist.train_images[:5])
    later = client.get("/api/datasets/mnist/train", params={"offset": 59_990, "limit": 40}).json()
    assert later["offset"] == 59_990 and len(later["labels"]) == 10  # past the test set's size
    picked = client.get("/api/datasets/mnist/train", params={"indices": "59999,3,3"}).json()
    assert (
        picked["indices"] == [59999, 3, 3] and picked["labels"] == mnist.train_labels[[59999, 3, 3]].tolist()
    )
    for wrong in ({"indices": "60000"}, {"offset": 60_000}, {"limit": 501}):
        assert client.get("/api/datasets/mnist/train", params=wrong).status_code == 422, wrong
    assert client.get("/api/datasets/cifar/train").status_code == 404


def test_fashion_mnist_trains_above_80_percent_and_predicts_class_names(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", offline=True)
    with TestClient(create_app(settings)) as client:
        body = {"preset": "notebook-adam", "dataset": "fashion-mnist", "epochs": 2}
        run_id = client.post("/api/runs", json=body).json()["id"]
        run = wait_for_run(client.get, run_id, finished, timeout=180)
        assert run["status"] == "completed" and run["dataset"] == "fashion-mnist"
        assert run["test_accuracy"] > 0.80
        gallery = client.get("/api/datasets/fashion-mnist/test", params={"limit": 3}).json()
        first = np.frombuffer(base64.b64decode(gallery["pixels"]), np.uint8)[:784]
        answer = client.post("/api/predict", json={"pixels": (first / 255).tolist()}).json()
        assert answer["model"]["class_names"][9] == "Ankle boot"
        assert answer["label"] == answer["model"]["class_names"][answer["digit"]]
        assert gallery["class_names"][gallery["labels"][0]] == "Ankle boot"  # Fashion's first test image
        confusion = client.get(f"/api/runs/{run_id}/confusion").json()
        assert confusion["class_names"][0] == "T-shirt/top" and confusion["total"] == 10_000
