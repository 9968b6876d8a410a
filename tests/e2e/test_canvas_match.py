"""The pad renderer (deeplook.app.canvas) against the real pad: draw.js in headless Chromium."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser

from deeplook.app.canvas import render_strokes, strokes_to_png
from deeplook.app.imaging import image_to_pixels
from deeplook.engine.data.drawn import load_drawings
from tests.e2e.pad import pad_pngs


@pytest.mark.parametrize("scale", [1, 2])
def test_the_renderer_draws_what_the_browser_pad_draws(browser: Browser, scale: int) -> None:
    drawings = load_drawings()[::30]  # 20 drawings, two of every digit
    page = browser.new_page(device_scale_factor=scale)
    try:
        pngs = pad_pngs(page, drawings)
    finally:
        page.close()
    centred_alike = 0
    for drawing, png in zip(drawings, pngs, strict=True):
        with Image.open(io.BytesIO(png)) as picture:
            theirs = np.asarray(picture.convert("L"), dtype=np.float64)
        ours = render_strokes(drawing.strokes, scale).astype(np.float64)
        assert theirs.shape == ours.shape == (280 * scale, 280 * scale)
        assert np.abs(theirs - ours).mean() < 0.5  # of 255: they differ only along the edges
        assert (255 - ours).sum() == pytest.approx((255 - theirs).sum(), rel=0.005)
        values = np.abs(image_to_pixels(png) - image_to_pixels(strokes_to_png(drawing.strokes, scale)))
        if values.max() < 0.25:  # else image_to_pixels centred them a whole pixel apart
            centred_alike += 1
            assert values.mean() < 0.003
    assert centred_alike >= 16
