"""Another process holding an exclusive lock on the database: no route stalls, training goes on with
its steps buffered, nothing is lost; a lock held past the limit fails the run (recorded once the lock
is gone) and the run resumes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hold.test_lifecycle import stored_steps
from tests.support import Server, finished, wait_for_run

pytestmark = pytest.mark.slow

HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def hold_lock(database: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(database), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def timed(server: Server, path: str) -> tuple[int, float]:
    started = time.monotonic()
    code = server.http.get(path).status_code
    return code, time.monotonic() - started


def test_a_lock_shorter_than_the_limit_stalls_no_route_and_loses_nothing(server_factory, tmp_path):
    server = server_factory(tmp_path / "data")
    request = {"preset": "notebook-sgd", "epochs": 6, "batch_size": 50, "seed": 2}
    run_id = server.http.post("/api/runs", json=request).json()["id"]
    wait_for_run(server.http.get, run_id, lambda r: r["status"] == "running")
    holder = hold_lock(tmp_path / "data" / "deeplook.sqlite3", 6.0)
    answers = []
    steps = []
    while holder.poll() is None:
        for path in ("/api/health", "/api/runs", f"/api/runs/{run_id}", "/api/ready", "/api/stats"):
            answers.append((path, *timed(server, path)))
        steps.append(server.http.get(f"/api/runs/{run_id}").json()["steps_done"])
        time.sleep(0.1)
    assert all(code in (200, 503) for _, code, _ in answers), answers
    slowest = max(seconds for _, _, seconds in answers)
    assert slowest < 1.0, sorted(answers, key=lambda a: -a[2])[:3]  # v1: health 4.7 s, list 9.9 s
    holder.communicate()
    assert steps[-1] > steps[0]  # training went on, its steps buffered
    run = wait_for_run(server.http.get, run_id, finished, timeout=120)
    assert run["status"] == "completed", run
    assert [e["epoch"] for e in run["epochs"]] == list(range(1, 7))
    time.sleep(1.5)
    assert stored_steps(server, run_id) == 6 * 1200  # every step, none lost


def test_a_lock_past_the_limit_fails_the_run_and_the_failure_is_recorded_after(server_factory, tmp_path):
    server = server_factory(tmp_path / "data", env={"DEEPLOOK_STORE_LOCK_LIMIT": "1.5"})
    run_id = server.http.post(
        "/api/runs", json={"preset": "notebook-sgd", "epochs": 40, "batch_size": 50}
    ).json()["id"]
    wait_for_run(server.http.get, run_id, lambda r: r["checkpoint_epoch"] >= 1)
    holder = hold_lock(tmp_path / "data" / "deeplook.sqlite3", 6.0)
    failed = wait_for_run(server.http.get, run_id, lambda r: r["status"] != "running", timeout=15)
    assert failed["status"] == "failed" and failed["reason_code"] == "write_failed", failed
    assert "locked" in failed["reason"]
    assert timed(server, "/api/health")[1] < 1.0
    holder.communicate(timeout=10)
    time.sleep(3)  # the final status is written again once the lock is gone
    server.kill()
    restarted = server_factory(tmp_path / "data")
    record = restarted.http.get(f"/api/runs/{run_id}").json()
    assert record["status"] == "failed" and record["reason_code"] == "write_failed"  # not interrupted
    assert restarted.http.post(f"/api/runs/{run_id}/resume").status_code == 200
    wait_for_run(restarted.http.get, run_id, lambda r: r["status"] == "running")
    restarted.http.post(f"/api/runs/{run_id}/stop")


def test_a_run_says_it_has_a_checkpoint_only_once_the_database_holds_it(server_factory, tmp_path):
    """A server killed right after answering "checkpoint_epoch: 2" must come back with epoch 2 (the
    run's memory said so before SQLite did, and the killed-server test saw 1 after a restart)."""
    server = server_factory(tmp_path / "data")
    database = tmp_path / "data" / "deeplook.sqlite3"
    run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 40, "seed": 3}).json()[
        "id"
    ]
    wait_for_run(server.http.get, run_id, lambda r: r["status"] == "running")
    holder = hold_lock(database, 4.0)
    with sqlite3.connect(database) as reader:  # WAL: reads go on under the writer's lock
        (stored,) = reader.execute("SELECT checkpoint_epoch FROM runs WHERE id = ?", (run_id,)).fetchone()
    said = []
    while holder.poll() is None:
        said.append(server.http.get(f"/api/runs/{run_id}").json())
        time.sleep(0.05)
    holder.communicate()
    assert max(run["epochs_done"] for run in said) > max(stored, 0)  # epochs ended under the lock
    assert {run["checkpoint_epoch"] for run in said} == {stored}  # and none was claimed as saved
    later = wait_for_run(server.http.get, run_id, lambda r: r["checkpoint_epoch"] > stored, timeout=30)
    server.http.post(f"/api/runs/{run_id}/stop")
    with sqlite3.connect(database) as reader:
        (now,) = reader.execute("SELECT checkpoint_epoch FROM runs WHERE id = ?", (run_id,)).fetchone()
    assert now >= later["checkpoint_epoch"]
