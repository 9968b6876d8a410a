"""The pad renderer (deeplook.app.canvas) against the real pad: draw.js in headless Chromium."""

from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Route

from deeplook.app.canvas import render_strokes, strokes_to_png
from deeplook.app.imaging import image_to_pixels
from deeplook.engine.data.drawn import load_drawings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STATIC = Path(__file__).resolve().parents[2] / "deeplook" / "static"
ORIGIN = "http://pad.invalid"
PAGE = """<!doctype html><canvas style="width:280px;height:280px"></canvas><script type="module">
import { DrawPad } from "./js/draw.js";
window.pad = new DrawPad(document.querySelector("canvas"));
</script>"""
REPLAY = """(strokes) => {
    pad.clear(false);
    for (const stroke of strokes) {
        let last = { x: stroke[0][0], y: stroke[0][1] };
        pad.dot(last);
        for (const [x, y] of stroke.slice(1)) {
            pad.segment(last, { x, y });
            last = { x, y };
        }
    }
    return pad.image();
}"""


def serve(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN + "/")
    if path == "pad.html":
        route.fulfill(body=PAGE, content_type="text/html")
    else:
        route.fulfill(body=(STATIC / path).read_bytes(), content_type=mimetypes.guess_type(path)[0])


@pytest.mark.parametrize("scale", [1, 2])
def test_the_renderer_draws_what_the_browser_pad_draws(browser: Browser, scale: int) -> None:
    drawings = load_drawings()[::30]  # 20 drawings, two of every digit
    page = browser.new_page(device_scale_factor=scale)
    try:
        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/pad.html")
        page.wait_for_function("window.pad !== undefined")
        pngs = [
            base64.b64decode(page.evaluate(REPLAY, [list(map(list, s)) for s in d.strokes]).partition(",")[2])
            for d in drawings
        ]
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
