"""Checkpoints as ``.npz`` files: written atomically, read without pickle, checked before use.

Layout: ``format`` and ``config`` (JSON) strings, ``epoch`` and ``step`` integers, ``rng`` (JSON of the
bit generator state), ``param/<name>`` float arrays, ``optim/<key>`` optimizer state arrays (optional:
a model-only file serves predictions but cannot resume).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from deeplook.engine.config import ConfigError, TrainConfig
from deeplook.engine.files import npz_bytes, write_atomically
from deeplook.engine.inspect import EpochReport, Histogram, LayerHealth
from deeplook.engine.layers import Array
from deeplook.engine.model import Weights, parameter_names, parameter_shapes
from deeplook.engine.npz import Expect, NpzError, read_npz
from deeplook.engine.train import Checkpoint

FORMAT = "deeplook-checkpoint/1"
DEFAULT_MAX_BYTES = 256 << 20
"""The most array data a checkpoint may hold unless the caller says otherwise."""
OPTIONAL = ("lr_base", "lr_base_epoch", "augment_rng")
"""Keys added after the format's first files: a file without them resumes at the config's rate."""


class CheckpointError(ValueError):
    """A file is not a valid deeplook checkpoint; the message says what is wrong."""


def checkpoint_arrays(checkpoint: Checkpoint, with_optimizer: bool = True) -> dict[str, Array]:
    arrays: dict[str, Array] = {
        "format": np.array(FORMAT),
        "config": np.array(checkpoint.config.to_json()),
        "epoch": np.array(checkpoint.epoch, dtype=np.int64),
        "step": np.array(checkpoint.step, dtype=np.int64),
        "rng": np.array(checkpoint.rng_state),
        "augment_rng": np.array(checkpoint.augment_rng_state),
        "lr_base": np.array(checkpoint.lr_base, dtype=np.float64),
        "lr_base_epoch": np.array(checkpoint.lr_base_epoch, dtype=np.int64),
    }
    names = parameter_names(checkpoint.config.model)
    arrays.update({f"param/{n}": a for n, a in zip(names, checkpoint.weights.arrays, strict=True)})
    if with_optimizer:
        arrays.update({f"optim/{k}": v for k, v in checkpoint.optimizer_state.items()})
    return arrays


def dumps(checkpoint: Checkpoint, with_optimizer: bool = True) -> bytes:
    """The ``.npz`` bytes of a checkpoint."""
    if not checkpoint.weights.is_finite():
        raise CheckpointError("refusing to save non-finite weights")
    # Stored, not deflated: float weights shrink by ~12% at ~60x the time (relu-adam: 2.4 vs 2.7 MB,
    # 91 vs 1.6 ms), and the training thread writes one per epoch.
    return npz_bytes(checkpoint_arrays(checkpoint, with_optimizer), compress=False)


def save(checkpoint: Checkpoint, path: Path, with_optimizer: bool = True) -> None:
    """Write a checkpoint atomically."""
    write_atomically(Path(path), dumps(checkpoint, with_optimizer))


MAX_TEXT = 1 << 16
"""Characters a string member (the config, a generator's state) may have."""
SCALARS = {"epoch": "iu", "step": "iu", "lr_base": "f", "lr_base_epoch": "iu"}
TEXTS = ("format", "config", "rng", "augment_rng")


def load(source: Path | bytes | IO[bytes], max_bytes: int = DEFAULT_MAX_BYTES) -> Checkpoint:
    """Read and validate a checkpoint from a path, bytes or a seekable file; raises ``CheckpointError``.

    Nothing is inflated blindly: the small members (format, config, counters) are read first, and
    every weight and optimizer array is then checked against the shape the config implies, from its
    header, before its data is read. At most ``max_bytes`` of arrays in all."""
    try:
        handle: IO[bytes] = (
            io.BytesIO(source)
            if isinstance(source, bytes)
            else (
                open(source, "rb") if isinstance(source, Path | str) else source  # noqa: SIM115
            )
        )
    except OSError as error:
        raise CheckpointError(f"cannot open checkpoint: {error.strerror}") from error
    try:
        small = read_npz(handle, _expect_small, max_bytes, select=lambda name: not _is_array_member(name))
        header = _header(small)
        expected = _expected_arrays(header.config)
        arrays = read_npz(handle, _expect_arrays(expected), max_bytes, select=_is_array_member)
    except NpzError as error:
        raise CheckpointError(str(error)) from error
    finally:
        if handle is not source:
            handle.close()
    return from_arrays({**small, **arrays})


def _is_array_member(name: str) -> bool:
    return name.startswith(("param/", "optim/"))


def _expect_small(name: str, dtype: np.dtype, shape: tuple[int, ...]) -> str | None:
    if name in TEXTS:
        if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_TEXT:
            return f"{name} must be a string of at most {MAX_TEXT} characters, got {dtype}{list(shape)}"
        return None
    if name in SCALARS:
        if dtype.kind not in SCALARS[name] or shape != ():
            return f"{name} must be a single number, got {dtype}{list(shape)}"
        return None
    return f"unexpected array {name!r}"


@dataclass(frozen=True)
class _Header:
    config: TrainConfig


def _header(small: dict[str, Array]) -> _Header:
    fmt = _string(small, "format")
    if fmt != FORMAT:
        raise CheckpointError(f"format is {fmt!r}, expected {FORMAT!r}")
    return _Header(_config(_string(small, "config")))


def _config(text: str) -> TrainConfig:
    try:
        return TrainConfig.from_dict(json.loads(text))
    except (json.JSONDecodeError, ConfigError, TypeError, AttributeError, RecursionError) as error:
        raise CheckpointError(f"config is invalid: {error}") from error


def _expected_arrays(config: TrainConfig) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Every weight and optimizer array a checkpoint of this config may hold: name -> (kinds, shape)."""
    shapes = parameter_shapes(config.model)
    total = sum(math.prod(shape) for shape in shapes)
    expected = {f"param/{n}": ("f", s) for n, s in zip(parameter_names(config.model), shapes, strict=True)}
    expected["optim/steps"] = ("iu", ())
    for kind in ("m", "v", "velocity"):
        expected[f"optim/{kind}/all"] = ("f", (total,))
    return expected


def _expect_arrays(expected: dict[str, tuple[str, tuple[int, ...]]]) -> Expect:
    def check(name: str, dtype: np.dtype, shape: tuple[int, ...]) -> str | None:
        if name not in expected:
            return f"unexpected array {name!r} for this config"
        kinds, wanted = expected[name]
        if dtype.kind not in kinds or shape != wanted:
            kind = "float32" if kinds == "f" else "an integer"
            return f"{name} is {dtype}{list(shape)}, expected {kind}{list(wanted)}"
        return None

    return check


def from_arrays(arrays: dict[str, Array]) -> Checkpoint:
    """Validate keys, types, shapes and values, then build the checkpoint."""
    config = _header(arrays).config
    names = parameter_names(config.model)
    shapes = parameter_shapes(config.model)
    params = []
    for name, shape in zip(names, shapes, strict=True):
        array = _require(arrays, f"param/{name}")
        if array.dtype != np.float32 or array.shape != shape:
            raise CheckpointError(
                f"param/{name} is {array.dtype}{list(array.shape)}, expected float32{list(shape)}"
            )
        if not np.isfinite(array).all():
            raise CheckpointError(f"param/{name} holds non-finite values")
        params.append(array)
    optimizer_state = {k.removeprefix("optim/"): v for k, v in arrays.items() if k.startswith("optim/")}
    expected = {"format", "config", "epoch", "step", "rng", *OPTIONAL} | {f"param/{n}" for n in names}
    unknown = set(arrays) - expected - {f"optim/{k}" for k in optimizer_state}
    if unknown:
        raise CheckpointError(f"unexpected arrays {sorted(unknown)}")
    for key, value in optimizer_state.items():
        if value.dtype.kind not in "fiu" or not np.isfinite(value).all():
            raise CheckpointError(f"optimizer state optim/{key} is not a finite numeric array")
    lr_base = _number(arrays, "lr_base") if "lr_base" in arrays else 0.0
    return Checkpoint(
        config=config,
        epoch=_integer(arrays, "epoch"),
        step=_integer(arrays, "step"),
        weights=Weights.freeze(config.model, params),
        optimizer_state=optimizer_state,
        rng_state=_string(arrays, "rng"),
        augment_rng_state=_string(arrays, "augment_rng") if "augment_rng" in arrays else "",
        lr_base=lr_base,
        lr_base_epoch=_integer(arrays, "lr_base_epoch") if "lr_base_epoch" in arrays else 1,
    )


def _require(arrays: dict[str, Array], key: str) -> Array:
    if key not in arrays:
        raise CheckpointError(f"missing array {key!r}")
    return arrays[key]


def _string(arrays: dict[str, Array], key: str) -> str:
    array = _require(arrays, key)
    if array.dtype.kind != "U" or array.shape != ():
        raise CheckpointError(f"{key} must be a string, got {array.dtype}{list(array.shape)}")
    return str(array)


def _number(arrays: dict[str, Array], key: str) -> float:
    array = _require(arrays, key)
    if array.dtype.kind != "f" or array.shape != () or not np.isfinite(array) or float(array) < 0:
        raise CheckpointError(f"{key} must be a finite number >= 0, got {array.dtype}{list(array.shape)}")
    return float(array)


def _integer(arrays: dict[str, Array], key: str) -> int:
    array = _require(arrays, key)
    if array.dtype.kind not in "iu" or array.shape != () or int(array) < 0:
        raise CheckpointError(f"{key} must be a non-negative integer, got {array.dtype}{list(array.shape)}")
    return int(array)


# -- epoch reports (look-inside views); first-layer weights and confidences are kept as float16 ------

REPORT_FORMAT = "deeplook-report/1"


def save_report(report: EpochReport, path: Path) -> None:
    write_atomically(Path(path), dumps_report(report))


def dumps_report(report: EpochReport) -> bytes:
    """The ``.npz`` bytes of an epoch report."""
    arrays: dict[str, Array] = {
        "format": np.array(REPORT_FORMAT),
        "epoch": np.array(report.epoch, dtype=np.int64),
        "first_layer": report.first_layer.astype(np.float16),
        "layers": np.array(json.dumps([dataclasses.asdict(layer) for layer in report.layers])),
        "confusion": report.confusion,
        "predictions": report.predictions,
        "confidence": report.confidence.astype(np.float16),
    }
    for prefix, histograms in (("hist", report.histograms), ("grad", report.gradient_histograms)):
        for name, h in histograms.items():
            arrays[f"{prefix}/{name}/edges"] = h.edges
            arrays[f"{prefix}/{name}/counts"] = h.counts
    return npz_bytes(arrays, compress=False)


def load_report(path: Path) -> EpochReport:
    """Read a report written by ``save_report``; raises ``CheckpointError`` when it is not one."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        if _string(arrays, "format") != REPORT_FORMAT:
            raise CheckpointError(f"{path.name} is not a deeplook report")
        histograms: dict[str, dict[str, Histogram]] = {"hist": {}, "grad": {}}
        for key in arrays:
            prefix, _, rest = key.partition("/")
            if prefix in histograms and rest.endswith("/edges"):
                name = rest.removesuffix("/edges")
                histograms[prefix][name] = Histogram(arrays[key], arrays[f"{prefix}/{name}/counts"])
        return EpochReport(
            epoch=_integer(arrays, "epoch"),
            first_layer=arrays["first_layer"].astype(np.float32),
            histograms=histograms["hist"],
            gradient_histograms=histograms["grad"],
            layers=[LayerHealth(**layer) for layer in json.loads(_string(arrays, "layers"))],
            confusion=arrays["confusion"],
            predictions=arrays["predictions"],
            confidence=arrays["confidence"].astype(np.float32),
        )
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"cannot read report {path.name}: {error}") from error
