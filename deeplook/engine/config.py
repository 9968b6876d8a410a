"""Run configuration: the network, the optimizer, the schedule, and the named presets."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from deeplook.engine.augment import AugmentName

Activation = Literal["sigmoid", "tanh", "relu"]
Init = Literal["normal", "glorot", "he"]
OptimizerName = Literal["sgd", "adam"]
DatasetName = Literal["mnist", "fashion-mnist"]


class ConfigError(ValueError):
    """A configuration value is out of its allowed range."""


@dataclass(frozen=True)
class ModelConfig:
    """An MLP ``input -> hidden... -> classes`` with one activation for every hidden layer."""

    hidden: tuple[int, ...] = (50,)
    activation: Activation = "sigmoid"
    init: Init = "normal"
    init_std: float = 0.01
    input_size: int = 784
    classes: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        _check_choice("activation", self.activation, Activation)
        _check_choice("init", self.init, Init)
        if not self.hidden:
            raise ConfigError("the network needs at least one hidden layer")
        if any(h < 1 for h in self.hidden):
            raise ConfigError(f"hidden sizes must be >= 1, got {list(self.hidden)}")
        if self.init_std <= 0:
            raise ConfigError(f"init_std must be > 0, got {self.init_std}")

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.input_size, *self.hidden, self.classes)


@dataclass(frozen=True)
class OptimizerConfig:
    """SGD (optionally with momentum) or Adam; Adam's defaults are Keras'.

    The learning rate of epoch ``e`` (1-based) is ``lr * lr_decay ** (e - 1)``.
    """

    name: OptimizerName = "sgd"
    lr: float = 0.1
    lr_decay: float = 1.0
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-7

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.name, OptimizerName)
        if not self.lr > 0:
            raise ConfigError(f"learning rate must be > 0, got {self.lr}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum}")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError(f"Adam betas must be in [0, 1), got {self.beta1}, {self.beta2}")
        if not self.eps > 0:
            raise ConfigError(f"eps must be > 0, got {self.eps}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; the same config and seed give the same weights."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    batch_size: int = 100
    epochs: int = 15
    seed: int = 0
    dataset: DatasetName = "mnist"
    threads: int | None = None
    augment: AugmentName = "none"  # a name in deeplook.engine.augment.AUGMENTATIONS

    def __post_init__(self) -> None:
        _check_choice("dataset", self.dataset, DatasetName)
        _check_choice("augment", self.augment, AugmentName)
        if self.batch_size < 1:
            raise ConfigError(f"batch size must be >= 1, got {self.batch_size}")
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be >= 1, got {self.threads}")

    @property
    def blas_threads(self) -> int:
        """BLAS threads: one for small layers, where threading costs more than it gains; else two."""
        if self.threads is not None:
            return self.threads
        return 1 if max(self.model.hidden, default=0) <= 128 else 2

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict`` output; unknown keys are an error, not silently dropped."""
        try:
            values = dict(data)
            model = ModelConfig(**values.pop("model", {}))
            optimizer = OptimizerConfig(**values.pop("optimizer", {}))
            return cls(model=model, optimizer=optimizer, **values)
        except TypeError as error:
            raise ConfigError(f"invalid run config: {error}") from error

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def _check_choice(what: str, value: str, choices: Any) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ConfigError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")


PRESETS: dict[str, TrainConfig] = {
    # The notebook's NumPy network: 784-50-10 sigmoid, N(0, 0.01^2) weights, SGD 0.1, batch 100.
    "notebook-sgd": TrainConfig(
        model=ModelConfig(hidden=(50,), activation="sigmoid", init="normal", init_std=0.01),
        optimizer=OptimizerConfig(name="sgd", lr=0.1),
        batch_size=100,
        epochs=15,
    ),
    # The notebook's Keras network: the same shape, Glorot uniform init, Adam 1e-3, batch 32.
    "notebook-adam": TrainConfig(
        model=ModelConfig(hidden=(50,), activation="sigmoid", init="glorot"),
        optimizer=OptimizerConfig(name="adam", lr=1e-3),
        batch_size=32,
        epochs=10,
    ),
    # A stronger net: two ReLU layers with He init, Adam with a decaying learning rate.
    "relu-adam": TrainConfig(
        model=ModelConfig(hidden=(256, 128), activation="relu", init="he"),
        optimizer=OptimizerConfig(name="adam", lr=1e-3, lr_decay=0.85),
        batch_size=128,
        epochs=20,
    ),
    # For drawings: relu-adam twice as wide, trained on randomly shifted, turned, scaled, stretched and
    # slanted digits, so digits drawn on the pad are read about as well as MNIST's (bench/drawn.py).
    "relu-adam-augmented": TrainConfig(
        model=ModelConfig(hidden=(512, 256), activation="relu", init="he"),
        optimizer=OptimizerConfig(name="adam", lr=1e-3, lr_decay=0.85),
        batch_size=128,
        epochs=20,
        augment="affine",
    ),
}
DEFAULT_PRESET = "notebook-sgd"
