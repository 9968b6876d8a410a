"""App fixtures: the app in-process with its lifespan, and a real uvicorn server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deeplook.app.config import Settings
from deeplook.app.main import create_app

FAST_RUN = {"preset": "notebook-sgd", "epochs": 2, "seed": 1}


@pytest.fixture
def settings(tmp_path: Path, mnist) -> Settings:  # mnist: the dataset is cached before the app needs it
    return Settings(data_dir=tmp_path / "data", offline=True)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
