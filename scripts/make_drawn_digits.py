"""Generate the drawn-digit test set: pen strokes as the dashboard's drawing pad would record them.

Every digit starts from a stroke skeleton designed by hand for one style of writing it (a 1 with or
without flag and base, an open or closed 4, a 7 with or without a bar...) in a unit box, x to the
right and y down. Random parameters of the style bend it a little; the whole drawing is then sized,
stretched, slanted, turned and placed on the 280x280 pad, bent by a smooth "hand" distortion, and
sampled the way pointer events sample a moving pen: at a fixed event rate, with the pen slowing down
in curves and at both ends of a stroke, plus a little tremor. Nothing here is a font or an MNIST image.

    python scripts/make_drawn_digits.py           # rewrite deeplook/engine/data/drawn/*
    python scripts/make_drawn_digits.py --check   # fail if the stored files are not what this makes

The strokes (JSON, canvas units rounded to 0.1) are the source of truth; the preprocessed images are
derived from them with the app's canvas renderer and ``image_to_pixels``, exactly as /api/predict sees a
drawing, and stored as MNIST-style IDX so that the engine can read them without Pillow.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from deeplook.engine.data.drawn import BRUSH, CANVAS, DRAWN_DIR, IMAGES_FILE, STROKES_FILE, Drawing
from deeplook.engine.data.idx import encode_idx

SEED = 20_240_601
PER_CLASS = 60
EVENT_RATES = (60.0, 60.0, 120.0)  # pointer events per second: most screens, or coalesced events
MARGIN = BRUSH / 2 + 3  # the ink stays inside the pad

Path2 = np.ndarray  # (n, 2) float64 points
Style = Callable[[np.random.Generator], list[Path2]]


# -- path pieces, in the unit box ------------------------------------------------------------------


def line(*points: tuple[float, float]) -> Path2:
    """Straight segments through the points, densely sampled."""
    out = [np.asarray(points[0], float)[None]]
    for a, b in itertools.pairwise(points):
        steps = max(2, math.ceil(math.dist(a, b) * 200))
        t = np.linspace(0, 1, steps + 1)[1:, None]
        out.append(np.asarray(a) * (1 - t) + np.asarray(b) * t)
    return np.concatenate(out)


def curve(*points: tuple[float, float]) -> Path2:
    """A smooth centripetal Catmull-Rom curve through the points (no overshoot loops)."""
    p = np.asarray(points, float)
    p = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    out = [p[1:2]]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        t0 = 0.0
        t1 = t0 + max(np.linalg.norm(p1 - p0), 1e-6) ** 0.5
        t2 = t1 + max(np.linalg.norm(p2 - p1), 1e-6) ** 0.5
        t3 = t2 + max(np.linalg.norm(p3 - p2), 1e-6) ** 0.5
        steps = max(4, math.ceil(np.linalg.norm(p2 - p1) * 200))
        t = np.linspace(t1, t2, steps + 1)[1:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    return np.concatenate(out)


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Path2:
    """An elliptical arc; angles in degrees, 0 to the right, 90 down (clockwise on screen)."""
    steps = max(8, math.ceil(abs(end - start) / 2))
    a = np.radians(np.linspace(start, end, steps + 1))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def join(*pieces: Path2) -> Path2:
    """One stroke made of pieces drawn one after the other (each starts where the last ended)."""
    return np.concatenate([pieces[0], *(p[1:] for p in pieces[1:])])


def at(path: Path2, index: int) -> tuple[float, float]:
    return float(path[index, 0]), float(path[index, 1])


# -- the styles: each returns strokes in the unit box (x right, y down), in drawing order ----------


def zero_oval(rng: np.random.Generator) -> list[Path2]:
    """An oval from the top, anticlockwise (or clockwise), ending with a small gap or overlap."""
    start = -90 + rng.uniform(-25, 25)
    turn = 360 + rng.uniform(-25, 35)
    sign = -1 if rng.random() < 0.75 else 1
    egg = rng.uniform(-0.06, 0.06)  # wider at the bottom (>0) or the top (<0)
    path = arc(0.5, 0.5, 0.5, 0.5, start, start + sign * turn)
    path[:, 0] = 0.5 + (path[:, 0] - 0.5) * (1 + egg * (path[:, 1] - 0.5) * 2)
    return [path]


def zero_pointed(rng: np.random.Generator) -> list[Path2]:
    """A 0 drawn as two sides meeting at a pointed top, the pen overshooting past the start."""
    top = (0.5 + rng.uniform(-0.05, 0.05), 0.0)
    w = rng.uniform(0.0, 0.06)
    path = curve(
        top,
        (0.08 + w, 0.2),
        (0.0, 0.55),
        (0.2, 0.92),
        (0.55, 1.0),
        (0.92, 0.78),
        (0.98, 0.4),
        (0.8, 0.1),
        (top[0] - rng.uniform(0.0, 0.12), rng.uniform(0.0, 0.08)),
    )
    return [path]


def one_stick(rng: np.random.Generator) -> list[Path2]:
    """A single down stroke, a little bowed."""
    bow = rng.uniform(-0.08, 0.08)
    return [curve((0.5, 0.0), (0.5 + bow, 0.5), (0.5, 1.0))]


def one_flag(rng: np.random.Generator) -> list[Path2]:
    """A flag up to the top, then straight down."""
    flag = (rng.uniform(0.0, 0.25), rng.uniform(0.18, 0.35))
    return [line(flag, (0.62, 0.0), (0.62 + rng.uniform(-0.05, 0.05), 1.0))]


def one_flag_base(rng: np.random.Generator) -> list[Path2]:
    """A flagged 1 standing on a base drawn afterwards."""
    stem = one_flag(rng)[0]
    y = 1.0 + rng.uniform(-0.02, 0.02)
    return [stem, line((rng.uniform(0.1, 0.25), y), (rng.uniform(0.95, 1.1), y + rng.uniform(-0.03, 0.03)))]


def two_plain(rng: np.random.Generator) -> list[Path2]:
    """A round top, a diagonal to the bottom left, and a base to the right, in one stroke."""
    belly = rng.uniform(-0.08, 0.08)
    top = curve(
        (0.05, 0.3 + rng.uniform(-0.08, 0.05)),
        (0.3, 0.04),
        (0.65, 0.0),
        (0.93, 0.22),
        (0.78 + belly, 0.52),
        (0.4, 0.8),
        (0.03, 1.0),
    )
    return [join(top, line(at(top, -1), (1.0, 0.97 + rng.uniform(-0.04, 0.04))))]


def two_loop(rng: np.random.Generator) -> list[Path2]:
    """A 2 whose diagonal curls into a small loop before the base."""
    size = rng.uniform(0.1, 0.18)
    path = curve(
        (0.05, 0.28),
        (0.35, 0.02),
        (0.7, 0.02),
        (0.92, 0.28),
        (0.7, 0.58),
        (0.3, 0.85),
        (0.1, 1.0 - 0.1 * size),
        (0.0, 1.0 - size),
        (0.1, 1.0 - 1.6 * size),
        (0.22, 1.0 - 0.8 * size),
        (0.3, 0.99),
        (0.65, 0.97),
        (1.0, 0.95 + rng.uniform(-0.04, 0.04)),
    )
    return [path]


def two_z(rng: np.random.Generator) -> list[Path2]:
    """A flatter, Z-like 2: a short arch, a straight diagonal, a base with a corner."""
    arch = curve((0.0, 0.22), (0.45, 0.0), (0.95, 0.12), (0.9, 0.32))
    return [join(arch, line(at(arch, -1), (0.0, 1.0), (1.0, 1.0 + rng.uniform(-0.04, 0.03))))]


def three_round(rng: np.random.Generator) -> list[Path2]:
    """Two bowls meeting at a point in the middle."""
    mid = (rng.uniform(0.3, 0.5), rng.uniform(0.42, 0.5))
    top = curve((0.05, 0.15), (0.45, 0.0), (0.88, 0.12), (0.85, 0.33), mid)
    bottom = curve(mid, (0.85, 0.58), (0.98, 0.8), (0.6, 1.0), (0.2, 0.97), (0.0, 0.82))
    return [join(top, bottom)]


def three_flat(rng: np.random.Generator) -> list[Path2]:
    """A flat top, a diagonal to the middle, and one round bowl."""
    mid = (rng.uniform(0.3, 0.5), 0.42)
    head = line((0.05, 0.0), (0.92, 0.0), mid)
    bowl = curve(mid, (0.85, 0.52), (0.98, 0.78), (0.6, 1.0), (0.0, 0.86))
    return [join(head, bowl)]


def three_loopy(rng: np.random.Generator) -> list[Path2]:
    """Two rounder bowls joined by a little inward curl."""
    inner = rng.uniform(0.32, 0.45)
    path = curve(
        (0.0, 0.18),
        (0.4, 0.0),
        (0.85, 0.1),
        (0.8, 0.35),
        (inner, 0.47),
        (inner + 0.05, 0.52),
        (0.9, 0.65),
        (0.92, 0.88),
        (0.5, 1.0),
        (0.02, 0.88),
    )
    return [path]


def four_open(rng: np.random.Generator) -> list[Path2]:
    """A diagonal and a bar in one stroke, then a down stroke crossing the bar, open at the top."""
    bar = rng.uniform(0.5, 0.78)
    stem_x = rng.uniform(0.55, 0.85)
    first = line(
        (rng.uniform(0.35, 0.65), rng.uniform(0.0, 0.1)), (0.0, bar), (1.0, bar + rng.uniform(-0.06, 0.03))
    )
    second = line((stem_x, rng.uniform(0.0, 0.45)), (stem_x + rng.uniform(-0.08, 0.04), 1.0))
    return [first, second]


def four_closed(rng: np.random.Generator) -> list[Path2]:
    """A printed 4: the diagonal meets the down stroke at the top."""
    bar = rng.uniform(0.55, 0.78)
    stem_x = rng.uniform(0.6, 0.8)
    first = line((stem_x, 0.0), (0.0, bar), (1.0, bar + rng.uniform(-0.04, 0.03)))
    second = line((stem_x + rng.uniform(-0.04, 0.04), rng.uniform(-0.05, 0.05)), (stem_x, 1.0))
    return [first, second]


def four_ell(rng: np.random.Generator) -> list[Path2]:
    """A hand-written 4: an L for the left side and bar, then a long down stroke."""
    bar = rng.uniform(0.45, 0.7)
    stem_x = rng.uniform(0.6, 0.85)
    first = line(
        (rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.15)), (0.0, bar), (1.0, bar + rng.uniform(-0.06, 0.02))
    )
    second = line((stem_x, rng.uniform(-0.05, 0.2)), (stem_x + rng.uniform(-0.1, 0.03), 1.0))
    return [first, second]


def four_tick(rng: np.random.Generator) -> list[Path2]:
    """A 4 whose left side and bar stop at the stem, then the stem drawn from the top."""
    bar = rng.uniform(0.45, 0.68)
    stem_x = rng.uniform(0.6, 0.85)
    path = line((rng.uniform(0.0, 0.2), 0.0), (0.0, bar), (stem_x + rng.uniform(0.0, 0.15), bar))
    return [path, line((stem_x, rng.uniform(0.0, 0.2)), (stem_x - rng.uniform(0.0, 0.06), 1.0))]


def _bowl(start: tuple[float, float], rng: np.random.Generator) -> Path2:
    depth = rng.uniform(0.9, 1.0)
    return curve(start, (0.55, 0.36), (0.92, 0.55), (0.88, 0.85), (0.5, depth), (0.02, 0.85))


def five_two_strokes(rng: np.random.Generator) -> list[Path2]:
    """Down stem and bowl in one stroke, then the top bar."""
    corner = (rng.uniform(0.08, 0.2), rng.uniform(0.4, 0.5))
    top = (rng.uniform(0.12, 0.25), 0.0)
    stem = join(line(top, corner), _bowl(corner, rng))
    return [stem, line((top[0] - 0.02, 0.01), (rng.uniform(0.85, 1.0), rng.uniform(-0.04, 0.02)))]


def five_one_stroke(rng: np.random.Generator) -> list[Path2]:
    """The bar from the right, down the stem and round the bowl without lifting the pen."""
    corner = (rng.uniform(0.08, 0.2), rng.uniform(0.4, 0.5))
    head = line((rng.uniform(0.85, 1.0), 0.0), (0.15, 0.02), corner)
    return [join(head, _bowl(corner, rng))]


def five_round(rng: np.random.Generator) -> list[Path2]:
    """A rounder 5: a slanted stem and a large bowl that almost closes."""
    corner = (rng.uniform(0.0, 0.12), rng.uniform(0.38, 0.48))
    head = line((rng.uniform(0.85, 1.0), 0.02), (0.22, 0.0), corner)
    bowl = curve(corner, (0.5, 0.33), (0.95, 0.5), (0.98, 0.82), (0.6, 1.0), (0.2, 0.95), (0.05, 0.75))
    return [join(head, bowl)]


def six_curved(rng: np.random.Generator) -> list[Path2]:
    """A curved stem from the top right into a loop at the bottom."""
    loop = rng.uniform(0.45, 0.6)
    return [
        curve(
            (0.85, 0.0),
            (0.4, 0.15),
            (0.08, 0.55),
            (0.15, 0.9),
            (0.55, 1.0),
            (0.92, 0.8),
            (0.75, loop),
            (0.35, loop + 0.02),
            (0.1, 0.75),
        )
    ]


def six_straight(rng: np.random.Generator) -> list[Path2]:
    """A straight stem slanting down to a round loop."""
    stem = line((rng.uniform(0.55, 0.75), 0.0), (0.08, 0.62))
    loop = curve(at(stem, -1), (0.2, 0.95), (0.6, 1.0), (0.92, 0.8), (0.75, 0.55), (0.35, 0.55), (0.08, 0.7))
    return [join(stem, loop)]


def six_small_loop(rng: np.random.Generator) -> list[Path2]:
    """A tall sweeping stem and a small loop low down."""
    return [
        curve(
            (0.95, 0.05),
            (0.5, 0.1),
            (0.12, 0.45),
            (0.05, 0.8),
            (0.4, 1.0),
            (0.85, 0.9),
            (0.8, 0.68),
            (0.4, 0.65),
            (0.1, 0.82),
        )
    ]


def seven_plain(rng: np.random.Generator) -> list[Path2]:
    """The bar and the diagonal in one stroke with a corner."""
    return [line((0.0, rng.uniform(0.0, 0.08)), (1.0, 0.0), (rng.uniform(0.25, 0.5), 1.0))]


def seven_bar(rng: np.random.Generator) -> list[Path2]:
    """A continental 7: a crossbar through the middle of the diagonal."""
    foot = rng.uniform(0.25, 0.45)
    first = line((0.0, 0.02), (1.0, 0.0), (foot, 1.0))
    y = rng.uniform(0.45, 0.58)
    x = 1.0 + (foot - 1.0) * y
    return [first, line((x - rng.uniform(0.2, 0.3), y), (x + rng.uniform(0.2, 0.3), y - 0.02))]


def seven_hook(rng: np.random.Generator) -> list[Path2]:
    """A small downward hook at the start of the bar, and a stem that curves."""
    bar = line((0.0, rng.uniform(0.15, 0.25)), (0.03, 0.0), (1.0, 0.02))
    stem = curve(at(bar, -1), (0.7, 0.45), (0.5 + rng.uniform(-0.05, 0.05), 0.75), (0.42, 1.0))
    return [join(bar, stem)]


def seven_curved(rng: np.random.Generator) -> list[Path2]:
    """A wavy bar and a stem bowed to the right."""
    bar = curve((0.0, 0.06), (0.5, rng.uniform(-0.03, 0.05)), (1.0, 0.0))
    stem = curve(at(bar, -1), (0.75, 0.4), (0.55, 0.7), (0.45, 1.0))
    return [join(bar, stem)]


def _eight(rng: np.random.Generator) -> Path2:
    waist = (0.5 + rng.uniform(-0.05, 0.05), rng.uniform(0.42, 0.52))
    return curve(
        (0.82, 0.12),
        (0.5, 0.0),
        (0.18, 0.14),
        (0.25, 0.34),
        waist,
        (0.85, 0.66),
        (0.82, 0.92),
        (0.5, 1.0),
        (0.15, 0.9),
        (0.18, 0.66),
        waist,
        (0.75, 0.3),
        (0.85 + rng.uniform(-0.05, 0.05), 0.1 + rng.uniform(-0.05, 0.05)),
    )


def eight_one_stroke(rng: np.random.Generator) -> list[Path2]:
    """An S down and back up again through the waist, from the top right."""
    return [_eight(rng)]


def eight_reversed(rng: np.random.Generator) -> list[Path2]:
    """The same figure of eight started at the top left (mirrored, so it runs the other way)."""
    path = _eight(rng)
    path[:, 0] = 1.0 - path[:, 0]
    return [path]


def eight_two_loops(rng: np.random.Generator) -> list[Path2]:
    """A snowman: a small loop on top of a larger one, each drawn as its own stroke."""
    top_r = rng.uniform(0.3, 0.42)
    waist = rng.uniform(0.42, 0.5)
    upper = arc(0.5, waist / 2, top_r, waist / 2, 90, 90 - 360 - rng.uniform(0, 20))
    lower = arc(0.5, (1 + waist) / 2, 0.5, (1 - waist) / 2, -90, -90 + 360 + rng.uniform(0, 20))
    return [upper, lower]


def _nine_head(rng: np.random.Generator, right: float) -> Path2:
    """The loop of a 9, anticlockwise from its right side."""
    height = rng.uniform(0.38, 0.5)
    return arc(right - 0.45, height / 2, 0.45, height / 2, 10, 10 - 360 - rng.uniform(0, 15))


def nine_straight(rng: np.random.Generator) -> list[Path2]:
    """A loop, then a straight tail down from its right side."""
    head = _nine_head(rng, 0.95)
    return [join(head, line(at(head, -1), (0.95 + rng.uniform(-0.12, 0.02), 1.0)))]


def nine_curved(rng: np.random.Generator) -> list[Path2]:
    """A loop and a tail curving to the left at the bottom."""
    head = _nine_head(rng, 0.95)
    tail = curve(at(head, -1), (0.9, 0.65), (0.65, 0.97), (0.3, 1.0), (0.1, 0.9))
    return [join(head, tail)]


def nine_two_strokes(rng: np.random.Generator) -> list[Path2]:
    """A closed loop, then the stem drawn down its right side as a second stroke."""
    height = rng.uniform(0.38, 0.5)
    head = arc(0.5, height / 2, 0.48, height / 2, -40, -40 - 360 - rng.uniform(0, 15))
    stem_x = rng.uniform(0.9, 1.0)
    return [head, line((stem_x, rng.uniform(0.0, 0.12)), (stem_x - rng.uniform(0.0, 0.1), 1.0))]


# label -> styles, each with the width-to-height ratio it is usually drawn at
STYLES: dict[int, list[tuple[str, Style, float]]] = {
    0: [("0-oval", zero_oval, 0.72), ("0-pointed", zero_pointed, 0.7)],
    1: [("1-stick", one_stick, 0.1), ("1-flag", one_flag, 0.38), ("1-flag-base", one_flag_base, 0.5)],
    2: [("2-plain", two_plain, 0.72), ("2-loop", two_loop, 0.75), ("2-z", two_z, 0.72)],
    3: [("3-round", three_round, 0.65), ("3-flat", three_flat, 0.65), ("3-loopy", three_loopy, 0.65)],
    4: [
        ("4-open", four_open, 0.75),
        ("4-closed", four_closed, 0.75),
        ("4-ell", four_ell, 0.72),
        ("4-tick", four_tick, 0.72),
    ],
    5: [
        ("5-two-strokes", five_two_strokes, 0.68),
        ("5-one-stroke", five_one_stroke, 0.68),
        ("5-round", five_round, 0.72),
    ],
    6: [
        ("6-curved", six_curved, 0.65),
        ("6-straight", six_straight, 0.65),
        ("6-small-loop", six_small_loop, 0.62),
    ],
    7: [
        ("7-plain", seven_plain, 0.7),
        ("7-bar", seven_bar, 0.7),
        ("7-hook", seven_hook, 0.7),
        ("7-curved", seven_curved, 0.7),
    ],
    8: [
        ("8-one-stroke", eight_one_stroke, 0.62),
        ("8-reversed", eight_reversed, 0.62),
        ("8-two-loops", eight_two_loops, 0.6),
    ],
    9: [
        ("9-straight", nine_straight, 0.62),
        ("9-curved", nine_curved, 0.65),
        ("9-two-strokes", nine_two_strokes, 0.6),
    ],
}


# -- from the unit box to pointer events on the pad ------------------------------------------------


def place(strokes: list[Path2], aspect: float, rng: np.random.Generator) -> list[Path2]:
    """Size, stretch, slant, turn and place a unit-box drawing on the pad, then bend it by hand."""
    height = rng.uniform(70, 250)
    width = height * aspect * math.exp(rng.uniform(math.log(0.7), math.log(1.6)))
    slant = rng.uniform(-0.2, 0.5)  # > 0: the top leans to the right, as most people write
    angle = math.radians(rng.uniform(-10, 10))
    cos, sin = math.cos(angle), math.sin(angle)
    shaped = []
    for unit in sloppy(strokes, rng):
        x = (unit[:, 0] - 0.5) * width
        y = (unit[:, 1] - 0.5) * height
        x = x - slant * y
        shaped.append(np.stack([cos * x - sin * y, sin * x + cos * y], axis=1))
    bent = bend(shaped, height, rng)
    every = np.concatenate(bent)
    low, high = every.min(axis=0), every.max(axis=0)
    fit = min(1.0, (CANVAS - 2 * MARGIN) / float((high - low).max()))
    bent = [p * fit for p in bent]
    low, high = low * fit, high * fit
    room_low, room_high = MARGIN - low, np.maximum(CANVAS - MARGIN - high, MARGIN - low)
    offset = np.array([rng.uniform(room_low[i], room_high[i]) for i in range(2)])
    # Most people draw near the middle of the pad: pull half of the way towards it.
    centred = (room_low + room_high) / 2
    offset = centred + (offset - centred) * rng.uniform(0.3, 1.0)
    return [p + offset for p in bent]


def sloppy(strokes: list[Path2], rng: np.random.Generator) -> list[Path2]:
    """Strokes after the first land a little off (gaps and overshoots where they should meet), and a
    stroke may start or end with a small flick of the pen."""
    out = []
    for i, stroke in enumerate(strokes):
        if i > 0:
            stroke = stroke + rng.uniform(-0.07, 0.07, 2)
        ends = rng.random(2)
        if ends[0] < 0.15:
            stroke = join(flick(stroke[::-1], rng)[::-1], stroke)  # a lead-in before the stroke
        if ends[1] < 0.25:
            stroke = join(stroke, flick(stroke, rng))
        out.append(stroke)
    return out


def flick(stroke: Path2, rng: np.random.Generator) -> Path2:
    """A short hook off the end of a stroke, turning sharply away from its heading."""
    tail = stroke[-1] - stroke[max(0, len(stroke) - 20)]
    heading = math.atan2(tail[1], tail[0]) + math.radians(rng.choice([-1, 1]) * rng.uniform(90, 160))
    length = rng.uniform(0.03, 0.08)
    end = stroke[-1] + length * np.array([math.cos(heading), math.sin(heading)])
    return line(at(stroke, -1), (float(end[0]), float(end[1])))


def bend(strokes: list[Path2], height: float, rng: np.random.Generator) -> list[Path2]:
    """A smooth random displacement of the whole drawing: an unsteady hand, not noise."""
    amplitude = height * rng.uniform(0.0, 0.05)
    waves = []
    for _ in range(3):
        direction = rng.normal(size=2)
        direction /= np.linalg.norm(direction)
        waves.append(
            (direction * 2 * math.pi / (height * rng.uniform(0.6, 1.6)), rng.uniform(0, 2 * math.pi))
        )
    out = []
    for p in strokes:
        shift = np.zeros_like(p)
        for axis in range(2):
            for k, phase in waves:
                shift[:, axis] += np.sin(p @ k + phase + axis * 1.7)
        out.append(p + shift * amplitude / math.sqrt(3))
    return out


def pointer_events(path: Path2, speed: float, rate: float, rng: np.random.Generator) -> Path2:
    """Where pointer events fire along a dense path drawn at up to ``speed`` units/s: slower in bends
    and at both ends, an event every 1/rate s, with a little tremor."""
    step = np.linalg.norm(np.diff(path, axis=0), axis=1)
    keep = np.concatenate([[True], step > 1e-9])
    path = path[keep]
    step = np.linalg.norm(np.diff(path, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(step)])
    length = s[-1]
    heading = np.arctan2(*np.diff(path, axis=0).T[::-1])
    turn = np.abs((np.diff(heading) + math.pi) % (2 * math.pi) - math.pi)
    bendiness = np.concatenate([[0.0], turn / np.maximum(step[1:], 1e-9), [0.0]])
    window = max(1, int(len(bendiness) * 0.02))
    bendiness = np.convolve(bendiness, np.ones(window) / window, mode="same")
    ramp = np.clip(np.minimum(s, length - s) / 25.0, 0.0, 1.0)
    velocity = speed * (0.3 + 0.7 * np.exp(-bendiness * 8.0)) * (0.35 + 0.65 * ramp)
    time = np.concatenate([[0.0], np.cumsum(step / ((velocity[1:] + velocity[:-1]) / 2))])
    ticks = np.arange(0.0, time[-1], 1.0 / rate)
    ticks = np.append(ticks, time[-1]) if time[-1] - ticks[-1] > 0.2 / rate else ticks
    ticks[-1] = time[-1]
    events = np.stack([np.interp(ticks, time, path[:, 0]), np.interp(ticks, time, path[:, 1])], axis=1)
    events[1:-1] += rng.normal(0.0, 0.5, events[1:-1].shape)
    return events


def make_drawing(label: int, index: int, rng: np.random.Generator) -> Drawing:
    name, style, aspect = STYLES[label][index % len(STYLES[label])]
    strokes = place(style(rng), aspect, rng)
    speed = rng.uniform(300, 1400)
    rate = EVENT_RATES[int(rng.integers(len(EVENT_RATES)))]
    events = [pointer_events(p, speed * rng.uniform(0.85, 1.15), rate, rng) for p in strokes]
    rounded = tuple(tuple((round(float(x), 1), round(float(y), 1)) for x, y in e) for e in events)
    return Drawing(label=label, style=name, strokes=rounded)


def make_drawings(seed: int = SEED, per_class: int = PER_CLASS) -> list[Drawing]:
    """The whole set, deterministic from the seed: per_class digits of each class, styles in turn."""
    rng = np.random.default_rng(seed)
    return [make_drawing(label, i, rng) for i in range(per_class) for label in range(10)]


# -- files -----------------------------------------------------------------------------------------


def strokes_json(drawings: list[Drawing], seed: int) -> str:
    """One drawing per line: small diffs when the generator changes."""
    head = json.dumps({"format": "deeplook-drawn-digits/1", "canvas": CANVAS, "brush": BRUSH, "seed": seed})
    lines = []
    for d in drawings:
        strokes = [[v for point in stroke for v in point] for stroke in d.strokes]
        lines.append(
            json.dumps({"label": d.label, "style": d.style, "strokes": strokes}, separators=(",", ":"))
        )
    return head[:-1] + ', "drawings": [\n' + ",\n".join(lines) + "\n]}\n"


def images_idx_gz(drawings: list[Drawing]) -> bytes:
    """The drawings as /api/predict sees them (the app's renderer and image_to_pixels), gzipped IDX."""
    from deeplook.app.canvas import drawing_pixels

    pixels = np.stack([drawing_pixels(d.strokes) for d in drawings])
    images = np.rint(pixels * 255).astype(np.uint8).reshape(-1, 28, 28)
    return gzip.compress(encode_idx(images), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored files instead")
    parser.add_argument("--out", type=Path, default=DRAWN_DIR)
    args = parser.parse_args(argv)
    drawings = make_drawings()
    files = {STROKES_FILE: strokes_json(drawings, SEED).encode(), IMAGES_FILE: images_idx_gz(drawings)}
    if args.check:
        stale = [name for name, data in files.items() if (args.out / name).read_bytes() != data]
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
