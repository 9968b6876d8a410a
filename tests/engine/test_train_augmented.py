"""Training with augmentation: reproducible and resumable bit for bit, free when off; the preset for
drawn digits validates, and (slow) reaches its targets on MNIST and on the drawn digits."""

from __future__ import annotations

import numpy as np
import pytest

from deeplook.engine import augment
from deeplook.engine.config import PRESETS, ConfigError, ModelConfig, OptimizerConfig, TrainConfig
from deeplook.engine.data.drawn import load_drawn
from deeplook.engine.train import Checkpoint, EpochMetrics, Trainer

AUGMENTED = TrainConfig(
    model=ModelConfig(hidden=(16,), activation="relu", init="he"),
    optimizer=OptimizerConfig(name="adam", lr=0.01),
    batch_size=50,
    epochs=3,
    seed=5,
    augment="full",
)
DRAWN_PRESET = "relu-adam-augmented"


def run(trainer: Trainer) -> list[object]:
    return list(trainer.run())


def test_an_augmented_run_is_reproducible_and_differs_from_a_plain_one(blobs) -> None:
    first, second = Trainer(AUGMENTED, blobs), Trainer(AUGMENTED, blobs)
    run(first)
    run(second)
    np.testing.assert_array_equal(first.model.flat.value, second.model.flat.value)
    plain = Trainer(AUGMENTED.replace(augment="none"), blobs)
    run(plain)
    assert not np.array_equal(first.model.flat.value, plain.model.flat.value)


def test_a_resumed_augmented_run_is_bit_identical_to_an_uninterrupted_one(blobs) -> None:
    whole = Trainer(AUGMENTED, blobs)
    run(whole)
    checkpoints = [e for e in Trainer(AUGMENTED, blobs).run() if isinstance(e, Checkpoint)]
    resumed = Trainer(AUGMENTED, blobs, resume=checkpoints[0])  # after epoch 1 of 3
    tail = run(resumed)
    assert [e.epoch for e in tail if isinstance(e, EpochMetrics)] == [2, 3]
    np.testing.assert_array_equal(resumed.model.flat.value, whole.model.flat.value)


def test_without_augmentation_nothing_is_called(blobs, monkeypatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("augmentation applied to a run with augment='none'")

    monkeypatch.setattr(augment.Augmentation, "apply", refuse)
    run(Trainer(AUGMENTED.replace(augment="none", epochs=1), blobs))


def test_augment_is_validated_and_round_trips() -> None:
    with pytest.raises(ConfigError, match="augment must be one of none, affine, full"):
        TrainConfig(augment="sideways")  # type: ignore[arg-type]
    assert TrainConfig.from_dict(AUGMENTED.to_dict()) == AUGMENTED
    old = AUGMENTED.to_dict()
    del old["augment"]  # a run stored before augmentation existed
    assert TrainConfig.from_dict(old).augment == "none"


def test_the_drawn_digits_preset_is_valid_and_augmented() -> None:
    preset = PRESETS[DRAWN_PRESET].config
    assert preset.augment != "none" and not augment.AUGMENTATIONS[preset.augment].augmentation.is_identity
    assert TrainConfig.from_dict(preset.to_dict()) == preset
    assert all(p.config.augment == "none" for name, p in PRESETS.items() if name != DRAWN_PRESET)


@pytest.mark.slow
def test_the_drawn_digits_preset_reads_drawn_and_scanned_digits(mnist) -> None:
    trainer = Trainer(PRESETS[DRAWN_PRESET].config.replace(threads=1), mnist)
    epochs = [e for e in trainer.run() if isinstance(e, EpochMetrics)]
    assert epochs[-1].test_accuracy >= 0.98
    drawn = load_drawn()
    predicted = trainer.last_checkpoint.weights.predict_proba(drawn.pixels()).argmax(axis=1)
    assert np.mean(predicted == drawn.labels) >= 0.97
