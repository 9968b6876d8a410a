"""Fixtures shared by every test folder."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deeplook.engine.data import Dataset, load_dataset
from tests.support import Server


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    """The real MNIST through the real source chain (the user's cache after the first fetch)."""
    return load_dataset("mnist")


@pytest.fixture
def server_factory(tmp_path: Path, mnist) -> Iterator[Callable[..., Server]]:
    """Real ``deeplook serve`` processes on free ports (the dataset is cached before they start)."""
    servers: list[Server] = []

    def start(data_dir: Path | None = None, env: dict[str, str] | None = None, startup: float = 30) -> Server:
        server = Server(data_dir or tmp_path / "data", env, startup)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
