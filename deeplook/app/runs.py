"""Training runs: one at a time, in a worker thread, persisted and streamed as it goes.

The worker thread trains, writes the store and the checkpoints, and hands messages to the event
loop with ``call_soon_threadsafe``; everything the loop reads (the active run, its history) is
changed on the loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from deeplook.app.config import Settings
from deeplook.app.datasets import DatasetCache
from deeplook.app.errors import Conflict, Invalid, NotFound
from deeplook.app.hub import Hub, StepBatch
from deeplook.app.messages import EpochMessage, ProgressMessage, SnapshotMessage, StatusMessage, StepMessage
from deeplook.app.models import ModelRegistry, ServingModel
from deeplook.app.reports import ReportStore
from deeplook.app.schemas import RunCreate, RunDetail, RunSummary
from deeplook.app.series import RunHistory, steps_out
from deeplook.app.store import RunRecord, Store
from deeplook.app.views import run_summary
from deeplook.engine import inspect, serialize
from deeplook.engine.config import ConfigError, TrainConfig, configure, preset_config
from deeplook.engine.data import DataError, Dataset
from deeplook.engine.status import RESUMABLE, Reason, RunStatus
from deeplook.engine.train import Checkpoint, EpochMetrics, RunFinished, StepMetrics, TrainControl, Trainer

logger = logging.getLogger("deeplook.runs")

FLUSH_INTERVAL = 1.0  # seconds between writes of step metrics to the store
PROGRESS_INTERVAL = 0.1
LIVE_WEIGHTS_INTERVAL = 1.0  # seconds between copies of the first layer for the live weight images


@dataclass(frozen=True, eq=False)
class LiveWeights:
    """A copy of the first layer's weights taken mid-epoch, for the live weight images."""

    epoch: int  # the epoch in progress
    step: int
    first_layer: np.ndarray  # (units, inputs)


@dataclass(eq=False)
class ActiveRun:
    id: str
    config: TrainConfig
    control: TrainControl = field(default_factory=TrainControl)
    thread: threading.Thread | None = None
    status: RunStatus = RunStatus.LOADING
    history: RunHistory = field(default_factory=RunHistory)
    progress: ProgressMessage | None = None
    live_weights: LiveWeights | None = None


def build_config(request: RunCreate) -> TrainConfig:
    """The preset named in the request with the request's settings applied over it."""
    return configure(preset_config(request.preset), request.overrides())


