"""A predict-only replica over a full server's data folder: it serves the pinned model, follows a new
pin within a second on every worker, drops no request while it switches, and has no training routes."""

import threading
import time

import numpy as np
import pytest

from tests.support import canvas_png, finished, wait_for_run

pytestmark = pytest.mark.slow


def test_a_replica_with_two_workers_switches_to_a_new_pin_without_a_failed_request(server_factory, mnist):
    main = server_factory()
    first, second = (
        main.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1, "seed": seed}).json()["id"]
        for seed in (1, 2)
    )
    for run_id in (first, second):
        assert wait_for_run(main.http.get, run_id, finished, timeout=120)["status"] == "completed"
    assert main.http.put("/api/models/current", json={"run_id": first}).status_code == 200

    replica = server_factory(
        main.data_dir, env={"DEEPLOOK_PREDICT_ONLY": "1", "DEEPLOOK_WORKERS": "2"}, startup=90
    )
    body = {"pixels": (mnist.test_images[0] / 255).tolist()}
    answer = replica.http.post("/api/predict", json=body).json()
    assert answer["model"]["run_id"] == first and answer["model"]["pinned"]
    assert replica.http.post("/api/runs", json={}).status_code == 404
    assert replica.http.get("/api/runs").status_code == 404
    assert replica.http.get("/api/ready").json()["ready"]
    assert "/ws" not in replica.http.get("/openapi.json").text

    answers: list[tuple[float, int, str | None]] = []
    stop = threading.Event()

    def ask() -> None:
        import httpx2 as httpx  # one keep-alive client per thread

        with httpx.Client(base_url=replica.url, timeout=10) as client:
            while not stop.is_set():
                response = client.post("/api/predict", json=body)
                run = response.json()["model"]["run_id"] if response.status_code == 200 else None
                answers.append((time.monotonic(), response.status_code, run))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    pinned_at = time.monotonic()
    assert main.http.put("/api/models/current", json={"run_id": second}).status_code == 200
    time.sleep(2.5)
    stop.set()
    for thread in threads:
        thread.join(10)

    assert len(answers) > 50
    assert {status for _, status, _ in answers} == {200}, "a request failed during the switch"
    assert any(run == first for at, _, run in answers if at < pinned_at)
    late = [run for at, _, run in answers if at > pinned_at + 1.0]
    assert late and set(late) == {second}, "not every worker serves the new pin a second after it"
    switched = min(at for at, _, run in answers if run == second) - pinned_at
    assert switched < 1.0
    np.testing.assert_allclose(
        replica.http.post("/api/predict", json=body).json()["probabilities"],
        main.http.post("/api/predict", json=body).json()["probabilities"],
    )
    png = canvas_png(mnist.test_images[1])  # a picture, decoded on the replica's own thread pool
    pictures = [
        server.http.post("/api/predict", content=png, headers={"content-type": "image/png"})
        for server in (replica, main)
    ]
    assert [answer.status_code for answer in pictures] == [200, 200]
    np.testing.assert_allclose(pictures[0].json()["probabilities"], pictures[1].json()["probabilities"])
