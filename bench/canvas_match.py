"""Does the Pillow renderer (deeplook.app.canvas) draw what the browser's drawing pad draws?

Each drawing of the drawn-digit set is replayed in headless Chromium through the dashboard's own
``DrawPad`` (static/js/draw.js: ``dot`` on pointer down, ``segment`` per pointer move), at device pixel
ratios 1 and 2, and the PNG it exports goes through ``image_to_pixels`` like any drawing sent to
/api/predict. The table compares that with the Pillow rendering of the same strokes: on the pad's own
pixels (grey, 0-255) and on the 784 values the network sees (0-1).

Run from the repository root: ``python bench/canvas_match.py [--count N] [--chromium PATH]``.
"""

from __future__ import annotations

import argparse
import io

import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright

from deeplook.app.canvas import render_strokes
from deeplook.app.imaging import image_to_pixels
from deeplook.engine.data.drawn import Drawing, load_drawings
from tests.e2e.pad import pad_pngs

SHIFTED = 0.25  # a 784-value difference this large means the two were centred a pixel apart
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def browser_pngs(drawings: list[Drawing], scale: int, chromium: str) -> list[bytes]:
    """The PNG the real pad exports for each drawing, at this device pixel ratio."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(device_scale_factor=scale, viewport={"width": 400, "height": 400})
        pngs = pad_pngs(page, drawings)
        browser.close()
    return pngs


def grey(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as picture:
        return np.asarray(picture.convert("L"), dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="drawings to compare (spread over the set)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    every = load_drawings()
    picked = [every[i] for i in np.linspace(0, len(every) - 1, min(args.count, len(every))).astype(int)]
    print(f"{len(picked)} drawings of the drawn-digit set: Chromium's pad vs deeplook.app.canvas\n")
    print(
        "| device pixel ratio | pad: max / mean abs diff (0-255) | pad: pixels off by > 2 "
        "| ink ratio | 784 values: max / mean abs diff | centred a pixel apart "
        "| 784 values, the others: max / mean |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for scale in (1, 2):
        pngs = browser_pngs(picked, scale, args.chromium)
        pads, values = [], []
        for drawing, png in zip(picked, pngs, strict=True):
            ours = render_strokes(drawing.strokes, scale)
            theirs = grey(png)
            pads.append((np.abs(theirs - ours), (255 - ours.astype(float)).sum() / (255 - theirs).sum()))
            values.append(np.abs(image_to_pixels(png) - image_to_pixels(_png(ours))))
        pad = np.stack([p for p, _ in pads])
        value = np.stack(values)
        # image_to_pixels centres by whole pixels: a centre of mass a hair either side of a half
        # pixel lands a whole pixel apart. Those drawings are counted, the others compared.
        apart = value.max(axis=1) > SHIFTED
        rest = value[~apart]
        print(
            f"| {scale} | {pad.max():.0f} / {pad.mean():.3f} | {(pad > 2).mean():.2%} "
            f"| {np.mean([r for _, r in pads]):.4f} | {value.max():.3f} / {value.mean():.4f} "
            f"| {int(apart.sum())} of {len(picked)} | {rest.max():.3f} / {rest.mean():.4f} |"
        )


def _png(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    main()
