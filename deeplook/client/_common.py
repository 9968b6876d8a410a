"""What the sync and async clients share: the answers' types, how an input travels, errors."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

from deeplook.engine.status import FINISHED

if TYPE_CHECKING:
    from PIL import Image

PIXELS = 784
ModelFormat = Literal["npz", "onnx"]
Input: TypeAlias = (
    "np.ndarray | Sequence[float] | Sequence[Sequence[float]] | str | os.PathLike[str] | bytes | Image.Image"
)
"""Something to classify: pixels (784 values in [0, 1], or 28 rows; a uint8 array has ink = 255), the
path or the bytes of a PNG or JPEG, or a PIL image."""


class DeeplookError(Exception):
    """An error answer: its HTTP status, the server's stable ``code`` (None for validation lists) and
    its English ``detail``."""

    def __init__(
        self, status: int, detail: Any, code: str | None = None, params: Mapping[str, Any] | None = None
    ):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.code = code
        self.params = dict(params or {})


@dataclass(frozen=True)
class ModelInfo:
    run_id: str
    epoch: int
    test_accuracy: float | None
    dataset: str
    class_names: tuple[str, ...]
    pinned: bool

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> ModelInfo:
        return cls(
            data["run_id"],
            data["epoch"],
            data["test_accuracy"],
            data["dataset"],
            tuple(data["class_names"]),
            data.get("pinned", False),
        )


@dataclass(frozen=True)
class Prediction:
    digit: int
    label: str
    probabilities: np.ndarray
    """float32, one per class."""
    model: ModelInfo
    pixels: np.ndarray | None = None
    """With ``return_pixels``: the 784 values the network saw (after a picture's preprocessing)."""

    @classmethod
    def of(cls, data: Mapping[str, Any], model: ModelInfo) -> Prediction:
        pixels = data.get("pixels")
        return cls(
            data["digit"],
            data["label"],
            np.asarray(data["probabilities"], dtype=np.float32),
            model,
            None if pixels is None else np.asarray(pixels, dtype=np.float32),
        )


@dataclass(frozen=True)
class Run:
    """A run as the server summarises it; ``data`` holds the whole answer (config, epochs, ...)."""

    id: str
    name: str | None
    status: str
    preset: str | None
    epochs_done: int
    epochs_total: int
    test_accuracy: float | None
    checkpoint_epoch: int
    data: Mapping[str, Any]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Run:
        return cls(
            data["id"],
            data.get("name"),
            data["status"],
            data.get("preset"),
            data["epochs_done"],
            data["epochs_total"],
            data.get("test_accuracy"),
            data["checkpoint_epoch"],
            data,
        )


@dataclass(frozen=True)
class Request:
    """One HTTP request, ready for httpx."""

    method: str
    path: str
    params: dict[str, Any]
    content: bytes | None = None
    json: Any = None
    content_type: str | None = None

    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"params": {k: v for k, v in self.params.items() if v is not None}}
        if self.json is not None:
            options["json"] = self.json
        elif self.content is not None:
            options["content"] = self.content
            options["headers"] = {"content-type": self.content_type or "application/octet-stream"}
        return options


def picture_bytes(item: Any) -> bytes | None:
    """A PNG's or JPEG's bytes from a path, bytes or a PIL image; None for anything else (pixels)."""
    if isinstance(item, bytes | bytearray):
        return bytes(item)
    if isinstance(item, str | os.PathLike):
        return Path(item).read_bytes()
    if type(item).__module__.startswith("PIL."):
        buffer = io.BytesIO()
        item.save(buffer, format="PNG")
        return buffer.getvalue()
    return None


def picture_type(data: bytes) -> str:
    return "image/jpeg" if data.startswith(b"\xff\xd8\xff") else "image/png"


def pixel_rows(items: Iterable[Any]) -> np.ndarray:
    """(N, 784) pixels from arrays or lists: uint8 when every input is uint8 (ink = 255), else float32."""
    arrays = [np.asarray(item) for item in items]
    for index, array in enumerate(arrays):
        if array.size != PIXELS:
            raise ValueError(
                f"input {index} has {array.size} values; a digit has {PIXELS} (or 28 rows of 28)"
            )
    if all(array.dtype == np.uint8 for array in arrays):
        return np.stack([array.reshape(PIXELS) for array in arrays])
    return np.stack([array.reshape(PIXELS) for array in arrays]).astype("<f4")


def predict_request(item: Input, options: dict[str, Any]) -> Request:
    """One input as the fastest body for it: raw pixels, or the picture's own bytes."""
    picture = picture_bytes(item)
    if picture is not None:
        return Request("POST", "/api/predict", options, picture, content_type=picture_type(picture))
    rows = pixel_rows([item])
    dtype = "uint8" if rows.dtype == np.uint8 else "float32"
    return Request("POST", "/api/predict", {**options, "dtype": dtype}, rows.tobytes())


def batch_request(items: Sequence[Input], options: dict[str, Any]) -> Request:
    """Pixels as one raw N x 784 body; with any picture among them, a JSON batch."""
    pictures = [picture_bytes(item) for item in items]
    if all(picture is None for picture in pictures):
        rows = pixel_rows(items)
        dtype = "uint8" if rows.dtype == np.uint8 else "float32"
        return Request("POST", "/api/predict/batch", {**options, "dtype": dtype}, rows.tobytes())
    inputs = []
    for item, picture in zip(items, pictures, strict=True):
        if picture is not None:
            inputs.append({"image": base64.b64encode(picture).decode()})
        else:
            row = pixel_rows([item])[0]
            inputs.append({"pixels": (row / 255 if row.dtype == np.uint8 else row).astype(float).tolist()})
    return Request("POST", "/api/predict/batch", {}, json={"inputs": inputs, **options})


def model_path(run_id: str, format: ModelFormat) -> str:
    if format not in ("npz", "onnx"):
        raise ValueError(f"format must be 'npz' or 'onnx', got {format!r}")
    return f"/api/runs/{run_id}/model" + (".onnx" if format == "onnx" else "")


def error_of(status: int, body: bytes) -> DeeplookError:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return DeeplookError(status, body.decode(errors="replace")[:500])
    if not isinstance(data, dict):
        return DeeplookError(status, data)
    return DeeplookError(status, data.get("detail"), data.get("code"), data.get("params"))


def unbatch(frame: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The messages a websocket frame carries, in order."""
    return list(frame["messages"]) if frame.get("type") == "batch" else [frame]


def about(message: Mapping[str, Any]) -> str | None:
    """The run a websocket message is about."""
    run = message.get("run")
    if isinstance(run, Mapping):
        return str(run.get("id"))
    run_id = message.get("run_id")
    return None if run_id is None else str(run_id)


def ends(message: Mapping[str, Any]) -> bool:
    """Whether a message says its run has finished (a status or snapshot in a finished status)."""
    run = message.get("run")
    return (
        message.get("type") in ("status", "snapshot")
        and isinstance(run, Mapping)
        and run["status"] in FINISHED
    )


def watch_messages(run_id: str) -> list[str]:
    """Stop following every active run, then follow one (its snapshot comes first)."""
    import json

    return [
        json.dumps({"type": "unsubscribe", "active": True}),
        json.dumps({"type": "subscribe", "runs": [run_id]}),
    ]


def ws_url(base_url: str) -> str:
    return base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1).rstrip("/") + "/ws"


def headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
