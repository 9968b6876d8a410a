"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np


def write_atomically(path: Path, payload: bytes) -> None:
    """Write to a temporary file in the same folder, fsync it, rename it over ``path``, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its files are private (0600); this one gets the umask's usual permissions.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def npz_bytes(arrays: dict[str, np.ndarray], compress: bool) -> bytes:
    """An ``.npz`` of ``arrays``, in memory; compressed or stored as they are."""
    buffer = io.BytesIO()
    named: dict[str, Any] = dict(arrays)  # typed loosely: numpy's stub reserves allow_pickle
    (np.savez_compressed if compress else np.savez)(buffer, **named)
    return buffer.getvalue()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
