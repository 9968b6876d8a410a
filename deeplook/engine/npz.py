"""Reading ``.npz`` files that come from outside, without trusting them: nothing is inflated before
the zip's declared sizes and each array's ``.npy`` header (dtype and shape) have been checked against
what the caller expects, object arrays and pickles are refused, and no member can yield more bytes
than its header announced.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable
from typing import IO

import numpy as np
from numpy.lib import format as npy

from deeplook.engine.layers import Array

MAX_MEMBERS = 256
HEADER_LIMIT = 10_000
"""Bytes an ``.npy`` header may take (numpy's own default limit)."""

Expect = Callable[[str, np.dtype, tuple[int, ...]], str | None]
"""Given a member's name, dtype and shape (from its header), a reason to refuse it, or None."""


class NpzError(ValueError):
    """The file is not an acceptable .npz; the message says what is wrong."""


def read_npz(
    stream: IO[bytes], expect: Expect, max_bytes: int, select: Callable[[str], bool] = lambda name: True
) -> dict[str, Array]:
    """The arrays of the archive that ``select`` names, each checked by ``expect`` from its header before
    its data is read; at most ``max_bytes`` of array data in all. (Call it again on the same seekable
    stream to read other members once the first ones have said what to expect of them.)"""
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise NpzError(f"not an .npz (zip) archive: {error}") from error
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise NpzError(f"expected at most {MAX_MEMBERS} arrays, found {len(infos)}")
        declared = sum(info.file_size for info in infos)
        if declared > max_bytes + HEADER_LIMIT * len(infos):
            raise NpzError(f"its arrays would take {declared:,} bytes; the limit is {max_bytes:,}")
        arrays: dict[str, Array] = {}
        total = 0
        for info in infos:
            name = info.filename.removesuffix(".npy")
            if not info.filename.endswith(".npy") or name in arrays:
                raise NpzError(f"unexpected member {info.filename!r}")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise NpzError(f"{info.filename}: unsupported compression")
            if not select(name):
                continue
            array = _read_member(archive, info, name, expect, max_bytes - total)
            total += array.nbytes
            arrays[name] = array
    return arrays


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, expect: Expect, budget: int
) -> Array:
    try:
        with archive.open(info) as member:
            version = npy.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(member, max_header_size=HEADER_LIMIT)
            elif version == (2, 0):
                shape, fortran, dtype = npy.read_array_header_2_0(member, max_header_size=HEADER_LIMIT)
            else:
                raise NpzError(f"{name}: .npy format {version} is not supported")
            if dtype.hasobject:
                raise NpzError(f"{name}: object arrays are not accepted")
            refusal = expect(name, dtype, tuple(shape))
            if refusal is not None:
                raise NpzError(refusal)
            size = math.prod(shape) * dtype.itemsize
            if size > budget:
                raise NpzError(f"{name}: {size:,} bytes is more than the file may hold")
            data = member.read(size)
            if len(data) != size:
                raise NpzError(f"{name}: truncated ({len(data):,} of {size:,} bytes)")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        if isinstance(error, NpzError):
            raise
        raise NpzError(f"{name}: cannot be read ({type(error).__name__}: {error})") from error
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")
