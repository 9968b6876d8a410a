"""The event loop does constant work per request: a whole class opening the page on a run of 375,000
steps, or polling it, never freezes the server (v1: every route, health included, froze for 40 s)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from deeplook.app.runs import build_config
from deeplook.app.schemas import RunCreate
from deeplook.app.store import Store
from deeplook.app.workers.training import Steps
from deeplook.engine.status import RunStatus
from deeplook.engine.train import EpochMetrics, StepMetrics
from tests.hold.test_lifecycle import at_once
from tests.support import Server

pytestmark = pytest.mark.slow

EPOCHS, STEPS_PER_EPOCH = 200, 1875  # notebook-adam's 375,000 steps


def long_history(data_dir: Path) -> str:
    """A stored run of 200 epochs (its metrics only: what a long finished run leaves in the database)."""
    store = Store(data_dir / "deeplook.sqlite3")
    config = build_config(RunCreate(preset="notebook-adam", epochs=EPOCHS))
    run_id = "aaaaaaaaaaaa"
    store.create_run(run_id, config, "notebook-adam", RunStatus.RUNNING)
    for epoch in range(1, EPOCHS + 1):
        first = (epoch - 1) * STEPS_PER_EPOCH + 1
        steps = [
            StepMetrics(s, epoch, 2.3 / (1 + s / 1000), 0.9) for s in range(first, first + STEPS_PER_EPOCH)
        ]
        metrics = EpochMetrics(epoch, epoch * STEPS_PER_EPOCH, 0.1, 0.97, 0.1, 0.96, 1.0, 60000.0)
        store.add_epoch(run_id, metrics, [Steps.of(steps)])
    store.set_status(run_id, RunStatus.COMPLETED)
    store.close()
    return run_id


def test_fifty_pages_opening_a_long_run_at_once_leave_health_quick(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    run_id = long_history(data_dir)
    server: Server = server_factory(data_dir)
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            started = time.monotonic()
            assert server.http.get("/api/health").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.01)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    snapshots: list[int] = []

    def open_page() -> None:
        with connect(server.ws_url, open_timeout=30) as ws:
            snapshot = json.loads(ws.recv(timeout=30))
            snapshots.append(len(snapshot["run"]["steps"]["step"]))

    pages = [threading.Thread(target=open_page) for _ in range(50)]
    for page in pages:
        page.start()
    codes = at_once(server, [("GET", f"/api/runs/{run_id}")] * 10)
    for page in pages:
        page.join(60)
    stop.set()
    prober.join(5)
    assert len(snapshots) == 50 and all(0 < n <= 2000 for n in snapshots)  # downsampled, for everyone
    assert codes == [200] * 10
    assert max(latencies) < 1.0, f"health took {max(latencies):.2f} s"
