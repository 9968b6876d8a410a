"""The live stream: a snapshot on connect, then steps, epochs, status and progress as they happen."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.websockets import WebSocketState

from deeplook.app.config import Settings
from deeplook.app.hub import Hub, Subscription
from deeplook.app.messages import CLIENT_MESSAGES, BatchMessage, PongMessage
from deeplook.app.runs import RunManager

router = APIRouter(tags=["stream"])
logger = logging.getLogger("deeplook.ws")

TRY_AGAIN_LATER = 1013  # the client fell too far behind
POLICY_VIOLATION = 1008
GOING_AWAY = 1001


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    """Server-to-client messages: snapshot, step, epoch, status, progress, pong, and batch (several
    of them in one frame, in order); see the README."""
    app = websocket.app
    settings: Settings = app.state.settings
    hub: Hub = app.state.hub
    runs: RunManager = app.state.runs
    if not origin_allowed(websocket, settings.allowed_origins):
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()
    async with hub.subscribe() as subscription:
        await websocket.send_text(runs.snapshot().model_dump_json())
        sender = asyncio.create_task(_send(websocket, subscription, settings, hub))
        try:
            await _receive(websocket, subscription, settings)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


def origin_allowed(websocket: WebSocket, allowed: list[str]) -> bool:
    """No Origin (not a browser), the same origin as the Host, or one of the configured origins."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in allowed:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host and urlsplit(origin).scheme in ("http", "https")


async def _send(websocket: WebSocket, subscription: Subscription, settings: Settings, hub: Hub) -> None:
    try:
        while True:
            texts = await subscription.get()
            if subscription.stuck:
                await _close(websocket, TRY_AGAIN_LATER, "too far behind: reconnect to get a snapshot")
                return
            if hub.closing:
                await _close(websocket, GOING_AWAY, "the server is shutting down")
                return
            if texts:
                frame = BatchMessage.frame(texts)
                await asyncio.wait_for(websocket.send_text(frame), settings.ws_send_timeout)
            await asyncio.sleep(hub.frame_interval)
    except TimeoutError:
        await _close(websocket, TRY_AGAIN_LATER, "not reading: reconnect to get a snapshot")
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass


async def _receive(websocket: WebSocket, subscription: Subscription, settings: Settings) -> None:
    """Answer pings; anything else closes the socket with 1008."""
    while True:
        try:
            text = await websocket.receive_text()
        except (WebSocketDisconnect, RuntimeError):
            return
        except KeyError:  # a binary frame
            await _close(websocket, POLICY_VIOLATION, "only text frames are accepted")
            return
        if len(text) > settings.ws_max_message_bytes:
            await _close(websocket, POLICY_VIOLATION, "message too big")
            return
        try:
            CLIENT_MESSAGES.validate_json(text)
        except ValidationError:
            await _close(websocket, POLICY_VIOLATION, 'expected {"type": "ping"}')
            return
        subscription.put(PongMessage().model_dump_json())


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code=code, reason=reason)
