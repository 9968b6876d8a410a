"""Per-epoch look-inside reports of each run, read from the run's files, with a small cache."""

from __future__ import annotations

import threading
from collections import OrderedDict

from deeplook.app.errors import ServiceError
from deeplook.app.files import RunFiles
from deeplook.engine import serialize
from deeplook.engine.inspect import EpochReport

CACHED_REPORTS = 16


class ReportStore:
    def __init__(self, files: RunFiles) -> None:
        self._files = files
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int], EpochReport] = OrderedDict()

    def epochs(self, run_id: str) -> list[int]:
        return self._files.epochs(run_id, "epochs")

    def load(self, run_id: str, epoch: int | None = None) -> EpochReport:
        """The report of ``epoch`` (default: the latest); a ``ServiceError`` when there is none or
        its file cannot be read."""
        available = self.epochs(run_id)
        if not available:
            raise ServiceError("no_reports", run=run_id)
        epoch = available[-1] if epoch is None else epoch
        if epoch not in available:
            raise ServiceError("no_report", run=run_id, epoch=epoch, epochs=", ".join(map(str, available)))
        key = (run_id, epoch)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            report = serialize.load_report(self._files.report(run_id, epoch))
        except serialize.CheckpointError as error:
            name = self._files.report(run_id, epoch).name
            raise ServiceError("report_damaged", run=run_id, epoch=epoch, error=f"{name}: {error}") from error
        with self._lock:
            self._cache[key] = report
            while len(self._cache) > CACHED_REPORTS:
                self._cache.popitem(last=False)
        return report

    def forget(self, run_id: str, after: int = -1) -> None:
        """Drop cached reports of the run (those after epoch ``after``)."""
        with self._lock:
            for key in [k for k in self._cache if k[0] == run_id and k[1] > after]:
                del self._cache[key]
