"""A registry of the engine (activations, initialisers, optimizers, presets, races, coach rules,
datasets): a read-only map from each name to the one object that defines it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeVar

T = TypeVar("T")


def registry(*items: T, key: str = "name") -> Mapping[str, T]:
    """``items`` by their ``key`` attribute, in their order; a name given twice is an error."""
    table: dict[str, T] = {}
    for item in items:
        name = getattr(item, key)
        if name in table:
            raise ValueError(f"{name!r} is registered twice")
        table[name] = item
    return MappingProxyType(table)
