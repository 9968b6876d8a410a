"""The blocking client."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2 as httpx
from websockets.sync.client import connect

from deeplook.client._common import (
    Input,
    ModelFormat,
    ModelInfo,
    Prediction,
    Request,
    Run,
    about,
    batch_request,
    ends,
    error_of,
    headers,
    model_path,
    predict_request,
    unbatch,
    watch_messages,
    ws_url,
)


class Client:
    """deeplook over HTTP: ``Client("http://127.0.0.1:8000", token=...)``; use it as a context manager
    or ``close()`` it. ``token`` is sent on every request (servers with DEEPLOOK_API_TOKEN need it to
    start or stop runs)."""

    def __init__(
        self, url: str = "http://127.0.0.1:8000", token: str | None = None, timeout: float = 30
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._http = httpx.Client(base_url=self.url, headers=headers(token), timeout=timeout)
        self.runs = Runs(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, request: Request) -> httpx.Response:
        """One request; an error answer raises ``DeeplookError``."""
        response = self._http.request(request.method, request.path, **request.options())
        if response.status_code >= 400:
            raise error_of(response.status_code, response.content)
        return response

    def predict(
        self, item: Input, *, run_id: str | None = None, epoch: int | None = None, return_pixels: bool = False
    ) -> Prediction:
        """Classify one input (pixels, a picture's path or bytes, a PIL image) with the current model
        or a run's model of an epoch."""
        options = {"run_id": run_id, "epoch": epoch, "return_pixels": return_pixels or None}
        data = self.send(predict_request(item, options)).json()
        return Prediction.of(data, ModelInfo.of(data["model"]))

    def predict_batch(
        self,
        items: Sequence[Input],
        *,
        run_id: str | None = None,
        epoch: int | None = None,
        return_pixels: bool = False,
    ) -> list[Prediction]:
        """Classify many inputs in one request and one forward pass (at most the server's max_batch)."""
        options = {"run_id": run_id, "epoch": epoch, "return_pixels": return_pixels or None}
        data = self.send(batch_request(items, options)).json()
        model = ModelInfo.of(data["model"])
        return [Prediction.of(item, model) for item in data["predictions"]]

    def current_model(self) -> ModelInfo | None:
        """The model predictions get when they name none."""
        model = self.send(Request("GET", "/api/models/current", {})).json()["model"]
        return None if model is None else ModelInfo.of(model)

    def download_model(
        self,
        run_id: str | None = None,
        epoch: int | None = None,
        format: ModelFormat = "npz",
        path: str | Path | None = None,
    ) -> bytes:
        """A run's model (default: the current model) as a deeplook ``.npz`` or an ONNX graph; also
        written to ``path`` when given."""
        if run_id is None:
            current = self.current_model()
            if current is None:
                raise ValueError("the server has no current model: name a run")
            run_id, epoch = current.run_id, current.epoch if epoch is None else epoch
        payload = self.send(Request("GET", model_path(run_id, format), {"epoch": epoch})).content
        if path is not None:
            Path(path).write_bytes(payload)
        return payload

    def watch(self, run_id: str, until_finished: bool = True) -> Iterator[Mapping[str, Any]]:
        """The live events of one run, as the websocket sends them (a snapshot first, then steps,
        epochs, status changes...; schemas at /api/schema/messages), until it finishes."""
        with connect(ws_url(self.url), additional_headers=headers(self.token), max_size=None) as socket:
            for text in watch_messages(run_id):
                socket.send(text)
            for frame in socket:
                for message in unbatch(json.loads(frame)):
                    if about(message) != run_id:
                        continue
                    yield message
                    if until_finished and ends(message):
                        return


class Runs:
    """Training runs: ``client.runs.start(preset="relu-adam", epochs=3)``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def start(self, preset: str | None = None, **settings: Any) -> Run:
        """Start a run of a preset with any setting overridden (see /api/info ``settings``)."""
        body = {**settings, **({"preset": preset} if preset is not None else {})}
        return Run.of(self._client.send(Request("POST", "/api/runs", {}, json=body)).json())

    def get(self, run_id: str) -> Run:
        return Run.of(self._client.send(Request("GET", f"/api/runs/{run_id}", {})).json())

    def list(self) -> list[Run]:
        return [Run.of(run) for run in self._client.send(Request("GET", "/api/runs", {})).json()]

    def stop(self, run_id: str) -> Run:
        return Run.of(self._client.send(Request("POST", f"/api/runs/{run_id}/stop", {})).json())
