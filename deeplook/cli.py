"""The ``deeplook`` command: ``serve`` the app, ``train`` headless, ``data`` to fetch and verify."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from tqdm import tqdm

from deeplook.engine import serialize
from deeplook.engine.config import (
    PRESETS,
    Activation,
    ConfigError,
    DatasetName,
    Init,
    OptimizerName,
    TrainConfig,
)
from deeplook.engine.data import DataError, Dataset, load_dataset
from deeplook.engine.train import Checkpoint, EpochMetrics, RunFinished, StepMetrics, Trainer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deeplook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="fetch, verify and cache a dataset; print where it is")
    _add_data_options(data)

    serve = commands.add_parser("serve", help="run the web app and API (settings: DEEPLOOK_* variables)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1, or DEEPLOOK_HOST)")
    serve.add_argument("--port", type=_positive_int, help="port (default 8000, or DEEPLOOK_PORT)")
    serve.add_argument("--data-dir", type=Path, help="database and checkpoints (or DEEPLOOK_DATA_DIR)")

    train = commands.add_parser("train", help="train a network in the terminal")
    train.add_argument("--preset", choices=sorted(PRESETS), default="notebook-sgd")
    train.add_argument("--hidden", type=_positive_int, nargs="+", metavar="N", help="hidden layer sizes")
    train.add_argument("--activation", choices=get_args(Activation))
    train.add_argument("--init", choices=get_args(Init))
    train.add_argument("--optimizer", choices=get_args(OptimizerName))
    train.add_argument("--lr", type=_positive_float, help="learning rate")
    train.add_argument("--lr-decay", type=_positive_float, help="learning rate factor per epoch, (0, 1]")
    train.add_argument("--momentum", type=float, help="SGD momentum in [0, 1)")
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--seed", type=int)
    train.add_argument("--threads", type=_positive_int, help="BLAS threads (default: by layer size)")
    train.add_argument("--save", type=Path, metavar="PATH", help="write the final model (.npz) here")
    _add_data_options(train)
    return parser


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", choices=get_args(DatasetName), default="mnist")
    parser.add_argument("--data-dir", type=Path, help="a folder holding the IDX files or mnist.npz")
    parser.add_argument("--cache-dir", type=Path, help="where the verified dataset is cached")
    parser.add_argument("--offline", action="store_true", help="do not try the public HTTP mirrors")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The preset, with every option given on the command line applied over it."""
    preset = PRESETS[args.preset]
    model = preset.model
    for field, value in (("hidden", args.hidden), ("activation", args.activation), ("init", args.init)):
        if value is not None:
            model = dataclasses.replace(model, **{field: value})
    optimizer = preset.optimizer
    for field, value in (
        ("name", args.optimizer),
        ("lr", args.lr),
        ("lr_decay", args.lr_decay),
        ("momentum", args.momentum),
    ):
        if value is not None:
            optimizer = dataclasses.replace(optimizer, **{field: value})
    changes = {"model": model, "optimizer": optimizer, "dataset": args.dataset}
    for field, value in (
        ("batch_size", args.batch_size),
        ("epochs", args.epochs),
        ("seed", args.seed),
        ("threads", args.threads),
    ):
        if value is not None:
            changes[field] = value
    return preset.replace(**changes)


def load_data(args: argparse.Namespace) -> Dataset:
    bar = tqdm(total=100, desc="data", unit="%", leave=False, file=sys.stderr, disable=None)

    def progress(message: str, fraction: float | None) -> None:
        bar.set_description_str(message[:60])
        if fraction is not None:
            bar.n = round(fraction * 100)
        bar.refresh()

    try:
        return load_dataset(
            args.dataset,
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
    data = load_data(args)
    print(f"data: {data.name} from {data.source}", file=sys.stderr)
    trainer = Trainer(config, data)
    steps_per_epoch = math.ceil(len(data.train_labels) / config.batch_size)
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
            else:
                finished = event
    except KeyboardInterrupt:
        print("interrupted: keeping the model of the last completed epoch", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    if finished is not None and finished.status != "completed":
        print(f"run {finished.status}: {finished.reason}", file=sys.stderr)
    if args.save:
        serialize.save(last, args.save)
        print(f"saved epoch {last.epoch} model to {args.save}", file=sys.stderr)
    return 1 if finished is not None and finished.status == "diverged" else 0


def run_data(args: argparse.Namespace) -> int:
    data = load_data(args)
    print(f"dataset: {data.name}")
    print(f"source:  {data.source}")
    print(f"cache:   {data.cache_path}")
    print(f"train:   {len(data.train_labels)} images  test: {len(data.test_labels)} images (verified)")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    """Serve ``app.main:create_app`` with uvicorn; the app reads its settings from the environment."""
    import uvicorn
    from pydantic import ValidationError

    from deeplook.app.config import Settings

    if args.data_dir is not None:
        os.environ["DEEPLOOK_DATA_DIR"] = str(args.data_dir)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"deeplook: invalid settings: {error}", file=sys.stderr)
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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
