"""The hidden space: the last hidden layer's activations of a fixed sample of test digits, projected
to 2-D by PCA, each epoch's projection turned (and if need be mirrored) onto the previous one's by
orthogonal Procrustes, so that from one epoch to the next the points move rather than flip.

Two views (``VIEWS``). ``plain``: PCA of the activations, every unit an axis. Its two widest directions
are often shared by all digits (how much ink, how thick), so trained classes overlap in it: on
notebook-adam the 2-D nearest-neighbour accuracy goes from 0.24 at the start to about 0.5. ``readout``
(the default): PCA of the activations as the output layer weighs them (``h @ W``, the directions that
decide the answer); the same run goes from 0.18 to 0.51-0.57 (bench/embedding.py measures both).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from deeplook.engine.evaluation import scale_pixels
from deeplook.engine.layers import Array
from deeplook.engine.model import Weights

PER_CLASS = 200
"""Test digits per class in the sample (2,000 for ten classes)."""
DIMENSIONS = 2
VIEWS: Mapping[str, str] = MappingProxyType(
    {
        "readout": "the activations as the output layer weighs them: the directions that decide the answer",
        "plain": "the activations themselves, every unit an axis",
    }
)
DEFAULT_VIEW = "readout"
NEIGHBOUR_CHUNK = 500
"""Points per block of the nearest-neighbour distance matrix (bounds its memory)."""


def sample_indices(labels: Array, per_class: int = PER_CLASS) -> Array:
    """The first ``per_class`` test images of each class, in test-set order: the same for every run."""
    chosen = [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


@dataclass(frozen=True, eq=False)
class Projection:
    """One epoch's 2-D view: ``points = (hidden - mean) @ basis`` for every sampled digit."""

    mean: Array
    """(units,) the sample's mean activation."""
    basis: Array
    """(units, 2) principal directions, scaled so the points have unit root-mean-square radius, and
    turned onto the previous epoch's."""
    points: Array
    """(n, 2)."""
    explained: Array
    """(2,) share of the activations' variance each axis holds."""
    separation: float
    """Leave-one-out 1-nearest-neighbour accuracy of the 2-D points: how far the classes came apart."""

    def project(self, hidden: Array) -> Array:
        """Any activations of the same layer (n, units) into this epoch's plane."""
        return np.asarray((np.atleast_2d(hidden) - self.mean) @ self.basis)


def last_hidden(weights: Weights, images: Array) -> Array:
    """The last hidden layer's activations (float64) for uint8 images."""
    network = weights.network()
    network.forward(scale_pixels(images).astype(weights.arrays[0].dtype, copy=False))
    return network.hidden_outputs()[-1].astype(np.float64)


def project(
    hidden: Array, labels: Array, previous: Projection | None = None, readout: Array | None = None
) -> Projection:
    """PCA of ``hidden`` (n, units) to 2-D, aligned to ``previous`` (its points, same digits); with
    ``readout`` (units, k), PCA of ``hidden @ readout``, the basis still mapping activations."""
    mean = hidden.mean(axis=0)
    centered = hidden - mean
    weighed = centered if readout is None else centered @ readout
    _, singular, directions = np.linalg.svd(weighed, full_matrices=False)
    kept = min(DIMENSIONS, directions.shape[0])
    basis = np.zeros((weighed.shape[1], DIMENSIONS))
    basis[:, :kept] = directions[:kept].T
    if readout is not None:
        basis = readout @ basis
    points = centered @ basis
    radius = float(np.sqrt(np.mean(np.sum(points**2, axis=1))))
    if radius > 0:
        basis /= radius
        points /= radius
    if previous is not None:
        turn = procrustes(points, previous.points)
        basis, points = basis @ turn, points @ turn
    variance = float(np.sum(singular**2))
    explained = np.zeros(DIMENSIONS)
    if variance > 0:
        explained[:kept] = singular[:kept] ** 2 / variance
    return Projection(mean, basis, points, explained, nearest_neighbour_accuracy(points, labels))


def procrustes(points: Array, target: Array) -> Array:
    """The orthogonal 2x2 matrix R (a turn, or a turn and a mirror) that minimises
    ``|points @ R - target|``."""
    u, _, vt = np.linalg.svd(points.T @ target)
    return np.asarray(u @ vt)


def nearest_neighbour_accuracy(points: Array, labels: Array) -> float:
    """Share of points whose nearest other point (Euclidean) has the same label."""
    n = len(points)
    if n < 2:
        return 0.0
    squared = np.sum(points**2, axis=1)
    right = 0
    for start in range(0, n, NEIGHBOUR_CHUNK):
        block = points[start : start + NEIGHBOUR_CHUNK]
        distances = squared[start : start + len(block), None] - 2 * block @ points.T + squared[None, :]
        distances[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        right += int(np.count_nonzero(labels[distances.argmin(axis=1)] == labels[start : start + len(block)]))
    return right / n


def embed(
    weights: Weights,
    images: Array,
    labels: Array,
    previous: Projection | None = None,
    view: str = DEFAULT_VIEW,
) -> Projection:
    """One epoch's projection of the uint8 ``images`` in one of ``VIEWS``, aligned to ``previous``."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    readout = weights.arrays[-2].astype(np.float64) if view == "readout" else None
    return project(last_hidden(weights, images), labels, previous, readout)


def trajectory(
    weights: Iterable[Weights],
    images: Array,
    labels: Array,
    previous: Projection | None = None,
    view: str = DEFAULT_VIEW,
) -> Iterator[Projection]:
    """Each epoch's projection, each aligned to the one before (the first to ``previous``)."""
    for epoch_weights in weights:
        previous = embed(epoch_weights, images, labels, previous, view)
        yield previous
