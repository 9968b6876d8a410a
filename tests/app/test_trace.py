"""POST /api/runs/{id}/trace: a step of the real network, as numbers; it never changes the run."""

import base64

import numpy as np

from tests.app.conftest import FAST_RUN
from tests.support import finished, wait_for_run


def decode(array):
    if array["values"] is not None:
        return np.array(array["values"]).reshape(array["shape"])
    return np.frombuffer(base64.b64decode(array["base64"]), "<f4").reshape(array["shape"])


def test_a_traced_step_of_the_random_start_and_of_a_drawing(client, mnist):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 1}).json()["id"]
    wait_for_run(client.get, run_id, finished)
    before = client.get(f"/api/runs/{run_id}/model").content

    drawn = {"pixels": (mnist.test_images[7] / 255).tolist(), "label": int(mnist.test_labels[7])}
    answer = client.post(
        f"/api/runs/{run_id}/trace",
        json={"epoch": 0, "images": [drawn], "indices": [0, 1, 2, 3, 4], "steps": 5, "full": True},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    names = [a["name"] for a in body["arrays"]]
    for name in (
        "X",
        "a1",
        "z1",
        "a2",
        "y_hat",
        "t",
        "Loss",
        "dy",
        "dW2",
        "db2",
        "dz1",
        "da1",
        "dW1",
        "db1",
        "W1",
    ):
        assert name in names, name
    arrays = {a["name"]: a for a in body["arrays"]}
    assert arrays["X"]["array"]["shape"] == [6, 784] and arrays["a1"]["array"]["shape"] == [6, 50]
    assert arrays["W1"]["array"]["image"] is not None and arrays["W1"]["array"]["excerpt"]  # 39,200 values
    X = decode(arrays["X"]["array"])
    np.testing.assert_allclose(X[5], mnist.test_images[7] / 255, atol=1e-6)  # the drawing is row 6
    assert body["labels"][:5] == mnist.train_labels[:5].tolist() and body["indices"][5] is None
    assert abs(body["losses"][0] - np.log(10)) < 0.1 and body["losses"][-1] < body["losses"][0]
    assert len(body["losses"]) == 6 and len(body["predictions"]) == 6
    assert client.get(f"/api/runs/{run_id}/model").content == before  # the run is untouched


def test_trace_bounds_are_422(client):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 1}).json()["id"]
    wait_for_run(client.get, run_id, finished)
    for body in ({"steps": 21}, {"indices": list(range(101))}, {"indices": [60_000]}, {"lr": 0}):
        assert client.post(f"/api/runs/{run_id}/trace", json=body).status_code == 422, body
    assert client.post(f"/api/runs/{run_id}/trace", json={"epoch": 5}).status_code == 404


def test_the_gradient_check_route_agrees_with_backprop(client):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 1}).json()["id"]
    wait_for_run(client.get, run_id, finished)
    body = client.post(
        f"/api/runs/{run_id}/gradient-check", json={"epoch": 1, "param": "W2", "index": [3, 4]}
    ).json()
    assert body["relative_error"] < 1e-6 and body["backprop"] != 0
    bad = client.post(f"/api/runs/{run_id}/gradient-check", json={"param": "W9", "index": [0, 0]})
    assert bad.status_code == 422


def test_the_gradient_check_takes_the_traces_batch_drawings_included(client, mnist):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 1}).json()["id"]
    wait_for_run(client.get, run_id, finished)
    drawn = {"pixels": (mnist.test_images[7] / 255).tolist(), "label": int(mnist.test_labels[7])}
    pixel = int(np.argmax(mnist.test_images[7]))  # ink in the drawing
    weight = {"epoch": 0, "param": "W1", "index": [pixel, 7]}
    plain = client.post(f"/api/runs/{run_id}/gradient-check", json=weight).json()  # the first five
    batch = {"epoch": 0, "indices": [0, 1, 2, 3, 4], "images": [drawn]}
    mixed = client.post(f"/api/runs/{run_id}/gradient-check", json={**weight, **batch})
    only = client.post(f"/api/runs/{run_id}/gradient-check", json={**weight, "images": [drawn]})
    assert mixed.status_code == 200 and only.status_code == 200, (mixed.text, only.text)
    for body in (plain, mixed.json(), only.json()):
        assert body["relative_error"] < 1e-6 and body["backprop"] != 0

    assert len({plain["backprop"], mixed.json()["backprop"], only.json()["backprop"]}) == 3
    traced = client.post(f"/api/runs/{run_id}/trace", json={**batch, "full": True}).json()
    dW1 = decode(next(a for a in traced["arrays"] if a["name"] == "dW1")["array"])
    assert abs(dW1[pixel, 7] - mixed.json()["backprop"]) <= 1e-4 * abs(dW1[pixel, 7])  # float32 vs float64
