"""The states a run goes through and the reasons it stops, each word defined once.

The app's run manager moves runs between these states; the engine's trainer ends a run as completed,
stopped or diverged. Everything else (the API schema, the store, the dashboard's labels and what it
offers to do) derives from ``RunStatus`` and ``STATUSES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class RunStatus(StrEnum):
    QUEUED = "queued"
    LOADING = "loading-data"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class StatusInfo:
    active: bool
    """The run has a trainer (or is waiting for one): it can be paused or stopped, not deleted."""
    resumable: bool
    """Training can continue from the last checkpoint."""
    description: str


STATUSES: Mapping[RunStatus, StatusInfo] = MappingProxyType(
    {
        RunStatus.QUEUED: StatusInfo(True, False, "waiting for a free trainer"),
        RunStatus.LOADING: StatusInfo(True, False, "loading its dataset"),
        RunStatus.RUNNING: StatusInfo(True, False, "training"),
        RunStatus.PAUSED: StatusInfo(True, False, "paused between two steps; resume to go on"),
        RunStatus.COMPLETED: StatusInfo(False, False, "trained all its epochs"),
        RunStatus.STOPPED: StatusInfo(False, True, "stopped on request; keeps its last epoch"),
        RunStatus.DIVERGED: StatusInfo(False, False, "the loss exploded: the learning rate is too high"),
        RunStatus.FAILED: StatusInfo(False, True, "ended by an error; keeps its last epoch"),
        RunStatus.INTERRUPTED: StatusInfo(False, True, "the server stopped while it trained"),
    }
)

ACTIVE = frozenset(status for status, info in STATUSES.items() if info.active)
FINISHED = frozenset(status for status, info in STATUSES.items() if not info.active)
RESUMABLE = frozenset(status for status, info in STATUSES.items() if info.resumable)


@dataclass(frozen=True)
class ReasonInfo:
    template: str
    """English text with ``{name}`` fields filled from the reason's parameters."""


REASONS: Mapping[str, ReasonInfo] = MappingProxyType(
    {
        "stopped_by_request": ReasonInfo("stopped by request"),
        "diverged": ReasonInfo(
            "loss reached {loss:.4g} (running mean {average:.4g}, chance level {chance:.3g}) at step {step}"
        ),
        "weights_not_finite": ReasonInfo("the weights became non-finite at epoch {epoch}"),
        "server_stopped": ReasonInfo("the server stopped during training"),
        "server_shutdown": ReasonInfo("stopped because the server shut down"),
        "data_failed": ReasonInfo("the dataset could not be loaded: {error}"),
        "worker_died": ReasonInfo("the trainer process died ({cause})"),
        "error": ReasonInfo("{error}"),
        "imported": ReasonInfo("imported from a checkpoint file"),
        "write_failed": ReasonInfo("could not save {what}: {error}"),
        "cancelled": ReasonInfo("cancelled while queued"),
    }
)


@dataclass(frozen=True)
class Reason:
    """Why a run changed state: a stable code (the dashboard translates it), its parameters, and the
    English text for API users."""

    code: str
    params: Mapping[str, str | int | float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in REASONS:
            raise ValueError(f"unknown reason code {self.code!r}; known: {', '.join(REASONS)}")

    @property
    def text(self) -> str:
        return REASONS[self.code].template.format(**self.params)
