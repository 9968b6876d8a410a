"""Run history in SQLite (WAL): runs, races, per-epoch metrics, every step's loss, learning-rate changes
and the pinned model.

Two connections: one for reads, one for writes. Reads never wait for a write (WAL), and only
``StoreWriter``'s thread writes (``app/writer.py``), so no route and no event-loop callback ever
waits on a lock held by training. Each write is one transaction: a crash leaves the last committed
state, never half an epoch.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeplook.app.workers.training import Steps
from deeplook.engine.config import TrainConfig
from deeplook.engine.status import ACTIVE, Reason, RunStatus
from deeplook.engine.train import EpochMetrics, LearningRateChange, StepMetrics

READ_TIMEOUT = 2.0
"""Seconds a read waits on SQLite's own locks (a checkpoint of the WAL) before it fails."""
WRITE_TIMEOUT = 0.2
"""Seconds one write attempt waits for the lock; ``StoreWriter`` retries it up to its own limit."""


def columns(kind: type) -> tuple[str, ...]:
    """A metrics dataclass's fields, in order: the columns of its table."""
    return tuple(f.name for f in dataclasses.fields(kind))


def _column_defs(kind: type) -> str:
    types = {"int": "INTEGER", "float": "REAL"}
    return ",\n    ".join(
        f"{f.name} {types[getattr(f.type, '__name__', str(f.type))]} NOT NULL"
        for f in dataclasses.fields(kind)
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
CREATE TABLE IF NOT EXISTS lr_changes (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    {_column_defs(LearningRateChange)},
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS races (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    differs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pins (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    epoch INTEGER,
    pinned_at REAL NOT NULL
);
"""
# Columns added after the first release: added to an older database when it is opened.
MIGRATIONS = (
    ("runs", "name", "TEXT"),
    ("runs", "reason_code", "TEXT"),
    ("runs", "reason_params", "TEXT NOT NULL DEFAULT '{}'"),
    ("runs", "race_id", "TEXT"),
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
    race_id: str | None
    test_accuracy: float | None
    """After the last recorded epoch."""


@dataclass(frozen=True)
class RaceRecord:
    id: str
    name: str
    created_at: float
    differs: tuple[str, ...]
    runs: tuple[str, ...]


@dataclass(frozen=True)
class Pin:
    run_id: str
    epoch: int | None
    """None: the run's latest epoch."""
    pinned_at: float


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
    """Reads from any thread; writes from one (``StoreWriter``'s)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._writer = self._connect(WRITE_TIMEOUT)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.executescript(SCHEMA)
        self._migrate()
        self._reader = self._connect(READ_TIMEOUT)

    def _connect(self, timeout: float) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def _migrate(self) -> None:
        for table, column, definition in MIGRATIONS:
            present = {row[1] for row in self._writer.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._writer.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._writer.close()
            self._reader.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            return self._reader.execute(sql, tuple(args)).fetchall()

    # -- runs: writes -------------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        config: TrainConfig,
        preset: str | None,
        status: RunStatus,
        name: str | None = None,
        race_id: str | None = None,
        created_at: float | None = None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (id, created_at, status, preset, config, name, race_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, created_at or time.time(), status, preset, config.to_json(), name, race_id),
            )

    def set_status(
        self, run_id: str, status: RunStatus, reason: Reason | None = None, steps_done: int | None = None
    ) -> None:
        """Record a status; entering 'running' stamps started_at once, a final status finished_at (and
        ``steps_done``, the last step trained, when given)."""
        now = time.time()
        final = status not in ACTIVE
        text, code, params = "", None, "{}"
        if reason is not None:
            text, code, params = reason.text, reason.code, json.dumps(reason.params)
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, reason = ?, reason_code = ?, reason_params = ?,"
                " started_at = COALESCE(started_at, CASE WHEN ? = 'running' THEN ? END),"
                " finished_at = CASE WHEN ? THEN ? ELSE NULL END,"
                " steps_done = COALESCE(?, steps_done) WHERE id = ?",
                (status, text, code, params, status, now, final, now, steps_done, run_id),
            )

    def rename(self, run_id: str, name: str | None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def delete_run(self, run_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            db.execute("DELETE FROM pins WHERE run_id = ?", (run_id,))

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

    def create_race(self, race_id: str, name: str, differs: Sequence[str]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO races (id, name, created_at, differs) VALUES (?, ?, ?, ?)",
                (race_id, name, time.time(), json.dumps(list(differs))),
            )

    def delete_race(self, race_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM races WHERE id = ?", (race_id,))

    # -- metrics: writes ----------------------------------------------------------------------------

    def add_steps(self, steps: Mapping[str, Sequence[Steps]]) -> None:
        """Steps of several runs (each run's batches as they came from its worker) in one transaction."""
        if not any(steps.values()):
            return
        with self._transaction() as db:
            for run_id, batch in steps.items():
                _insert_steps(db, run_id, batch)

    def add_epoch(self, run_id: str, epoch: EpochMetrics, steps: Sequence[Steps]) -> None:
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

    def add_lr_change(self, run_id: str, change: LearningRateChange) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO lr_changes (run_id, step, lr) VALUES (?, ?, ?)",
                (run_id, change.step, change.lr),
            )

    def truncate(self, run_id: str, epoch: int, step: int) -> None:
        """Forget metrics after a checkpoint (epoch, step): resuming from it will record them again.
        Learning-rate changes stay: the resumed run applies them again at their steps."""
        with self._transaction() as db:
            db.execute("DELETE FROM steps WHERE run_id = ? AND step > ?", (run_id, step))
            db.execute("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, epoch))
            db.execute(
                "UPDATE runs SET epochs_done = ?, steps_done = ?, checkpoint_epoch = ? WHERE id = ?",
                (epoch, step, epoch, run_id),
            )

    def pin(self, run_id: str | None, epoch: int | None = None) -> None:
        """Pin the model other services get (None: unpin, back to the default rule)."""
        with self._transaction() as db:
            db.execute("DELETE FROM pins WHERE key = 'current'")
            if run_id is not None:
                db.execute(
                    "INSERT INTO pins (key, run_id, epoch, pinned_at) VALUES ('current', ?, ?, ?)",
                    (run_id, epoch, time.time()),
                )

    # -- reads --------------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return _run(rows[0]) if rows else None

    def list_runs(self) -> list[RunRecord]:
        return [_run(row) for row in self._query(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY created_at DESC")]

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

    def lr_changes(self, run_id: str) -> list[LearningRateChange]:
        rows = self._query("SELECT step, lr FROM lr_changes WHERE run_id = ? ORDER BY step", (run_id,))
        return [LearningRateChange(*row) for row in rows]

    def races(self) -> list[RaceRecord]:
        rows = self._query(
            "SELECT races.id, races.name, races.created_at, races.differs,"
            " (SELECT group_concat(id) FROM (SELECT id FROM runs WHERE race_id = races.id"
            " ORDER BY created_at, id)) FROM races ORDER BY created_at DESC"
        )
        return [
            RaceRecord(
                i, name, created, tuple(json.loads(differs)), tuple((runs or "").split(",")) if runs else ()
            )
            for i, name, created, differs, runs in rows
        ]

    def pinned(self) -> Pin | None:
        rows = self._query("SELECT run_id, epoch, pinned_at FROM pins WHERE key = 'current'")
        return Pin(*rows[0]) if rows else None

    def serving_version(self) -> tuple[object, ...]:
        """What decides the current model, in one cheap read: the pin, the pinned run's latest epoch,
        and the newest run with a trained model and its latest epoch (replicas poll this)."""
        rows = self._query(
            "SELECT (SELECT run_id || '/' || coalesce(epoch, '') || '/' || pinned_at FROM pins"
            " WHERE key = 'current'),"
            " (SELECT checkpoint_epoch FROM runs WHERE id = (SELECT run_id FROM pins WHERE key = 'current')),"
            " (SELECT id || '/' || checkpoint_epoch FROM runs WHERE checkpoint_epoch >= 1"
            " ORDER BY created_at DESC LIMIT 1)"
        )
        return tuple(rows[0])

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
    " epochs_done, steps_done, checkpoint_epoch, name, race_id,"
    " (SELECT test_accuracy FROM epochs WHERE run_id = runs.id ORDER BY epoch DESC LIMIT 1)"
)


def _run(row: tuple[Any, ...]) -> RunRecord:
    run_id, created, started, finished, status, text, code, params, preset, config, *rest = row
    reason = None
    if code:
        try:
            reason = Reason(code, json.loads(params))
        except ValueError:  # a code this version does not know
            reason = None
    if reason is None and text:  # a database from before reason codes, or from a newer version
        reason = Reason("error", {"error": text})
    epochs_done, steps_done, checkpoint_epoch, name, race_id, accuracy = rest
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
        race_id,
        accuracy,
    )


def _insert_steps(db: sqlite3.Connection, run_id: str, batches: Sequence[Steps]) -> None:
    """One row per step, straight from the batches' columns (no object per step)."""
    rows = (
        (run_id, *row)
        for steps in batches
        for row in zip(*(getattr(steps, c).tolist() for c in STEP_COLUMNS), strict=True)
    )
    db.executemany(
        f"INSERT OR REPLACE INTO steps (run_id, {', '.join(STEP_COLUMNS)})"
        f" VALUES (?, {', '.join('?' * len(STEP_COLUMNS))})",
        rows,
    )
