"""A full disk under the data folder (a small tmpfs, mounted for the test): a run whose files no longer
fit ends failed with the reason and keeps its last good checkpoint; start and import answer 507 and
leave nothing behind; the server keeps serving; once space is freed, everything works again."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from deeplook.app.files import RunFiles
from deeplook.engine import serialize
from tests.support import finished, wait_for_run

pytestmark = pytest.mark.slow

SIZE = 6 << 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mountpoint)], check=False
    )
    if done.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """A filler file that leaves about ``leave`` bytes free."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with open(filler, "ab") as out:
        out.write(b"\0" * max(0, free - leave))
    with contextlib.suppress(OSError), open(filler, "ab") as out:
        while shutil.disk_usage(folder).free > leave:
            out.write(b"\0" * 4096)
    return filler


def test_a_full_disk_fails_the_run_then_507s_and_everything_recovers(server_factory, small_disk, mnist):
    data_dir = small_disk / "data"
    server = server_factory(data_dir)  # the dataset's shared copy lives in the cache, not here
    filler = fill(small_disk, leave=3_000_000)  # room for the database and a few epochs of files
    run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 40}).json()["id"]
    run = wait_for_run(server.http.get, run_id, finished, timeout=120)
    assert run["status"] == "failed" and run["reason_code"] == "write_failed", run
    assert run["checkpoint_epoch"] >= 1
    kept = serialize.load(RunFiles(data_dir / "runs").checkpoint(run_id, run["checkpoint_epoch"]))
    assert kept.epoch == run["checkpoint_epoch"]  # the last good checkpoint is intact
    assert server.http.post("/api/predict", json={"pixels": [0.0] * 784}).status_code == 200

    filler.unlink()
    filler = fill(small_disk, leave=0)  # nothing left at all
    model = server.http.get(f"/api/runs/{run_id}/model").content
    listed = server.http.get("/api/runs").json()
    folders = sorted(p.name for p in (data_dir / "runs").iterdir())
    start = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1})
    imported = server.http.post(
        "/api/runs/import", files={"file": ("m.npz", model, "application/octet-stream")}
    )
    for response in (start, imported):
        assert response.status_code in (503, 507), (response.status_code, response.text)
        assert response.json()["code"] in ("storage_full", "storage_unavailable")
    assert server.http.get("/api/runs").json() == listed  # nothing left behind
    assert sorted(p.name for p in (data_dir / "runs").iterdir()) == folders
    assert server.http.get("/api/health").status_code == 200
    assert server.http.post("/api/predict", json={"pixels": [0.0] * 784}).status_code == 200

    filler.unlink()  # space again: everything works
    again = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1})
    assert again.status_code == 201, again.text
    assert wait_for_run(server.http.get, again.json()["id"], finished)["status"] == "completed"
    assert server.http.post(f"/api/runs/{run_id}/resume").status_code == 200
    resumed = wait_for_run(
        server.http.get, run_id, lambda r: r["epochs_done"] > run["epochs_done"], timeout=120
    )
    assert resumed["status"] in ("running", "completed")
    server.http.post(f"/api/runs/{run_id}/stop")
