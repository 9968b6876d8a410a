"""Strokes to the picture the drawing pad (static/js/draw.js) would send, and on to MNIST's 784 values.

The pad fills white, starts each stroke with a disc of the brush's diameter (``dot``) and then draws
one round-capped line of that width per pointer move (``segment``), each its own ``stroke()`` in
opaque dark ink. Each of those shapes is rasterised here as anti-aliased coverage of the pixel grid
(pixel edges on integer coordinates, as in a canvas) and composited over what is already there
("source-over"), one after the other like the browser: where the soft edges of neighbouring segments
overlap they darken, as they do on the real pad. ``bench/canvas_match.py`` measures the match against
Chromium. Used to make and check the drawn-digit test set; the app itself never renders strokes.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence

import numpy as np
from PIL import Image

from deeplook.app.imaging import image_to_pixels
from deeplook.engine.data.drawn import BRUSH, CANVAS, Stroke

INK = 0x11  # draw.js INK "#111"
PAPER = 0xFF  # draw.js PAPER "#fff"


def render_strokes(strokes: Sequence[Stroke], scale: int = 1) -> np.ndarray:
    """The pad's grey levels, uint8 (CANVAS * scale) squared; scale is the device pixel ratio (draw.js
    draws at up to 2 device pixels per unit)."""
    side = CANVAS * scale
    radius = BRUSH * scale / 2
    coverage = np.zeros((side, side), np.float64)
    for stroke in strokes:
        points = np.asarray(stroke, np.float64).reshape(-1, 2) * scale
        _paint(coverage, points[0], points[0], radius)  # the dot on pointer down
        for start, end in itertools.pairwise(points):  # one segment per pointer move
            _paint(coverage, start, end, radius)
    return np.rint(PAPER - (PAPER - INK) * coverage).astype(np.uint8)


def strokes_to_png(strokes: Sequence[Stroke], scale: int = 1) -> bytes:
    """The pad as a PNG, as ``canvas.toDataURL`` gives it (greyscale rather than RGBA: same pixels)."""
    buffer = io.BytesIO()
    Image.fromarray(render_strokes(strokes, scale)).save(buffer, format="PNG")
    return buffer.getvalue()


def drawing_pixels(strokes: Sequence[Stroke], scale: int = 1) -> np.ndarray:
    """The (784,) float32 values /api/predict would give the network for this drawing."""
    return image_to_pixels(strokes_to_png(strokes, scale))


def _paint(coverage: np.ndarray, start: np.ndarray, end: np.ndarray, radius: float) -> None:
    """Composite a round-capped segment (a disc when start == end) over the coverage, in place.

    A pixel's coverage is estimated from its centre's distance to the segment (exact for straight
    edges, within a few percent on the brush's curved caps)."""
    side = coverage.shape[0]
    low = np.floor(np.minimum(start, end) - radius - 1).astype(int).clip(0, side)
    high = np.ceil(np.maximum(start, end) + radius + 2).astype(int).clip(0, side)
    if (high <= low).any():
        return
    ys, xs = np.mgrid[low[1] : high[1], low[0] : high[0]] + 0.5
    direction = end - start
    length2 = float(direction @ direction)
    t = 0.0
    if length2 > 0:
        t = np.clip(((xs - start[0]) * direction[0] + (ys - start[1]) * direction[1]) / length2, 0, 1)
    distance = np.hypot(xs - start[0] - t * direction[0], ys - start[1] - t * direction[1])
    alpha = np.clip(radius + 0.5 - distance, 0.0, 1.0)
    area = coverage[low[1] : high[1], low[0] : high[0]]
    area += alpha * (1.0 - area)  # source-over of opaque ink with coverage alpha
