"""A real uvicorn process: a crash and restart on the same data folder, and a client that never reads."""

import base64
import json
import os
import socket
import time

import pytest
from fastapi.testclient import TestClient
from websockets.sync.client import connect

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from deeplook.app.store import Store
from tests.support import finished, unbatch, wait_for_run

pytestmark = pytest.mark.slow


def test_a_killed_server_leaves_an_interrupted_run_that_predicts_and_resumes(server_factory, tmp_path, mnist):
    data_dir = tmp_path / "data"
    server = server_factory(data_dir)
    run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 40, "seed": 2}).json()[
        "id"
    ]
    wait_for_run(server.http.get, run_id, lambda r: r["checkpoint_epoch"] >= 2)
    server.kill()

    assert Store(data_dir / "deeplook.sqlite3").integrity_check() == "ok"
    with TestClient(create_app(Settings(data_dir=data_dir, offline=True))) as client:
        runs = client.get("/api/runs").json()
        assert [r["id"] for r in runs] == [run_id]
        run = runs[0]
        assert run["status"] == "interrupted" and run["checkpoint_epoch"] >= 2
        assert client.get("/api/ready").json()["ready"] is True

        digit = (mnist.test_images[0] / 255).tolist()
        answer = client.post("/api/predict", json={"pixels": digit}).json()
        assert answer["model"] == {**answer["model"], "run_id": run_id, "epoch": run["checkpoint_epoch"]}
        assert answer["digit"] == 7

        detail = client.get(f"/api/runs/{run_id}").json()
        assert [e["epoch"] for e in detail["epochs"]] == list(range(1, run["epochs_done"] + 1))

        resumed = client.post(f"/api/runs/{run_id}/resume")
        assert resumed.status_code == 200
        later = wait_for_run(client.get, run_id, lambda r: r["epochs_done"] >= run["checkpoint_epoch"] + 1)
        client.post(f"/api/runs/{run_id}/stop")
        epochs = [e["epoch"] for e in client.get(f"/api/runs/{run_id}").json()["epochs"]]
        assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= later["epochs_done"]


def stalled_websocket(url_port: int) -> socket.socket:
    """Open a websocket by hand with a tiny receive buffer, then never read from it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", url_port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{url_port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)  # byte by byte: frames after the headers stay unread
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def close_code(sock: socket.socket, timeout: float = 30) -> int | None:
    """Read the rest of a stalled socket's frames; the code of the close frame at the end, if any."""
    sock.settimeout(timeout)
    data = b""
    while chunk := sock.recv(1 << 20):
        data += chunk
    position, code = 0, None
    while position + 2 <= len(data):
        opcode, length = data[position] & 0x0F, data[position + 1] & 0x7F
        position += 2
        if length == 126:
            length, position = int.from_bytes(data[position : position + 2], "big"), position + 2
        elif length == 127:
            length, position = int.from_bytes(data[position : position + 8], "big"), position + 8
        if opcode == 0x8:
            code = int.from_bytes(data[position : position + 2], "big")
        position += length
    return code


def test_a_client_that_never_reads_does_not_hold_back_another(server_factory):
    server = server_factory()
    stalled = stalled_websocket(server.port)
    try:
        epochs, status, run_id = read_a_whole_run(server)
        # The server gave up on it: 1011 when it stopped answering keepalive pings, 1013 when it fell behind.
        assert close_code(stalled) in (1011, 1013)
    finally:
        stalled.close()
    assert status["id"] == run_id and status["status"] == "completed"
    assert epochs == list(range(1, 13))
    log = server.log.read_text()
    assert "Traceback" not in log, log


def read_a_whole_run(server):
    """Start a 12-epoch run and read the stream until it completes: (epochs seen, final status, id)."""
    with connect(server.ws_url) as reader:
        assert json.loads(reader.recv(timeout=10))["type"] == "snapshot"
        run_id = server.http.post("/api/runs", json={"preset": "notebook-sgd", "epochs": 12}).json()["id"]
        epochs, status = [], None
        deadline = time.monotonic() + 120
        while status is None or not finished(status):
            for message in unbatch(json.loads(reader.recv(timeout=30))):
                if message["type"] == "epoch":
                    epochs.append(message["metrics"]["epoch"])
                elif message["type"] == "status":
                    status = message["run"]
            assert time.monotonic() < deadline
    return epochs, status, run_id
