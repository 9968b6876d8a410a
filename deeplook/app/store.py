"""Run history in SQLite (WAL): runs, per-epoch metrics and every step's loss.

One connection shared by the event loop and the training thread, serialised by a lock; each write
is one transaction, so a crash leaves the last committed state and never a half-written epoch.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeplook.engine.config import TrainConfig
from deeplook.engine.status import ACTIVE, Reason, RunStatus
from deeplook.engine.train import EpochMetrics, StepMetrics


def columns(kind: type) -> tuple[str, ...]:
    """A metrics dataclass's fields, in order: the columns of its table."""
    return tuple(f.name for f in dataclasses.fields(kind))


def _column_defs(kind: type) -> str:
    hints = {f.name: f.type for f in dataclasses.fields(kind)}
    types = {"int": "INTEGER", "float": "REAL"}
    return ",\n    ".join(
        f"{name} {types[getattr(hint, '__name__', str(hint))]} NOT NULL" for name, hint in hints.items()
    )


EPOCH_COLUMNS = columns(EpochMetrics)
STEP_COLUMNS = columns(StepMetrics)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    preset TEXT,
    config TEXT NOT NULL,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    steps_done INTEGER NOT NULL DEFAULT 0,
    checkpoint_epoch INTEGER NOT NULL DEFAULT -1
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    {_column_defs(EpochMetrics)},
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    {_column_defs(StepMetrics)},
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
"""
# Columns added after the first release: added to an older database when it is opened.
MIGRATIONS = (
    ("runs", "name", "TEXT"),
    ("runs", "reason_code", "TEXT"),
    ("runs", "reason_params", "TEXT NOT NULL DEFAULT '{}'"),
)


@dataclass(frozen=True)
class RunRecord:
    id: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    status: RunStatus
    reason: Reason | None
    preset: str | None
    config: TrainConfig
    epochs_done: int
    steps_done: int
    checkpoint_epoch: int
    name: str | None
    test_accuracy: float | None
    """After the last recorded epoch."""


@dataclass(frozen=True)
class StepSeries:
    """Columns of step metrics, in step order."""

    step: np.ndarray
    epoch: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray

    def take(self, index: np.ndarray) -> StepSeries:
        return StepSeries(self.step[index], self.epoch[index], self.loss[index], self.accuracy[index])

    def __len__(self) -> int:
        return len(self.step)


class Store:
    """Reads and writes run history; safe to call from any thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        for table, column, definition in MIGRATIONS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # -- runs ---------------------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        config: TrainConfig,
        preset: str | None,
        status: RunStatus,
        name: str | None = None,
    ) -> RunRecord:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (id, created_at, status, preset, config, name) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, time.time(), status, preset, config.to_json(), name),
            )
        run = self.get_run(run_id)
        assert run is not None
        return run

    def set_status(self, run_id: str, status: RunStatus, reason: Reason | None = None) -> None:
        """Record a status; entering 'running' stamps started_at once, a final status finished_at."""
        now = time.time()
        final = status not in ACTIVE
        text, code, params = (
            (reason.text, reason.code, json.dumps(reason.params)) if reason else ("", None, "{}")
        )
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, reason = ?, reason_code = ?, reason_params = ?,"
                " started_at = COALESCE(started_at, CASE WHEN ? = 'running' THEN ? END),"
                " finished_at = CASE WHEN ? THEN ? ELSE NULL END WHERE id = ?",
                (status, text, code, params, status, now, final, now, run_id),
            )

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return _run(rows[0]) if rows else None

    def list_runs(self) -> list[RunRecord]:
        return [_run(row) for row in self._query(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY created_at DESC")]

    def delete_run(self, run_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def mark_interrupted(self) -> list[str]:
        """After a restart: runs that were active when the process died are 'interrupted'."""
        active = sorted(ACTIVE)
        marks = ",".join("?" * len(active))
        reason = Reason("server_stopped")
        with self._transaction() as db:
            rows = db.execute(f"SELECT id FROM runs WHERE status IN ({marks})", active).fetchall()
            db.execute(
                f"UPDATE runs SET status = ?, reason = ?, reason_code = ?, reason_params = '{{}}',"
                f" finished_at = ? WHERE status IN ({marks})",
                (RunStatus.INTERRUPTED, reason.text, reason.code, time.time(), *active),
            )
        return [row[0] for row in rows]

    # -- metrics ------------------------------------------------------------------------------------

    def add_steps(self, run_id: str, steps: list[StepMetrics]) -> None:
        if not steps:
            return
        with self._transaction() as db:
            _insert_steps(db, run_id, steps)

    def add_epoch(self, run_id: str, epoch: EpochMetrics, steps: list[StepMetrics]) -> None:
        """The epoch's metrics with its last unsaved steps, in one transaction."""
        with self._transaction() as db:
            _insert_steps(db, run_id, steps)
            db.execute(
                f"INSERT OR REPLACE INTO epochs (run_id, {', '.join(EPOCH_COLUMNS)})"
                f" VALUES (?, {', '.join('?' * len(EPOCH_COLUMNS))})",
                (run_id, *(getattr(epoch, c) for c in EPOCH_COLUMNS)),
            )
            db.execute(
                "UPDATE runs SET epochs_done = ?, steps_done = ? WHERE id = ?",
                (epoch.epoch, epoch.step, run_id),
            )

    def set_checkpoint_epoch(self, run_id: str, epoch: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET checkpoint_epoch = ? WHERE id = ?", (epoch, run_id))

    def truncate(self, run_id: str, epoch: int, step: int) -> None:
        """Forget metrics after a checkpoint (epoch, step): resuming from it will record them again."""
        with self._transaction() as db:
            db.execute("DELETE FROM steps WHERE run_id = ? AND step > ?", (run_id, step))
            db.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, epoch))
            db.execute(
                "UPDATE runs SET epochs_done = ?, steps_done = ?, checkpoint_epoch = ? WHERE id = ?",
                (epoch, step, epoch, run_id),
            )

    def epochs(self, run_id: str) -> list[EpochMetrics]:
        rows = self._query(
            f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)
        )
        return [EpochMetrics(*row) for row in rows]

    def steps(self, run_id: str) -> StepSeries:
        rows = self._query(
            f"SELECT {', '.join(STEP_COLUMNS)} FROM steps WHERE run_id = ? ORDER BY step", (run_id,)
        )
        table = np.array(rows, dtype=np.float64).reshape(-1, 4)
        return StepSeries(
            table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2], table[:, 3]
        )

    def integrity_check(self) -> str:
        return str(self._query("PRAGMA integrity_check")[0][0])

    def ping(self) -> bool:
        try:
            self._query("SELECT 1")
        except sqlite3.Error:
            return False
        return True


