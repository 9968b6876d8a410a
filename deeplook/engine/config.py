"""Run configuration: the network, the optimizer, the schedule, every setting a run can be given, and
the named presets.

``SETTINGS`` is the one table of what a learner or a script may choose for a run: its name, where it
lives in ``TrainConfig``, its type and bounds, and one line of help. The config dataclasses validate
themselves against it, ``configure`` applies overrides over a preset with it, and the REST schema,
the command line and the dashboard's form are all built from it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from deeplook.engine.activations import ACTIVATIONS
from deeplook.engine.augment import AUGMENTATIONS
from deeplook.engine.data.specs import DATASETS
from deeplook.engine.initializers import INITIALIZERS
from deeplook.engine.optim import OPTIMIZERS
from deeplook.engine.registry import registry


class ConfigError(ValueError):
    """A configuration value is out of its allowed range."""


@dataclass(frozen=True)
class ModelConfig:
    """An MLP ``input -> hidden... -> classes`` with one activation for every hidden layer."""

    hidden: tuple[int, ...] = (50,)
    """Units per hidden layer."""
    activation: str = "sigmoid"
    init: str = "normal"
    init_std: float = 0.01
    input_size: int = 784
    """Values per input image (from the dataset)."""
    classes: int = 10
    """Output units, one per class (from the dataset)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        _validate(self, "model")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.input_size < 1 or self.classes < 2:
            raise ConfigError(
                f"a network needs inputs and two classes, got {self.input_size}, {self.classes}"
            )

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.input_size, *self.hidden, self.classes)


@dataclass(frozen=True)
class OptimizerConfig:
    """SGD (optionally with momentum) or Adam; Adam's defaults are Keras'.

    The learning rate of epoch ``e`` (1-based) is ``lr * lr_decay ** (e - 1)``.
    """

    name: str = "sgd"
    lr: float = 0.1
    lr_decay: float = 1.0
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-7

    def __post_init__(self) -> None:
        _validate(self, "optimizer")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a run; the same config and seed give the same weights."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    batch_size: int = 100
    epochs: int = 15
    seed: int = 0
    dataset: str = "mnist"
    threads: int | None = None
    """BLAS threads at most (None: chosen from the layer sizes)."""
    augment: str = "none"
    train_size: int | None = None
    """Train on only the first this many training images (None: all of them)."""
    """Training-time augmentation, a name in ``augment.AUGMENTATIONS``."""

    def __post_init__(self) -> None:
        _validate(self, "")
        spec = DATASETS[self.dataset]
        if (self.model.input_size, self.model.classes) != (spec.pixels, spec.classes):
            raise ConfigError(
                f"a {self.dataset} network takes {spec.pixels} inputs and has {spec.classes} classes; "
                f"this one has {self.model.input_size} and {self.model.classes}"
            )
        if self.train_size is not None and self.train_size > spec.train_size:
            raise ConfigError(
                f"train_size must be at most {spec.train_size:,} ({self.dataset}'s training images), "
                f"got {self.train_size:,}"
            )
        if self.batch_size > self.train_count:
            raise ConfigError(
                f"batch_size must be at most {self.train_count:,} (the training images used), "
                f"got {self.batch_size:,}"
            )

    @property
    def train_count(self) -> int:
        """How many training images the run learns from."""
        return self.train_size or DATASETS[self.dataset].train_size

    @property
    def blas_threads(self) -> int:
        """BLAS threads: one for small layers, where threading costs more than it gains; else two."""
        if self.threads is not None:
            return self.threads
        return 1 if max(self.model.hidden, default=0) <= 128 else 2

    def steps_per_epoch(self) -> int:
        return math.ceil(self.train_count / self.batch_size)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from ``to_dict`` output; unknown keys or wrong types are a ``ConfigError``."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a run config must be an object, got {type(data).__name__}")
        try:
            values = dict(data)
            model, optimizer = values.pop("model", {}), values.pop("optimizer", {})
            if not isinstance(model, Mapping) or not isinstance(optimizer, Mapping):
                raise ConfigError("a run config's model and optimizer must be objects")
            return cls(model=ModelConfig(**model), optimizer=OptimizerConfig(**optimizer), **values)
        except (TypeError, ValueError) as error:
            if isinstance(error, ConfigError):
                raise
            raise ConfigError(f"invalid run config: {error}") from error

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


