"""The drawn-digit test set: digits drawn as strokes on the dashboard's 280x280 pad (see README.md).

``strokes.json`` holds every drawing as pointer-event polylines in pad units (the source of truth);
``images-idx3-ubyte.gz`` holds the same drawings as /api/predict sees them (rendered like the canvas,
then MNIST preprocessing), as uint8 like MNIST's images, so the engine reads them without Pillow.
Both are made by ``scripts/make_drawn_digits.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deeplook.engine.data.base import DataError
from deeplook.engine.data.idx import read_idx

DRAWN_DIR = Path(__file__).parent
STROKES_FILE = "strokes.json"
IMAGES_FILE = "images-idx3-ubyte.gz"
FORMAT = "deeplook-drawn-digits/1"
CANVAS = 280
"""The pad's side in drawing units (draw.js SIZE)."""
BRUSH = 22
"""The pen's width in drawing units (draw.js BRUSH)."""

Point = tuple[float, float]
Stroke = tuple[Point, ...]


@dataclass(frozen=True)
class Drawing:
    """One digit: its label, the style it was drawn in, and its strokes in drawing order."""

    label: int
    style: str
    strokes: tuple[Stroke, ...]


@dataclass(frozen=True, eq=False)
class DrawnDigits:
    """The drawings with their preprocessed images: uint8 (N, 784) like MNIST's, read-only."""

    drawings: tuple[Drawing, ...]
    images: NDArray[np.uint8]
    labels: NDArray[np.uint8]

    @property
    def styles(self) -> tuple[str, ...]:
        return tuple(d.style for d in self.drawings)

    def pixels(self) -> NDArray[np.float32]:
        """The float32 (N, 784) values in [0, 1] the network is given."""
        return self.images.astype(np.float32) / np.float32(255)


def load_drawings(folder: Path = DRAWN_DIR) -> tuple[Drawing, ...]:
    """The strokes of every drawing, validated."""
    path = folder / STROKES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read the drawn digits' strokes {path}: {error}") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{path}: expected format {FORMAT!r}, found {_field(data, 'format')!r}")
    if (data.get("canvas"), data.get("brush")) != (CANVAS, BRUSH):
        raise DataError(f"{path}: expected canvas {CANVAS} and brush {BRUSH}")
    items = data.get("drawings")
    if not isinstance(items, list) or not items:
        raise DataError(f"{path}: expected a non-empty list of drawings")
    return tuple(_drawing(item, f"{path}: drawing {i}") for i, item in enumerate(items))


def load_drawn(folder: Path = DRAWN_DIR) -> DrawnDigits:
    """The drawn digits: strokes, labels and the 28x28 images /api/predict would give the network."""
    drawings = load_drawings(folder)
    images = read_idx(folder / IMAGES_FILE)
    if images.shape != (len(drawings), 28, 28):
        raise DataError(
            f"{folder / IMAGES_FILE}: expected {len(drawings)} images of 28x28, found shape {images.shape}"
        )
    images = images.reshape(len(drawings), 784)
    labels = np.array([d.label for d in drawings], dtype=np.uint8)
    for array in (images, labels):
        array.setflags(write=False)
    return DrawnDigits(drawings, images, labels)


def _drawing(item: Any, where: str) -> Drawing:
    if not isinstance(item, dict):
        raise DataError(f"{where}: expected an object, found {type(item).__name__}")
    label, style, strokes = item.get("label"), item.get("style"), item.get("strokes")
    if not isinstance(label, int) or not 0 <= label <= 9:
        raise DataError(f"{where}: expected a label 0-9, found {label!r}")
    if not isinstance(style, str) or not isinstance(strokes, list) or not strokes:
        raise DataError(f"{where}: expected a style name and a non-empty list of strokes")
    return Drawing(label, style, tuple(_stroke(s, where) for s in strokes))


def _stroke(values: Any, where: str) -> Stroke:
    """A flat [x0, y0, x1, y1, ...] list to points, each inside the pad."""
    if not isinstance(values, list) or len(values) < 2 or len(values) % 2:
        raise DataError(f"{where}: a stroke must be a flat list of x, y pairs")
    if not all(isinstance(v, int | float) and 0 <= v <= CANVAS for v in values):
        raise DataError(f"{where}: stroke coordinates must be numbers in [0, {CANVAS}]")
    return tuple((float(x), float(y)) for x, y in zip(values[0::2], values[1::2], strict=True))


def _field(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None
