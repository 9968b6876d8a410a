"""Damaged files after a restart: the damaged epoch answers 409 naming its file, every other epoch and
run keeps answering, and a damaged checkpoint falls back to an intact model."""

from __future__ import annotations

import pytest

from tests.support import finished, wait_for_run

pytestmark = pytest.mark.slow


def test_a_truncated_epoch_report_is_a_409_for_that_epoch_only(server_factory, tmp_path):
    data_dir = tmp_path / "data"
    server = server_factory(data_dir)
    run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 2}).json()["id"]
    wait_for_run(server.http.get, run_id, finished)
    server.kill()
    report = data_dir / "runs" / run_id / "epochs" / "0001.npz"
    report.write_bytes(report.read_bytes()[: report.stat().st_size // 3])

    server = server_factory(data_dir)
    base = f"/api/runs/{run_id}"
    for path in ("inspect", "weights", "confusion", "misclassified"):
        damaged = server.http.get(f"{base}/{path}", params={"epoch": 1})
        assert damaged.status_code == 409, (path, damaged.text)
        body = damaged.json()
        assert body["code"] == "report_damaged" and body["params"]["epoch"] == 1
        assert "0001.npz" in body["detail"], body
        assert server.http.get(f"{base}/{path}", params={"epoch": 2}).status_code == 200, path
        assert server.http.get(f"{base}/{path}", params={"epoch": 0}).status_code == 200, path
    health = server.http.get(f"{base}/health")
    assert health.status_code == 200 and health.json()["epochs"] == [0, 2] and health.json()["damaged"] == [1]
    assert server.http.get(base).status_code == 200
    assert server.http.post("/api/predict", json={"pixels": [0.0] * 784}).status_code == 200
