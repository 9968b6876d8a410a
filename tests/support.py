"""Helpers shared by test folders: a real ``deeplook serve`` process on a free loopback port."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from deeplook.engine.status import FINISHED

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event loop running
    in the main thread for the whole session, and asyncio.run refuses to start beside it."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def unbatch(message: dict) -> list[dict]:  # type: ignore[type-arg]
    """The messages a websocket frame carries: a ``batch`` holds several, in order."""
    return list(message["messages"]) if message.get("type") == "batch" else [message]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``deeplook serve`` in its own process on a free loopback port."""

    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str] | None = None,
        startup: float = 30,
        command: list[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """``command`` runs instead of ``python -m deeplook`` (an installed ``deeplook``, say), in ``cwd``."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.data_dir = data_dir
        self.log = data_dir.parent / f"server-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        environment = {
            **os.environ,
            "DEEPLOOK_DATA_DIR": str(data_dir),
            "DEEPLOOK_OFFLINE": "1",
            **(env or {}),
        }
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [*(command or [sys.executable, "-m", "deeplook"]), "serve", "--port", str(self.port)],
                env=environment,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self._wait_healthy(startup)

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if self.http.get("/api/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 15) -> float:
        """SIGTERM; returns how long the process took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout)
        return time.monotonic() - started

    def close(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.kill()


def wait_for_run(
    get: Callable[[str], httpx.Response], run_id: str, until: Callable[[dict], bool], timeout: float = 60
) -> dict:  # type: ignore[type-arg]
    """Poll ``GET /api/runs/{id}`` until ``until(run)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        run = get(f"/api/runs/{run_id}").json()
        if until(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; run is {run['status']} at epoch {run['epochs_done']}")
        time.sleep(0.05)


def finished(run: dict) -> bool:  # type: ignore[type-arg]
    return run["status"] in FINISHED


@contextmanager
def trained_app(folder: Path, timeout: float = 120, **run: object) -> Iterator[tuple[TestClient, dict]]:  # type: ignore[type-arg]
    """The app in-process (its lifespan running) in a data folder of its own, with one run of these
    settings trained to completion: the client and the run."""
    settings = Settings(data_dir=folder, offline=True)
    with TestClient(create_app(settings)) as client:
        run_id = client.post("/api/runs", json=run).json()["id"]
        done = wait_for_run(client.get, run_id, finished, timeout)
        assert done["status"] == "completed"
        yield client, done


def canvas_png(image: np.ndarray, offset: tuple[int, int] = (28, 28)) -> bytes:
    """A 28x28 MNIST digit as the dashboard sends a drawing: scaled 8x, dark ink on a white 280x280
    canvas, its top left corner at ``offset``."""
    big = Image.fromarray(255 - image.reshape(28, 28)).resize((224, 224), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (280, 280), "white")
    canvas.paste(big, offset)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()
