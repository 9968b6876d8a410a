"""What clients read about runs: summaries, details with their curves, websocket snapshots.

A live run is described from memory (``RunManager.memory``); a stored one from the database, off the
event loop. Details are heavy (a curve of up to ``step_points`` points): their JSON (and its gzip) is
built once per version of a run and sent to every client that asks, so a class opening the page, or
polling a run, costs the server one build, not one per client.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response

from deeplook.app.errors import ServiceError
from deeplook.app.live import LiveRun, LiveSeries
from deeplook.app.messages import ProgressMessage, SnapshotMessage
from deeplook.app.schemas import RunDetail, RunSummary
from deeplook.app.store import RunRecord, Store
from deeplook.app.workers.training import LiveWeights

if TYPE_CHECKING:
    from deeplook.app.runs import RunManager

CACHED_DETAILS = 32
"""Stored runs whose detail is kept built."""
LIVE_REFRESH = 0.25
"""Seconds a live run's detail may be old: a snapshot that old is followed by the step batches sent
since (``LiveRun.recent``), so a client that connects then misses nothing."""
GZIP_LEVEL = 5
GZIP_ABOVE = 64_000
"""Bytes above which an answer travels compressed (as the app's gzip middleware does)."""


_SHARED = ("id", "name", "status", "preset", "created_at", "started_at", "finished_at", "checkpoint_epoch")
"""The fields of a run's summary that a stored run and a live one hold alike."""


def _summary(run: RunRecord | LiveRun, **known: Any) -> RunSummary:
    """A run's summary: the fields both kinds of run hold, those that follow from its reason and its
    config, and ``known`` (what only this kind of run knows, or knows better)."""
    reason = run.reason
    return RunSummary(
        **{name: getattr(run, name) for name in _SHARED},
        reason=reason.text if reason else "",
        reason_code=reason.code if reason else None,
        reason_params=dict(reason.params) if reason else {},
        config=run.config,
        dataset=run.config.dataset,
        epochs_total=run.config.epochs,
        steps_per_epoch=run.config.steps_per_epoch(),
        **known,
    )


def run_summary(run: RunRecord) -> RunSummary:
    """A stored run's summary."""
    return _summary(
        run,
        race_id=run.race_id,
        epochs_done=run.epochs_done,
        steps_done=run.steps_done,
        test_accuracy=run.test_accuracy,
    )


@dataclass(eq=False)
class Body:
    """A JSON answer, serialised once; its gzip made on first need."""

    text: str
    version: tuple[Any, ...] = ()
    built: float = field(default_factory=time.monotonic)
    level: int = GZIP_LEVEL
    """gzip's level: 1 for answers made once and sent once (fast), higher for cached ones."""

    @cached_property
    def raw(self) -> bytes:
        return self.text.encode()

    @cached_property
    def gzip(self) -> bytes:
        return gzip.compress(self.raw, self.level)


def json_body(request: Request, body: Body) -> Response:
    """The body as a JSON answer: its gzip when the client takes it (made once, not per request)."""
    if "gzip" in request.headers.get("accept-encoding", "") and len(body.raw) >= GZIP_ABOVE:
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return Response(body.gzip, media_type="application/json", headers=headers)
    return Response(body.raw, media_type="application/json")


class RunViews:
    """Summaries, details and snapshots of runs, live or stored."""

    def __init__(self, manager: RunManager, store: Store, step_points: int) -> None:
        self._manager = manager
        self._store = store
        self._step_points = step_points
        self._stored: OrderedDict[str, Body] = OrderedDict()
        self._building: dict[tuple[str, tuple[Any, ...]], asyncio.Future[Body]] = {}
        self._live: dict[str, Body] = {}

    # -- summaries ----------------------------------------------------------------------------------

    async def summary(self, run_id: str) -> RunSummary:
        run = self._manager.memory(run_id)
        if run is not None:
            return self.live_summary(run)
        record = await asyncio.to_thread(self._store.get_run, run_id)
        run = self._manager.memory(run_id)  # it may have come alive meanwhile
        if run is not None:
            return self.live_summary(run)
        if record is None:
            raise ServiceError("run_not_found", run=run_id)
        return run_summary(record)

    async def list_runs(self) -> list[RunSummary]:
        """Every run, newest first; live ones as memory knows them."""
        records = await asyncio.to_thread(self._store.list_runs)
        summaries = []
        for record in records:
            run = self._manager.memory(record.id)
            summaries.append(self.live_summary(run) if run is not None else run_summary(record))
        return summaries

    def live_summary(self, run: LiveRun) -> RunSummary:
        """A live run's summary, from memory only."""
        last = run.epochs[-1] if run.epochs else None
        return _summary(
            run,
            queue_position=self._manager.queue_position(run.id),
            race_id=run.race,
            pace=run.pace,
            epochs_done=last.epoch if last else 0,
            steps_done=run.series.last_step,
            test_accuracy=last.test_accuracy if last else None,
        )

    # -- details ------------------------------------------------------------------------------------

    async def detail_body(self, run_id: str, fresh: bool = False) -> Body:
        """A run's detail as JSON: a live one at most ``LIVE_REFRESH`` seconds old (``fresh``: as it is
        now), a stored one built once per version."""
        run = self._manager.memory(run_id)
        if run is not None:
            return self._live_body(run, fresh)
        return await self._stored_body(run_id)

    async def detail(self, run_id: str) -> RunDetail:
        return RunDetail.model_validate_json((await self.detail_body(run_id)).text)

    def live_weights(self, run_id: str) -> LiveWeights | None:
        return self._manager.live_weights(run_id)

    def live_series(self, run_id: str) -> LiveSeries | None:
        run = self._manager.memory(run_id)
        return run.series if run is not None else None

    def _live_body(self, run: LiveRun, fresh: bool) -> Body:
        # version[0] is the last step the body holds: snapshots replay the batches after it
        version = (run.series.last_step, run.status, len(run.epochs), len(run.lr_changes), run.name, run.pace)
        cached = self._live.get(run.id)
        if cached is not None and cached.version[1:] == version[1:]:  # only steps may be newer
            young = time.monotonic() - cached.built < LIVE_REFRESH
            if cached.version[0] == version[0] or (young and not fresh):
                return cached
        detail = RunDetail(
            **dict(self.live_summary(run)),
            epochs=run.epochs,
            steps=run.series.steps_out(),
            lr_changes=run.lr_changes,
        )
        body = self._live[run.id] = Body(detail.model_dump_json(), version)
        return body

    async def _stored_body(self, run_id: str) -> Body:
        """Built off the event loop, once per version however many ask at the same time."""
        record = await asyncio.to_thread(self._store.get_run, run_id)
        if record is None:
            raise ServiceError("run_not_found", run=run_id)
        version = (record.status, record.steps_done, record.epochs_done, record.checkpoint_epoch, record.name)
        cached = self._stored.get(run_id)
        if cached is not None and cached.version == version:
            self._stored.move_to_end(run_id)
            return cached
        building = self._building.get((run_id, version))
        if building is None:
            building = asyncio.ensure_future(asyncio.to_thread(self._build, record, version))
            self._building[(run_id, version)] = building
            building.add_done_callback(lambda _: self._building.pop((run_id, version), None))
        body = await asyncio.shield(building)
        self._stored[run_id] = body
        self._stored.move_to_end(run_id)
        while len(self._stored) > CACHED_DETAILS:
            self._stored.popitem(last=False)
        return body

    def _build(self, record: RunRecord, version: tuple[Any, ...]) -> Body:
        series = LiveSeries(self._step_points, self._store.steps(record.id))
        detail = RunDetail(
            **dict(run_summary(record)),
            epochs=self._store.epochs(record.id),
            steps=series.steps_out(),
            lr_changes=self._store.lr_changes(record.id),
        )
        body = Body(detail.model_dump_json(), version)
        body.gzip  # noqa: B018 (compressed here, off the loop)
        return body

    def forget(self, run_id: str) -> None:
        self._stored.pop(run_id, None)
        self._live.pop(run_id, None)

    # -- snapshots ----------------------------------------------------------------------------------

    async def snapshots(self, run_ids: Sequence[str] | None) -> list[str]:
        """Snapshot messages (JSON) for a client that just subscribed: the named runs, or (None) every
        active run, or the latest run when none is active."""
        if run_ids is None:
            run_ids = self._manager.training
            if not run_ids:
                runs = await asyncio.to_thread(self._store.list_runs)
                if not runs:
                    return [SnapshotMessage(run=None).model_dump_json()]
                run_ids = [runs[0].id]
        texts = []
        for run_id in run_ids:
            try:
                body = await self.detail_body(run_id)
            except ServiceError:
                continue
            run = self._manager.live.get(run_id)
            progress = None
            if run is not None and run.progress is not None:
                progress = ProgressMessage(run_id=run_id, message=run.progress[0], fraction=run.progress[1])
            texts.append(SnapshotMessage.frame(body.text, progress))
            if run is not None:  # what was sent since the snapshot was built
                held = body.version[0]
                texts += [batch.text for batch in run.recent if batch.last_step > held]
        return texts
