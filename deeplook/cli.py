"""The ``deeplook`` command: ``serve`` the app, ``train`` headless, ``data`` to fetch and verify."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from deeplook import __version__
from deeplook.engine import serialize
from deeplook.engine.config import (
    DEFAULT_PRESET,
    PRESETS,
    SETTINGS,
    ConfigError,
    Setting,
    TrainConfig,
    configure,
    preset_config,
)
from deeplook.engine.data import DATASETS, DataError, Dataset, load_dataset
from deeplook.engine.status import RunStatus
from deeplook.engine.train import Checkpoint, EpochMetrics, RunFinished, StepMetrics, Trainer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deeplook", description=__doc__)
    parser.add_argument("--version", action="version", version=f"deeplook {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="fetch, verify and cache a dataset; print where it is")
    data.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    _add_data_options(data)

    serve = commands.add_parser("serve", help="run the web app and API (settings: DEEPLOOK_* variables)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1, or DEEPLOOK_HOST)")
    serve.add_argument("--port", type=_positive_int, help="port (default 8000, or DEEPLOOK_PORT)")
    serve.add_argument("--data-dir", type=Path, help="database and checkpoints (or DEEPLOOK_DATA_DIR)")
    serve.add_argument(
        "--predict-only",
        action="store_true",
        help="a replica: predict, export and health only, serving the data folder's pinned (or current) "
        "model, picking up a new pin within a second (or DEEPLOOK_PREDICT_ONLY)",
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        help="uvicorn worker processes, with --predict-only (or DEEPLOOK_WORKERS)",
    )

    train = commands.add_parser("train", help="train a network in the terminal")
    train.add_argument("--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET)
    for setting in SETTINGS.values():
        add_setting(train, setting)
    train.add_argument("--save", type=Path, metavar="PATH", help="write the final model (.npz) here")
    _add_data_options(train)
    return parser


def add_setting(parser: argparse.ArgumentParser, setting: Setting) -> None:
    """``--<name>`` for one run setting, with its type, choices and bounds from the settings table."""
    flag = "--" + setting.name.replace("_", "-")
    if setting.kind == "choice":
        parser.add_argument(flag, dest=setting.name, choices=setting.choices, help=setting.help)
        return
    convert = int if setting.kind in ("integer", "sizes") else float

    def parse(text: str) -> int | float:
        try:
            value = convert(text)
        except ValueError:
            wanted = "a number" if convert is float else "a whole number"
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        item = setting if setting.kind != "sizes" else dataclasses.replace(setting, kind="integer")
        try:
            item.check(value)
        except ConfigError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    nargs = "+" if setting.kind == "sizes" else None
    parser.add_argument(flag, dest=setting.name, type=parse, nargs=nargs, metavar="N", help=setting.help)


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="a folder holding the IDX files or mnist.npz")
    parser.add_argument("--cache-dir", type=Path, help="where the verified dataset is cached")
    parser.add_argument("--offline", action="store_true", help="do not try the public HTTP mirrors")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The preset, with every setting given on the command line applied over it."""
    return configure(preset_config(args.preset), {name: getattr(args, name) for name in SETTINGS})


def load_data(args: argparse.Namespace, dataset: str) -> Dataset:
    bar = tqdm(total=100, desc="data", unit="%", leave=False, file=sys.stderr, disable=None)

    def progress(message: str, fraction: float | None) -> None:
        bar.set_description_str(message[:60])
        if fraction is not None:
            bar.n = round(fraction * 100)
        bar.refresh()

    try:
        return load_dataset(
            dataset,
            folder=args.data_dir,
            cache_dir=args.cache_dir,
            progress=progress,
            allow_network=not args.offline,
        )
    finally:
        bar.close()


def format_epoch(event: EpochMetrics, epochs: int) -> str:
    return (
        f"epoch {event.epoch:>{len(str(epochs))}}/{epochs}  "
        f"train loss {event.train_loss:.4f} acc {event.train_accuracy:.4f}  "
        f"test loss {event.test_loss:.4f} acc {event.test_accuracy:.4f}  "
        f"{event.seconds:.2f}s  {event.samples_per_second:,.0f} samples/s"
    )


def run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as error:
        parser.error(str(error))
    data = load_data(args, config.dataset)
    print(f"data: {data.name} from {data.source}", file=sys.stderr)
    trainer = Trainer(config, data)
    steps_per_epoch = config.steps_per_epoch()
    bar: tqdm | None = None  # type: ignore[type-arg]
    last: Checkpoint = trainer.last_checkpoint
    finished: RunFinished | None = None
    try:
        for event in trainer.run():
            if isinstance(event, StepMetrics):
                if bar is None:
                    bar = tqdm(
                        total=steps_per_epoch,
                        desc=f"epoch {event.epoch}",
                        unit="step",
                        leave=False,
                        file=sys.stderr,
                        disable=None,
                    )
                bar.update()
                if event.step % 50 == 0:
                    bar.set_postfix(loss=f"{event.loss:.4f}")
            elif isinstance(event, EpochMetrics):
                if bar is not None:
                    bar.close()
                    bar = None
                print(format_epoch(event, config.epochs), flush=True)
            elif isinstance(event, Checkpoint):
                last = event
            elif isinstance(event, RunFinished):
                finished = event
    except KeyboardInterrupt:
        print("interrupted: keeping the model of the last completed epoch", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    if finished is not None and finished.reason is not None:
        print(f"run {finished.status}: {finished.reason.text}", file=sys.stderr)
    if args.save:
        serialize.save(last, args.save)
        print(f"saved epoch {last.epoch} model to {args.save}", file=sys.stderr)
    return 1 if finished is not None and finished.status == RunStatus.DIVERGED else 0


def run_data(args: argparse.Namespace) -> int:
    data = load_data(args, args.dataset)
    print(f"dataset: {data.name}")
    print(f"source:  {data.source}")
    print(f"cache:   {data.cache_path}")
    print(f"train:   {len(data.train_labels)} images  test: {len(data.test_labels)} images (verified)")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Serve ``deeplook.app.main:create_app`` with uvicorn; settings come from the environment."""
    import uvicorn
    from pydantic import ValidationError

    from deeplook.app.config import Settings

    if args.data_dir is not None:
        os.environ["DEEPLOOK_DATA_DIR"] = str(args.data_dir)
    if args.predict_only:  # through the environment, so every worker process builds the same settings
        os.environ["DEEPLOOK_PREDICT_ONLY"] = "1"
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"deeplook: invalid settings: {error}", file=sys.stderr)
        return 2
    workers = args.workers or settings.workers
    if workers > 1 and not settings.predict_only:
        print("deeplook: several workers need --predict-only (one server owns the training)", file=sys.stderr)
        return 2
    uvicorn.run(
        "deeplook.app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        ws_max_size=settings.ws_max_message_bytes,
        ws_per_message_deflate=False,  # compressing every frame for every viewer costs more than it saves
        ws_ping_interval=settings.ws_ping_interval,
        ws_ping_timeout=settings.ws_ping_timeout,
        timeout_graceful_shutdown=5,
        log_level="info",
        access_log=settings.access_log,
        workers=workers,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            return run_serve(args)
        if args.command == "data":
            return run_data(args)
        return run_train(args, parser)
    except DataError as error:
        print(f"deeplook: data error: {error}", file=sys.stderr)
        return 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


if __name__ == "__main__":
    sys.exit(main())
