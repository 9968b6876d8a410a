"""The training loop: learning, reproducibility, control, divergence and resuming."""

import threading
import time

import numpy as np
import pytest

from deeplook.engine.config import PRESETS, ConfigError, ModelConfig, OptimizerConfig, TrainConfig
from deeplook.engine.train import (
    Checkpoint,
    EpochMetrics,
    LearningRateChange,
    RunFinished,
    StepMetrics,
    TrainControl,
    Trainer,
)

SMALL = TrainConfig(
    model=ModelConfig(hidden=(16,), activation="sigmoid", init="glorot"),
    optimizer=OptimizerConfig(name="adam", lr=0.01),
    batch_size=50,
    epochs=3,
    seed=5,
)


def events_of(trainer, control=None):
    return list(trainer.run(control))


def test_loss_falls_and_events_come_in_order(blobs):
    events = events_of(Trainer(SMALL, blobs))
    steps = [e for e in events if isinstance(e, StepMetrics)]
    epochs = [e for e in events if isinstance(e, EpochMetrics)]

    assert [s.step for s in steps] == list(range(1, 3 * 12 + 1))  # 600 / 50 = 12 steps per epoch
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert np.mean([s.loss for s in steps[-5:]]) < 0.5 * np.mean([s.loss for s in steps[:5]])
    assert epochs[-1].test_accuracy > 0.9
    assert isinstance(events[-1], RunFinished) and events[-1].status == "completed"
    kinds = [type(e).__name__ for e in events if not isinstance(e, StepMetrics)]
    assert kinds == ["EpochMetrics", "Checkpoint"] * 3 + ["RunFinished"]


def test_every_example_is_seen_once_per_epoch(blobs, monkeypatch):
    seen = []
    original = np.take

    def spy(a, indices, *args, **kwargs):
        if a is blobs.train_images:
            seen.extend(np.asarray(indices).tolist())
        return original(a, indices, *args, **kwargs)

    monkeypatch.setattr(np, "take", spy)
    config = SMALL.replace(epochs=2, batch_size=64)  # 600 = 9 * 64 + 24: a short last batch
    events_of(Trainer(config, blobs))
    assert sorted(seen[:600]) == list(range(600)) and sorted(seen[600:]) == list(range(600))
    assert seen[:600] != seen[600:]  # a fresh permutation each epoch


def test_same_seed_gives_bit_identical_weights(blobs):
    first, second = Trainer(SMALL, blobs), Trainer(SMALL, blobs)
    events_of(first)
    events_of(second)
    np.testing.assert_array_equal(first.model.flat.value, second.model.flat.value)
    third = Trainer(SMALL.replace(seed=6), blobs)
    events_of(third)
    assert not np.array_equal(first.model.flat.value, third.model.flat.value)


def test_resuming_from_a_checkpoint_reaches_the_same_weights(blobs):
    whole = Trainer(SMALL, blobs)
    events_of(whole)

    first_part = Trainer(SMALL, blobs)
    checkpoints = [e for e in first_part.run() if isinstance(e, Checkpoint)]
    resumed = Trainer(SMALL, blobs, resume=checkpoints[0])  # after epoch 1 of 3
    tail = events_of(resumed)

    assert [e.epoch for e in tail if isinstance(e, EpochMetrics)] == [2, 3]
    np.testing.assert_array_equal(resumed.model.flat.value, whole.model.flat.value)


def test_stop_ends_within_one_step_and_keeps_the_last_epoch(blobs):
    control = TrainControl()
    trainer = Trainer(SMALL, blobs)
    events = []
    for event in trainer.run(control):
        events.append(event)
        if isinstance(event, StepMetrics) and event.step == 15:  # 3 steps into epoch 2
            control.stop()
    assert isinstance(events[-1], RunFinished)
    assert events[-1].status == "stopped" and events[-1].epoch == 1
    assert isinstance(events[-2], StepMetrics) and events[-2].step == 15
    assert trainer.last_checkpoint.epoch == 1


def test_pause_blocks_between_steps_until_resumed(blobs):
    control = TrainControl()
    steps = []
    paused_at = threading.Event()

    def consume():
        for event in Trainer(SMALL.replace(epochs=1), blobs).run(control):
            if isinstance(event, StepMetrics):
                steps.append(event.step)
                if event.step == 3:
                    control.pause()
                    paused_at.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert paused_at.wait(5)
    worker.join(0.3)
    assert worker.is_alive() and steps == [1, 2, 3]
    control.resume()
    worker.join(10)
    assert not worker.is_alive() and steps == list(range(1, 13))


@pytest.mark.parametrize(
    "optimizer", [OptimizerConfig(name="sgd", lr=1e3), OptimizerConfig(name="adam", lr=1e3)]
)
def test_divergence_ends_the_run_and_keeps_finite_weights(blobs, optimizer):
    config = TrainConfig(
        model=ModelConfig(hidden=(16,), activation="relu", init="he"), optimizer=optimizer, epochs=3
    )
    trainer = Trainer(config, blobs)
    events = events_of(trainer)
    assert events[-1].status == "diverged", events[-1]
    assert trainer.last_checkpoint.weights.is_finite()
    steps = [e for e in events if isinstance(e, StepMetrics)]
    if np.isfinite(steps[-1].loss):  # the decisive step is shown when its loss is a number
        assert steps[-1].step == events[-1].step + 1 and steps[-1].loss > 2 * np.log(10)
    assert len([e for e in events if isinstance(e, EpochMetrics)]) < 3


