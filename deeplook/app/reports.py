"""Per-epoch look-inside reports of each run, on disk next to its checkpoint, with a small cache."""

from __future__ import annotations

import shutil
import threading
from collections import OrderedDict
from pathlib import Path

from deeplook.app.errors import NotFound
from deeplook.engine import serialize
from deeplook.engine.inspect import EpochReport

CACHED_REPORTS = 16


class ReportStore:
    """``runs/<id>/epochs/<epoch>.npz``: one report per epoch, epoch 0 being the initial weights."""

    def __init__(self, runs_dir: Path) -> None:
        self._runs_dir = runs_dir
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], EpochReport] = OrderedDict()

    def _folder(self, run_id: str) -> Path:
        return self._runs_dir / run_id / "epochs"

    def save(self, run_id: str, report: EpochReport) -> None:
        serialize.save_report(report, self._folder(run_id) / f"{report.epoch:04d}.npz")
        with self._lock:
            self._cache.pop((run_id, report.epoch), None)

    def epochs(self, run_id: str) -> list[int]:
        folder = self._folder(run_id)
        if not folder.is_dir():
            return []
        return sorted(int(path.stem) for path in folder.glob("[0-9][0-9][0-9][0-9].npz"))

    def load(self, run_id: str, epoch: int | None = None) -> EpochReport:
        """The report of ``epoch`` (default: the latest); ``NotFound`` when there is none."""
        available = self.epochs(run_id)
        if not available:
            raise NotFound(f"run {run_id} has no look-inside reports yet")
        epoch = available[-1] if epoch is None else epoch
        if epoch not in available:
            raise NotFound(f"run {run_id} has no report for epoch {epoch}; it has epochs {available}")
        key = (run_id, epoch)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        report = serialize.load_report(self._folder(run_id) / f"{epoch:04d}.npz")
        with self._lock:
            self._cache[key] = report
            while len(self._cache) > CACHED_REPORTS:
                self._cache.popitem(last=False)
        return report

    def truncate(self, run_id: str, epoch: int) -> None:
        """Forget reports after ``epoch`` (a resumed run records them again)."""
        for later in [e for e in self.epochs(run_id) if e > epoch]:
            (self._folder(run_id) / f"{later:04d}.npz").unlink(missing_ok=True)
        with self._lock:
            for key in [k for k in self._cache if k[0] == run_id and k[1] > epoch]:
                del self._cache[key]

    def forget(self, run_id: str) -> None:
        shutil.rmtree(self._folder(run_id), ignore_errors=True)
        with self._lock:
            for key in [k for k in self._cache if k[0] == run_id]:
                del self._cache[key]