# -- the settings table -------------------------------------------------------------------------------

Kind = Literal["integer", "number", "choice", "sizes"]
Section = Literal["", "model", "optimizer"]


@dataclass(frozen=True)
class Setting:
    """One thing a run can be told: where it lives, what it may be, and what it means."""

    name: str
    """The flat name REST, the command line and the dashboard use."""
    section: Section
    """The part of ``TrainConfig`` that holds it ("" for the top level)."""
    field: str
    kind: Kind
    help: str
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[str, ...] = ()
    registry: str = ""
    """For choices: the registry they come from ("activations", "datasets", ...)."""
    max_items: int | None = None
    """For sizes: at most this many numbers (each within minimum..maximum)."""
    optional: bool = False
    """None is allowed (and means: chosen automatically)."""
    advanced: bool = False
    """Shown under "More settings"."""
    applies_when: tuple[str, tuple[str, ...]] | None = None
    """(another setting, its values) for which this one has an effect."""

    def check(self, value: Any) -> None:
        """Raise ``ConfigError`` saying what was expected and what arrived."""
        if value is None:
            if not self.optional:
                raise ConfigError(f"{self.name} is required")
            return
        if self.kind == "choice":
            if value not in self.choices:
                raise ConfigError(f"{self.name} must be one of {', '.join(self.choices)}; got {value!r}")
            return
        if self.kind == "sizes":
            if not isinstance(value, tuple) or not value:
                raise ConfigError(f"{self.name} must hold at least one number, got {value!r}")
            if self.max_items is not None and len(value) > self.max_items:
                raise ConfigError(f"{self.name} holds at most {self.max_items} numbers, got {len(value)}")
            for item in value:
                self._check_number(item, f"each of {self.name}", integer=True)
            return
        self._check_number(value, self.name, integer=self.kind == "integer")

    def _check_number(self, value: Any, what: str, integer: bool) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{what} must be a number, got {value!r}")
        number = float(value)
        if not math.isfinite(number) or not self.contains(number):
            raise ConfigError(f"{what} must be {self.bounds_text()}, got {value!r}")
        if integer and not number.is_integer():
            raise ConfigError(f"{what} must be a whole number, got {value!r}")

    def contains(self, value: float) -> bool:
        low, high = self.minimum, self.maximum
        if low is not None and (value <= low if self.exclusive_minimum else value < low):
            return False
        return high is None or not (value >= high if self.exclusive_maximum else value > high)

    def bounds_text(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.exclusive_minimum else '>='} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"{'<' if self.exclusive_maximum else '<='} {self.maximum:g}")
        return " and ".join(parts) or "a number"

    def get(self, config: TrainConfig) -> Any:
        holder = getattr(config, self.section) if self.section else config
        return getattr(holder, self.field)


def _applies_to_optimizers(setting: str) -> tuple[str, tuple[str, ...]]:
    return "optimizer", tuple(name for name, spec in OPTIMIZERS.items() if setting in spec.settings)


def _choice(
    name: str,
    section: Section,
    help: str,
    registry: str,
    names: Iterable[str],
    advanced: bool = False,
    field: str | None = None,
) -> Setting:
    """A setting whose value is one name of the engine registry ``registry`` (its field: ``name``
    unless given)."""
    return Setting(
        name,
        section,
        field or name,
        "choice",
        help,
        choices=tuple(names),
        registry=registry,
        advanced=advanced,
    )


def _optimizer_only(name: str, help: str, open_at: Literal["minimum", "maximum"]) -> Setting:
    """A number between 0 and 1 (one end open) that only the optimizers listing it use."""
    return Setting(
        name,
        "optimizer",
        name,
        "number",
        help,
        minimum=0,
        maximum=1,
        exclusive_minimum=open_at == "minimum",
        exclusive_maximum=open_at == "maximum",
        advanced=True,
        applies_when=_applies_to_optimizers(name),
    )


