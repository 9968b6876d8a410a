"""Runs through the real app and the real MNIST: the stream, control, history and its exports."""

import csv
import io
import time

import numpy as np
from fastapi.testclient import TestClient

from deeplook.app.main import create_app
from deeplook.engine import serialize
from tests.app.conftest import FAST_RUN
from tests.support import finished, unbatch, wait_for_run


def test_stream_carries_snapshot_steps_epochs_and_completion_in_order(client):
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json() == {"type": "snapshot", "run": None, "progress": None}
        response = client.post("/api/runs", json=FAST_RUN)
        assert response.status_code == 201
        run_id = response.json()["id"]
        messages: list[dict] = []
        while not any(m["type"] == "status" and finished(m["run"]) for m in messages):
            messages += unbatch(ws.receive_json())

    assert all(m.get("run_id", m.get("run", {}).get("id")) == run_id for m in messages)
    statuses = [m["run"]["status"] for m in messages if m["type"] == "status"]
    assert statuses == ["queued", "loading-data", "running", "completed"]
    steps = [s for m in messages if m["type"] == "step" for s in m["step"]]
    assert steps == list(range(1, 1201))  # 2 epochs of 600 steps, none missing or repeated
    epochs = [m["metrics"]["epoch"] for m in messages if m["type"] == "epoch"]
    assert epochs == [1, 2]
    kinds = [m["type"] for m in messages]
    assert kinds.index("epoch") > max(i for i, k in enumerate(kinds[: kinds.index("epoch")]) if k == "step")
    first_epoch = next(m for m in messages if m["type"] == "epoch")
    assert first_epoch["metrics"]["step"] == 600
    assert 0.6 < first_epoch["metrics"]["test_accuracy"] < 1


def test_a_late_viewer_gets_the_whole_history_in_the_snapshot(client):
    run_id = client.post("/api/runs", json=FAST_RUN).json()["id"]
    wait_for_run(client.get, run_id, finished)
    with client.websocket_connect("/ws") as ws:
        snapshot = ws.receive_json()
    run = snapshot["run"]
    assert run["id"] == run_id and run["status"] == "completed"
    assert [e["epoch"] for e in run["epochs"]] == [1, 2]
    assert run["steps"]["step"] == list(range(1, 1201))
    assert run["steps"]["downsampled"] is False


def test_starts_beyond_the_active_limit_are_queued_then_refused_with_429(settings):
    settings = settings.model_copy(update={"max_active_runs": 1, "max_queued_runs": 1})
    with TestClient(create_app(settings)) as client:
        first = client.post("/api/runs", json={**FAST_RUN, "epochs": 5}).json()
        second = client.post("/api/runs", json=FAST_RUN)
        assert second.status_code == 201
        assert (second.json()["status"], second.json()["queue_position"]) == ("queued", 1)
        third = client.post("/api/runs", json=FAST_RUN)
        assert third.status_code == 429 and third.json()["code"] == "queue_full"
        assert int(third.headers["retry-after"]) > 0
        client.post(f"/api/runs/{first['id']}/stop")
        started = wait_for_run(client.get, second.json()["id"], lambda r: r["status"] != "queued")
        assert started["queue_position"] is None


def test_stop_ends_within_a_second_and_keeps_the_last_epochs_model(client, mnist):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 50}).json()["id"]
    wait_for_run(client.get, run_id, lambda r: r["epochs_done"] >= 1)

    started = time.monotonic()
    stopped = client.post(f"/api/runs/{run_id}/stop")
    elapsed = time.monotonic() - started

    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert elapsed < 1.0
    run = client.get(f"/api/runs/{run_id}").json()
    assert run["checkpoint_epoch"] == run["epochs_done"] >= 1
    checkpoint = serialize.load(client.get(f"/api/runs/{run_id}/model").content)
    assert checkpoint.epoch == run["checkpoint_epoch"]
    probs = checkpoint.weights.predict_proba(mnist.test_images[:200] / 255)
    assert (probs.argmax(axis=1) == mnist.test_labels[:200]).mean() > 0.6