def test_float32_on_the_hot_path(blobs):
    trainer = Trainer(PRESETS["notebook-sgd"].config.replace(epochs=1), blobs)
    events_of(trainer)
    assert trainer.model.flat.value.dtype == np.float32
    assert all(a.dtype == np.float32 for a in trainer.last_checkpoint.weights.arrays)


def test_learning_rate_decays_per_epoch(blobs):
    config = SMALL.replace(optimizer=OptimizerConfig(name="sgd", lr=0.5, lr_decay=0.5))
    trainer = Trainer(config, blobs)
    rates = [trainer.optimizer.lr for e in trainer.run() if isinstance(e, EpochMetrics)]
    assert rates == [0.5, 0.25, 0.125]


# -- random streams: what a race of runs shares ---------------------------------------------------------


def test_runs_with_one_seed_share_initial_weights_where_layers_agree_and_the_minibatch_order(
    blobs, monkeypatch
):
    sgd = SMALL.replace(optimizer=OptimizerConfig(name="sgd", lr=0.1))
    adam = SMALL  # same seed, batch size and network; another optimizer
    wider = SMALL.replace(model=ModelConfig(hidden=(16, 8), activation="sigmoid", init="glorot"))
    first, second, third = Trainer(sgd, blobs), Trainer(adam, blobs), Trainer(wider, blobs)
    np.testing.assert_array_equal(first.model.flat.value, second.model.flat.value)
    np.testing.assert_array_equal(first.model.arrays()[0], third.model.arrays()[0])  # (784, 16) both
    orders = [trainer.rng.permutation(600) for trainer in (first, second, third)]
    np.testing.assert_array_equal(orders[0], orders[1])
    np.testing.assert_array_equal(orders[0], orders[2])


# -- mid-run changes: learning rate, pace, one step at a time ---------------------------------------------


def test_a_learning_rate_change_applies_from_the_next_step_and_a_resume_retraces_it(blobs):
    control = TrainControl()
    changed = Trainer(SMALL, blobs)
    events = []
    for event in changed.run(control):
        events.append(event)
        if isinstance(event, StepMetrics) and event.step == 17:  # mid epoch 2
            control.set_learning_rate(0.002)
    changes = [e for e in events if isinstance(e, LearningRateChange)]
    assert changes == [LearningRateChange(18, 0.002)]
    assert changed.optimizer.lr == pytest.approx(0.002)  # decay 1: epoch 3 keeps it

    plain = Trainer(SMALL, blobs)
    events_of(plain)
    assert not np.array_equal(plain.model.flat.value, changed.model.flat.value)

    # a run interrupted after epoch 1 and resumed with the recorded change: the same weights
    first = Trainer(SMALL, blobs)
    checkpoint = next(e for e in first.run() if isinstance(e, Checkpoint))
    resumed = Trainer(SMALL, blobs, resume=checkpoint, schedule=changes)
    tail = events_of(resumed)
    assert [e for e in tail if isinstance(e, LearningRateChange)] == changes
    np.testing.assert_array_equal(resumed.model.flat.value, changed.model.flat.value)


def test_a_changed_learning_rate_decays_from_its_epoch_and_survives_a_checkpoint(blobs):
    config = SMALL.replace(optimizer=OptimizerConfig(name="sgd", lr=0.5, lr_decay=0.5), epochs=3)
    control = TrainControl()
    trainer = Trainer(config, blobs)
    rates = []
    for event in trainer.run(control):
        if isinstance(event, StepMetrics) and event.step == 3:
            control.set_learning_rate(0.8)  # in epoch 1
        if isinstance(event, EpochMetrics):
            rates.append(trainer.optimizer.lr)
    assert rates == pytest.approx([0.8, 0.4, 0.2])
    assert (trainer.last_checkpoint.lr_base, trainer.last_checkpoint.lr_base_epoch) == (0.8, 1)


def test_pace_spaces_the_steps_and_one_step_at_a_time_advances_by_one(blobs):
    control = TrainControl()
    control.set_pace(0.02)
    steps = []
    started = threading.Event()

    def consume():
        for event in Trainer(SMALL.replace(epochs=1), blobs).run(control):
            if isinstance(event, StepMetrics):
                steps.append((event.step, time.monotonic()))
                started.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert started.wait(5)
    time.sleep(0.15)
    control.pause()
    time.sleep(0.05)
    paused_at = len(steps)
    gaps = np.diff([t for _, t in steps])
    assert gaps.min() >= 0.018  # never faster than the pace
    control.set_pace(0)
    control.step_once()
    time.sleep(0.2)
    assert len(steps) == paused_at + 1  # exactly one more
    control.step_once()
    time.sleep(0.2)
    assert len(steps) == paused_at + 2
    control.resume()
    worker.join(10)
    assert not worker.is_alive() and [s for s, _ in steps] == list(range(1, 13))


def test_train_size_learns_from_the_first_images_only(blobs, monkeypatch):
    seen = []
    original = np.take

    def spy(a, indices, *args, **kwargs):
        if np.shares_memory(a, blobs.train_images):
            seen.extend(np.asarray(indices).tolist())
        return original(a, indices, *args, **kwargs)

    monkeypatch.setattr(np, "take", spy)
    config = SMALL.replace(epochs=1, batch_size=50, train_size=200)
    assert config.steps_per_epoch() == 4
    events = events_of(Trainer(config, blobs))
    assert sorted(seen) == list(range(200))
    assert [s.step for s in events if isinstance(s, StepMetrics)] == [1, 2, 3, 4]


def test_train_size_bounds_the_batch_and_the_dataset():
    with pytest.raises(ConfigError, match="train_size must be"):
        SMALL.replace(train_size=60_001)
    with pytest.raises(ConfigError, match="batch_size must be at most 100"):
        SMALL.replace(train_size=100, batch_size=101)
