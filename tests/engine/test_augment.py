"""Training-time augmentation: reproducible, in range, an identity at zero strength, moving the ink
as far as configured and no further."""

from __future__ import annotations

import numpy as np
import pytest

from deeplook.engine.augment import AUGMENTATIONS, CENTRE, Augmentation
from deeplook.engine.config import SETTINGS


@pytest.fixture(scope="module")
def digits(mnist) -> np.ndarray:
    """200 real digits as the trainer feeds them: float32 in [0, 1]."""
    return mnist.train_images[:200].astype(np.float32) / 255


def centres(x: np.ndarray) -> np.ndarray:
    """(n, 2) centre of mass (row, column) of each image."""
    images = x.reshape(-1, 28, 28).astype(np.float64)
    mass = images.sum(axis=(1, 2))
    return (
        np.stack([images.sum(axis=2) @ np.arange(28), images.sum(axis=1) @ np.arange(28)], 1) / mass[:, None]
    )


def spread(x: np.ndarray) -> np.ndarray:
    """Root mean square distance of the ink from its centre of mass, per image."""
    images = x.reshape(-1, 28, 28).astype(np.float64)
    rows, cols = np.mgrid[:28, :28]
    c = centres(x)
    d2 = (rows[None] - c[:, 0, None, None]) ** 2 + (cols[None] - c[:, 1, None, None]) ** 2
    return np.sqrt((images * d2).sum(axis=(1, 2)) / images.sum(axis=(1, 2)))


@pytest.mark.parametrize("name", [n for n in AUGMENTATIONS if n != "none"])
def test_same_seed_same_batch_other_seed_other_batch(digits, name: str) -> None:
    augmentation = AUGMENTATIONS[name].augmentation
    first = augmentation.apply(digits, np.random.default_rng(3))
    again = augmentation.apply(digits, np.random.default_rng(3))
    other = augmentation.apply(digits, np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", list(AUGMENTATIONS))
def test_shape_dtype_and_range_are_kept(digits, name: str) -> None:
    out = AUGMENTATIONS[name].augmentation.apply(digits, np.random.default_rng(0))
    assert out.shape == digits.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert (out.reshape(-1, 784).max(axis=1) > 0.5).all()  # no digit is pushed out of the picture
    assert not np.shares_memory(out, digits)


def test_zero_strength_is_the_identity_and_draws_nothing(digits) -> None:
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    out = Augmentation().apply(digits, rng)
    np.testing.assert_array_equal(out, digits)
    assert rng.bit_generator.state == before
    assert AUGMENTATIONS["none"].augmentation.is_identity


def test_a_vanishing_warp_samples_the_pixels_themselves(digits) -> None:
    out = Augmentation(shift=1e-6, rotate=1e-6).apply(digits, np.random.default_rng(0))
    np.testing.assert_allclose(out, digits, atol=1e-4)


def test_shifts_move_the_ink_within_the_configured_bound(digits) -> None:
    moved = centres(Augmentation(shift=3.0).apply(digits, np.random.default_rng(1))) - centres(digits)
    assert np.abs(moved).max() <= 3.0 + 0.05  # bilinear sampling keeps the mass; nothing is cut off
    assert np.abs(moved).max() > 2.5  # and the whole range is used
    assert np.abs(moved).mean() > 1.0


def test_rotation_scale_stretch_and_shear_turn_about_mnists_centre(digits) -> None:
    warp = Augmentation(rotate=15.0, scale=0.15, stretch=0.2, shear=0.3)
    out = warp.apply(digits, np.random.default_rng(2))
    # MNIST's centres of mass are within half a pixel of the fixed point, so they barely move.
    assert np.abs(centres(digits) - CENTRE).max() <= 0.55
    assert np.abs(centres(out) - centres(digits)).max() < 1.0
    assert np.abs(out - digits).mean() > 0.03  # the ink did move


def test_scaling_changes_the_size_within_the_configured_bound(digits) -> None:
    ratio = spread(Augmentation(scale=0.2).apply(digits, np.random.default_rng(5))) / spread(digits)
    assert ratio.min() >= 1 / 1.2 - 0.03 and ratio.max() <= 1.2 + 0.03
    assert ratio.min() < 0.9 and ratio.max() > 1.1


def test_thickness_thickens_and_thins_strokes(digits) -> None:
    out = Augmentation(thickness=1.0).apply(digits, np.random.default_rng(6))
    change = out.sum(axis=1) / digits.sum(axis=1)
    assert change.max() > 1.3 and change.min() < 0.7
    assert (out >= 0).all() and (out <= 1).all()


def test_elastic_distortion_is_smooth_and_bounded(digits) -> None:
    out = Augmentation(elastic=1.0).apply(digits, np.random.default_rng(7))
    assert np.abs(centres(out) - centres(digits)).max() < 2.0
    assert 0.01 < np.abs(out - digits).mean() < 0.2


def test_every_name_has_an_augmentation() -> None:
    assert set(AUGMENTATIONS) == set(SETTINGS["augment"].choices)


@pytest.mark.parametrize("field", ["shift", "rotate", "scale", "stretch", "shear", "elastic", "thickness"])
def test_negative_or_non_finite_strengths_are_refused(field: str) -> None:
    for value in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=field):
            Augmentation(**{field: value})


def test_thickness_above_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 1"):
        Augmentation(thickness=1.5)
