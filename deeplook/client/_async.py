"""The asyncio client: the same calls as ``Client``, awaited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx2 as httpx
from websockets.asyncio.client import connect

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


class AsyncClient:
    """deeplook over HTTP from asyncio: ``async with AsyncClient(url, token=...) as client``."""

    def __init__(
        self, url: str = "http://127.0.0.1:8000", token: str | None = None, timeout: float = 30
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers(token), timeout=timeout)
        self.runs = AsyncRuns(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, request: Request) -> httpx.Response:
        """One request; an error answer raises ``DeeplookError``."""
        response = await self._http.request(request.method, request.path, **request.options())
        if response.status_code >= 400:
            raise error_of(response.status_code, response.content)
        return response

    async def predict(
        self, item: Input, *, run_id: str | None = None, epoch: int | None = None, return_pixels: bool = False
    ) -> Prediction:
        """Classify one input (pixels, a picture's path or bytes, a PIL image)."""
        options = {"run_id": run_id, "epoch": epoch, "return_pixels": return_pixels or None}
        request = await anyio.to_thread.run_sync(predict_request, item, options)  # may read a file
        data = (await self.send(request)).json()
        return Prediction.of(data, ModelInfo.of(data["model"]))

    async def predict_batch(
        self,
        items: Sequence[Input],
        *,
        run_id: str | None = None,
        epoch: int | None = None,
        return_pixels: bool = False,
    ) -> list[Prediction]:
        """Classify many inputs in one request and one forward pass."""
        options = {"run_id": run_id, "epoch": epoch, "return_pixels": return_pixels or None}
        request = await anyio.to_thread.run_sync(batch_request, items, options)
        data = (await self.send(request)).json()
        model = ModelInfo.of(data["model"])
        return [Prediction.of(item, model) for item in data["predictions"]]

    async def current_model(self) -> ModelInfo | None:
        model = (await self.send(Request("GET", "/api/models/current", {}))).json()["model"]
        return None if model is None else ModelInfo.of(model)

    async def download_model(
        self,
        run_id: str | None = None,
        epoch: int | None = None,
        format: ModelFormat = "npz",
        path: str | Path | None = None,
    ) -> bytes:
        """A run's model (default: the current model) as a deeplook ``.npz`` or an ONNX graph."""
        if run_id is None:
            current = await self.current_model()
            if current is None:
                raise ValueError("the server has no current model: name a run")
            run_id, epoch = current.run_id, current.epoch if epoch is None else epoch
        payload = (await self.send(Request("GET", model_path(run_id, format), {"epoch": epoch}))).content
        if path is not None:
            await anyio.Path(path).write_bytes(payload)
        return payload

    async def watch(self, run_id: str, until_finished: bool = True) -> AsyncIterator[Mapping[str, Any]]:
        """The live events of one run (a snapshot first), until it finishes."""
        async with connect(ws_url(self.url), additional_headers=headers(self.token), max_size=None) as socket:
            for text in watch_messages(run_id):
                await socket.send(text)
            async for frame in socket:
                for message in unbatch(json.loads(frame)):
                    if about(message) != run_id:
                        continue
                    yield message
                    if until_finished and ends(message):
                        return


class AsyncRuns:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def start(self, preset: str | None = None, **settings: Any) -> Run:
        body = {**settings, **({"preset": preset} if preset is not None else {})}
        return Run.of((await self._client.send(Request("POST", "/api/runs", {}, json=body))).json())

    async def get(self, run_id: str) -> Run:
        return Run.of((await self._client.send(Request("GET", f"/api/runs/{run_id}", {}))).json())

    async def list(self) -> list[Run]:
        return [Run.of(run) for run in (await self._client.send(Request("GET", "/api/runs", {}))).json()]

    async def stop(self, run_id: str) -> Run:
        return Run.of((await self._client.send(Request("POST", f"/api/runs/{run_id}/stop", {}))).json())
