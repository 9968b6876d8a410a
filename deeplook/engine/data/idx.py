"""IDX files (the MNIST format): strict parsing of raw or gzipped files, and encoding for hashing."""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from deeplook.engine.data.base import DataError

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
UBYTE = 0x08
MAX_IDX_BYTES = 1 << 30
"""Refuse headers promising more than this: MNIST's largest file is 47 MB."""

_CHUNK = 1 << 20


class Readable(Protocol):
    """A binary stream: an open file or a GzipFile."""

    def read(self, size: int, /) -> bytes: ...


def idx_header(shape: tuple[int, ...]) -> bytes:
    """The header of an unsigned-byte IDX file holding an array of this shape."""
    return struct.pack(f">BBBB{len(shape)}I", 0, 0, UBYTE, len(shape), *shape)


def encode_idx(array: NDArray[np.uint8]) -> bytes:
    """The exact bytes of the IDX file holding this uint8 array (header + raw bytes)."""
    if array.dtype != np.uint8:
        raise DataError(f"IDX encoding expects uint8, got {array.dtype}")
    return idx_header(array.shape) + np.ascontiguousarray(array).tobytes()


def read_idx(path: Path) -> NDArray[np.uint8]:
    """Read a raw or gzipped (name ends in .gz) unsigned-byte IDX file of 1 or 3 dimensions."""
    try:
        with open(path, "rb") as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(fileobj=raw) as stream:
                    return read_idx_stream(stream, source=str(path))
            return read_idx_stream(raw, source=str(path), stored_size=path.stat().st_size)
    except OSError as error:
        raise DataError(f"cannot read IDX file {path}: {error}") from error


def decode_idx_gz(data: bytes, *, source: str) -> NDArray[np.uint8]:
    """Parse gzipped IDX bytes held in memory (as downloaded)."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        return read_idx_stream(stream, source=source)


def read_idx_stream(stream: Readable, *, source: str, stored_size: int | None = None) -> NDArray[np.uint8]:
    """Parse an IDX stream, checking the header before reading a body of exactly the promised length.

    stored_size (for uncompressed files) lets a wrong length be refused before any body is read.
    Memory grows only with bytes actually read, whatever the header claims.
    """
    try:
        return _read_idx_stream(stream, source, stored_size)
    except (OSError, EOFError, zlib.error) as error:  # gzip reports corrupt data with these
        raise DataError(f"{source}: not a readable IDX file ({error})") from error


def _read_idx_stream(stream: Readable, source: str, stored_size: int | None) -> NDArray[np.uint8]:
    magic = _read_exactly(stream, 4, source, "the 4-byte magic number")
    zero, zero2, dtype_code, ndim = magic
    if (zero, zero2) != (0, 0) or (dtype_code, ndim) not in ((UBYTE, 1), (UBYTE, 3)):
        raise DataError(
            f"{source}: expected IDX magic 0x{IMAGES_MAGIC:08x} (images) or 0x{LABELS_MAGIC:08x} (labels), "
            f"found 0x{magic.hex()}"
        )
    shape = struct.unpack(f">{ndim}I", _read_exactly(stream, 4 * ndim, source, f"{ndim} dimension sizes"))
    if any(size == 0 for size in shape):
        raise DataError(f"{source}: expected non-zero dimensions, found {shape}")
    body_size = math.prod(shape)
    header_size = 4 + 4 * ndim
    if body_size > MAX_IDX_BYTES:
        raise DataError(
            f"{source}: header promises {body_size} bytes of data (shape {shape}), over the limit"
        )
    if stored_size is not None and stored_size != header_size + body_size:
        raise DataError(
            f"{source}: header shape {shape} needs {header_size + body_size} bytes, file has {stored_size}"
        )
    body = bytearray()
    while len(body) < body_size:
        chunk = stream.read(min(_CHUNK, body_size - len(body)))
        if not chunk:
            raise DataError(
                f"{source}: truncated: header shape {shape} needs {body_size} data bytes, found {len(body)}"
            )
        body += chunk
    if stream.read(1):
        raise DataError(f"{source}: trailing bytes after the {body_size} data bytes of shape {shape}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _read_exactly(stream: Readable, size: int, source: str, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise DataError(f"{source}: truncated: expected {what}, found {len(data)} bytes")
    return data
