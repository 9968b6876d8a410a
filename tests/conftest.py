"""Fixtures shared by every test folder."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deeplook.app.config import Settings
from deeplook.app.main import create_app
from deeplook.engine.data import Dataset, load_dataset
from tests.support import Server


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    """The real MNIST through the real source chain (the user's cache after the first fetch)."""
    return load_dataset("mnist")


@pytest.fixture
def server_factory(tmp_path: Path, mnist) -> Iterator[Callable[..., Server]]:
    """Real ``deeplook serve`` processes on free ports (the dataset is cached before they start)."""
    with ExitStack() as servers:

        def start(
            data_dir: Path | None = None, env: dict[str, str] | None = None, startup: float = 30
        ) -> Server:
            return servers.enter_context(closing(Server(data_dir or tmp_path / "data", env, startup)))

        yield start


@pytest.fixture
def settings(tmp_path: Path, mnist) -> Settings:  # mnist: the dataset is cached before the app needs it
    return Settings(data_dir=tmp_path / "data", offline=True)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app in-process with its lifespan."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client
