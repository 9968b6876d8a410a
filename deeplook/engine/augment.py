"""Training-time augmentation of 28x28 digits: random affine warps, elastic bending, stroke thickness.

Every image of a minibatch gets its own random warp: a shift, a rotation, a scale, a stretch and a
shear about MNIST's centre of mass (so rotating or scaling a centred digit keeps it centred), plus an
optional smooth elastic displacement. The warps are composed into one inverse mapping (output pixel
to source position) and sampled bilinearly once, for the whole batch in a few array operations. Before
that, strokes may be thickened or thinned (a blend towards a grey-level dilation or erosion).

All randomness comes from the Generator passed in, drawn in a fixed order, so a seeded run (and one
resumed from a checkpoint) is the same bit for bit. A strength of zero draws nothing and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from deeplook.engine.layers import Array
from deeplook.engine.registry import registry

SIDE = 28
CENTRE = 14.0
"""MNIST's centre of mass (row and column, pixel centres on integers): the warps' fixed point."""
ELASTIC_GRID = 4
"""The elastic field is random at ELASTIC_GRID x ELASTIC_GRID control points, bilinear in between."""


@dataclass(frozen=True)
class Augmentation:
    """The largest random change of each kind; every image draws its own, uniformly up to these."""

    shift: float = 0.0  # pixels, along each axis
    rotate: float = 0.0  # degrees, either way
    scale: float = 0.0  # size times (1 + scale) ** u, u uniform in [-1, 1]
    stretch: float = 0.0  # width over height times (1 + stretch) ** u, at constant area
    shear: float = 0.0  # horizontal shear (slant): x moves by shear * u * (y - centre)
    elastic: float = 0.0  # standard deviation of the control points' displacement, pixels
    thickness: float = 0.0  # fraction blended towards a dilation (u > 0) or erosion (u < 0)

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"augmentation {field.name} must be a finite number >= 0, got {value}")
        if self.thickness > 1:
            raise ValueError(f"augmentation thickness must be at most 1, got {self.thickness}")

    @property
    def is_identity(self) -> bool:
        """Whether it changes nothing (and draws no random numbers)."""
        return all(getattr(self, field.name) == 0 for field in fields(self))

    def apply(self, x: Array, rng: np.random.Generator) -> Array:
        """A new float32 (n, 784) batch: ``x`` (values in [0, 1]) with each image randomly changed."""
        images = np.asarray(x, dtype=np.float32).reshape(-1, SIDE, SIDE)
        n = len(images)
        if self.is_identity or n == 0:
            return images.reshape(n, SIDE * SIDE).copy()
        if self.thickness > 0:
            images = _thicken(images, rng.uniform(-self.thickness, self.thickness, n).astype(np.float32))
        rows, cols = self._sources(n, rng)
        return _bilinear(images, rows, cols)

    def _sources(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        """For every output pixel of every image, the (row, column) it is sampled from: (n, 784) each.

        Both are linear in a few fixed images (column, row, one, and the elastic field's bilinear
        bumps), so every image's whole mapping is one row of coefficients and one matrix product."""
        u = rng.uniform(-1.0, 1.0, (n, 4))
        shift = self.shift * rng.uniform(-1.0, 1.0, (n, 2))
        angle = np.radians(self.rotate) * u[:, 0]
        size = (1 + self.scale) ** u[:, 1]
        aspect = np.sqrt((1 + self.stretch) ** u[:, 2])
        shear = self.shear * u[:, 3]
        # The forward map about the centre is p -> R S H p + shift on p = (x, y) = (column, row), with
        # R a rotation, S = diag(size * aspect, size / aspect) and H = [[1, shear], [0, 1]] a slant.
        # Its inverse H^-1 S^-1 R^-1 is [[a, b], [c, d]]:
        cos, sin = np.cos(angle), np.sin(angle)
        sx, sy = size * aspect, size / aspect
        a, b = cos / sx + shear * sin / sy, sin / sx - shear * cos / sy
        c, d = -sin / sy, cos / sy
        x0, y0 = CENTRE + shift[:, 0], CENTRE + shift[:, 1]  # where the centre is moved to
        width = 3 + (ELASTIC_GRID**2 if self.elastic > 0 else 0)
        coefficients = np.zeros((2, n, width))
        coefficients[0, :, :3] = np.stack([c, d, CENTRE - c * x0 - d * y0], axis=1)  # source row
        coefficients[1, :, :3] = np.stack([a, b, CENTRE - a * x0 - b * y0], axis=1)  # source column
        if self.elastic > 0:
            coefficients[:, :, 3:] = rng.standard_normal((2, n, ELASTIC_GRID**2)) * self.elastic
        basis = _BASIS[:width]
        sources = coefficients.astype(np.float32).reshape(2 * n, width) @ basis
        return sources[:n], sources[n:]


