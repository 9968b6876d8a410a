"""Runs, decided in one place: the state machine of every run and the queue, on the event loop.

Every transition (start, queue, launch, pause, resume, one step, stop, cancel, delete, change) is
decided synchronously on the loop: a request first claims the run in memory (so a concurrent request
sees the claim and gets 409), then awaits its I/O, then commits or gives the claim back. A run has
at most one worker, and every worker belongs to a run the manager can stop.

Workers train elsewhere (``app/workers``); their events come back through a ``Recorder`` (files) to
``_on_event`` here, which updates the live view, publishes to the hub and queues the database writes
(``StoreWriter``). Nothing here blocks the loop: files and the database are written off it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO, Any

from deeplook.app.config import Settings
from deeplook.app.datasets import DatasetCache
from deeplook.app.errors import ServiceError
from deeplook.app.files import RunFiles
from deeplook.app.hub import Hub, StepBatch
from deeplook.app.live import LiveRun, LiveSeries
from deeplook.app.messages import (
    ChangeMessage,
    EpochMessage,
    ProgressMessage,
    StatusMessage,
    StepMessage,
)
from deeplook.app.models import ModelRegistry, ServingModel
from deeplook.app.recorder import EpochRecorded, LoopEvent, Recorder, ReportRecorded, WriteFailed
from deeplook.app.reports import ReportStore
from deeplook.app.schemas import Pace, RunChange, RunCreate, RunSummary
from deeplook.app.store import RunRecord, Store
from deeplook.app.views import RunViews
from deeplook.app.workers.base import Executor
from deeplook.app.workers.training import (
    Assignment,
    Control,
    Crashed,
    LiveWeights,
    Progress,
    Started,
    Steps,
)
from deeplook.app.writer import StoreUnavailable, StoreWriter
from deeplook.engine import serialize
from deeplook.engine.config import ConfigError, TrainConfig, configure, preset_config
from deeplook.engine.data import DataError
from deeplook.engine.status import ACTIVE, RESUMABLE, Reason, RunStatus
from deeplook.engine.train import Checkpoint, LearningRateChange, RunFinished

logger = logging.getLogger("deeplook.runs")

FINAL_RETRY_SECONDS = 2.0
"""How soon a run's final status is written again when the database refused it."""
WATCHABLE_EPOCH_SECONDS = 20.0
"""With the "watchable" pace, an epoch takes about this long."""


def build_config(request: RunCreate) -> TrainConfig:
    """The preset named in the request with the request's settings applied over it."""
    return configure(preset_config(request.preset), request.overrides())


def pace_interval(pace: Pace, config: TrainConfig) -> float:
    """Seconds per step at least, for a pace."""
    if pace == "watchable":
        return WATCHABLE_EPOCH_SECONDS / config.steps_per_epoch()
    return 0.0


@dataclass(frozen=True)
class NewRun:
    """A run to create: its config and how the learner named and paced it."""

    config: TrainConfig
    preset: str | None
    name: str | None
    pace: Pace = "full"