_RUN_COLUMNS = (
    "id, created_at, started_at, finished_at, status, reason, reason_code, reason_params, preset, config,"
    " epochs_done, steps_done, checkpoint_epoch, name,"
    " (SELECT test_accuracy FROM epochs WHERE run_id = runs.id ORDER BY epoch DESC LIMIT 1)"
)


def _run(row: tuple[Any, ...]) -> RunRecord:
    run_id, created, started, finished, status, text, code, params, preset, config, *rest = row
    reason = Reason(code, json.loads(params)) if code else None
    if reason is None and text:  # a database from before reason codes
        reason = Reason("error", {"error": text})
    epochs_done, steps_done, checkpoint_epoch, name, accuracy = rest
    return RunRecord(
        run_id,
        created,
        started,
        finished,
        RunStatus(status),
        reason,
        preset,
        TrainConfig.from_dict(json.loads(config)),
        epochs_done,
        steps_done,
        checkpoint_epoch,
        name,
        accuracy,
    )


def _insert_steps(db: sqlite3.Connection, run_id: str, steps: list[StepMetrics]) -> None:
    db.executemany(
        f"INSERT OR REPLACE INTO steps (run_id, {', '.join(STEP_COLUMNS)})"
        f" VALUES (?, {', '.join('?' * len(STEP_COLUMNS))})",
        [(run_id, *(getattr(s, c) for c in STEP_COLUMNS)) for s in steps],
    )
