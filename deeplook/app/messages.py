"""Websocket messages: every frame the server sends or accepts, declared once.

Each message model has a ``type`` literal; ``ServerMessage`` is their union (discriminated by
``type``) and its JSON schema is published in ``/openapi.json`` (components) and at
``/api/schema/messages``. The hub serialises each message once, however many clients get it, and
``BatchMessage.frame`` joins a client's due messages into one frame.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from deeplook.app.schemas import RUN_ID_PATTERN, RunDetail, RunSummary, Strict
from deeplook.engine.train import EpochMetrics


class ProgressMessage(BaseModel):
    """Data loading progress of a run in 'loading-data'."""

    type: Literal["progress"] = "progress"
    run_id: str
    message: str
    fraction: float | None = Field(description="0..1, or null when the amount of work is unknown")


class SnapshotMessage(BaseModel):
    """A run with its whole (downsampled) history: one per run a client starts to follow (on connect,
    every active run, or the latest run when none is active; ``run`` is null when there is no run)."""

    type: Literal["snapshot"] = "snapshot"
    run: RunDetail | None
    progress: ProgressMessage | None = None

    @staticmethod
    def frame(run: str, progress: ProgressMessage | None) -> str:
        """A snapshot of a run whose detail is already serialised (built once for every client)."""
        tail = progress.model_dump_json() if progress is not None else "null"
        return '{"type":"snapshot","run":' + run + ',"progress":' + tail + "}"


class StepMessage(BaseModel):
    """Steps since the previous message, as columns."""

    type: Literal["step"] = "step"
    run_id: str
    step: list[int]
    epoch: list[int]
    loss: list[float]
    accuracy: list[float]


class EpochMessage(BaseModel):
    """An epoch ended: its model serves predictions and its look-inside report is saved."""

    type: Literal["epoch"] = "epoch"
    run_id: str
    metrics: EpochMetrics


class StatusMessage(BaseModel):
    """A run changed status (or was created); carries the whole summary."""

    type: Literal["status"] = "status"
    run: RunSummary


class ChangeMessage(BaseModel):
    """A followed run's learning rate was changed; it applies from ``step`` on."""

    type: Literal["change"] = "change"
    run_id: str
    step: int
    lr: float


class PongMessage(BaseModel):
    """The answer to a client's ping."""

    type: Literal["pong"] = "pong"


SingleMessage = Annotated[
    SnapshotMessage
    | StepMessage
    | EpochMessage
    | StatusMessage
    | ProgressMessage
    | ChangeMessage
    | PongMessage,
    Field(discriminator="type"),
]


class BatchMessage(BaseModel):
    """Several messages in one frame, in the order they happened."""

    type: Literal["batch"] = "batch"
    messages: list[SingleMessage]

    @staticmethod
    def frame(texts: list[str]) -> str:
        """One frame for messages already serialised as JSON (each once, for every client): the
        message itself when it is alone, else a batch holding them in order."""
        if len(texts) == 1:
            return texts[0]
        return '{"type":"batch","messages":[' + ",".join(texts) + "]}"


ServerMessage = Annotated[SingleMessage | BatchMessage, Field(discriminator="type")]


class PingMessage(Strict):
    """A heartbeat; the server answers with a pong."""

    type: Literal["ping"]


class SubscribeMessage(Strict):
    """Follow more runs: each named one (a snapshot of each comes first), and with ``active`` every
    run that trains (the default on connect)."""

    type: Literal["subscribe"]
    runs: list[Annotated[str, Field(pattern=RUN_ID_PATTERN)]] = Field(default_factory=list, max_length=64)
    active: bool | None = Field(None, description="also follow every active run (None: leave as it is)")


class UnsubscribeMessage(Strict):
    """Stop following runs (``active: false`` stops following active runs by default)."""

    type: Literal["unsubscribe"]
    runs: list[Annotated[str, Field(pattern=RUN_ID_PATTERN)]] = Field(default_factory=list, max_length=64)
    active: bool | None = None


ClientMessage = Annotated[PingMessage | SubscribeMessage | UnsubscribeMessage, Field(discriminator="type")]

SERVER_MESSAGES: TypeAdapter[Any] = TypeAdapter(ServerMessage)
CLIENT_MESSAGES: TypeAdapter[Any] = TypeAdapter(ClientMessage)


def message_schema() -> dict[str, Any]:
    """The JSON schema of every message, both ways, keyed by direction."""
    return {
        "server": SERVER_MESSAGES.json_schema(ref_template="#/components/schemas/{model}"),
        "client": CLIENT_MESSAGES.json_schema(ref_template="#/components/schemas/{model}"),
    }
