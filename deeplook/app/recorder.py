"""The server's side of a worker's events, in the executor's reader thread: write the run's files
(checkpoint, per-epoch model and report) atomically, then hand a light event to the event loop.

A file that cannot be written (disk full) turns into ``WriteFailed``: the run manager ends the run as
failed and keeps its last good checkpoint (an atomic write never leaves half a file behind).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from deeplook.app.files import RunFiles
from deeplook.app.workers.training import EpochDone, Report, WorkerEvent
from deeplook.engine import serialize
from deeplook.engine.model import Weights
from deeplook.engine.status import Reason
from deeplook.engine.train import EpochMetrics


@dataclass(frozen=True, eq=False)
class EpochRecorded:
    """An epoch's files are on disk; its model can serve."""

    metrics: EpochMetrics
    weights: Weights


@dataclass(frozen=True)
class ReportRecorded:
    epoch: int


@dataclass(frozen=True)
class WriteFailed:
    reason: Reason


LoopEvent = WorkerEvent | EpochRecorded | ReportRecorded | WriteFailed
OnEvent = Callable[[str, LoopEvent | str], None]
"""Called on the loop with the run's id and an event, or (a string) how its worker ended."""


class Recorder:
    """One run's events: files here (off the loop), everything else on to ``on_event`` on the loop."""

    def __init__(
        self, run_id: str, files: RunFiles, loop: asyncio.AbstractEventLoop, on_event: OnEvent
    ) -> None:
        self.run_id = run_id
        self._files = files
        self._loop = loop
        self._on_event = on_event
        self.failed = False

    def deliver(self, event: WorkerEvent) -> None:
        if self.failed:
            return  # the run is being ended; what its worker still says does not count
        loop_event: LoopEvent = event
        if isinstance(event, EpochDone):
            loop_event = self._epoch(event)
        elif isinstance(event, Report):
            loop_event = self._report(event)
        if isinstance(loop_event, WriteFailed):
            self.failed = True
        self.post(loop_event)

    def post(self, event: LoopEvent | str) -> None:
        """To the loop (a string: the worker has exited, and how)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the server is shutting down
            self._loop.call_soon_threadsafe(self._on_event, self.run_id, event)

    def _epoch(self, event: EpochDone) -> EpochRecorded | WriteFailed:
        epoch = event.metrics.epoch
        try:
            weights = serialize.load(event.model).weights
            self._files.write(self._files.report(self.run_id, epoch), event.report)
            self._files.write(self._files.model(self.run_id, epoch), event.model)
            self._files.write(self._files.checkpoint(self.run_id, epoch), event.checkpoint)
        except OSError as error:
            return WriteFailed(Reason("write_failed", {"what": f"epoch {epoch}", "error": _os_error(error)}))
        except serialize.CheckpointError as error:
            return WriteFailed(Reason("error", {"error": f"epoch {epoch}'s model is invalid: {error}"}))
        return EpochRecorded(event.metrics, weights)

    def _report(self, event: Report) -> ReportRecorded | WriteFailed:
        try:
            self._files.write(self._files.report(self.run_id, event.epoch), event.report)
            self._files.write(self._files.model(self.run_id, event.epoch), event.model)
        except OSError as error:
            what = f"the report of epoch {event.epoch}"
            return WriteFailed(Reason("write_failed", {"what": what, "error": _os_error(error)}))
        return ReportRecorded(event.epoch)


def _os_error(error: OSError) -> str:
    return error.strerror or str(error)
