"""Local sources: a folder of IDX files (raw or .gz) or a Keras-style .npz, and known system folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deeplook.engine.data.base import ARRAY_KEYS, ArrayMap, DataError, Found, ProgressCallback
from deeplook.engine.data.cache import read_npz
from deeplook.engine.data.idx import read_idx
from deeplook.engine.data.specs import DatasetSpec

KERAS_KEYS = ("x_train", "y_train", "x_test", "y_test")


def idx_candidates(folder: Path, stem: str) -> list[Path]:
    """The names a file may have: train-images-idx3-ubyte[.gz] or train-images.idx3-ubyte[.gz]."""
    dotted = stem.replace("-idx", ".idx")
    return [folder / f"{base}{suffix}" for base in (stem, dotted) for suffix in ("", ".gz")]


def npz_candidates(folder: Path, name: str) -> list[Path]:
    """The .npz names a folder may hold for a dataset (Keras calls MNIST's mnist.npz)."""
    return [folder / f"{name}.npz", folder / f"{name}.uint8.npz"]


def load_folder(folder: Path, spec: DatasetSpec, progress: ProgressCallback) -> ArrayMap:
    """Read a dataset from a folder (or a single .npz file); DataError says what was expected and found."""
    if folder.is_file() and folder.suffix == ".npz":
        return load_npz(folder, progress)
    if not folder.is_dir():
        raise DataError(
            f"expected a folder holding {spec.name}'s IDX files or an .npz, found no folder {folder}"
        )
    found = {idx_file.key: _first_existing(idx_candidates(folder, idx_file.stem)) for idx_file in spec.files}
    present = {key: path for key, path in found.items() if path is not None}
    if len(present) == len(spec.files):
        arrays: ArrayMap = {}
        for step, (key, path) in enumerate(present.items()):
            progress(f"reading {path}", step / len(present))
            arrays[key] = read_idx(path)
        progress(f"read {folder}", 1.0)
        return arrays
    npz = _first_existing(npz_candidates(folder, spec.name))
    if npz is not None:
        return load_npz(npz, progress)
    missing = [idx_file.stem for idx_file in spec.files if found[idx_file.key] is None]
    entries = sorted(entry.name for entry in folder.iterdir())
    shown = ", ".join(entries[:20]) + (", ..." if len(entries) > 20 else "") if entries else "nothing"
    raise DataError(
        f"{folder}: expected {spec.name}'s four IDX files (raw or .gz, e.g. {spec.files[0].stem}.gz) "
        f"or {npz_candidates(folder, spec.name)[0].name}; missing {', '.join(missing)}; found {shown}"
    )


def load_npz(path: Path, progress: ProgressCallback) -> ArrayMap:
    """Read a Keras-style (x_train, y_train, x_test, y_test) or deeplook-style .npz without pickles."""
    progress(f"reading {path}", None)
    return read_npz(path, layouts=(KERAS_KEYS, ARRAY_KEYS))


def load_system_folders(folders: Sequence[Path], spec: DatasetSpec, progress: ProgressCallback) -> Found:
    """Read the dataset from the first known install folder that holds it."""
    for folder in folders:
        if folder.is_dir():
            return Found(load_folder(folder, spec, progress), f"system package: {folder}")
    listed = ", ".join(str(folder) for folder in folders) or "none known"
    raise DataError(f"no system package folder holds {spec.name} (looked in: {listed})")


def _first_existing(paths: list[Path]) -> Path | None:
    return next((path for path in paths if path.is_file()), None)
