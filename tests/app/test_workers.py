"""Runs leave the server: each trains in a worker process, several at once, a queue beyond, a killed
worker fails only its run, races share their start, a learning rate changes mid-run, and Ray."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time

import numpy as np
import pytest
from websockets.sync.client import connect

from deeplook.engine import serialize
from deeplook.engine.config import configure, preset_config
from deeplook.engine.train import LearningRateChange, Trainer
from tests.support import Server, finished, unbatch, wait_for_run

pytestmark = pytest.mark.slow


def alone(mnist, request: dict, schedule=()):
    """The same run trained alone, in this process, by the engine."""
    overrides = {k: v for k, v in request.items() if k != "preset"}
    trainer = Trainer(configure(preset_config(request["preset"]), overrides), mnist, schedule=schedule)
    list(trainer.run())
    return trainer.model.arrays()


def final_weights(server: Server, run_id: str):
    return serialize.load(server.http.get(f"/api/runs/{run_id}/model").content).weights.arrays


def worker_pid(server: Server, run_id: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        where = server.http.get("/api/stats").json()["workers"].get(run_id, "")
        match = re.search(r"pid (\d+)", where)
        if match:
            return int(match.group(1))
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} has no worker process")


class HealthProbe:
    """Polls /api/health in a thread; every answer's status and latency."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.answers: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                code = self.server.http.get("/api/health", timeout=5).status_code
            except Exception:
                code = 0
            self.answers.append((code, time.monotonic() - started))
            time.sleep(0.02)

    def stop(self) -> list[tuple[int, float]]:
        self._stop.set()
        self._thread.join(5)
        return self.answers


def test_four_runs_at_once_two_train_two_wait_all_complete_as_if_trained_alone(server_factory, mnist):
    server = server_factory(env={"DEEPLOOK_MAX_ACTIVE_RUNS": "2"})
    requests = [{"preset": "notebook-sgd", "epochs": 2, "seed": seed} for seed in (1, 2, 3, 4)]
    epochs: dict[str, list[int]] = {}
    steps: dict[str, list[int]] = {}
    with connect(server.ws_url) as ws:
        assert json.loads(ws.recv())["type"] == "snapshot"
        answers = [server.http.post("/api/runs", json=r).json() for r in requests]
        ids = [a["id"] for a in answers]
        assert [a["status"] for a in answers[2:]] == ["queued", "queued"]
        assert [a["queue_position"] for a in answers[2:]] == [1, 2]
        done: set[str] = set()
        deadline = time.monotonic() + 180
        while done != set(ids) and time.monotonic() < deadline:
            for message in unbatch(json.loads(ws.recv(timeout=60))):
                run_id = message.get("run_id") or message.get("run", {}).get("id")
                if message["type"] == "epoch":
                    epochs.setdefault(run_id, []).append(message["metrics"]["epoch"])
                elif message["type"] == "step":
                    steps.setdefault(run_id, []).extend(message["step"])
                elif message["type"] == "status" and finished(message["run"]):
                    assert message["run"]["status"] == "completed", message["run"]
                    done.add(run_id)
    assert done == set(ids)
    for run_id in ids:
        assert epochs[run_id] == [1, 2], run_id  # every epoch of each, in order
        assert sorted(set(steps[run_id])) == list(range(1, 1201)), run_id  # no gaps
    for run_id, request in zip(ids, requests, strict=True):
        for mine, theirs in zip(final_weights(server, run_id), alone(mnist, request), strict=True):
            np.testing.assert_array_equal(mine, theirs)  # bit for bit, concurrency or not


