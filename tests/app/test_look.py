"""The hidden space, what each unit wants, and the coach, through the API of a real server process."""

import base64

import httpx2 as httpx
import numpy as np
import pytest

from deeplook.engine import embedding, serialize
from deeplook.engine.evaluation import scale_pixels
from tests.support import finished, wait_for_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist):
    from tests.support import Server

    served = Server(tmp_path_factory.mktemp("look") / "data")
    yield served
    served.close()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as session:
        yield session


def _train(client, **settings):
    run_id = client.post("/api/runs", json=settings).json()["id"]
    run = wait_for_run(client.get, run_id, finished, timeout=300)
    assert run["status"] == "completed", run
    return run


@pytest.fixture(scope="module")
def adam(client):
    return _train(client, preset="notebook-adam", epochs=4, seed=1)


def test_the_hidden_space_comes_apart_epoch_by_epoch(client, adam, mnist):
    run_id = adam["id"]
    start = client.get(f"/api/runs/{run_id}/embedding", params={"epoch": 0}).json()
    last = client.get(f"/api/runs/{run_id}/embedding").json()
    assert last["epoch"] == 4 and last["epochs"] == [0, 1, 2, 3, 4]
    assert last["separation_epochs"] == [0, 1, 2, 3, 4] and start["separation_epochs"] == [0]
    assert last["separation"][0] == pytest.approx(start["separation"][0])
    assert last["separation"][-1] - last["separation"][0] >= 0.3
    assert len(last["x"]) == len(last["indices"]) == 2000
    assert last["labels"] == mnist.test_labels[last["indices"]].tolist()

    # the same points as the engine's, from the run's own saved models
    models = [
        serialize.load(client.get(f"/api/runs/{run_id}/model", params={"epoch": e}).content).weights
        for e in range(5)
    ]
    index = np.array(last["indices"])
    path = list(embedding.trajectory(models, mnist.test_images[index], mnist.test_labels[index]))
    assert np.allclose(np.c_[last["x"], last["y"]], path[-1].points, atol=1e-4)

    # a drawing's activations (from predict, explain) land where the basis puts them
    image = scale_pixels(mnist.test_images[index[0]])
    answer = client.post(
        "/api/predict", json={"pixels": image.tolist(), "run_id": run_id, "explain": True}
    ).json()
    hidden = np.array(answer["activations"][-2])
    point = (hidden - np.array(last["mean"])) @ np.array(last["basis"])
    assert np.allclose(point, [last["x"][0], last["y"][0]], atol=1e-3)

    plain = client.get(f"/api/runs/{run_id}/embedding", params={"view": "plain"}).json()
    assert plain["view"] == "plain" and plain["x"] != last["x"]


def test_embedding_errors_are_clear(client, adam):
    run_id = adam["id"]
    missing = client.get(f"/api/runs/{run_id}/embedding", params={"epoch": 9})
    assert missing.status_code == 404 and missing.json()["code"] == "no_epoch_model"
    assert client.get(f"/api/runs/{run_id}/embedding", params={"view": "tsne"}).status_code == 422
    assert client.get("/api/runs/0123456789ab/embedding").status_code == 404


def test_each_unit_wants_an_image_that_beats_every_test_digit(client, adam, mnist):
    run_id = adam["id"]
    body = client.get(f"/api/runs/{run_id}/wants", params={"layer": 0, "offset": 45, "limit": 10}).json()
    assert (body["units"], body["offset"], body["count"], body["layers"]) == (50, 45, 5, 2)
    images = np.frombuffer(base64.b64decode(body["images"]), np.uint8).reshape(5, 28, 28)
    assert images.max() > images.min()
    assert all(r > b for r, b in zip(body["reached"], body["best_test"], strict=True))
    assert all(len(t) == 8 and t[0] < 10_000 for t in body["top"])
    assert all(v == sorted(v, reverse=True) for v in body["top_values"])

    classes = client.get(f"/api/runs/{run_id}/wants", params={"layer": 1, "limit": 64}).json()
    assert classes["count"] == 10 and all(a > 0.99 for a in classes["activation"])
    again = client.get(f"/api/runs/{run_id}/wants", params={"layer": 1, "limit": 3}).json()
    assert (
        again["images"] == base64.b64encode(base64.b64decode(classes["images"])[: 3 * 784]).decode()
    )  # cached per unit: the same ascent

    smooth = client.get(f"/api/runs/{run_id}/wants", params={"layer": 0, "limit": 2, "tv": 20}).json()
    assert smooth["tv"] == 20 and smooth["images"] != body["images"]
    wrong = client.get(f"/api/runs/{run_id}/wants", params={"layer": 2})
    assert wrong.status_code == 422 and "layer must be in 0..1" in wrong.json()["detail"]


def test_the_coach_is_silent_on_a_healthy_run_and_speaks_on_a_saturated_one(client, adam):
    healthy = client.get(f"/api/runs/{adam['id']}/coach").json()
    assert healthy == {"run_id": adam["id"], "epoch": 4, "advice": []}

    run = _train(client, preset="notebook-sgd", lr=5, epochs=2)
    advice = {a["code"]: a for a in client.get(f"/api/runs/{run['id']}/coach").json()["advice"]}
    assert {"saturated", "lr_too_high"} <= set(advice)
    saturated = advice["saturated"]
    assert saturated["changes"] == {"activation": "relu", "init": "he"}
    assert saturated["evidence"][0]["measure"] == "saturated" and saturated["evidence"][0]["value"] > 0.8
    assert "sigmoid" in saturated["finding"] and saturated["params"]["activation"] == "sigmoid"
    assert advice["lr_too_high"]["changes"] == {"lr": 0.5}