@dataclass(frozen=True)
class AugmentationSpec:
    """One registry entry: a named augmentation and what it does, in words."""

    name: str
    label: str
    description: str
    augmentation: Augmentation


AUGMENTATIONS: Mapping[str, AugmentationSpec] = registry(
    AugmentationSpec("none", "none", "Every image as it was scanned.", Augmentation()),
    # Where a drawing on the pad differs from a scan once preprocessed: position, slant, size,
    # aspect and a little rotation. Measured on the drawn digits (bench/drawn.py), this is what helps.
    AugmentationSpec(
        "affine",
        "shift, turn, scale, slant",
        "Each training image moved by up to 2 px, turned by up to 12°, resized, stretched and "
        "slanted a little, new each time: digits drawn on the pad are read about as well as scans.",
        Augmentation(shift=2.0, rotate=12.0, scale=0.12, stretch=0.15, shear=0.3),
    ),
    # ...plus an unsteady hand and pens of other widths: no better on the drawn digits, and slower.
    AugmentationSpec(
        "full",
        "affine, bending, pen width",
        "The affine changes, plus a smooth bending of the strokes and thicker or thinner pens.",
        Augmentation(shift=2.0, rotate=12.0, scale=0.12, stretch=0.15, shear=0.3, elastic=1.0, thickness=0.6),
    ),
)


def _bilinear(images: Array, rows: Array, cols: Array) -> Array:
    """Sample each (n, 28, 28) image at its own (n, 784) positions; zero outside the image."""
    n = len(images)
    side = SIDE + 2
    padded = np.zeros((n, side, side), np.float32)  # a zero border: outside is background
    padded[:, 1:-1, 1:-1] = images
    r = np.clip(rows + 1, 0, side - 1)
    c = np.clip(cols + 1, 0, side - 1)
    r0 = np.minimum(np.floor(r), side - 2)
    c0 = np.minimum(np.floor(c), side - 2)
    r -= r0  # the weights of the lower-right neighbours
    c -= c0
    index = (r0 * side + c0).astype(np.intp)
    index += np.arange(0, n * side * side, side * side)[:, None]
    flat = padded.ravel()  # the neighbours are taken at the same indices from shifted views
    top_left, top_right = flat.take(index), flat[1:].take(index)
    bottom_left, bottom_right = flat[side:].take(index), flat[side + 1 :].take(index)
    top_right -= top_left
    top_right *= c
    top_left += top_right  # the top row, interpolated
    bottom_right -= bottom_left
    bottom_right *= c
    bottom_left += bottom_right
    bottom_left -= top_left
    bottom_left *= r
    top_left += bottom_left
    return top_left


def _thicken(images: Array, amount: Array) -> Array:
    """Blend each image towards its dilation (amount > 0) or erosion (amount < 0) by a cross."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    neighbours = (padded[:, :-2, 1:-1], padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:])
    grown, shrunk = images.copy(), images.copy()
    for neighbour in neighbours:
        np.maximum(grown, neighbour, out=grown)
        np.minimum(shrunk, neighbour, out=shrunk)
    grown -= images
    grown *= np.maximum(amount, 0)[:, None, None]
    shrunk -= images
    shrunk *= np.maximum(-amount, 0)[:, None, None]
    return images + grown + shrunk


def _basis() -> Array:
    """(3 + GRID^2, 784) float32: each pixel's column, row and 1, then the bilinear interpolation
    weights of ELASTIC_GRID x ELASTIC_GRID control points spread evenly over the image."""
    rows, cols = np.divmod(np.arange(SIDE * SIDE, dtype=np.float64), SIDE)
    positions = np.arange(SIDE) * (ELASTIC_GRID - 1) / (SIDE - 1)
    low = np.minimum(np.floor(positions).astype(int), ELASTIC_GRID - 2)
    weight = positions - low
    axis = np.zeros((ELASTIC_GRID, SIDE))
    axis[low, np.arange(SIDE)] = 1 - weight
    axis[low + 1, np.arange(SIDE)] += weight
    bumps = np.einsum("ir,jc->ijrc", axis, axis).reshape(ELASTIC_GRID**2, SIDE * SIDE)
    return np.concatenate([np.stack([cols, rows, np.ones_like(rows)]), bumps]).astype(np.float32)


_BASIS = _basis()
_BASIS.setflags(write=False)
