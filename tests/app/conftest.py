"""App fixtures: the app in-process with its lifespan, and a real uvicorn server process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from tests.support import Server

FAST_RUN = {"preset": "notebook-sgd", "epochs": 2, "seed": 1}


@pytest.fixture
def settings(tmp_path: Path, mnist) -> Settings:  # mnist: the dataset is cached before the app needs it
    return Settings(data_dir=tmp_path / "data", offline=True)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def wait_for_run(
    get: Callable[[str], httpx.Response], run_id: str, until: Callable[[dict], bool], timeout: float = 60
) -> dict:
    """Poll ``GET /api/runs/{id}`` until ``until(run)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        run = get(f"/api/runs/{run_id}").json()
        if until(run):
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; run is {run['status']} at epoch {run['epochs_done']}")
        time.sleep(0.05)


def finished(run: dict) -> bool:
    return run["status"] in ("completed", "stopped", "diverged", "failed")


@pytest.fixture
def server_factory(tmp_path: Path, mnist) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(data_dir: Path | None = None, env: dict[str, str] | None = None, startup: float = 30) -> Server:
        server = Server(data_dir or tmp_path / "data", env, startup)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