def _settings() -> tuple[Setting, ...]:
    largest_train_set = max(spec.train_size for spec in DATASETS.values())
    return (
        _choice("dataset", "", "the images to learn", "datasets", DATASETS),
        Setting(
            "hidden",
            "model",
            "hidden",
            "sizes",
            "units per hidden layer, e.g. 256, 128",
            minimum=1,
            maximum=4096,
            max_items=6,
        ),
        _choice("activation", "model", "the hidden layers' activation function", "activations", ACTIVATIONS),
        _choice("init", "model", "how the weights start", "initializers", INITIALIZERS, advanced=True),
        Setting(
            "init_std",
            "model",
            "init_std",
            "number",
            "σ of the normal initial weights",
            minimum=0,
            maximum=10,
            exclusive_minimum=True,
            advanced=True,
            applies_when=("init", tuple(name for name, init in INITIALIZERS.items() if init.uses_std)),
        ),
        _choice("optimizer", "optimizer", "how weights are updated", "optimizers", OPTIMIZERS, field="name"),
        Setting(
            "lr",
            "optimizer",
            "lr",
            "number",
            "learning rate: the size of each step (up to 1000, so divergence can be shown)",
            minimum=0,
            maximum=1000,
            exclusive_minimum=True,
        ),
        Setting(
            "lr_decay",
            "optimizer",
            "lr_decay",
            "number",
            "factor applied to the learning rate after each epoch",
            minimum=0,
            maximum=1,
            exclusive_minimum=True,
            advanced=True,
        ),
        _optimizer_only("momentum", "share of the previous step kept in the next (SGD)", "maximum"),
        _optimizer_only("beta1", "Adam: decay of the running mean of gradients", "maximum"),
        _optimizer_only("beta2", "Adam: decay of the running mean of squared gradients", "maximum"),
        _optimizer_only("eps", "Adam: added to the root mean square so no step divides by zero", "minimum"),
        Setting(
            "batch_size",
            "",
            "batch_size",
            "integer",
            "training images per step",
            minimum=1,
            maximum=largest_train_set,
        ),
        Setting("epochs", "", "epochs", "integer", "passes over the training set", minimum=1, maximum=1000),
        _choice(
            "augment",
            "",
            "random changes to each training image (so drawings are read as well as scans)",
            "augmentations",
            AUGMENTATIONS,
            advanced=True,
        ),
        Setting(
            "train_size",
            "",
            "train_size",
            "integer",
            "learn from only the first N training images (default: all); a few hundred show overfitting",
            minimum=1,
            maximum=largest_train_set,
            optional=True,
            advanced=True,
        ),
        Setting(
            "seed",
            "",
            "seed",
            "integer",
            "random seed: the same seed gives the same run",
            minimum=0,
            maximum=2**32 - 1,
        ),
        Setting(
            "threads",
            "",
            "threads",
            "integer",
            "BLAS threads at most (default: chosen from the layer sizes)",
            minimum=1,
            maximum=64,
            optional=True,
            advanced=True,
        ),
    )


SETTINGS: Mapping[str, Setting] = registry(*_settings())


def _validate(holder: object, section: str) -> None:
    for setting in SETTINGS.values():
        if setting.section == section:
            setting.check(getattr(holder, setting.field))


def configure(base: TrainConfig, overrides: Mapping[str, Any]) -> TrainConfig:
    """``base`` with every setting in ``overrides`` (flat names, see ``SETTINGS``) applied over it;
    None values are ignored. The network's input size and class count follow the dataset."""
    unknown = sorted(set(overrides) - set(SETTINGS))
    if unknown:
        raise ConfigError(f"unknown settings {unknown}; known: {', '.join(SETTINGS)}")
    changes: dict[str, dict[str, Any]] = {"": {}, "model": {}, "optimizer": {}}
    for name, value in overrides.items():
        if value is not None:
            setting = SETTINGS[name]
            changes[setting.section][setting.field] = tuple(value) if setting.kind == "sizes" else value
    dataset = changes[""].get("dataset", base.dataset)
    SETTINGS["dataset"].check(dataset)
    spec = DATASETS[dataset]
    model = dataclasses.replace(base.model, **changes["model"], input_size=spec.pixels, classes=spec.classes)
    optimizer = dataclasses.replace(base.optimizer, **changes["optimizer"])
    return dataclasses.replace(base, model=model, optimizer=optimizer, **changes[""])


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: TrainConfig


