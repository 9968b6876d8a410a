"""Settings from the environment (prefix ``DEEPLOOK_``), built once per application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from deeplook.engine.data import default_cache_dir


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/deeplook``, else ``~/.local/share/deeplook``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "deeplook"


def cores() -> int:
    """The machine's cores: the default for runs at once and for picture threads."""
    return os.cpu_count() or 1


class Settings(BaseSettings):
    """Every setting of the service; each can be set as ``DEEPLOOK_<NAME>`` (see the README)."""

    model_config = SettingsConfigDict(env_prefix="DEEPLOOK_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="SQLite database and checkpoints")
    mnist_dir: Path | None = Field(None, description="a folder with the dataset's IDX files or mnist.npz")
    cache_dir: Path | None = Field(None, description="verified dataset cache (default: user cache dir)")
    offline: bool = Field(False, description="never try the public HTTP mirrors")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_token: SecretStr | None = Field(None, description="if set, mutating routes need 'Bearer <token>'")
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="extra origins for CORS and websockets, comma-separated"
    )
    max_body_bytes: int = Field(2_000_000, ge=1024, description="request bodies above this get 413")
    max_model_bytes: int = Field(
        32_000_000, ge=1024, description="largest checkpoint accepted by import, as a file and unpacked"
    )
    max_image_pixels: int = Field(16_000_000, ge=784, description="uploaded images above this get 413")
    image_threads: int = Field(
        default_factory=cores,
        ge=1,
        description="threads that turn uploaded pictures into pixels (default: the core count)",
    )
    max_batch: int = Field(1000, ge=1, description="most inputs in one batch prediction")
    max_batch_bytes: int = Field(
        20_000_000,
        ge=1024,
        description="batch prediction bodies above this get 413 (1,000 inputs: 0.8 MB as uint8, 3.1 MB as "
        "float32, 4-15 MB as JSON)",
    )
    ws_max_message_bytes: int = Field(4096, ge=128, description="largest frame a websocket client may send")
    ws_updates_per_second: float = Field(20.0, gt=0, le=100, description="step messages per client, at most")
    ws_sends_per_second: float = Field(
        300.0, gt=0, description="step messages to all clients together; beyond it, batches grow instead"
    )
    ws_send_timeout: float = Field(5.0, gt=0, description="a send stuck this long closes the socket (1013)")
    ws_queue_limit: int = Field(512, ge=8, description="messages queued for one client before it is closed")
    ws_ping_interval: float = Field(3.0, gt=0, description="websocket keepalive ping interval (seconds)")
    ws_ping_timeout: float = Field(5.0, gt=0, description="close a websocket whose pong is this late")
    step_points: int = Field(2000, ge=100, description="step losses kept when a long curve is downsampled")
    max_active_runs: int = Field(
        default_factory=cores,
        ge=1,
        description="runs that train at the same time (default: the core count); more wait, queued",
    )
    max_queued_runs: int = Field(16, ge=0, description="runs that may wait; beyond, a start gets 429")
    executor: Literal["local", "ray"] = Field(
        "local", description="where runs train: local processes, or actors of a Ray cluster"
    )
    ray_address: str | None = Field(
        None, description="the Ray cluster to join (e.g. ray://head:10001); default: start a local one"
    )
    store_lock_limit: float = Field(
        60.0, gt=0, description="seconds a locked database is waited for before a run fails"
    )
    predict_only: bool = Field(
        False,
        description="a replica: predict, export and health only, serving the data folder's current model",
    )
    workers: int = Field(1, ge=1, description="uvicorn worker processes (with predict_only)")
    model_poll_interval: float = Field(
        0.25, gt=0, le=10, description="seconds between a replica's checks for a newly pinned model"
    )
    access_log: bool = Field(False, description="log every request (costs time under heavy load)")
    stop_wait: float = Field(
        5.0, gt=0, description="seconds a stopping run's worker gets before it is killed"
    )
    worker_niceness: int = Field(
        5,
        ge=0,
        le=19,
        description="how much lower the trainers' CPU priority is than the server's while runs train on "
        "every core, so that pages, the stream and predictions stay quick (with a core to spare they "
        "train at the server's priority; 0: always the same)",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @property
    def database_path(self) -> Path:
        return self.data_dir / "deeplook.sqlite3"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def cores(self) -> int:
        return cores()

    @property
    def shared_dir(self) -> Path:
        """Where datasets are written once for every worker to map."""
        base = self.cache_dir if self.cache_dir is not None else default_cache_dir()
        return base / "shared"
