"""Pictures become pixels on a pool of their own threads, never on the event loop, at most
``image_threads`` at a time; unusable ones are ServiceErrors naming their input."""

from __future__ import annotations

import asyncio
import base64
import io
import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw

from deeplook.app import pictures as pictures_module
from deeplook.app.config import Settings
from deeplook.app.errors import ServiceError
from deeplook.app.pictures import Pictures
from tests.support import run_async


def _drawing() -> bytes:
    canvas = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(canvas).line([(140, 40), (140, 240)], fill="black", width=18)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("threads", [1, 2])
def test_pictures_are_decoded_on_their_own_threads_at_most_image_threads_at_once(
    threads: int, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pictures_module.image_to_pixels
    lock = threading.Lock()
    running, most, names = 0, 0, set()

    def watched(data: bytes, limits: object) -> np.ndarray:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            names.add(threading.current_thread().name)
        try:
            return real(data, limits)  # type: ignore[arg-type]
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(pictures_module, "image_to_pixels", watched)
    pool = Pictures(settings.model_copy(update={"image_threads": threads}))
    png = _drawing()

    async def many() -> list[np.ndarray]:
        loop_thread = threading.current_thread().name
        answers = await asyncio.gather(*(pool.pixels(png) for _ in range(16)))
        assert loop_thread not in names
        return answers

    try:
        answers = run_async(many())
    finally:
        pool.close()
    assert all(np.array_equal(answer, answers[0]) for answer in answers)
    assert answers[0].shape == (784,) and answers[0].max() == 1.0
    assert all(name.startswith("deeplook-pictures") for name in names)
    assert len(names) <= threads and most <= threads


def test_an_unusable_picture_is_a_service_error_naming_its_input(settings: Settings) -> None:
    pool = Pictures(settings)
    try:
        blank = io.BytesIO()
        Image.new("L", (50, 50), 255).save(blank, format="PNG")
        with pytest.raises(ServiceError) as no_ink:
            pool.decode(base64.b64encode(blank.getvalue()).decode(), index=3)
        assert no_ink.value.code == "invalid_input" and "inputs[3]: " in no_ink.value.message
        with pytest.raises(ServiceError) as not_base64:
            pool.decode("not base64 at all!")
        assert not_base64.value.code == "bad_input"
    finally:
        pool.close()
