"""A race: 2-4 runs that share a seed, a batch size, a dataset and a length, so that they start from
the same weights (wherever their layers agree) and see the same minibatches in the same order, and
differ only in what the learner wants to compare. Each run is named by what makes it different."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deeplook.app.errors import ServiceError
from deeplook.app.runs import NewRun
from deeplook.app.schemas import RaceCreate
from deeplook.engine.config import (
    RACE_SHARED,
    RACES,
    SETTINGS,
    ConfigError,
    TrainConfig,
    configure,
    preset_config,
)


@dataclass(frozen=True)
class RacePlan:
    id: str
    name: str
    differs: tuple[str, ...]
    runs: tuple[NewRun, ...]


def plan(request: RaceCreate) -> RacePlan:
    """The runs of a race from its request (a ready-made race, overridden by what the request says)."""
    template = RACES[request.race] if request.race else None
    preset = request.preset or (template.base if template else None)
    if preset is None:
        raise ServiceError("invalid_input", error="a race needs 'race' (a ready-made one) or 'preset'")
    common: dict[str, Any] = dict(template.common) if template else {}
    if request.settings is not None:
        common.update(request.settings.model_dump(exclude_none=True))
    variants: list[Mapping[str, Any]] = (
        [v.model_dump(exclude_none=True) for v in request.variants]
        if request.variants
        else [dict(v) for v in template.variants]
        if template
        else []
    )
    if not 2 <= len(variants) <= 4:
        raise ServiceError("invalid_input", error=f"a race has 2 to 4 runs, got {len(variants)}")
    try:
        base = configure(preset_config(preset), common)
        configs = [configure(base, variant) for variant in variants]
    except ConfigError as error:
        raise ServiceError("invalid_config", error=str(error)) from error
    for name in RACE_SHARED:
        values = {SETTINGS[name].get(config) for config in configs}
        if len(values) > 1:
            raise ServiceError(
                "invalid_config",
                error=f"the runs of a race share their {', '.join(RACE_SHARED)} (so that they see the same "
                f"minibatches); they differ in {name}: {sorted(map(str, values))}",
            )
    differs = differing(configs)
    if not differs:
        raise ServiceError("invalid_config", error="the runs of this race would all be the same")
    title = request.name or (
        template.name if template else " vs ".join(describe(c, differs) for c in configs)
    )
    runs = tuple(NewRun(config, preset, describe(config, differs)) for config in configs)
    return RacePlan(secrets.token_hex(6), title, differs, runs)


def differing(configs: list[TrainConfig]) -> tuple[str, ...]:
    """The settings whose values are not the same in every config, in the settings table's order."""
    return tuple(name for name, s in SETTINGS.items() if len({repr(s.get(c)) for c in configs}) > 1)


def describe(config: TrainConfig, differs: tuple[str, ...]) -> str:
    """A run by what makes it different, e.g. "optimizer adam, lr 0.001"."""
    parts = []
    for name in differs:
        value = SETTINGS[name].get(config)
        if isinstance(value, tuple):
            value = "-".join(map(str, value))
        parts.append(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}")
    return ", ".join(parts)
