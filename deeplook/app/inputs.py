"""Predict bodies read once and checked vectorised: JSON (orjson), raw pixels, or a picture's bytes.

The fast path turns the pixels into one float32 array with a single NumPy call and checks shape,
finiteness and range on the whole array. Whatever it does not accept goes through the pydantic
request models, so an invalid body gets exactly the 422 it always got (and one the fast path
mis-read would still be judged by the documented model).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from deeplook.app.errors import ServiceError
from deeplook.app.schemas import (
    IMAGE_SHAPE,
    PIXELS,
    BatchOptions,
    BatchPredictRequest,
    PixelsOrImage,
    PredictOptions,
    PredictRequest,
)

Dtype = Literal["uint8", "float32"]
DTYPES: dict[str, np.dtype[Any]] = {"uint8": np.dtype(np.uint8), "float32": np.dtype("<f4")}
"""Raw pixel formats: ``uint8`` (ink = 255) or little-endian ``float32`` in [0, 1]."""
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Item:
    """One input to classify: its checked pixels (float32, (PIXELS,)), or a picture still to decode."""

    pixels: np.ndarray | None = None
    image: str | None = None

    @classmethod
    def of(cls, item: PixelsOrImage) -> Item:
        if item.pixels is not None:
            return cls(pixels=np.asarray(item.pixels, dtype=np.float32))
        return cls(image=item.image)


DEFAULT_OPTIONS = PredictOptions()
DEFAULT_BATCH_OPTIONS = BatchOptions()


def parse_json(body: bytes) -> Any:
    """The JSON value of a body, with FastAPI's 422 when it is not JSON. NaN and Infinity (which orjson
    refuses) are read by the standard parser, so the pixel check can say they are not finite."""
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error"}]
        ) from None
    except ValueError:  # not UTF-8
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error"}]
        ) from None


def validated(model: type[Model], value: Any) -> Model:
    """``value`` as ``model``, or the 422 FastAPI gives for a body that fails it."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors, body=value) from None


def checked_pixels(values: Any) -> np.ndarray | None:
    """PIXELS float32 values from a list of numbers (or rows of them), or None when they are not
    exactly that shape, all finite and all in [0, 1] (the request model then says what is wrong)."""
    try:
        array = np.array(values, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        return None
    if array.shape != (PIXELS,) and array.shape != IMAGE_SHAPE:
        return None
    if not ((array >= 0) & (array <= 1)).all():  # NaN fails both comparisons
        return None
    return array.astype(np.float32).reshape(PIXELS)


def predict_request(value: Any) -> tuple[PredictOptions, Item]:
    """The options and the input of a JSON predict body."""
    if isinstance(value, dict) and value.get("image") is None and isinstance(value.get("pixels"), list):
        pixels = checked_pixels(value["pixels"])
        if pixels is not None:
            rest = {key: v for key, v in value.items() if key not in ("pixels", "image")}
            try:
                options = PredictOptions.model_validate(rest) if rest else DEFAULT_OPTIONS
            except ValidationError:
                pass  # judged again below, with the pixels, for the whole list of errors
            else:
                return options, Item(pixels=pixels)
    request = validated(PredictRequest, value)
    return request, Item.of(request)


def batch_request(value: Any, max_batch: int) -> tuple[BatchOptions, list[Item]]:
    """The options and the inputs of a JSON batch body (at most ``max_batch`` of them)."""
    inputs = value.get("inputs") if isinstance(value, dict) else None
    if isinstance(inputs, list) and len(inputs) > max_batch:
        raise ServiceError("invalid_input", error=f"at most {max_batch} inputs per batch, got {len(inputs)}")
    if isinstance(inputs, list) and inputs:
        items = _fast_items(inputs)
        if items is not None:
            rest = {key: v for key, v in value.items() if key != "inputs"}
            try:
                options = BatchOptions.model_validate(rest) if rest else DEFAULT_BATCH_OPTIONS
            except ValidationError:
                pass
            else:
                return options, items
    request = validated(BatchPredictRequest, value)
    return request, [Item.of(item) for item in request.inputs]


def _fast_items(inputs: list[Any]) -> list[Item] | None:
    """Every input as an Item when each is a dict holding valid pixels or an image string; else None."""
    pixel_lists = []
    for item in inputs:
        if not isinstance(item, dict) or not item.keys() <= {"pixels", "image"}:
            return None
        pixels, image = item.get("pixels"), item.get("image")
        if not (isinstance(image, str) and pixels is None) and not (
            image is None and isinstance(pixels, list)
        ):
            return None  # the request model says what is wrong
        if image is None:
            pixel_lists.append(pixels)
    if len(pixel_lists) == len(inputs):  # the usual batch: all pixels, converted in one call
        whole = _checked_batch(pixel_lists)
        if whole is not None:
            return [Item(pixels=row) for row in whole]
    items = []
    for item in inputs:
        if item.get("image") is not None:
            items.append(Item(image=item["image"]))
            continue
        pixels = checked_pixels(item["pixels"])
        if pixels is None:
            return None
        items.append(Item(pixels=pixels))
    return items


def _checked_batch(pixel_lists: list[Any]) -> np.ndarray | None:
    try:
        array = np.array(pixel_lists, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        return None  # ragged (flat and rows mixed) or not numbers: one by one
    if array.shape[1:] != (PIXELS,) and array.shape[1:] != IMAGE_SHAPE:
        return None
    if not ((array >= 0) & (array <= 1)).all():
        return None
    return array.astype(np.float32).reshape(len(pixel_lists), PIXELS)


def raw_pixels(body: bytes, dtype: Dtype, batch: bool, max_batch: int) -> np.ndarray:
    """(N, PIXELS) float32 in [0, 1] from raw bytes: N x PIXELS uint8 (ink = 255) or little-endian
    float32 values, row after row; one row unless ``batch``."""
    kind = DTYPES[dtype]
    row = PIXELS * kind.itemsize
    if not body or len(body) % row:
        what = "a multiple of " if batch else ""
        sizes = f"{what}{PIXELS} values ({what}{row} bytes)"
        raise ServiceError(
            "invalid_input", error=f"a {dtype} body holds {sizes}; this one has {len(body)} bytes"
        )
    count = len(body) // row
    if not batch and count != 1:
        raise ServiceError(
            "invalid_input",
            error=f"a {dtype} body holds {PIXELS} values ({row} bytes); this one has {len(body)} bytes "
            "(send several to /api/predict/batch)",
        )
    if count > max_batch:
        raise ServiceError("invalid_input", error=f"at most {max_batch} inputs per batch, got {count}")
    values = np.frombuffer(body, dtype=kind).reshape(count, PIXELS)
    if dtype == "uint8":
        return values.astype(np.float32) / np.float32(255)
    bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
    if bad.size:
        index, position = divmod(int(bad[0]), PIXELS)
        value = float(values[index, position])
        where = f"inputs[{index}]: " if batch else ""
        problem = "finite numbers" if not np.isfinite(value) else "in [0, 1]"
        raise ServiceError(
            "invalid_input", error=f"{where}pixels must be {problem}: index {position} is {value}"
        )
    return values.copy()