PRESETS: Mapping[str, Preset] = registry(
    Preset(
        "notebook-sgd",
        "The notebook's NumPy network: 784-50-10 sigmoid, N(0, 0.01²) weights, plain SGD 0.1, batch 100.",
        TrainConfig(
            model=ModelConfig(hidden=(50,), activation="sigmoid", init="normal", init_std=0.01),
            optimizer=OptimizerConfig(name="sgd", lr=0.1),
            batch_size=100,
            epochs=15,
        ),
    ),
    Preset(
        "notebook-adam",
        "The notebook's Keras network: the same shape, Glorot uniform weights, Adam 1e-3, batch 32.",
        TrainConfig(
            model=ModelConfig(hidden=(50,), activation="sigmoid", init="glorot"),
            optimizer=OptimizerConfig(name="adam", lr=1e-3),
            batch_size=32,
            epochs=10,
        ),
    ),
    Preset(
        "relu-adam",
        "A stronger net: two ReLU layers (256, 128), He weights, Adam with a learning rate that "
        "decays each epoch.",
        TrainConfig(
            model=ModelConfig(hidden=(256, 128), activation="relu", init="he"),
            optimizer=OptimizerConfig(name="adam", lr=1e-3, lr_decay=0.85),
            batch_size=128,
            epochs=20,
        ),
    ),
    # For drawings: relu-adam twice as wide, trained on randomly shifted, turned, scaled,
    # stretched and slanted digits (bench/drawn.py: 0.988 on drawn digits, 0.991 on MNIST).
    Preset(
        "relu-adam-augmented",
        "For drawings: relu-adam twice as wide (512, 256), trained on digits shifted, turned, "
        "scaled, stretched and slanted at random, so that drawn digits are read as well as scans.",
        TrainConfig(
            model=ModelConfig(hidden=(512, 256), activation="relu", init="he"),
            optimizer=OptimizerConfig(name="adam", lr=1e-3, lr_decay=0.85),
            batch_size=128,
            epochs=20,
            augment="affine",
        ),
    ),
)
DEFAULT_PRESET = "notebook-sgd"


def preset_config(name: str) -> TrainConfig:
    """The config of a named preset; ``ConfigError`` naming the known ones otherwise."""
    preset = PRESETS.get(name)
    if preset is None:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return preset.config


@dataclass(frozen=True)
class RacePreset:
    """A comparison the notebook teaches: runs that share a network start, data order and schedule and
    differ only in what the race is about."""

    name: str
    description: str
    base: str
    """The preset every run starts from."""
    common: Mapping[str, Any]
    """Settings applied to every run."""
    variants: tuple[Mapping[str, Any], ...]
    """Per run, the settings that make it different."""


RACES: Mapping[str, RacePreset] = registry(
    RacePreset(
        "sgd-vs-adam",
        "The notebook's comparison: one 784-50-10 sigmoid network, the same start and minibatches, "
        "trained by plain SGD (lr 0.1) and by Adam (lr 0.001).",
        "notebook-sgd",
        {"epochs": 10},
        ({"optimizer": "sgd", "lr": 0.1}, {"optimizer": "adam", "lr": 0.001}),
    ),
    RacePreset(
        "activations",
        "Sigmoid, tanh and ReLU hidden units in the same network, from the same Glorot start, "
        "with the same SGD: which learns fastest, and why (vanishing gradients).",
        "notebook-sgd",
        {"epochs": 10, "init": "glorot"},
        ({"activation": "sigmoid"}, {"activation": "tanh"}, {"activation": "relu"}),
    ),
    RacePreset(
        "learning-rates",
        "The same network and start trained with learning rates 0.01, 0.1 and 1: too small crawls, "
        "too big jumps around.",
        "notebook-sgd",
        {"epochs": 10},
        ({"lr": 0.01}, {"lr": 0.1}, {"lr": 1.0}),
    ),
)
RACE_SHARED = ("seed", "batch_size", "dataset", "epochs")
"""Settings every run of a race must share, so that they see the same minibatches in the same order."""
