"""Hostile checkpoint imports against a real server: each is a 422 naming the problem, nothing is left
behind, the current model keeps serving, and memory does not grow with what the file claims."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.support import Server, finished, wait_for_run

pytestmark = pytest.mark.slow


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class PeakMemory:
    """The largest resident size of a process while the block runs, sampled every 5 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self.before = rss_kib(self.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1024


def npy_bytes(array: np.ndarray, header_shape: tuple[int, ...] | None = None) -> bytes:
    """An .npy member, optionally with a header that claims another shape than its data has."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer,
        {
            "descr": np.lib.format.dtype_to_descr(array.dtype),
            "fortran_order": False,
            "shape": header_shape or array.shape,
        },
    )
    buffer.write(np.ascontiguousarray(array).tobytes())
    return buffer.getvalue()


def archive(members: dict[str, bytes], deflate: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as out:
        for name, data in members.items():
            out.writestr(f"{name}.npy", data)
    return buffer.getvalue()


def members_of(checkpoint: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(checkpoint)) as source:
        return {info.filename.removesuffix(".npy"): source.read(info) for info in source.infolist()}


def with_config(members: dict[str, bytes], text: str) -> bytes:
    return archive({**members, "config": npy_bytes(np.array(text))})


def bomb(members: dict[str, bytes], inflated: int) -> bytes:
    """A deflated member that inflates to ``inflated`` zero bytes, written in chunks."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(f"{name}.npy", data)
        header = io.BytesIO()
        shape = (inflated // 4,)
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
        with out.open("optim/m/all.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            chunk = bytes(1 << 20)
            for _ in range(inflated >> 20):
                member.write(chunk)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def serving(tmp_path_factory, mnist):
    server = Server(tmp_path_factory.mktemp("imports") / "data")
    run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 1}).json()["id"]
    wait_for_run(server.http.get, run_id, finished)
    yield server, run_id, server.http.get(f"/api/runs/{run_id}/model").content
    server.close()


def upload(server: Server, payload: bytes):
    return server.http.post(
        "/api/runs/import", files={"file": ("model.npz", payload, "application/octet-stream")}, timeout=60
    )


def hostile_files(good: bytes) -> dict[str, tuple[bytes, str]]:
    """Each hostile file, and a word its 422 must say."""
    members = members_of(good)
    config = json.loads(np.load(io.BytesIO(members["config"])).item())
    weights = np.load(io.BytesIO(members["param/dense0.W"]))
    # a consistent network of another input size and class count than the dataset it claims
    foreign = {**config, "model": {**config["model"], "hidden": [8], "input_size": 100, "classes": 3}}
    small = {k: v for k, v in members.items() if not k.startswith(("param/", "optim/"))}
    shapes = {
        "param/dense0.W": (100, 8),
        "param/dense0.b": (8,),
        "param/dense1.W": (8, 3),
        "param/dense1.b": (3,),
    }
    foreign_members = {**small, **{k: npy_bytes(np.zeros(shape, np.float32)) for k, shape in shapes.items()}}
    hidden = {**config, "model": {**config["model"], "hidden": ["fifty"]}}
    return {
        "a header claiming shape (10^9, 784)": (
            archive({**members, "param/dense0.W": npy_bytes(weights, (10**9, 784))}),
            "param/dense0.W",
        ),
        "a bare .npy": (npy_bytes(weights), "not an .npz"),
        "a config that is a JSON string": (with_config(members, json.dumps("hello")), "config"),
        "non-numeric hidden sizes": (with_config(members, json.dumps(hidden)), "hidden"),
        "a deeply nested config": (with_config(members, "[" * 30_000 + "]" * 30_000), "config"),
        "a network of another input size and class count": (
            with_config(foreign_members, json.dumps(foreign)),
            "inputs",
        ),
        "1 MiB inflating to 1 GiB": (bomb(members, 1 << 30), "bytes"),
    }


def test_hostile_imports_are_422_leave_nothing_and_stay_small_in_memory(serving, mnist):
    server, run_id, good = serving
    files = hostile_files(good)
    assert len(files["1 MiB inflating to 1 GiB"][0]) < 2 << 20
    runs_before = server.http.get("/api/runs").json()
    folders_before = sorted(p.name for p in (server.data_dir / "runs").iterdir())
    worst = 0.0
    for name, (payload, mention) in files.items():
        with PeakMemory(server.process.pid) as memory:
            response = upload(server, payload)
        worst = max(worst, memory.growth_mb)
        assert response.status_code == 422, (name, response.status_code, response.text[:300])
        body = response.json()
        assert body["code"] == "invalid_checkpoint" and mention.lower() in body["detail"].lower(), (
            name,
            body,
        )
        answer = server.http.post("/api/predict", json={"pixels": (mnist.test_images[0] / 255).tolist()})
        assert answer.json()["model"]["run_id"] == run_id, name  # the current model keeps serving
    print(f"worst import: +{worst:.1f} MB resident")
    assert worst < 50, f"an import grew the server by {worst:.0f} MB"
    assert server.http.get("/api/runs").json() == runs_before
    assert sorted(p.name for p in (server.data_dir / "runs").iterdir()) == folders_before
