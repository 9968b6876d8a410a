"""What the run manager needs of an executor, whichever runs the workers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from deeplook.app.workers.training import Assignment, Control, WorkerEvent
from deeplook.engine.data import Dataset

Deliver = Callable[[WorkerEvent], None]
"""Called with each event of a worker, in order, from a thread of the executor's."""
Exited = Callable[[str], None]
"""Called once, after the last event, when the worker is gone; with what ended it in words."""


class Worker(Protocol):
    """One run's trainer, somewhere else."""

    @property
    def where(self) -> str:
        """Where it runs, for people: "pid 1234", "Ray actor ..."."""

    def send(self, message: Control) -> None:
        """Pass a control message on; it takes effect between two steps."""

    def kill(self) -> None:
        """End the worker at once (its run keeps the last checkpoint the server recorded)."""


class Executor(Protocol):
    name: str

    def share(self, dataset: Dataset) -> tuple[Dataset, Any]:
        """The dataset as the server should read it, and what an ``Assignment`` carries so that
        workers reach it without a copy each."""

    def start(self, assignment: Assignment, deliver: Deliver, exited: Exited) -> Worker:
        """Start training ``assignment`` in a worker of its own."""

    def close(self) -> None:
        """Stop what the executor started for itself (not the workers: the manager ends those)."""
