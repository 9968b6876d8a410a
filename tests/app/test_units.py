"""Small parts on their own: the hub's queues, the store, downsampling, config building."""

import asyncio

import numpy as np
import pytest

from deeplook.app.hub import Hub, StepBatch
from deeplook.app.runs import build_config
from deeplook.app.schemas import RunCreate, StepMessage
from deeplook.app.series import downsample_minmax
from deeplook.app.store import Store
from deeplook.engine.config import ConfigError
from deeplook.engine.train import EpochMetrics, StepMetrics


def steps(run_id, numbers):
    n = len(numbers)
    return StepBatch(
        StepMessage(run_id=run_id, step=numbers, epoch=[1] * n, loss=[0.5] * n, accuracy=[0.9] * n)
    )


def test_step_batches_merge_per_subscriber_and_other_messages_keep_their_order():
    async def scenario():
        hub = Hub(queue_limit=4)
        async with hub.subscribe() as sub:
            hub.publish(steps("r", [1, 2]))
            hub.publish(steps("r", [3]))
            hub.publish('{"type": "epoch"}')
            hub.publish(steps("r", [4]))
            texts = await sub.get()
        return texts, hub.subscriber_count

    texts, count = asyncio.run(scenario())
    assert len(texts) == 3 and count == 0
    assert StepMessage.model_validate_json(texts[0]).step == [1, 2, 3]
    assert texts[1] == '{"type": "epoch"}'
    assert StepMessage.model_validate_json(texts[2]).step == [4]


def test_a_subscriber_past_its_limit_is_marked_stuck_and_dropped_from_publishing():
    async def scenario():
        hub = Hub(queue_limit=3)
        async with hub.subscribe() as slow, hub.subscribe() as fast:
            for i in range(5):
                hub.publish(f'"{i}"')
                if i < 4:
                    assert len(await fast.get()) == 1
            return slow.stuck, fast.stuck, await slow.get()

    slow_stuck, fast_stuck, leftover = asyncio.run(scenario())
    assert slow_stuck and not fast_stuck and leftover == []


def test_downsampling_keeps_every_bucket_extreme():
    rng = np.random.default_rng(0)
    y = rng.random(100_000)
    y[12_345] = 50.0  # a spike
    y[99_999] = -5.0
    keep, means = downsample_minmax(y, 1000)
    assert len(keep) <= 1000 and np.all(np.diff(keep) > 0) and len(means) == len(keep)
    assert 12_345 in keep and keep[0] == 0 and keep[-1] == 99_999
    assert abs(np.mean(means) - y.mean()) < 0.01  # each kept point carries its bucket's mean
    whole, own = downsample_minmax(y[:500], 1000)
    assert np.array_equal(whole, np.arange(500)) and np.array_equal(own, y[:500])


def test_store_truncates_after_a_checkpoint_and_marks_active_runs_interrupted(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    config = build_config(RunCreate(epochs=3))
    store.create_run("aaaaaaaaaaaa", config, "notebook-sgd", "running")
    for epoch in (1, 2):
        batch = [StepMetrics(s, epoch, 1.0 / s, 0.5) for s in range((epoch - 1) * 10 + 1, epoch * 10 + 1)]
        store.add_epoch("aaaaaaaaaaaa", EpochMetrics(epoch, epoch * 10, 0.3, 0.9, 0.3, 0.9, 1.0, 10.0), batch)
    store.add_steps("aaaaaaaaaaaa", [StepMetrics(21, 3, 0.1, 0.9)])

    assert store.mark_interrupted() == ["aaaaaaaaaaaa"]
    store.truncate("aaaaaaaaaaaa", epoch=1, step=10)
    run = store.get_run("aaaaaaaaaaaa")
    assert (run.status, run.epochs_done, run.steps_done, run.checkpoint_epoch) == ("interrupted", 1, 10, 1)
    assert store.steps("aaaaaaaaaaaa").step.tolist() == list(range(1, 11))
    assert [e.epoch for e in store.epochs("aaaaaaaaaaaa")] == [1]
    assert store.integrity_check() == "ok"
    store.delete_run("aaaaaaaaaaaa")
    assert store.get_run("aaaaaaaaaaaa") is None and len(store.steps("aaaaaaaaaaaa")) == 0


def test_run_requests_override_their_preset():
    config = build_config(RunCreate(preset="notebook-adam", hidden=[64, 32], lr=0.01, epochs=3))
    assert config.model.hidden == (64, 32) and config.model.init == "glorot"
    assert config.optimizer.name == "adam" and config.optimizer.lr == 0.01
    assert config.batch_size == 32 and config.epochs == 3
    assert build_config(RunCreate(optimizer="sgd", momentum=0.9)).optimizer.momentum == 0.9
    assert build_config(RunCreate(preset="relu-adam", augment="full")).augment == "full"
    assert build_config(RunCreate(preset="relu-adam-augmented", augment="none")).augment == "none"
    with pytest.raises(ConfigError, match="unknown preset"):
        build_config(RunCreate(preset="huge"))