class RunManager:
    """Owns every live run (queued, loading, training, paused) and decides all their transitions."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        writer: StoreWriter,
        hub: Hub,
        models: ModelRegistry,
        datasets: DatasetCache,
        reports: ReportStore,
        files: RunFiles,
        executor: Executor,
    ) -> None:
        self.settings = settings
        self.store = store
        self.writer = writer
        self.hub = hub
        self.models = models
        self.datasets = datasets
        self.reports = reports
        self.files = files
        self.executor = executor
        self.live: dict[str, LiveRun] = {}
        self.ending: dict[str, LiveRun] = {}
        self.deleting: set[str] = set()
        """Runs being deleted: nothing may start them meanwhile."""
        """Runs that have ended but whose final status the database does not hold yet."""
        self.queue: deque[tuple[str, ...]] = deque()
        """Groups of runs waiting for trainers, in order; a race is one group."""
        self.recorders: dict[str, Recorder] = {}
        self.views = RunViews(self, store, settings.step_points)
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[None]] = set()
        self.closing = False

    # -- starting -----------------------------------------------------------------------------------

    async def start(self, request: RunCreate) -> RunSummary:
        try:
            config = build_config(request)
        except ConfigError as error:
            raise ServiceError("invalid_config", error=str(error)) from error
        [summary] = await self.create([NewRun(config, request.preset, request.name, request.pace)])
        return summary

    async def create(
        self, runs: Sequence[NewRun], race: tuple[str, str, Sequence[str]] | None = None
    ) -> list[RunSummary]:
        """Create runs (one, or a race's) and queue them as one group; 429 when the queue is full, 507
        when the data disk has no room for their first epochs."""
        self._check_room()
        needed = sum(2 * self.files.epoch_bytes(new.config) for new in runs)
        full = await asyncio.to_thread(self.files.room, needed)
        if full is not None:
            raise ServiceError("storage_full", error=full)
        now = time.time()
        ids = [secrets.token_hex(6) for _ in runs]
        for i, (run_id, new) in enumerate(zip(ids, runs, strict=True)):
            self.live[run_id] = LiveRun(  # claimed: from here on the run exists for everyone
                run_id,
                new.config,
                LiveSeries(self.settings.step_points),
                preset=new.preset,
                name=new.name,
                created_at=now + i * 1e-6,  # a race's runs keep their order
                race=race[0] if race else None,
                pace=new.pace,
            )
        try:
            if race is not None:
                await self.writer.write(self.store.create_race, *race)
            for run_id, new in zip(ids, runs, strict=True):
                live = self.live[run_id]
                await self.writer.write(
                    self.store.create_run,
                    run_id,
                    new.config,
                    new.preset,
                    RunStatus.QUEUED,
                    new.name,
                    live.race,
                    live.created_at,
                )
        except StoreUnavailable as error:
            for run_id in ids:
                self.live.pop(run_id, None)
            with contextlib.suppress(StoreUnavailable):
                for run_id in ids:
                    await self.writer.write(self.store.delete_run, run_id)
                if race is not None:
                    await self.writer.write(self.store.delete_race, race[0])
            raise _storage_error(error) from error
        self.queue.append(tuple(ids))
        for run_id in ids:
            self._publish_summary(self.live[run_id])
        self._schedule()
        return [
            self.views.live_summary(self.live[run_id])
            if run_id in self.live
            else await self.views.summary(run_id)
            for run_id in ids
        ]

    def _check_room(self) -> None:
        waiting = sum(len(group) for group in self.queue)
        if waiting >= self.settings.max_queued_runs and self._free_slots() <= 0:
            raise ServiceError("queue_full", queued=waiting)

    def _free_slots(self) -> int:
        training = sum(1 for run in self.live.values() if run.status != RunStatus.QUEUED)
        return self.settings.max_active_runs - training

    def _schedule(self) -> None:
        """Launch the groups at the head of the queue while there are trainers for them."""
        while self.queue and not self.closing:
            group = self.queue[0]
            need = min(len(group), self.settings.max_active_runs)
            if self._free_slots() < need:
                break
            self.queue.popleft()
            threads = self._threads(len(group))
            for run_id in group:
                run = self.live.get(run_id)
                if run is not None and run.status == RunStatus.QUEUED:
                    self._launch(run, threads)
        for run_id in self._queued_runs():  # their positions changed
            self._publish_summary(self.live[run_id])

    def _threads(self, group: int) -> int:
        """BLAS threads per worker so that active runs x threads never exceed the cores."""
        training = sum(1 for run in self.live.values() if run.status != RunStatus.QUEUED)
        return max(1, self.settings.cores // max(self.settings.max_active_runs, training + group))

    def _queued_runs(self) -> list[str]:
        return [run_id for group in self.queue for run_id in group]

    def _launch(self, run: LiveRun, threads: int) -> None:
        self.hub.set_active(run.id, True)
        self._set_status(run, RunStatus.LOADING)
        self._spawn(self._begin(run, min(threads, run.config.blas_threads)))

    async def _begin(self, run: LiveRun, threads: int) -> None:
        """Load (or find) the dataset, then hand the run to a worker."""
        recorder = Recorder(run.id, self.files, self._loop, self._on_event)
        self.recorders[run.id] = recorder

        def progress(message: str, fraction: float | None) -> None:
            recorder.post(Progress(message, fraction))

        try:
            handle = await asyncio.to_thread(self.datasets.handle, run.config.dataset, progress)
        except (DataError, OSError) as error:
            run.final = (RunStatus.FAILED, Reason("data_failed", {"error": str(error)}))
            self._end(run)
            return
        if run.stopping or run.id not in self.live:  # stopped while its data loaded: no worker needed
            self._end(run)
            return
        assignment = Assignment(
            run_id=run.id,
            config=run.config,
            threads=threads,
            dataset=handle,
            checkpoint=run.resume_from,
            schedule=tuple(run.lr_changes),
            pace=pace_interval(run.pace, run.config),  # type: ignore[arg-type]
            paused=run.pace == "step" or run.pause_requested,
            niceness=self._niceness(len(self._running_pids()) + 1),
        )
        try:
            run.worker = self.executor.start(assignment, recorder.deliver, recorder.post)
        except Exception as error:
            logger.exception("could not start a worker for run %s", run.id)
            run.final = (RunStatus.FAILED, Reason("worker_died", {"cause": f"it could not start: {error}"}))
            self._end(run)

    # -- events from workers (on the loop) ----------------------------------------------------------

    def _on_event(self, run_id: str, event: LoopEvent | str) -> None:
        run = self.live.get(run_id)
        if run is None:
            return
        if isinstance(event, str):  # the worker is gone, and this is how it ended
            self._worker_exited(run, event)
        elif isinstance(event, Steps):
            run.add_steps(event)
            self.writer.add_steps(run.id, event)  # ~20 a second per run: rows made by the writer
            batch = StepBatch(_step_message(run.id, event))
            run.recent.append(batch)
            self.hub.publish(batch, run.id)
        elif isinstance(event, EpochRecorded):
            self._epoch_recorded(run, event)
        elif isinstance(event, LiveWeights):
            run.live_weights = event
        elif isinstance(event, Progress):
            run.progress = (event.message, event.fraction)
            message = ProgressMessage(run_id=run.id, message=event.message, fraction=event.fraction)
            self.hub.publish(message.model_dump_json(), run.id)
        elif isinstance(event, Started):
            run.progress, run.pid = None, event.pid
            self._prioritise()
            run.resume_from = None
            run.started_at = run.started_at or time.time()
            if run.status == RunStatus.LOADING:
                paused = run.pace == "step" or run.pause_requested
                self._set_status(run, RunStatus.PAUSED if paused else RunStatus.RUNNING)
        elif isinstance(event, LearningRateChange):
            run.lr_changes = [c for c in run.lr_changes if c.step != event.step] + [event]
            self.writer.submit(self.store.add_lr_change, run.id, event)
            self.hub.publish(
                ChangeMessage(run_id=run.id, step=event.step, lr=event.lr).model_dump_json(), run.id
            )
        elif isinstance(event, RunFinished):
            reason = event.reason
            if run.stopping and event.status == RunStatus.STOPPED and run.stop_reason is not None:
                reason = run.stop_reason
            run.final = (event.status, reason)
        elif isinstance(event, Crashed | WriteFailed):
            run.final = (RunStatus.FAILED, event.reason)
            if isinstance(event, WriteFailed) and run.worker is not None:
                run.worker.kill()
        elif isinstance(event, ReportRecorded):
            self.reports.forget(run.id, event.epoch - 1)

    def _epoch_recorded(self, run: LiveRun, event: EpochRecorded) -> None:
        metrics = event.metrics
        run.epochs = [e for e in run.epochs if e.epoch < metrics.epoch] + [metrics]
        run.live_weights = None
        steps = self.writer.take_steps(run.id)
        self.writer.submit(self.store.add_epoch, run.id, metrics, steps)
        recorded = self.writer.submit(self.store.set_checkpoint_epoch, run.id, metrics.epoch)
        recorded.add_done_callback(functools.partial(self._checkpoint_written, run, metrics.epoch))
        self.reports.forget(run.id, metrics.epoch - 1)
        self.models.recorded(
            ServingModel(
                run.id,
                metrics.epoch,
                metrics.test_accuracy,
                run.config.dataset,
                event.weights,
                run.created_at,
            )
        )
        self.hub.publish(EpochMessage(run_id=run.id, metrics=metrics).model_dump_json(), run.id)

    def _checkpoint_written(self, run: LiveRun, epoch: int, recorded: Future[None]) -> None:
        """(The writer's thread) the database holds the epoch's checkpoint: only now does the run say it
        has one (a crash before this point would lose what it said), and older ones can go."""
        if recorded.exception() is None:
            self._loop.call_soon_threadsafe(self._checkpoint_saved, run, epoch)
            with contextlib.suppress(OSError):
                self.files.prune_checkpoints(run.id, epoch)

    @staticmethod
    def _checkpoint_saved(run: LiveRun, epoch: int) -> None:
        run.checkpoint_epoch = max(run.checkpoint_epoch, epoch)

    def _niceness(self, running: int) -> int:
        """How much lower than the server's a trainer's priority is: ``worker_niceness`` while the runs
        occupy every core (a Ray actor's too, whose machine is not ours to judge); with a core to spare
        none competes with the server, and they train at its priority."""
        crowded = running >= self.settings.cores or self.executor.name != "local"
        return self.settings.worker_niceness if crowded else 0

    def _running_pids(self) -> list[int]:
        return [run.pid for run in self.live.values() if run.pid is not None]

    def _prioritise(self) -> None:
        """Set every local trainer's priority as ``_niceness`` says for the runs training now.
        (Lowering it back may need a privilege the host does not give: then it stays lower.)"""
        if self.executor.name != "local":
            return
        running = self._running_pids()
        target = os.getpriority(os.PRIO_PROCESS, 0) + self._niceness(len(running))
        for pid in running:
            with contextlib.suppress(OSError):
                if os.getpriority(os.PRIO_PROCESS, pid) != target:
                    os.setpriority(os.PRIO_PROCESS, pid, target)

    def _worker_exited(self, run: LiveRun, cause: str) -> None:
        run.worker = None
        if run.final is None:
            if run.stopping:
                run.final = (RunStatus.STOPPED, run.stop_reason or Reason("stopped_by_request"))
            else:
                run.final = (RunStatus.FAILED, Reason("worker_died", {"cause": cause}))
        self._end(run)

    def _end(self, run: LiveRun) -> None:
        """The run leaves the live runs with its final status (failed when it has none)."""
        if self.live.get(run.id) is not run:
            return
        if run.final is None and run.stopping:
            run.final = (RunStatus.STOPPED, run.stop_reason or Reason("stopped_by_request"))
        status, reason = run.final or (RunStatus.FAILED, Reason("worker_died", {"cause": "unknown"}))
        del self.live[run.id]
        self.recorders.pop(run.id, None)
        self.hub.set_active(run.id, False)
        self._prioritise()
        steps = self.writer.take_steps(run.id)
        if steps:
            self.writer.submit(self.store.add_steps, {run.id: steps})
        run.status, run.reason, run.finished_at = status, reason, time.time()
        # until its final status is in the database, the run is answered from memory
        self.ending[run.id] = run
        written = self._persist_status(run)
        self._watch_final_write(run, written)
        self._publish_summary(run)
        run.ended.set()
        self._schedule()

    def _watch_final_write(self, run: LiveRun, written: Future[None]) -> None:
        def done(future: Future[None]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                self._loop.call_soon_threadsafe(self._final_written, run, future.exception() is None)

        written.add_done_callback(done)

    def _final_written(self, run: LiveRun, ok: bool) -> None:
        """The database holds the run's final status; or, when that write failed, it is kept in memory
        (and answered from there) and written again a little later."""
        if self.ending.get(run.id) is not run:
            return
        if ok:
            del self.ending[run.id]
        elif not self.closing:
            self._loop.call_later(FINAL_RETRY_SECONDS, self._retry_final, run)

    def _retry_final(self, run: LiveRun) -> None:
        if self.ending.get(run.id) is run:
            self._watch_final_write(run, self._persist_status(run))

    def storage_failed(self, run_ids: list[str], why: str) -> None:
        """Steps could not be written for longer than the store's limit: those runs fail (they keep their
        last recorded epoch and can resume once the database takes writes again)."""
        for run_id in run_ids:
            run = self.live.get(run_id)
            if run is not None and run.final is None:
                run.final = (
                    RunStatus.FAILED,
                    Reason("write_failed", {"what": "its step metrics", "error": why}),
                )
                if run.worker is not None:
                    run.worker.kill()

    # -- control (requests) -------------------------------------------------------------------------

    async def _live(self, run_id: str, action: str) -> LiveRun:
        """The live run, or the error saying why there is none."""
        run = self.live.get(run_id)
        if run is not None:
            return run
        record = await asyncio.to_thread(self.store.get_run, run_id)
        run = self.live.get(run_id)  # it may have been resumed meanwhile
        if run is not None:
            return run
        if record is None:
            raise ServiceError("run_not_found", run=run_id)
        raise ServiceError("not_active", action=action, run=run_id, status=record.status)

    async def pause(self, run_id: str) -> RunSummary:
        run = await self._live(run_id, "pause")
        if run.status == RunStatus.QUEUED:
            raise ServiceError("queued_run", run=run_id, action="paused")
        run.pause_requested = True
        self._send(run, Control("pause"))
        self._set_status(run, RunStatus.PAUSED)
        return await self.views.summary(run_id)

    async def step(self, run_id: str) -> RunSummary:
        """Train exactly one more step, then stay paused."""
        run = await self._live(run_id, "step")
        if run.status == RunStatus.QUEUED:
            raise ServiceError("queued_run", run=run_id, action="stepped")
        run.pause_requested = True
        self._send(run, Control("step"))
        if run.status != RunStatus.LOADING:
            self._set_status(run, RunStatus.PAUSED)
        return await self.views.summary(run_id)

    async def resume(self, run_id: str) -> RunSummary:
        """Resume a paused run, or continue a stopped, failed or interrupted one from its checkpoint."""
        run = self.live.get(run_id)
        if run is not None:
            if run.status != RunStatus.PAUSED and not run.pause_requested:
                raise ServiceError("not_paused", run=run_id, status=run.status)
            run.pause_requested = False
            if run.pace == "step":
                run.pace = "full"
            self._send(run, Control("resume"))
            if run.status == RunStatus.PAUSED:
                self._set_status(run, RunStatus.RUNNING)
            return await self.views.summary(run_id)
        record = await asyncio.to_thread(self.store.get_run, run_id)
        if record is None or run_id in self.deleting:
            raise ServiceError("run_not_found", run=run_id)
        if run_id in self.live:  # claimed while we read
            raise ServiceError(
                "not_resumable", run=run_id, status=self.live[run_id].status, statuses=_names(RESUMABLE)
            )
        ending = self.ending.get(run_id)
        status = ending.status if ending is not None else record.status  # memory knows better
        if status not in RESUMABLE:
            raise ServiceError("not_resumable", run=run_id, status=status, statuses=_names(RESUMABLE))
        if record.checkpoint_epoch >= record.config.epochs:
            raise ServiceError("all_epochs_trained", run=run_id)
        self._check_room()
        live = LiveRun(
            run_id,
            record.config,
            LiveSeries(self.settings.step_points),
            preset=record.preset,
            name=record.name,
            created_at=record.created_at,
            started_at=record.started_at,
            race=record.race_id,
        )
        live.resuming = True
        self.live[run_id] = live  # claimed: a second resume, or a delete, of it gets 409
        self.ending.pop(run_id, None)  # its new life supersedes a final status not yet written
        try:
            checkpoint, history = await self._resume_state(record)
        except BaseException:
            if self.live.get(run_id) is live:
                del self.live[run_id]
            raise
        finally:
            live.resuming = False
        if self.live.get(run_id) is not live:  # stopped (cancelled) while its state loaded
            return await self.views.summary(run_id)
        live.series, live.epochs, live.lr_changes = history
        live.checkpoint_epoch = max(record.checkpoint_epoch, 0)
        live.resume_from = checkpoint
        self.queue.append((run_id,))
        self._set_status(live, RunStatus.QUEUED)
        self._schedule()
        return await self.views.summary(run_id)

    async def _resume_state(
        self, record: RunRecord
    ) -> tuple[bytes | None, tuple[LiveSeries, list[Any], list[LearningRateChange]]]:
        """The checkpoint to go on from (None: from the start), and the history up to it."""
        path = self.files.checkpoint(record.id, record.checkpoint_epoch)
        checkpoint: bytes | None = None
        epoch, step = 0, 0
        if record.checkpoint_epoch >= 1 and path.exists():
            try:
                checkpoint = await asyncio.to_thread(path.read_bytes)
                loaded = await asyncio.to_thread(serialize.load, checkpoint)
            except (OSError, serialize.CheckpointError) as error:
                raise ServiceError("checkpoint_damaged", run=record.id, error=str(error)) from error
            epoch, step = loaded.epoch, loaded.step
        try:
            await self.writer.write(self.store.truncate, record.id, epoch, step)
        except StoreUnavailable as error:
            raise _storage_error(error) from error
        await asyncio.to_thread(self.files.truncate, record.id, epoch)
        self.reports.forget(record.id, epoch)
        steps, epochs, changes = await asyncio.to_thread(
            lambda: (
                self.store.steps(record.id),
                self.store.epochs(record.id),
                self.store.lr_changes(record.id),
            )
        )
        return checkpoint, (LiveSeries(self.settings.step_points, steps), epochs, changes)

    async def stop(self, run_id: str, reason: Reason | None = None) -> RunSummary:
        """Stop a run within one step (it keeps its last epoch); a queued run is cancelled."""
        run = await self._live(run_id, "stop")
        if run.status == RunStatus.QUEUED:
            self._unqueue(run_id)
            run.final = (RunStatus.STOPPED, reason or Reason("cancelled"))
            self._end(run)
            return await self.views.summary(run_id)
        run.stopping, run.stop_reason = True, reason
        self._send(run, Control("stop"))
        try:
            await asyncio.wait_for(run.ended.wait(), self.settings.stop_wait)
        except TimeoutError:
            if run.worker is not None:
                run.worker.kill()  # not reached by stop: no trainer may outlive its run's stop
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.ended.wait(), 5.0)
            if not run.ended.is_set():  # its worker never started or never ends: end it here
                run.final = (RunStatus.STOPPED, reason or Reason("stopped_by_request"))
                self._end(run)
        return await self.views.summary(run_id)

    async def change(self, run_id: str, change: RunChange) -> RunSummary:
        """A new learning rate or pace for a training run; a new name for any run."""
        if change.name is not None:
            if await asyncio.to_thread(self.store.get_run, run_id) is None:
                raise ServiceError("run_not_found", run=run_id)
            try:
                await self.writer.write(self.store.rename, run_id, change.name or None)
            except StoreUnavailable as error:
                raise _storage_error(error) from error
            if run_id in self.live:
                self.live[run_id].name = change.name or None
                self._publish_summary(self.live[run_id])
        if change.lr is not None or change.pace is not None:
            run = await self._live(run_id, "change")
            if change.lr is not None:
                if run.status == RunStatus.QUEUED:
                    run.config = configure(run.config, {"lr": change.lr})
                else:
                    self._send(run, Control("lr", change.lr))
            if change.pace is not None:
                run.pace = change.pace
                if change.pace == "step":
                    await self.step(run_id)
                else:
                    self._send(run, Control("pace", pace_interval(change.pace, run.config)))
                self._publish_summary(run)
        return await self.views.summary(run_id)

    async def delete(self, run_id: str) -> None:
        """Delete a finished or queued run; one that trains, is being resumed or deleted: 409."""
        run = self.live.get(run_id)
        if run is not None:
            if run.status != RunStatus.QUEUED or run.resuming:
                raise ServiceError("still_active", run=run_id, status=run.status)
            await self.stop(run_id)
        if run_id in self.deleting or run_id in self.live:
            raise ServiceError("still_active", run=run_id, status="being changed")
        self.deleting.add(run_id)  # claimed: a resume of it now finds no run
        try:
            if await asyncio.to_thread(self.store.get_run, run_id) is None:
                raise ServiceError("run_not_found", run=run_id)
            try:
                await self.writer.write(self.store.delete_run, run_id)
            except StoreUnavailable as error:
                raise _storage_error(error) from error
            self.writer.forget_steps(run_id)
            self.views.forget(run_id)
            self.reports.forget(run_id)
            self.models.forget(run_id)
            await asyncio.to_thread(self.files.forget, run_id)
            current = self.models.current
            if current is not None and current.run_id == run_id:
                await asyncio.to_thread(self.models.reload)
        finally:
            self.deleting.discard(run_id)

    async def shutdown(self) -> None:
        """Stop every run (each keeps its last epoch) and wait for the workers, killing the slow ones."""
        self.closing = True
        for run_id in self._queued_runs():
            run = self.live.get(run_id)
            if run is not None:
                run.final = (RunStatus.STOPPED, Reason("server_shutdown"))
                self._end(run)
        self.queue.clear()
        runs = list(self.live.values())
        for run in runs:
            run.stopping, run.stop_reason = True, Reason("server_shutdown")
            self._send(run, Control("stop"))
        waiting = [asyncio.create_task(run.ended.wait()) for run in runs]
        if waiting:
            _, pending = await asyncio.wait(waiting, timeout=self.settings.stop_wait)
            for run in runs:
                if not run.ended.is_set() and run.worker is not None:
                    run.worker.kill()
            if pending:
                await asyncio.wait(pending, timeout=3.0)
            for run in runs:
                if not run.ended.is_set():
                    run.final = (RunStatus.STOPPED, Reason("server_shutdown"))
                    self._end(run)
        for task in list(self._tasks):
            task.cancel()

    async def import_checkpoint(self, upload: IO[bytes] | bytes) -> RunSummary:
        """A checkpoint file becomes a finished run whose model serves; a bad file changes nothing, and
        a file that cannot be stored leaves nothing behind. The upload is read from its (spooled) file,
        every array checked against its config before it is inflated."""
        try:
            checkpoint = await asyncio.to_thread(serialize.load, upload, self.settings.max_model_bytes)
        except serialize.CheckpointError as error:
            raise ServiceError("invalid_checkpoint", error=str(error)) from error
        if checkpoint.epoch < 1:
            raise ServiceError("checkpoint_untrained")
        full = await asyncio.to_thread(self.files.room, self.files.epoch_bytes(checkpoint.config))
        if full is not None:
            raise ServiceError("storage_full", error=full)
        run_id = secrets.token_hex(6)
        created = time.time()
        try:
            await self.writer.write(
                self.store.create_run,
                run_id,
                checkpoint.config,
                "imported",
                RunStatus.COMPLETED,
                None,
                None,
                created,
            )
        except StoreUnavailable as error:
            raise _storage_error(error) from error
        try:
            await asyncio.to_thread(self._write_import, run_id, checkpoint)
            await self.writer.write(self.store.truncate, run_id, checkpoint.epoch, checkpoint.step)
            await self.writer.write(self.store.set_status, run_id, RunStatus.COMPLETED, Reason("imported"))
        except (OSError, StoreUnavailable) as error:
            with contextlib.suppress(StoreUnavailable):
                await self.writer.write(self.store.delete_run, run_id)
            await asyncio.to_thread(self.files.forget, run_id)
            if isinstance(error, OSError):
                raise ServiceError("storage_full", error=error.strerror or str(error)) from error
            raise _storage_error(error) from error
        self.models.recorded(
            ServingModel(
                run_id, checkpoint.epoch, None, checkpoint.config.dataset, checkpoint.weights, created
            )
        )
        summary = await self.views.summary(run_id)
        self.hub.publish(StatusMessage(run=summary).model_dump_json())
        return summary

    def _write_import(self, run_id: str, checkpoint: Checkpoint) -> None:
        self.files.write(self.files.checkpoint(run_id, checkpoint.epoch), serialize.dumps(checkpoint))
        self.files.write(
            self.files.model(run_id, checkpoint.epoch), serialize.dumps(checkpoint, with_optimizer=False)
        )

    # -- what reads need of the live state --------------------------------------------------------

    def memory(self, run_id: str) -> LiveRun | None:
        """A run memory knows better than the database: live, or ended with its final status not yet
        written."""
        return self.live.get(run_id) or self.ending.get(run_id)

    def queue_position(self, run_id: str) -> int | None:
        queued = self._queued_runs()
        return queued.index(run_id) + 1 if run_id in queued else None

    def live_weights(self, run_id: str) -> LiveWeights | None:
        run = self.live.get(run_id)
        return run.live_weights if run is not None else None

    @property
    def training(self) -> list[str]:
        return [run_id for run_id, run in self.live.items() if run.status != RunStatus.QUEUED]

    @property
    def queued(self) -> list[str]:
        return self._queued_runs()

    def workers(self) -> dict[str, str]:
        """Where each live run's trainer runs."""
        return {
            run_id: f"{run.worker.where}, pid {run.pid}" if run.pid else run.worker.where
            for run_id, run in self.live.items()
            if run.worker is not None
        }

    # -- helpers ------------------------------------------------------------------------------------

    def _send(self, run: LiveRun, message: Control) -> None:
        if run.worker is not None:
            run.worker.send(message)

    def _unqueue(self, run_id: str) -> None:
        self.queue = deque(
            group for group in (tuple(r for r in g if r != run_id) for g in self.queue) if group
        )

    def _set_status(self, run: LiveRun, status: RunStatus) -> None:
        run.status = status
        self._persist_status(run)
        self._publish_summary(run)

    def _persist_status(self, run: LiveRun) -> Future[None]:
        steps = run.series.last_step if run.status not in ACTIVE else None
        future = self.writer.submit(self.store.set_status, run.id, run.status, run.reason, steps)
        future.add_done_callback(functools.partial(_log_failure, run_id=run.id))
        return future

    def _publish_summary(self, run: LiveRun) -> None:
        """Tell every client the run's state as it is now (from memory: no waiting)."""
        self.hub.publish(StatusMessage(run=self.views.live_summary(run)).model_dump_json())

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _step_message(run_id: str, steps: Steps) -> StepMessage:
    return StepMessage.model_construct(
        run_id=run_id,
        step=steps.step.tolist(),
        epoch=steps.epoch.tolist(),
        loss=[float(f"{v:.5g}") for v in steps.loss.tolist()],  # 5 digits: enough to draw, half the bytes
        accuracy=steps.accuracy.tolist(),
    )


def _names(statuses: frozenset[RunStatus]) -> str:
    return ", ".join(sorted(statuses))


def _storage_error(error: StoreUnavailable) -> ServiceError:
    text = str(error)
    return ServiceError("storage_full" if "full" in text else "storage_unavailable", error=text)


def _log_failure(future: Any, run_id: str) -> None:
    if future.exception() is not None:
        logger.error("could not record the status of run %s: %s", run_id, future.exception())
