"""Runs that blow up are marked diverged in their first epoch, and predictions keep the last good model."""

import pytest

from tests.support import finished, wait_for_run


@pytest.mark.parametrize(
    "blow_up",
    [
        {"preset": "notebook-sgd", "lr": 100},  # sigmoid + SGD (at lr 10 it still learns, slowly)
        {"preset": "notebook-adam", "lr": 1000},
        {"preset": "relu-adam", "lr": 10},
    ],
)
def test_a_diverging_run_is_marked_within_one_epoch_and_the_good_model_keeps_serving(client, mnist, blow_up):
    good = client.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1}).json()["id"]
    wait_for_run(client.get, good, finished)
    digit = {"pixels": (mnist.test_images[0] / 255).tolist()}
    before = client.post("/api/predict", json=digit).json()

    bad = client.post("/api/runs", json={**blow_up, "epochs": 5}).json()["id"]
    run = wait_for_run(client.get, bad, finished, timeout=120)

    assert run["status"] == "diverged", run
    assert run["epochs_done"] == 0 and run["checkpoint_epoch"] == -1
    assert "loss" in run["reason"]
    after = client.post("/api/predict", json=digit).json()
    assert after["model"]["run_id"] == good and after["probabilities"] == before["probabilities"]
    assert client.post("/api/predict", json={**digit, "run_id": bad}).status_code == 409
