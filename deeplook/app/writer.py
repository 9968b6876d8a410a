"""The one writer of the database: a thread that applies writes in order, off the event loop.

While the database is locked (another process holds it), a write is retried with a growing pause for
up to ``lock_limit`` seconds before it fails; step metrics are buffered in memory meanwhile and written
in one transaction a second, so a locked database never slows training nor loses a step. A write that
fails (disk full, a lock held too long) fails its future: the caller decides what that means.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from deeplook.app.store import Store
from deeplook.app.workers.training import Steps

logger = logging.getLogger("deeplook.store")
T = TypeVar("T")

STEP_FLUSH_SECONDS = 1.0


class StoreUnavailable(Exception):
    """A write could not be made: the reason says why (locked too long, disk full, I/O error)."""


StepFailure = Callable[[list[str], str], None]
"""Called (from the writer's thread) with the runs whose steps could not be written, and why."""


class StoreWriter:
    def __init__(
        self, store: Store, lock_limit: float = 60.0, on_step_failure: StepFailure | None = None
    ) -> None:
        self.store = store
        self.lock_limit = lock_limit
        self._on_step_failure = on_step_failure
        self._queue: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._steps: dict[str, list[Steps]] = {}
        """Per run, its step batches as they came (columns: the store makes the rows, in this thread)."""
        self._steps_lock = threading.Lock()
        self._locked_since: float | None = None
        self._thread = threading.Thread(target=self._work, name="store-writer", daemon=True)
        self._thread.start()

    # -- from any thread ----------------------------------------------------------------------------

    def submit(self, write: Callable[..., T], *args: Any) -> Future[T]:
        """Queue a write (a ``Store`` method and its arguments); the future holds its outcome."""
        future: Future[T] = Future()
        self._queue.put((lambda: write(*args), future))
        return future

    async def write(self, write: Callable[..., T], *args: Any) -> T:
        """``submit`` and wait for it without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(write, *args))

    def add_steps(self, run_id: str, steps: Steps) -> None:
        """Buffer steps; they reach the database within a second (or with their epoch)."""
        with self._steps_lock:
            self._steps.setdefault(run_id, []).append(steps)

    def take_steps(self, run_id: str) -> list[Steps]:
        """The run's buffered step batches, removed from the buffer (an epoch write carries them)."""
        with self._steps_lock:
            return self._steps.pop(run_id, [])

    def forget_steps(self, run_id: str) -> None:
        with self._steps_lock:
            self._steps.pop(run_id, None)

    @property
    def pending_steps(self) -> int:
        with self._steps_lock:
            return sum(len(steps.step) for batches in self._steps.values() for steps in batches)

    @property
    def locked_for(self) -> float:
        """Seconds the database has refused writes for (0 when it takes them)."""
        since = self._locked_since
        return 0.0 if since is None else time.monotonic() - since

    def close(self, timeout: float = 10.0) -> None:
        """Write what is buffered and queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    # -- the writer's thread ------------------------------------------------------------------------

    def _work(self) -> None:
        last_flush = time.monotonic()
        while True:
            wait = max(0.0, last_flush + STEP_FLUSH_SECONDS - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = ()  # type: ignore[assignment]
            if item is None:
                self._flush_steps(final=True)
                return
            if item:
                write, future = item
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(self._retrying(write))
                    except StoreUnavailable as error:
                        future.set_exception(error)
            if time.monotonic() - last_flush >= STEP_FLUSH_SECONDS:
                self._flush_steps()
                last_flush = time.monotonic()

    def _flush_steps(self, final: bool = False) -> None:
        with self._steps_lock:
            batch, self._steps = self._steps, {}
        if not batch:
            return
        try:
            self._attempt(lambda: self.store.add_steps(batch))
        except _Locked:
            if self.locked_for > self.lock_limit or final:
                self._fail_steps(batch, f"the database was locked for more than {self.lock_limit:g} s")
            else:
                self._requeue(batch)  # kept for the next flush
        except StoreUnavailable as error:
            self._fail_steps(batch, str(error))

    def _requeue(self, batch: dict[str, list[Steps]]) -> None:
        with self._steps_lock:
            for run_id, steps in batch.items():
                self._steps[run_id] = steps + self._steps.get(run_id, [])

    def _fail_steps(self, batch: dict[str, list[Steps]], why: str) -> None:
        logger.error("could not write the steps of %s: %s", ", ".join(batch), why)
        if self._on_step_failure is not None:
            self._on_step_failure(list(batch), why)

    def _retrying(self, write: Callable[[], T]) -> T:
        pause = 0.05
        while True:
            try:
                return self._attempt(write)
            except _Locked as error:
                if self.locked_for > self.lock_limit:
                    raise StoreUnavailable(
                        f"the database was locked for more than {self.lock_limit:g} s"
                    ) from error
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _attempt(self, write: Callable[[], T]) -> T:
        try:
            result = write()
        except sqlite3.OperationalError as error:
            if _is_lock(error):
                if self._locked_since is None:
                    self._locked_since = time.monotonic()
                raise _Locked(str(error)) from error
            raise StoreUnavailable(_describe(error)) from error
        except sqlite3.Error as error:
            raise StoreUnavailable(_describe(error)) from error
        self._locked_since = None
        return result


class _Locked(Exception):
    """One attempt found the database locked."""


def _is_lock(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def _describe(error: sqlite3.Error) -> str:
    text = str(error)
    if "full" in text.lower():
        return f"the disk is full ({text})"
    return text
