"""Workers as processes of this machine: one per run, started by a fork server that has already
imported NumPy and the engine (safe with the server's threads, and quick), talking over two pipes.

The dataset is not copied: the server writes each verified dataset once as ``.npy`` files, which every
worker maps read-only, so their pages are shared through the page cache.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import signal
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from deeplook.app.workers.base import Deliver, Exited
from deeplook.app.workers.training import (
    Assignment,
    Control,
    SharedDataset,
    apply,
    open_shared,
    training_events,
)
from deeplook.engine.data import Dataset
from deeplook.engine.data.base import ARRAY_KEYS
from deeplook.engine.files import write_atomically
from deeplook.engine.train import TrainControl

PRELOAD = ["deeplook.app.workers.training"]


class LocalWorker:
    """A worker process, its pipes, and the thread that reads its events."""

    def __init__(self, process: Any, events: Connection, controls: Connection, name: str) -> None:
        self.process = process
        self._events = events
        self._controls = controls
        self._lock = threading.Lock()
        self.name = name

    @property
    def where(self) -> str:
        return "a local process"

    def send(self, message: Control) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):  # it died: the reader reports that
            self._controls.send(message)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()

    def read(self, deliver: Deliver, exited: Exited) -> None:
        """Until the pipe closes: every event to ``deliver``; then ``exited`` with how it ended."""
        try:
            while True:
                deliver(self._events.recv())
        except (EOFError, OSError):
            pass
        finally:
            self._events.close()
            with self._lock:
                self._controls.close()
            self.process.join(5)
            exited(describe_exit(self.process.exitcode))


def describe_exit(code: int | None) -> str:
    if code is None:
        return "it did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class LocalExecutor:
    """Each run in a process of its own on this machine."""

    name = "local"

    def __init__(self, shared_dir: Path) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._shared_dir = shared_dir

    def share(self, dataset: Dataset) -> tuple[Dataset, SharedDataset]:
        """The dataset's arrays as ``.npy`` files (written once, atomically) that workers map; the
        server maps them too, so there is one copy in memory however many runs train."""
        folder = self._shared_dir / dataset.name
        paths = {}
        for key in ARRAY_KEYS:
            path = folder / f"{key}.npy"
            array = np.asarray(getattr(dataset, key))
            if not _holds(path, array):
                write_atomically(path, _npy_bytes(array))
            paths[key] = str(path)
        shared = SharedDataset(dataset.name, paths)
        return open_shared(shared), shared

    def start(self, assignment: Assignment, deliver: Deliver, exited: Exited) -> LocalWorker:
        events_in, events_out = self._context.Pipe(duplex=False)
        controls_in, controls_out = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=work,
            args=(assignment, events_out, controls_in),
            name=f"deeplook-run-{assignment.run_id}",
            daemon=True,
        )
        process.start()
        events_out.close()  # the worker's ends: the parent keeps only its own
        controls_in.close()
        worker = LocalWorker(process, events_in, controls_out, assignment.run_id)
        reader = threading.Thread(
            target=worker.read, args=(deliver, exited), name=f"events-{assignment.run_id}", daemon=True
        )
        reader.start()
        return worker

    def close(self) -> None:
        """Nothing of its own to stop: the fork server exits with the server."""


def work(assignment: Assignment, events: Connection, controls: Connection) -> None:
    """A worker process's whole life: train, sending every event; stop when the server goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us in order
    control = TrainControl()
    listener = threading.Thread(target=_listen, args=(controls, control), daemon=True)
    listener.start()
    try:
        for event in training_events(assignment, control):
            events.send(event)
    except (OSError, ValueError):  # the server is gone: nobody to train for
        control.stop()
    finally:
        events.close()


def _listen(controls: Connection, control: TrainControl) -> None:
    while True:
        try:
            message = controls.recv()
        except (EOFError, OSError):
            control.stop()  # the server is gone
            return
        apply(control, message)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def _holds(path: Path, array: np.ndarray) -> bool:
    """Whether ``path`` already holds exactly this array (workers verify the MD5s when they map it)."""
    try:
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return False
    return bool(mapped.shape == array.shape and mapped.dtype == array.dtype and np.array_equal(mapped, array))
