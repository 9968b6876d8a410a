"""Checkpoints: a faithful round trip, atomic writes, and refusal of anything malformed."""

import io
import zipfile

import numpy as np
import pytest

from deeplook.engine import serialize
from deeplook.engine.config import ModelConfig, OptimizerConfig, TrainConfig
from deeplook.engine.model import Weights
from deeplook.engine.train import Checkpoint, Trainer

CONFIG = TrainConfig(
    model=ModelConfig(hidden=(8,), init="glorot"), optimizer=OptimizerConfig(name="adam", lr=0.01), epochs=2
)


@pytest.fixture(scope="module")
def checkpoint(blobs) -> Checkpoint:
    trainer = Trainer(CONFIG.replace(epochs=1), blobs)
    list(trainer.run())
    return trainer.last_checkpoint


def test_round_trip_keeps_everything(tmp_path, checkpoint):
    path = tmp_path / "models" / "run.npz"
    serialize.save(checkpoint, path)
    loaded = serialize.load(path)

    assert loaded.config == checkpoint.config
    assert (loaded.epoch, loaded.step) == (1, checkpoint.step)
    for a, b in zip(loaded.weights.arrays, checkpoint.weights.arrays, strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.optimizer_state.keys() == checkpoint.optimizer_state.keys()
    assert loaded.rng_state == checkpoint.rng_state
    assert [p.name for p in path.parent.iterdir()] == ["run.npz"]  # no temporary file left behind


def test_a_loaded_checkpoint_resumes_like_the_original(tmp_path, blobs, checkpoint):
    serialize.save(checkpoint, tmp_path / "c.npz")
    config = CONFIG
    from_memory = Trainer(config, blobs, resume=checkpoint)
    from_file = Trainer(config, blobs, resume=serialize.load(tmp_path / "c.npz"))
    list(from_memory.run())
    list(from_file.run())
    np.testing.assert_array_equal(from_memory.model.flat.value, from_file.model.flat.value)


def test_model_only_file_serves_but_cannot_resume(blobs, checkpoint):
    loaded = serialize.load(serialize.dumps(checkpoint, with_optimizer=False))
    assert loaded.optimizer_state == {}
    np.testing.assert_array_equal(loaded.weights.arrays[0], checkpoint.weights.arrays[0])
    with pytest.raises(ValueError, match="optimizer state"):
        Trainer(CONFIG, blobs, resume=loaded)


def rewrite(checkpoint, changes) -> bytes:
    arrays = serialize.checkpoint_arrays(checkpoint)
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"param/dense0.W": None}, "missing array 'param/dense0.W'"),
        ({"param/dense0.W": np.zeros((784, 9), np.float32)}, r"expected float32\[784, 8\]"),
        ({"param/dense0.W": np.zeros((784, 8), np.float64)}, r"is float64\[784, 8\]"),
        ({"param/dense1.b": np.full(10, np.nan, np.float32)}, "non-finite"),
        ({"format": np.array("something-else")}, "format"),
        ({"config": np.array("{not json")}, "config is invalid"),
        ({"config": np.array('{"model": {"hidden": [8], "colour": 1}}')}, "config is invalid"),
        ({"epoch": np.array(-1)}, "epoch"),
        ({"extra": np.zeros(3)}, "unexpected array"),
    ],
)
def test_malformed_contents_are_refused(checkpoint, changes, message):
    with pytest.raises(serialize.CheckpointError, match=message):
        serialize.load(rewrite(checkpoint, changes))


def test_object_arrays_are_refused_without_unpickling(checkpoint):
    payload = rewrite(checkpoint, {"extra": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(serialize.CheckpointError, match="object arrays are not accepted"):
        serialize.load(payload)


def test_truncated_and_garbage_files_are_refused(tmp_path, checkpoint):
    payload = serialize.dumps(checkpoint)
    for name, data in {"truncated": payload[: len(payload) // 2], "garbage": b"hello" * 100}.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(data)
        with pytest.raises(serialize.CheckpointError, match=r"not an \.npz|cannot be read|truncated"):
            serialize.load(path)
    with pytest.raises(serialize.CheckpointError, match="cannot open"):
        serialize.load(tmp_path / "missing.npz")


def test_non_finite_weights_are_never_written(tmp_path, checkpoint):
    arrays = [a.copy() for a in checkpoint.weights.arrays]
    arrays[0][0, 0] = np.inf
    bad = Checkpoint(
        config=checkpoint.config,
        epoch=1,
        step=1,
        weights=Weights.freeze(checkpoint.config.model, arrays),
        optimizer_state={},
        rng_state=checkpoint.rng_state,
    )
    with pytest.raises(serialize.CheckpointError, match="non-finite"):
        serialize.save(bad, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


def test_files_are_plain_npz_that_numpy_reads_without_pickle(tmp_path, checkpoint):
    serialize.save(checkpoint, tmp_path / "c.npz")
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:
        # stored, not deflated: the training thread writes one per epoch (see serialize.dumps)
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    with np.load(tmp_path / "c.npz", allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["param/dense0.W"], checkpoint.weights.arrays[0])