def test_pause_holds_training_and_resume_continues(client):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 3}).json()["id"]
    wait_for_run(client.get, run_id, lambda r: r["status"] == "running")
    assert client.post(f"/api/runs/{run_id}/pause").json()["status"] == "paused"
    time.sleep(0.3)  # let the step in flight finish
    before = client.get(f"/api/runs/{run_id}").json()["steps"]["step"][-1:]
    time.sleep(0.5)
    after = client.get(f"/api/runs/{run_id}").json()["steps"]["step"][-1:]
    assert before == after
    assert client.post(f"/api/runs/{run_id}/resume").json()["status"] == "running"
    run = wait_for_run(client.get, run_id, finished)
    assert run["status"] == "completed" and run["epochs_done"] == 3


def test_control_of_a_run_that_is_not_active_is_a_409_and_unknown_runs_404(client):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 1}).json()["id"]
    wait_for_run(client.get, run_id, finished)
    for action in ("pause", "stop"):
        response = client.post(f"/api/runs/{run_id}/{action}")
        assert response.status_code == 409 and "completed" in response.json()["detail"]
    assert client.post(f"/api/runs/{run_id}/resume").status_code == 409
    assert client.get("/api/runs/0123456789ab").status_code == 404
    assert client.post("/api/runs/0123456789ab/stop").status_code == 404


def test_metrics_exports_hold_every_step_and_epoch(client):
    run_id = client.post("/api/runs", json=FAST_RUN).json()["id"]
    wait_for_run(client.get, run_id, finished)

    data = client.get(f"/api/runs/{run_id}/metrics").json()
    assert data["steps"]["step"] == list(range(1, 1201))
    assert [e["epoch"] for e in data["epochs"]] == [1, 2]

    response = client.get(f"/api/runs/{run_id}/metrics.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["step"]) for r in rows if r["record"] == "step"] == list(range(1, 1201))
    epoch_rows = [r for r in rows if r["record"] == "epoch"]
    assert [int(r["epoch"]) for r in epoch_rows] == [1, 2]
    assert float(epoch_rows[-1]["test_accuracy"]) == data["epochs"][-1]["test_accuracy"]


def test_delete_removes_a_finished_run_and_refuses_an_active_one(client, settings):
    run_id = client.post("/api/runs", json={**FAST_RUN, "epochs": 1}).json()["id"]
    wait_for_run(client.get, run_id, finished)
    assert (settings.runs_dir / run_id / "checkpoints" / "0001.npz").exists()
    active = client.post("/api/runs", json={**FAST_RUN, "epochs": 20}).json()["id"]
    assert client.delete(f"/api/runs/{active}").status_code == 409
    client.post(f"/api/runs/{active}/stop")

    assert client.delete(f"/api/runs/{run_id}").status_code == 204
    assert client.get(f"/api/runs/{run_id}").status_code == 404
    assert not (settings.runs_dir / run_id).exists()
    assert [r["id"] for r in client.get("/api/runs").json()] == [active]


def test_invalid_run_configs_are_422_with_the_field_named(client):
    cases = {
        "hidden": {"hidden": [0]},
        "epochs": {"epochs": 1001},
        "lr": {"lr": 0},
        "lr ": {"lr": 1001},
        "batch_size": {"batch_size": 60001},
        "activation": {"activation": "softplus"},
        "colour": {"colour": "red"},
    }
    for field, body in cases.items():
        response = client.post("/api/runs", json=body)
        assert response.status_code == 422, field
        assert field.strip() in str(response.json()["detail"])
    too_deep = client.post("/api/runs", json={"hidden": [8] * 7})
    assert too_deep.status_code == 422
    unknown = client.post("/api/runs", json={"preset": "bigger"})
    assert unknown.status_code == 422 and "preset" in str(unknown.json()["detail"])


def test_step_losses_of_long_runs_are_downsampled_keeping_spikes(client):
    run_id = client.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1, "batch_size": 10}).json()[
        "id"
    ]
    run = wait_for_run(client.get, run_id, finished)
    steps = run["steps"]
    response = client.get(f"/api/runs/{run_id}/metrics", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"  # a long history travels compressed
    full = response.json()["steps"]
    assert len(full["step"]) == 6000 and steps["downsampled"] is True
    assert len(steps["step"]) <= 2000
    assert max(steps["loss"]) == max(full["loss"]) and min(steps["loss"]) == min(full["loss"])
    assert np.all(np.diff(steps["step"]) > 0)
