"""Importing a checkpoint as a model: good files serve, bad ones are refused and change nothing."""

import io
import zipfile

import numpy as np
import pytest

from deeplook.engine import serialize
from deeplook.engine.config import PRESETS
from deeplook.engine.train import Trainer
from tests.support import finished, wait_for_run


@pytest.fixture(scope="module")
def big_checkpoint(mnist):
    """A relu-adam checkpoint (784-256-128-10 with Adam state): more than the 2 MB body limit."""
    trainer = Trainer(PRESETS["relu-adam"].config.replace(epochs=1), mnist)
    list(trainer.run())
    return serialize.dumps(trainer.last_checkpoint)


def upload(client, payload):
    return client.post("/api/runs/import", files={"file": ("model.npz", payload, "application/octet-stream")})


def npz(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.slow
def test_an_imported_checkpoint_becomes_the_current_model(client, big_checkpoint, mnist):
    assert len(big_checkpoint) > 2_000_000
    response = upload(client, big_checkpoint)
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["preset"] == "imported" and run["status"] == "completed" and run["checkpoint_epoch"] == 1
    answer = client.post("/api/predict", json={"pixels": (mnist.test_images[0] / 255).tolist()}).json()
    assert answer["model"]["run_id"] == run["id"] and answer["digit"] == 7
    assert client.get("/api/runs").json()[0]["id"] == run["id"]


def test_bad_model_files_are_refused_and_the_current_model_keeps_serving(client, mnist):
    run_id = client.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1}).json()["id"]
    wait_for_run(client.get, run_id, finished)
    good = client.get(f"/api/runs/{run_id}/model").content
    arrays = dict(np.load(io.BytesIO(good), allow_pickle=False))
    wrong_keys = {k.replace("dense0", "layer0"): v for k, v in arrays.items()}
    wrong_shape = {**arrays, "param/dense0.W": np.zeros((784, 49), np.float32)}
    with_object = {**arrays, "param/dense0.b": np.array([object()] * 50, dtype=object)}
    cases = {
        "object array": npz(with_object),
        "wrong keys": npz(wrong_keys),
        "wrong shape": npz(wrong_shape),
        "truncated": good[: len(good) // 2],
        "not a zip": b"\x93NUMPY not really",
        "empty": b"",
    }
    for name, payload in cases.items():
        response = upload(client, payload)
        assert response.status_code == 422, name
        assert "checkpoint" in response.json()["detail"], name
        answer = client.post("/api/predict", json={"pixels": (mnist.test_images[0] / 255).tolist()}).json()
        assert answer["model"]["run_id"] == run_id, name
    assert len(client.get("/api/runs").json()) == 1
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        assert "param/dense0.W.npy" in archive.namelist()
