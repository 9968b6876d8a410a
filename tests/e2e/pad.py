"""The dashboard's drawing pad (static/js/draw.js) alone in a page of Chromium, replaying strokes as
pointer events would draw them; shared by the renderer's test and bench/canvas_match.py."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path

from playwright.sync_api import Page, Route

from deeplook.engine.data.drawn import Drawing

STATIC = Path(__file__).resolve().parents[2] / "deeplook" / "static"
ORIGIN = "http://pad.invalid"
PAGE = """<!doctype html><canvas width="280" height="280" style="width:280px;height:280px"></canvas>
<script type="module">
import { DrawPad } from "./js/draw.js";
window.pad = new DrawPad(document.querySelector("canvas"));
</script>"""
# What DrawPad does with pointer events: a dot on pointerdown, a segment from the last point per move.
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


def _serve(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN + "/")
    if path == "pad.html":
        route.fulfill(body=PAGE, content_type="text/html")
    else:
        route.fulfill(body=(STATIC / path).read_bytes(), content_type=mimetypes.guess_type(path)[0])


def pad_pngs(page: Page, drawings: list[Drawing]) -> list[bytes]:
    """The PNG the real pad exports for each drawing, at the page's device pixel ratio."""
    page.route(f"{ORIGIN}/**", _serve)
    page.goto(f"{ORIGIN}/pad.html")
    page.wait_for_function("window.pad !== undefined")
    urls = [page.evaluate(REPLAY, [list(map(list, s)) for s in drawing.strokes]) for drawing in drawings]
    return [base64.b64decode(url.partition(",")[2]) for url in urls]
