"""Settings from the environment (prefix ``DEEPLOOK_``), built once per application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/deeplook``, else ``~/.local/share/deeplook``."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "deeplook"


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
        64_000_000, ge=1024, description="largest checkpoint file accepted by import"
    )
    max_image_pixels: int = Field(16_000_000, ge=784, description="uploaded images above this get 413")
    max_batch: int = Field(1000, ge=1, description="most inputs in one batch prediction")
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
