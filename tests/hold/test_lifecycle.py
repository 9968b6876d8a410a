"""Run lifecycle under concurrent requests: one owner decides, a run never has two trainers, and after
a stop nothing trains it any more."""

from __future__ import annotations

import threading
import time

import httpx2 as httpx
import pytest

from tests.support import Server, finished, wait_for_run

pytestmark = pytest.mark.slow

LONG = {"preset": "notebook-sgd", "epochs": 40, "batch_size": 20, "seed": 3}


def at_once(server: Server, requests: list[tuple[str, str]]) -> list[int]:
    """Send the requests from separate threads released together; their status codes, in order."""
    codes = [0] * len(requests)
    start = threading.Barrier(len(requests))

    def send(i: int, method: str, path: str) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            start.wait()
            codes[i] = client.request(method, path).status_code

    threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def stored_steps(server: Server, run_id: str) -> int:
    return len(server.http.get(f"/api/runs/{run_id}/metrics").json()["steps"]["step"])


def test_concurrent_resumes_of_a_stopped_run_let_exactly_one_win(server_factory):
    server = server_factory()
    run_id = server.http.post("/api/runs", json=LONG).json()["id"]
    wait_for_run(server.http.get, run_id, lambda r: r["checkpoint_epoch"] >= 1)
    assert server.http.post(f"/api/runs/{run_id}/stop").json()["status"] == "stopped"

    codes = at_once(server, [("POST", f"/api/runs/{run_id}/resume")] * 8)
    assert sorted(codes) == [200] + [409] * 7, codes
    wait_for_run(server.http.get, run_id, lambda r: r["status"] == "running")
    workers = server.http.get("/api/stats").json()["workers"]
    assert list(workers) == [run_id]  # one trainer

    # resume against delete: whichever comes first wins, and the other loses cleanly
    assert server.http.post(f"/api/runs/{run_id}/stop").json()["status"] == "stopped"
    resume, delete = at_once(
        server, [("POST", f"/api/runs/{run_id}/resume"), ("DELETE", f"/api/runs/{run_id}")]
    )
    if delete == 204:
        assert resume == 404 and server.http.get(f"/api/runs/{run_id}").status_code == 404
        assert run_id not in server.http.get("/api/stats").json()["workers"]
    else:
        assert (resume, delete) == (200, 409)
        assert server.http.post(f"/api/runs/{run_id}/stop").json()["status"] == "stopped"


def test_after_a_stop_no_trainer_writes_the_run_any_more(server_factory):
    server = server_factory()
    run_id = server.http.post("/api/runs", json=LONG).json()["id"]
    wait_for_run(server.http.get, run_id, lambda r: r["status"] == "running" and r["steps_done"] > 500)
    stopped = server.http.post(f"/api/runs/{run_id}/stop").json()
    assert stopped["status"] == "stopped"
    assert run_id not in server.http.get("/api/stats").json()["workers"]
    time.sleep(1.5)  # the store writes what it buffered
    before = stored_steps(server, run_id)
    time.sleep(2.0)
    assert stored_steps(server, run_id) == before  # nobody trains it: 1,106 -> 1,319 in 4 s in v1
    assert server.http.get(f"/api/runs/{run_id}").json()["steps_done"] == before


def test_stop_and_resume_racing_leave_one_consistent_outcome(server_factory):
    server = server_factory()
    run_id = server.http.post("/api/runs", json=LONG).json()["id"]
    wait_for_run(server.http.get, run_id, lambda r: r["checkpoint_epoch"] >= 1)
    server.http.post(f"/api/runs/{run_id}/stop")
    for _ in range(3):
        at_once(server, [("POST", f"/api/runs/{run_id}/resume"), ("POST", f"/api/runs/{run_id}/stop")] * 3)
        run = server.http.get(f"/api/runs/{run_id}").json()
        trainers = [r for r, _ in server.http.get("/api/stats").json()["workers"].items() if r == run_id]
        assert len(trainers) <= 1
        if run["status"] in ("running", "loading-data", "queued"):
            assert server.http.post(f"/api/runs/{run_id}/stop").json()["status"] == "stopped"
        assert finished(server.http.get(f"/api/runs/{run_id}").json())
    assert run_id not in server.http.get("/api/stats").json()["workers"]