class RunManager:
    """Starts, controls and records runs; owns the one active run."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        hub: Hub,
        models: ModelRegistry,
        datasets: DatasetCache,
        reports: ReportStore,
    ) -> None:
        self.settings = settings
        self.store = store
        self.hub = hub
        self.models = models
        self.datasets = datasets
        self.reports = reports
        self.active: ActiveRun | None = None
        self._loop = asyncio.get_running_loop()

    # -- control (event loop) -----------------------------------------------------------------------

    def start(self, request: RunCreate) -> RunSummary:
        self._require_idle()
        try:
            config = build_config(request)
        except ConfigError as error:
            raise Invalid(str(error)) from error
        run_id = secrets.token_hex(6)
        record = self.store.create_run(run_id, config, request.preset, RunStatus.LOADING, request.name)
        self._launch(record, resume=None, history=RunHistory())
        return run_summary(record)

    def pause(self, run_id: str) -> RunSummary:
        run = self._require_active(run_id, "pause")
        run.control.pause()
        self._set_status(run, RunStatus.PAUSED)
        return self.summary(run_id)

    def stop(self, run_id: str) -> ActiveRun:
        run = self._require_active(run_id, "stop")
        run.control.stop()
        return run

    async def resume(self, run_id: str) -> RunSummary:
        active = self.active
        if active is not None and active.id == run_id:
            if not active.control.paused:
                raise Conflict(f"run {run_id} is {active.status}, not paused")
            active.control.resume()
            self._set_status(
                active, RunStatus.LOADING if active.status == RunStatus.LOADING else RunStatus.RUNNING
            )
            return self.summary(run_id)
        record = self._record(run_id)
        if record.status not in RESUMABLE:
            raise Conflict(f"run {run_id} is {record.status}; only {', '.join(RESUMABLE)} runs can resume")
        if record.checkpoint_epoch >= record.config.epochs:
            raise Conflict(f"run {run_id} has already trained all its epochs")
        self._require_idle()
        checkpoint = await asyncio.to_thread(self._checkpoint_to_resume, record)
        history = await asyncio.to_thread(self._stored_history, run_id)
        self.store.set_status(run_id, RunStatus.LOADING)
        self._launch(self._record(run_id), resume=checkpoint, history=history)
        return self.summary(run_id)

    def import_checkpoint(self, payload: bytes) -> RunSummary:
        """A checkpoint file becomes a finished run whose model serves; a bad file changes nothing."""
        try:
            checkpoint = serialize.load(payload)
        except serialize.CheckpointError as error:
            raise Invalid(f"not a usable deeplook checkpoint: {error}") from error
        if checkpoint.epoch < 1:
            raise Invalid("the checkpoint is of epoch 0: an untrained network cannot serve predictions")
        run_id = secrets.token_hex(6)
        serialize.save(checkpoint, self.models.checkpoint_path(run_id))
        self.store.create_run(run_id, checkpoint.config, "imported", RunStatus.COMPLETED)
        self.store.truncate(run_id, checkpoint.epoch, checkpoint.step)
        self.store.set_status(run_id, RunStatus.COMPLETED, Reason("imported"))
        self.models.set_current(
            ServingModel(run_id, checkpoint.epoch, None, checkpoint.config.dataset, checkpoint.weights)
        )
        summary = self.summary(run_id)
        self.hub.publish(StatusMessage(run=summary).model_dump_json())
        return summary

    def delete(self, run_id: str) -> None:
        record = self._record(run_id)
        if self.active is not None and self.active.id == run_id:
            raise Conflict(f"run {run_id} is {record.status}; stop it before deleting it")
        self.store.delete_run(run_id)
        self.reports.forget(run_id)
        shutil.rmtree(self.models.checkpoint_path(run_id).parent, ignore_errors=True)
        self.models.forget(run_id)

    async def shutdown(self, timeout: float = 8.0) -> None:
        """Stop the active run and wait for its thread; its last epoch's checkpoint is on disk."""
        run = self.active
        if run is not None and run.thread is not None:
            run.control.stop()
            await asyncio.to_thread(run.thread.join, timeout)

    # -- reading (event loop) -----------------------------------------------------------------------

    def summary(self, run_id: str) -> RunSummary:
        return run_summary(self._record(run_id))

    def detail(self, run_id: str) -> RunDetail:
        """A run with its epochs and downsampled steps (from memory while it trains)."""
        record = self._record(run_id)
        active = self.active
        if active is not None and active.id == run_id:
            history = active.history
            return RunDetail(
                **run_summary(record).model_dump(),
                epochs=history.epochs,
                steps=history.steps_out(self.settings.step_points),
            )
        return self._stored_detail(record)

    def _stored_detail(self, record: RunRecord) -> RunDetail:
        series = self.store.steps(record.id)
        return RunDetail(
            **run_summary(record).model_dump(),
            epochs=self.store.epochs(record.id),
            steps=steps_out(
                series.step, series.epoch, series.loss, series.accuracy, self.settings.step_points
            ),
        )

    def snapshot(self) -> SnapshotMessage:
        """The active run, else the latest one, for a client that just connected."""
        active = self.active
        if active is not None:
            return SnapshotMessage(run=self.detail(active.id), progress=active.progress)
        runs = self.store.list_runs()
        return SnapshotMessage(run=self._stored_detail(runs[0]) if runs else None)

    # -- helpers ------------------------------------------------------------------------------------

    def _record(self, run_id: str) -> RunRecord:
        record = self.store.get_run(run_id)
        if record is None:
            raise NotFound(f"no run with id {run_id!r}")
        return record

    def _require_idle(self) -> None:
        if self.active is not None:
            raise Conflict(f"run {self.active.id} is {self.active.status}; stop it before starting another")

    def _require_active(self, run_id: str, action: str) -> ActiveRun:
        active = self.active
        if active is None or active.id != run_id:
            record = self._record(run_id)
            raise Conflict(f"cannot {action} run {run_id}: it is {record.status}")
        return active

    def _checkpoint_to_resume(self, record: RunRecord) -> Checkpoint | None:
        """The run's checkpoint, with its metrics after it forgotten; None to start over."""
        path = self.models.checkpoint_path(record.id)
        checkpoint = None
        if record.checkpoint_epoch >= 1 and path.exists():
            try:
                checkpoint = serialize.load(path)
            except serialize.CheckpointError as error:
                raise Conflict(f"run {record.id} cannot resume: {error}") from error
        epoch, step = (checkpoint.epoch, checkpoint.step) if checkpoint else (0, 0)
        self.store.truncate(record.id, epoch, step)
        self.reports.truncate(record.id, epoch)
        return checkpoint

    def _stored_history(self, run_id: str) -> RunHistory:
        return RunHistory(self.store.steps(run_id), self.store.epochs(run_id))

    def _launch(self, record: RunRecord, resume: Checkpoint | None, history: RunHistory) -> None:
        run = ActiveRun(record.id, record.config, history=history)
        run.thread = threading.Thread(
            target=self._work, args=(run, resume), name=f"train-{run.id}", daemon=True
        )
        self.active = run
        self.hub.publish(StatusMessage(run=run_summary(record)).model_dump_json())
        run.thread.start()

    def _set_status(self, run: ActiveRun, status: RunStatus, reason: Reason | None = None) -> None:
        """Record a status change (any thread) and announce it on the loop."""
        self.store.set_status(run.id, status, reason)
        message = StatusMessage(run=self.summary(run.id))
        self._call(self._deliver_status, run, message)

    def _call(self, callback: object, *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: the server is shutting down
            self._loop.call_soon_threadsafe(callback, *args)  # type: ignore[arg-type]

    # -- delivery (event loop) ----------------------------------------------------------------------

    def _deliver_status(self, run: ActiveRun, message: StatusMessage) -> None:
        run.status = message.run.status
        if message.run.status != RunStatus.LOADING:
            run.progress = None
        self.hub.publish(message.model_dump_json())

    def _deliver_steps(self, run: ActiveRun, message: StepMessage) -> None:
        run.history.add_steps(message)
        self.hub.publish(StepBatch(message))

    def _deliver_epoch(self, run: ActiveRun, message: EpochMessage) -> None:
        run.history.add_epoch(message.metrics)
        self.hub.publish(message.model_dump_json())

    def _deliver_progress(self, run: ActiveRun, message: ProgressMessage) -> None:
        run.progress = message
        self.hub.publish(message.model_dump_json())

    def _finished(self, run: ActiveRun) -> None:
        if self.active is run:
            self.active = None

    # -- the worker thread --------------------------------------------------------------------------

    def _work(self, run: ActiveRun, resume: Checkpoint | None) -> None:
        try:
            data = self._dataset(run)
            trainer = Trainer(run.config, data, resume=resume)
            if resume is None:
                self._save_report(run, trainer.last_checkpoint, data)
            if not run.control.stopped:
                self._set_status(run, RunStatus.PAUSED if run.control.paused else RunStatus.RUNNING)
            self._train(run, trainer, data)
        except DataError as error:
            self._set_status(run, RunStatus.FAILED, Reason("data_failed", {"error": str(error)}))
        except Exception as error:
            logger.exception("run %s failed", run.id)
            self._set_status(
                run, RunStatus.FAILED, Reason("error", {"error": f"{type(error).__name__}: {error}"})
            )
        finally:
            self._call(self._finished, run)

    def _dataset(self, run: ActiveRun) -> Dataset:
        last = 0.0

        def progress(message: str, fraction: float | None) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL or fraction == 1.0:
                last = now
                update = ProgressMessage(run_id=run.id, message=message, fraction=fraction)
                self._call(self._deliver_progress, run, update)

        return self.datasets.get(run.config.dataset, progress)

    def _train(self, run: ActiveRun, trainer: Trainer, data: Dataset) -> None:
        unsaved: list[StepMetrics] = []
        unsent: list[StepMetrics] = []
        last_sent = last_saved = last_weights = time.monotonic()
        send_every = self.hub.frame_interval  # one batch per frame a viewer gets
        metrics: EpochMetrics | None = None
        for event in trainer.run(run.control):
            if isinstance(event, StepMetrics):
                unsaved.append(event)
                unsent.append(event)
                now = time.monotonic()
                if now - last_sent >= send_every:
                    self._send_steps(run, unsent)
                    unsent, last_sent, send_every = [], now, self.hub.frame_interval
                if now - last_saved >= FLUSH_INTERVAL:
                    self.store.add_steps(run.id, unsaved)
                    unsaved, last_saved = [], now
                if now - last_weights >= LIVE_WEIGHTS_INTERVAL:
                    first_layer = np.ascontiguousarray(trainer.model.dense[0].W.value.T)
                    run.live_weights = LiveWeights(event.epoch, event.step, first_layer)
                    last_weights = now
            elif isinstance(event, EpochMetrics):
                self._send_steps(run, unsent)
                self.store.add_epoch(run.id, event, unsaved)
                unsent, unsaved, metrics = [], [], event
            elif isinstance(event, Checkpoint):
                assert metrics is not None and metrics.epoch == event.epoch
                self._save_checkpoint(run, event, metrics, data)
            elif isinstance(event, RunFinished):
                self._send_steps(run, unsent)
                self.store.add_steps(run.id, unsaved)
                self._set_status(run, event.status, event.reason)

    def _send_steps(self, run: ActiveRun, steps: list[StepMetrics]) -> None:
        if steps:
            message = StepMessage(
                run_id=run.id,
                step=[s.step for s in steps],
                epoch=[s.epoch for s in steps],
                loss=[float(f"{s.loss:.5g}") for s in steps],  # 5 digits: enough to draw, 2x fewer bytes
                accuracy=[s.accuracy for s in steps],
            )
            self._call(self._deliver_steps, run, message)

    def _save_report(self, run: ActiveRun, checkpoint: Checkpoint, data: Dataset) -> None:
        report = inspect.epoch_report(
            checkpoint.epoch,
            checkpoint.weights,
            data.test_images,
            data.test_labels,
            checkpoint.gradients,
            checkpoint.update_ratios,
            checkpoint.test,
        )
        self.reports.save(run.id, report)

    def _save_checkpoint(
        self, run: ActiveRun, checkpoint: Checkpoint, metrics: EpochMetrics, data: Dataset
    ) -> None:
        self._save_report(run, checkpoint, data)
        serialize.save(checkpoint, self.models.checkpoint_path(run.id))
        self.store.set_checkpoint_epoch(run.id, checkpoint.epoch)
        self.models.set_current(
            ServingModel(
                run.id, checkpoint.epoch, metrics.test_accuracy, run.config.dataset, checkpoint.weights
            )
        )
        self._call(self._deliver_epoch, run, EpochMessage(run_id=run.id, metrics=metrics))
