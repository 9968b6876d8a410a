"""Pictures sent to predict and to the step-by-step trace, turned into MNIST's 784 values."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from deeplook.app.config import Settings
from deeplook.app.errors import ServiceError
from deeplook.app.imaging import ImageError, ImageLimits, decode_base64_image, image_to_pixels

_CODES = {400: "bad_input", 413: "too_large"}


class Pictures:
    """MNIST's preprocessing of uploaded pictures, on a thread pool of its own (``image_threads``,
    default: the cores). Decoding lets go of the GIL but the steps between hold it, and threads beyond
    the cores only take it from each other: 8 clients sending 280x280 PNGs on 2 cores got ~520
    answers/s through asyncio's default pool (6 threads), ~800-940/s through 1 or 2 threads."""

    def __init__(self, settings: Settings) -> None:
        self.limits = ImageLimits(max_bytes=settings.max_body_bytes, max_pixels=settings.max_image_pixels)
        self._pool = ThreadPoolExecutor(settings.image_threads, thread_name_prefix="deeplook-pictures")

    async def pixels(self, image: str | bytes) -> np.ndarray:
        """A picture's pixels, computed on the pool (the event loop stays free)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.decode, image)

    def decode(self, image: str | bytes, index: int | None = None) -> np.ndarray:
        """A picture's pixels from base64 text or its bytes, in the calling thread (blocking); a picture
        that cannot be used is a ServiceError naming ``inputs[index]`` when given."""
        try:
            data = decode_base64_image(image, self.limits) if isinstance(image, str) else image
            return image_to_pixels(data, self.limits)
        except ImageError as error:
            where = "" if index is None else f"inputs[{index}]: "
            code = _CODES.get(error.status, "invalid_input")
            raise ServiceError(code, error=where + error.message) from error

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
