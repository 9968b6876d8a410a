"""Crashes: SIGKILL at random moments of training, twenty times, then resume; SIGTERM with viewers."""

import random
import sqlite3
import threading
import time

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from deeplook.app.files import RunFiles
from deeplook.engine import serialize
from deeplook.engine.config import PRESETS
from deeplook.engine.train import Trainer
from tests.support import finished, wait_for_run

pytestmark = pytest.mark.slow

EPOCHS = 30  # enough that twenty kills come before the end, even on a fast machine
CONFIG = {"preset": "notebook-sgd", "epochs": EPOCHS, "batch_size": 20, "seed": 11}
KILLS = 20


def stored_epochs(database):
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [row[0] for row in db.execute("SELECT epoch FROM epochs ORDER BY epoch")]


def test_twenty_sigkills_then_resume_reach_the_uninterrupted_weights(server_factory, tmp_path, mnist):
    reference = Trainer(PRESETS["notebook-sgd"].config.replace(epochs=EPOCHS, batch_size=20, seed=11), mnist)
    list(reference.run())  # the same run, never interrupted

    data_dir = tmp_path / "data"
    database = data_dir / "deeplook.sqlite3"
    chance = random.Random(20261128)
    run_id = None
    kills = 0
    while kills < KILLS:
        server = server_factory(data_dir)
        if run_id is None:
            run_id = server.http.post("/api/runs", json=CONFIG).json()["id"]
        else:
            run = server.http.get(f"/api/runs/{run_id}").json()
            assert run["status"] == "interrupted", run
            if run["checkpoint_epoch"] >= 1:
                checkpoint = serialize.load(
                    RunFiles(data_dir / "runs").checkpoint(run_id, run["checkpoint_epoch"])
                )
                assert checkpoint.epoch == run["checkpoint_epoch"]
            if run["checkpoint_epoch"] >= EPOCHS - 1:  # too close to the end to be killed mid-run again
                break
            assert server.http.post(f"/api/runs/{run_id}/resume").status_code == 200
        time.sleep(chance.uniform(0.1, 1.6))
        server.kill()
        server.close()
        kills += 1
        epochs = stored_epochs(database)
        assert epochs == list(range(1, len(epochs) + 1)), epochs

    server = server_factory(data_dir)
    run = server.http.get(f"/api/runs/{run_id}").json()
    if run["status"] == "interrupted":
        server.http.post(f"/api/runs/{run_id}/resume")
    run = wait_for_run(server.http.get, run_id, finished, timeout=300)
    assert run["status"] == "completed" and run["epochs_done"] == EPOCHS
    assert stored_epochs(database) == list(range(1, EPOCHS + 1))
    final = serialize.load(server.http.get(f"/api/runs/{run_id}/model").content)
    for mine, theirs in zip(final.weights.arrays, reference.model.arrays(), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # bit for bit, however often it was killed
    assert kills == KILLS, "the run came too close to its end before it was killed twenty times"


def test_sigterm_with_viewers_stops_cleanly_and_keeps_the_checkpoint(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    server = server_factory(data_dir)
    run_id = server.http.post("/api/runs", json={**CONFIG, "epochs": 100}).json()["id"]
    wait_for_run(server.http.get, run_id, lambda r: r["checkpoint_epoch"] >= 1)
    closes = []

    def watch():
        with connect(server.ws_url) as viewer:
            try:
                while True:
                    viewer.recv(timeout=30)
            except ConnectionClosed:
                closes.append(viewer.close_code)

    viewers = [threading.Thread(target=watch) for _ in range(3)]
    for viewer in viewers:
        viewer.start()
    time.sleep(0.5)
    elapsed = server.terminate()
    for viewer in viewers:
        viewer.join(15)

    assert elapsed < 10
    assert len(closes) == 3 and all(code in (1001, 1012) for code in closes), closes
    with sqlite3.connect(data_dir / "deeplook.sqlite3") as db:
        status, checkpoint_epoch = db.execute(
            "SELECT status, checkpoint_epoch FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
    assert status == "stopped"
    checkpoint = RunFiles(data_dir / "runs").checkpoint(run_id, checkpoint_epoch)
    assert serialize.load(checkpoint).epoch == checkpoint_epoch >= 1
    assert "Traceback" not in server.log.read_text()
