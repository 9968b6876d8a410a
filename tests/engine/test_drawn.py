"""The drawn-digit test set: what it holds, how strictly it is read, and that its generator makes it."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from deeplook.engine.data import DataError
from deeplook.engine.data.drawn import CANVAS, DRAWN_DIR, IMAGES_FILE, STROKES_FILE, load_drawings, load_drawn

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "make_drawn_digits.py"


@pytest.fixture(scope="module")
def drawn():
    return load_drawn()


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_drawn_digits", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_at_least_fifty_of_every_digit_in_several_styles(drawn) -> None:
    assert len(drawn.drawings) >= 500 and drawn.images.shape == (len(drawn.drawings), 784)
    counts = Counter(drawn.labels.tolist())
    assert sorted(counts) == list(range(10)) and min(counts.values()) >= 50
    styles = {label: {d.style for d in drawn.drawings if d.label == label} for label in range(10)}
    assert all(len(names) >= 2 for names in styles.values()), styles
    assert all(name.startswith(f"{label}-") for label, names in styles.items() for name in names)


def test_every_image_has_ink_centred_like_mnist(drawn) -> None:
    images = drawn.images.reshape(-1, 28, 28).astype(np.float64)
    assert images.max(axis=(1, 2)).min() == 255  # preprocessing scales the strongest pixel to 1
    assert (np.count_nonzero(images > 127, axis=(1, 2)) >= 15).all()
    mass = images.sum(axis=(1, 2))
    rows = (images.sum(axis=2) @ np.arange(28)) / mass
    cols = (images.sum(axis=1) @ np.arange(28)) / mass
    assert np.abs(rows - 14).max() <= 0.5 and np.abs(cols - 14).max() <= 0.5
    boxes = images > 0.2 * 255  # the longest side of the ink is MNIST's 20 pixels
    heights = boxes.any(axis=2).sum(axis=1)
    widths = boxes.any(axis=1).sum(axis=1)
    assert (np.maximum(heights, widths) >= 19).all() and (np.maximum(heights, widths) <= 21).all()


def test_pixels_are_float32_in_unit_range_and_arrays_read_only(drawn) -> None:
    pixels = drawn.pixels()
    assert pixels.dtype == np.float32 and pixels.min() == 0 and pixels.max() == 1
    with pytest.raises(ValueError):
        drawn.images[0, 0] = 1


def test_strokes_are_pointer_polylines_on_the_pad(drawn) -> None:
    points = np.array([p for d in drawn.drawings for s in d.strokes for p in s])
    assert points.min() >= 0 and points.max() <= CANVAS
    lengths = [len(s) for d in drawn.drawings for s in d.strokes]
    assert min(lengths) >= 2 and np.median(lengths) >= 10  # many events per stroke, not a few corners
    assert {len(d.strokes) for d in drawn.drawings} >= {1, 2}


def test_the_generator_makes_exactly_the_stored_strokes() -> None:
    module = generator()
    made = module.strokes_json(module.make_drawings(), module.SEED)
    stored = json.loads((DRAWN_DIR / STROKES_FILE).read_text())
    assert json.loads(made)["drawings"] == stored["drawings"]


def test_the_files_are_small() -> None:
    assert sum(path.stat().st_size for path in DRAWN_DIR.iterdir() if path.is_file()) < 2_000_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data.update(format="other/1"), "format"),
        (lambda data: data.update(brush=10), "brush"),
        (lambda data: data.update(drawings=[]), "non-empty"),
        (lambda data: data["drawings"][0].update(label=10), "label 0-9"),
        (lambda data: data["drawings"][0].update(strokes=[[1, 2, 3]]), "pairs"),
        (lambda data: data["drawings"][0].update(strokes=[[1, 2, 300, 4]]), "in \\[0, 280\\]"),
        (lambda data: data["drawings"][0].update(strokes=[]), "strokes"),
    ],
)
def test_malformed_strokes_are_refused_with_a_reason(tmp_path: Path, change, message: str) -> None:
    data = json.loads((DRAWN_DIR / STROKES_FILE).read_text())
    change(data)
    (tmp_path / STROKES_FILE).write_text(json.dumps(data))
    with pytest.raises(DataError, match=message):
        load_drawings(tmp_path)


def test_images_that_do_not_match_the_strokes_are_refused(tmp_path: Path) -> None:
    data = json.loads((DRAWN_DIR / STROKES_FILE).read_text())
    data["drawings"] = data["drawings"][:-1]
    (tmp_path / STROKES_FILE).write_text(json.dumps(data))
    shutil.copy(DRAWN_DIR / IMAGES_FILE, tmp_path / IMAGES_FILE)
    with pytest.raises(DataError, match="expected 599 images"):
        load_drawn(tmp_path)
