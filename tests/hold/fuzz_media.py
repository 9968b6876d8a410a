"""Bodies schemathesis cannot make from a schema alone: real PNG and JPEG digits for the routes that
take pictures, and raw pixel rows (any 784 bytes are a valid uint8 digit). Importing this module
registers them; the schemathesis CLI loads it with SCHEMATHESIS_HOOKS=tests.hold.fuzz_media."""

import io

import numpy as np
import schemathesis
from hypothesis import strategies as st
from PIL import Image

PIXELS = 784


def _pictures(kind: str) -> list[bytes]:
    pictures = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        canvas = np.full((96, 96), 255, np.uint8)
        top, left = rng.integers(8, 40, size=2)
        canvas[top : top + 40, left : left + 8] = 0  # a stroke: something with ink
        canvas[top : top + 8, left : left + 30] = rng.integers(0, 80)
        buffer = io.BytesIO()
        Image.fromarray(canvas).convert("RGB").save(buffer, format=kind)
        pictures.append(buffer.getvalue())
    return pictures


schemathesis.openapi.media_type("image/png", st.sampled_from(_pictures("PNG")))
schemathesis.openapi.media_type("image/jpeg", st.sampled_from(_pictures("JPEG")))
schemathesis.openapi.media_type(
    "application/octet-stream",
    st.integers(1, 3).flatmap(lambda rows: st.binary(min_size=rows * PIXELS, max_size=rows * PIXELS)),
)
