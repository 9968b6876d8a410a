"""Drawn digits vs scanned ones: each preset trained with and without augmentation, then tested on
MNIST's test set and on the drawn-digit set as /api/predict sees it.

The drawn set's strokes are rendered like the browser's pad (deeplook.app.canvas) and preprocessed by
``image_to_pixels``, the exact path of a drawing sent to /api/predict. Training uses one BLAS thread;
"train s" is the sum of ``EpochMetrics.seconds`` (training steps only, evaluation excluded).

Run from the repository root:

    python bench/drawn.py                  # every preset without augmentation, with affine, and as configured
    python bench/drawn.py --presets relu-adam --augment none,full --epochs 5
    python bench/drawn.py --mnist-path     # also MNIST's test set through image_to_pixels
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from deeplook.app.canvas import drawing_pixels
from deeplook.app.imaging import image_to_pixels
from deeplook.engine.augment import AUGMENTATIONS
from deeplook.engine.config import PRESETS, TrainConfig
from deeplook.engine.data import Dataset, load_dataset
from deeplook.engine.data.drawn import load_drawings
from deeplook.engine.model import Weights
from deeplook.engine.train import EpochMetrics, Trainer

AS_CONFIGURED = "preset"


@dataclass(frozen=True)
class Result:
    preset: str
    augment: str
    epochs: int
    train_seconds: float
    samples_per_second: float
    mnist: float
    mnist_path: float | None
    drawn: float
    per_digit: tuple[float, ...]


def drawn_set() -> tuple[np.ndarray, np.ndarray]:
    """The drawn digits through the browser-like renderer and image_to_pixels, and their labels."""
    drawings = load_drawings()
    pixels = np.stack([drawing_pixels(d.strokes) for d in drawings])
    return pixels, np.array([d.label for d in drawings])


def mnist_through_imaging(data: Dataset) -> np.ndarray:
    """MNIST's test digits saved as PNGs and read back through image_to_pixels (white on black)."""
    out = np.empty((len(data.test_labels), 784), np.float32)
    for i, image in enumerate(data.test_images):
        buffer = io.BytesIO()
        Image.fromarray(image.reshape(28, 28)).save(buffer, format="PNG")
        out[i] = image_to_pixels(buffer.getvalue())
    return out


def accuracy(weights: Weights, pixels: np.ndarray, labels: np.ndarray) -> tuple[float, tuple[float, ...]]:
    predicted = weights.predict_proba(pixels).argmax(axis=1)
    right = predicted == labels
    return float(right.mean()), tuple(float(right[labels == d].mean()) for d in range(10))


def train(config: TrainConfig, data: Dataset) -> tuple[Weights, float, float, float]:
    """The final weights, training seconds, samples/s over the run and the last MNIST test accuracy."""
    trainer = Trainer(config, data)
    epochs = [e for e in trainer.run() if isinstance(e, EpochMetrics)]
    seconds = sum(e.seconds for e in epochs)
    rate = len(epochs) * len(data.train_labels) / seconds
    return trainer.last_checkpoint.weights, seconds, rate, epochs[-1].test_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated preset names")
    parser.add_argument(
        "--augment",
        default=f"none,affine,{AS_CONFIGURED}",
        help=f"comma-separated augmentations ({', '.join(AUGMENTATIONS)}) or '{AS_CONFIGURED}' for the "
        "preset's own; each preset is trained once per distinct choice",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override every preset's epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mnist-path", action="store_true", help="also MNIST's test set via image_to_pixels")
    args = parser.parse_args()

    data = load_dataset("mnist")
    started = time.perf_counter()
    drawn, drawn_labels = drawn_set()
    seconds = time.perf_counter() - started
    print(f"drawn set: {len(drawn_labels)} digits rendered and preprocessed in {seconds:.1f} s")
    mnist_path = mnist_through_imaging(data) if args.mnist_path else None
    test_labels = data.test_labels.astype(np.intp)

    results = []
    for name in args.presets.split(","):
        preset = PRESETS[name]
        choices = [preset.config.augment if a == AS_CONFIGURED else a for a in args.augment.split(",")]
        for augment in dict.fromkeys(choices):
            config = preset.config.replace(augment=augment, seed=args.seed, threads=1)
            if args.epochs is not None:
                config = config.replace(epochs=args.epochs)
            weights, seconds, rate, mnist = train(config, data)
            drawn_accuracy, per_digit = accuracy(weights, drawn, drawn_labels)
            through = None if mnist_path is None else accuracy(weights, mnist_path, test_labels)[0]
            result = Result(
                name, augment, config.epochs, seconds, rate, mnist, through, drawn_accuracy, per_digit
            )
            results.append(result)
            print(
                f"  {name} augment={augment}: drawn {drawn_accuracy:.4f}, MNIST {mnist:.4f}, {seconds:.0f} s"
            )
    print()
    print(table(results, show_path=mnist_path is not None))


def table(results: list[Result], show_path: bool) -> str:
    head = ["preset", "augment", "epochs", "train s", "samples/s", "MNIST test"]
    head += ["MNIST via imaging"] if show_path else []
    head += ["drawn", *(f"drawn {d}" for d in range(10)), "weakest"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in results:
        weakest = int(np.argmin(r.per_digit))
        cells = [r.preset, r.augment, str(r.epochs), f"{r.train_seconds:.0f}", f"{r.samples_per_second:,.0f}"]
        cells += [f"{r.mnist:.4f}"] + ([f"{r.mnist_path:.4f}"] if show_path else [])
        cells += [
            f"**{r.drawn:.4f}**",
            *(f"{a:.2f}" for a in r.per_digit),
            f"{weakest} ({r.per_digit[weakest]:.2f})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
