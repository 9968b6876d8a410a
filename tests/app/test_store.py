"""The SQLite store and its one writer: records, truncation, interruption, locks and their limit."""

import sqlite3
import threading
import time

import pytest

from deeplook.app.runs import build_config
from deeplook.app.schemas import RunCreate
from deeplook.app.store import Store
from deeplook.app.workers.training import Steps
from deeplook.app.writer import StoreUnavailable, StoreWriter
from deeplook.engine.status import Reason, RunStatus
from deeplook.engine.train import EpochMetrics, LearningRateChange, StepMetrics

RUN = "aaaaaaaaaaaa"


def test_store_truncates_after_a_checkpoint_and_marks_active_runs_interrupted(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    config = build_config(RunCreate(epochs=3))
    store.create_run(RUN, config, "notebook-sgd", RunStatus.RUNNING, name="first")
    for epoch in (1, 2):
        batch = [StepMetrics(s, epoch, 1.0 / s, 0.5) for s in range((epoch - 1) * 10 + 1, epoch * 10 + 1)]
        store.add_epoch(
            RUN, EpochMetrics(epoch, epoch * 10, 0.3, 0.9, 0.3, 0.9, 1.0, 10.0), [Steps.of(batch)]
        )
    store.add_steps({RUN: [Steps.of([StepMetrics(21, 3, 0.1, 0.9)])]})
    store.add_lr_change(RUN, LearningRateChange(25, 0.01))

    assert store.mark_interrupted() == [RUN]
    store.truncate(RUN, epoch=1, step=10)
    run = store.get_run(RUN)
    assert (run.status, run.epochs_done, run.steps_done, run.checkpoint_epoch) == ("interrupted", 1, 10, 1)
    assert run.reason == Reason("server_stopped") and run.name == "first"
    assert store.steps(RUN).step.tolist() == list(range(1, 11))
    assert [e.epoch for e in store.epochs(RUN)] == [1]
    assert store.lr_changes(RUN) == [LearningRateChange(25, 0.01)]  # replayed when it resumes
    assert store.integrity_check() == "ok"
    store.delete_run(RUN)
    assert store.get_run(RUN) is None and len(store.steps(RUN)) == 0


def test_a_reason_keeps_its_code_and_parameters(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    store.create_run(RUN, build_config(RunCreate()), None, RunStatus.RUNNING)
    reason = Reason("diverged", {"loss": 14.33, "average": 7.1, "chance": 2.3, "step": 12})
    store.set_status(RUN, RunStatus.DIVERGED, reason)
    assert store.get_run(RUN).reason == reason
    assert "loss reached 14.33" in reason.text


def hold_lock(path, seconds, ready):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    ready.set()
    time.sleep(seconds)
    db.execute("ROLLBACK")
    db.close()


def locked_with_a_step(writer, store, path, seconds):
    """A running run, then another connection holding the database's lock for ``seconds`` (the thread
    holding it is returned), then one step queued for the writer."""
    writer.submit(store.create_run, RUN, build_config(RunCreate()), None, RunStatus.RUNNING).result(5)
    ready = threading.Event()
    locker = threading.Thread(target=hold_lock, args=(path, seconds, ready))
    locker.start()
    assert ready.wait(5)
    writer.add_steps(RUN, Steps.of([StepMetrics(1, 1, 2.0, 0.1)]))
    return locker


def test_the_writer_waits_out_a_locked_database_and_reads_never_wait(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    writer = StoreWriter(store, lock_limit=10)
    locker = locked_with_a_step(writer, store, path, 1.5)
    started = time.monotonic()
    pending = writer.submit(store.set_status, RUN, RunStatus.PAUSED)
    assert store.get_run(RUN).status == "running"  # a read while locked: at once
    assert time.monotonic() - started < 0.5
    pending.result(10)  # the write went through once the lock was gone
    locker.join()
    assert time.monotonic() - started >= 1.0
    writer.close()
    assert store.get_run(RUN).status == "paused" and store.steps(RUN).step.tolist() == [1]


def test_a_lock_held_past_the_limit_fails_the_write_and_reports_the_steps(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    failed = []
    writer = StoreWriter(store, lock_limit=0.5, on_step_failure=lambda runs, why: failed.append((runs, why)))
    locker = locked_with_a_step(writer, store, path, 3.0)
    with pytest.raises(StoreUnavailable, match="locked"):
        writer.submit(store.set_status, RUN, RunStatus.PAUSED).result(10)
    deadline = time.monotonic() + 5
    while not failed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failed and failed[0][0] == [RUN] and "locked" in failed[0][1]
    locker.join()
    writer.close()