def test_a_killed_worker_fails_its_run_alone_and_the_run_resumes_bit_for_bit(server_factory, mnist):
    server = server_factory()
    victim_request = {"preset": "notebook-sgd", "epochs": 3, "seed": 7, "batch_size": 20}
    victim = server.http.post("/api/runs", json=victim_request).json()["id"]
    other = server.http.post(
        "/api/runs", json={"preset": "notebook-sgd", "epochs": 6, "seed": 8, "batch_size": 20}
    ).json()["id"]
    wait_for_run(server.http.get, victim, lambda r: r["checkpoint_epoch"] >= 1 and r["status"] == "running")
    probe = HealthProbe(server)
    pid = worker_pid(server, victim)
    # trainers yield the CPU to the server (DEEPLOOK_WORKER_NICENESS, 5 by default)
    server_priority = os.getpriority(os.PRIO_PROCESS, server.process.pid)
    assert os.getpriority(os.PRIO_PROCESS, pid) == server_priority + 5
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    failed = wait_for_run(server.http.get, victim, lambda r: r["status"] != "running", timeout=10)
    took = time.monotonic() - killed
    assert failed["status"] == "failed" and took < 2.0, (failed, took)
    assert failed["reason_code"] == "worker_died" and "SIGKILL" in failed["reason"]
    before = server.http.get(f"/api/runs/{other}").json()["steps_done"]
    time.sleep(1.0)
    assert server.http.get(f"/api/runs/{other}").json()["steps_done"] > before  # the other trains on
    answers = probe.stop()
    assert answers and all(code == 200 for code, _ in answers)

    assert server.http.post(f"/api/runs/{victim}/resume").status_code == 200
    resumed = wait_for_run(server.http.get, victim, finished, timeout=120)
    assert resumed["status"] == "completed" and [e["epoch"] for e in resumed["epochs"]] == [1, 2, 3]
    for mine, theirs in zip(final_weights(server, victim), alone(mnist, victim_request), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    server.http.post(f"/api/runs/{other}/stop")


def test_a_learning_rate_change_mid_run_is_recorded_and_a_resume_makes_it_again(server_factory, mnist):
    server = server_factory()
    request = {"preset": "notebook-sgd", "epochs": 3, "seed": 5, "batch_size": 20}
    run_id = server.http.post("/api/runs", json=request).json()["id"]
    wait_for_run(server.http.get, run_id, lambda r: r["checkpoint_epoch"] >= 1 and r["status"] == "running")
    assert server.http.patch(f"/api/runs/{run_id}", json={"lr": 0.02}).status_code == 200
    run = wait_for_run(server.http.get, run_id, lambda r: r["lr_changes"])
    [change] = run["lr_changes"]
    assert change["lr"] == 0.02 and change["step"] > 3000
    os.kill(worker_pid(server, run_id), signal.SIGKILL)  # lose the rest of the epoch the change is in
    wait_for_run(server.http.get, run_id, lambda r: r["status"] == "failed", timeout=10)
    assert server.http.post(f"/api/runs/{run_id}/resume").status_code == 200
    done = wait_for_run(server.http.get, run_id, finished, timeout=120)
    assert done["status"] == "completed" and done["lr_changes"] == [change]
    expected = alone(mnist, request, [LearningRateChange(change["step"], change["lr"])])
    for mine, theirs in zip(final_weights(server, run_id), expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_race_of_sgd_and_adam_shares_its_start_and_its_minibatches(server_factory):
    server = server_factory()
    race = server.http.post("/api/races", json={"race": "sgd-vs-adam", "settings": {"epochs": 1}})
    assert race.status_code == 201, race.text
    body = race.json()
    assert body["differs"] == ["optimizer", "lr"]
    ids = [run["id"] for run in body["runs"]]
    assert [run["name"] for run in body["runs"]] == ["optimizer sgd, lr 0.1", "optimizer adam, lr 0.001"]
    for run_id in ids:
        wait_for_run(server.http.get, run_id, finished, timeout=120)
    starts = [
        serialize.load(
            server.http.get(f"/api/runs/{run_id}/model", params={"epoch": 0}).content
        ).weights.arrays
        for run_id in ids
    ]
    for a, b in zip(*starts, strict=True):
        np.testing.assert_array_equal(a, b)  # identical initial weights
    losses = [server.http.get(f"/api/runs/{run_id}/metrics").json()["steps"]["loss"] for run_id in ids]
    assert losses[0][0] == losses[1][0]  # the same network on the same first minibatch, before any update
    assert losses[0][1] != losses[1][1]  # then each optimizer took its own step
    listed = server.http.get(f"/api/races/{body['id']}").json()
    assert [run["id"] for run in listed["runs"]] == ids and all(
        r["race_id"] == body["id"] for r in listed["runs"]
    )


def test_the_ray_executor_trains_the_same_weights_and_a_killed_actor_fails_its_run(server_factory, mnist):
    pytest.importorskip("ray", reason="the Ray executor needs deeplook[ray]")  # CI installs it
    server = server_factory(env={"DEEPLOOK_EXECUTOR": "ray"}, startup=90)
    request = {"preset": "notebook-sgd", "epochs": 2, "seed": 3}
    run_id = server.http.post("/api/runs", json=request).json()["id"]
    done = wait_for_run(server.http.get, run_id, finished, timeout=120)
    assert done["status"] == "completed"
    assert server.http.get("/api/stats").json()["executor"] == "ray"
    for mine, theirs in zip(final_weights(server, run_id), alone(mnist, request), strict=True):
        np.testing.assert_array_equal(mine, theirs)

    long_run = server.http.post("/api/runs", json={**request, "epochs": 50}).json()["id"]
    wait_for_run(server.http.get, long_run, lambda r: r["status"] == "running")
    os.kill(worker_pid(server, long_run), signal.SIGKILL)  # the actor's process dies
    failed = wait_for_run(server.http.get, long_run, lambda r: r["status"] != "running", timeout=30)
    assert failed["status"] == "failed" and failed["reason_code"] == "worker_died"
    assert "Ray actor died" in failed["reason"]


def test_trainers_yield_to_the_server_only_while_they_fill_every_core(server_factory):
    cores = os.cpu_count() or 1
    server = server_factory(env={"DEEPLOOK_MAX_ACTIVE_RUNS": str(cores), "DEEPLOOK_WORKER_NICENESS": "7"})
    base = os.getpriority(os.PRIO_PROCESS, server.process.pid)
    long_run = {"preset": "notebook-sgd", "epochs": 50, "batch_size": 10}

    def pids() -> dict[str, int]:
        workers = server.http.get("/api/stats").json()["workers"]
        return {
            run: int(m.group(1)) for run, where in workers.items() if (m := re.search(r"pid (\d+)", where))
        }

    def niceness_becomes(runs: list[str], expected: int) -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = pids()
            if all(run in found for run in runs) and all(
                os.getpriority(os.PRIO_PROCESS, found[run]) - base == expected for run in runs
            ):
                return True
            time.sleep(0.1)
        return False

    ids = [server.http.post("/api/runs", json={**long_run, "seed": 1}).json()["id"]]
    if cores > 1:
        assert niceness_becomes(ids, 0)  # a core to spare: at the server's priority
    ids += [
        server.http.post("/api/runs", json={**long_run, "seed": s}).json()["id"] for s in range(2, cores + 1)
    ]
    assert niceness_becomes(ids, 7)  # every core taken: all yield to the server
    if cores > 1 and os.geteuid() == 0:  # lowering a priority back needs the privilege (CI runs as root)
        server.http.post(f"/api/runs/{ids[-1]}/stop")
        assert niceness_becomes(ids[:-1], 0)  # a core free again
    for run_id in ids:
        server.http.post(f"/api/runs/{run_id}/stop")
