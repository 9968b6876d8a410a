"""deeplook inside Jupyter: the dashboard in a cell, and a live chart of one run beside the notebook.

    %load_ext deeplook
    %deeplook                                   # the dashboard, from a server found or started

    from deeplook import notebook
    run = notebook.client().runs.start(preset="notebook-adam", epochs=3)
    notebook.watch(run)                         # loss and accuracy as they train

``watch`` returns an anywidget whose state (``steps``, ``epochs``, ``status``) the kernel fills from the
server's websocket, the same stream the dashboard reads; the page only draws it. Needs
``pip install deeplook[notebook]``.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anywidget
import httpx2 as httpx
import traitlets

from deeplook.client import Client, Run

DEFAULT_URL = "http://127.0.0.1:8000"
STARTUP_SECONDS = 60
SYNC_SECONDS = 0.25
"""The widget's state is sent to the page at most this often."""
MAX_POINTS = 2000
"""Step points kept for the chart (bucket means beyond)."""
ESM = Path(__file__).with_name("static") / "widget" / "run-widget.js"


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Notebook:
    """The kernel's deeplook: the server it found or started (stopped when the kernel exits)."""

    url: str | None = None
    token: str | None = field(default_factory=lambda: os.environ.get("DEEPLOOK_API_TOKEN"))
    process: subprocess.Popen[bytes] | None = None

    def server(self, url: str | None = None, data_dir: str | Path | None = None) -> str:
        """The URL of a running deeplook: ``url``, else ``DEEPLOOK_URL``, else one on port 8000, else a
        new ``deeplook serve`` on a free port (with ``data_dir``, default ``DEEPLOOK_DATA_DIR`` or
        ./deeplook-data)."""
        if url is not None:
            self.url = url.rstrip("/")
        if self.url is not None and _healthy(self.url):
            return self.url
        for candidate in (os.environ.get("DEEPLOOK_URL"), DEFAULT_URL):
            if candidate and _healthy(candidate.rstrip("/")):
                self.url = candidate.rstrip("/")
                return self.url
        self.url = self._start(Path(data_dir or os.environ.get("DEEPLOOK_DATA_DIR", "deeplook-data")))
        return self.url

    def _start(self, data_dir: Path) -> str:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        serve = ["serve", "--port", str(port), "--data-dir", str(data_dir)]
        command = [sys.executable, "-m", "deeplook", *serve]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        atexit.register(self.stop)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"deeplook serve did not start on {url} (try it in a terminal)")
            time.sleep(0.2)
        return url

    def stop(self) -> None:
        """Stop the server this kernel started (one it found keeps running)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def client(self) -> Client:
        return Client(self.server(), token=self.token)


_NOTEBOOK = Notebook()
"""The kernel's one deeplook (what ``show``, ``client`` and ``watch`` use)."""


def client(url: str | None = None) -> Client:
    """A client of the kernel's deeplook server (found or started)."""
    return Client(_NOTEBOOK.server(url), token=_NOTEBOOK.token)


def show(url: str | None = None, height: int = 820) -> Any:
    """The dashboard in the cell's output (an iframe of the server found or started)."""
    from IPython.display import IFrame

    return IFrame(_NOTEBOOK.server(url), width="100%", height=height)


def _downsample(steps: list[int], losses: list[float]) -> list[list[float]]:
    """At most MAX_POINTS [step, loss] pairs: bucket means of equal runs of steps."""
    if len(steps) <= MAX_POINTS:
        return [[s, v] for s, v in zip(steps, losses, strict=True)]
    size = -(-len(steps) // MAX_POINTS)
    return [
        [steps[min(i + size, len(steps)) - 1], sum(losses[i : i + size]) / len(losses[i : i + size])]
        for i in range(0, len(steps), size)
    ]


class RunWidget(anywidget.AnyWidget):
    """A live chart of one run: the loss per step and the accuracy per epoch."""

    _esm = ESM
    run_id = traitlets.Unicode("").tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    steps: traitlets.List[list[float]] = traitlets.List([]).tag(sync=True)
    """[step, loss] pairs (downsampled to MAX_POINTS)."""
    epochs: traitlets.List[dict[str, Any]] = traitlets.List([]).tag(sync=True)
    """One dict per completed epoch: epoch, train/test loss and accuracy."""
    epochs_total = traitlets.Int(0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, run_id: str, url: str, token: str | None = None) -> None:
        super().__init__(run_id=run_id)
        self._url, self._token = url, token
        self._step: list[int] = []
        self._loss: list[float] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._follow, name=f"deeplook-watch-{run_id}", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has finished (True) or ``timeout`` seconds passed (False)."""
        return self._done.wait(timeout)

    def _follow(self) -> None:
        synced = 0.0
        try:
            with Client(self._url, token=self._token) as session:
                for message in session.watch(self.run_id):
                    self._take(message)
                    now = time.monotonic()
                    if now - synced >= SYNC_SECONDS:
                        self.steps, synced = _downsample(self._step, self._loss), now
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.steps = _downsample(self._step, self._loss)
            self._done.set()

    def _take(self, message: Any) -> None:
        kind = message.get("type")
        if kind == "snapshot" and message.get("run"):
            run = message["run"]
            self._summary(run)
            self._step, self._loss = list(run["steps"]["step"]), list(run["steps"]["loss"])
            self.epochs = [dict(e) for e in run["epochs"]]
        elif kind == "step":
            self._step += message["step"]
            self._loss += message["loss"]
        elif kind == "epoch":
            metrics = dict(message["metrics"])
            self.epochs = [e for e in self.epochs if e["epoch"] < metrics["epoch"]] + [metrics]
        elif kind == "status":
            self._summary(message["run"])

    def _summary(self, run: Any) -> None:
        self.status = run["status"]
        self.name = run.get("name") or run.get("preset") or run["id"]
        self.epochs_total = run["epochs_total"]


def watch(run: Run | str) -> RunWidget:
    """A live chart of ``run`` (a ``Run`` from the client, or a run id) in the cell's output."""
    run_id = run if isinstance(run, str) else run.id
    return RunWidget(run_id, _NOTEBOOK.server(), _NOTEBOOK.token)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext deeplook``: adds ``%deeplook [url]``, which shows the dashboard."""

    def magic(line: str) -> Any:
        return show(line.strip() or None)

    ipython.register_magic_function(magic, magic_kind="line", magic_name="deeplook")
