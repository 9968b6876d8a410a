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
from deeplook.app.messages import (
    CLIENT_MESSAGES,
    BatchMessage,
    PingMessage,
    PongMessage,
    SubscribeMessage,
    UnsubscribeMessage,
)
from deeplook.app.views import RunViews

router = APIRouter(tags=["stream"])
logger = logging.getLogger("deeplook.ws")

TRY_AGAIN_LATER = 1013  # the client fell too far behind
POLICY_VIOLATION = 1008
GOING_AWAY = 1001


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    """One socket per page, for any number of runs. On connect the client follows every active run
    (a snapshot of each, or of the latest run when none trains); ``subscribe``/``unsubscribe`` change
    what it follows. Server messages: snapshot, status (of every run), step, epoch, progress, change,
    pong, and batch (several in one frame, in order). Their schemas: /api/schema/messages."""
    app = websocket.app
    settings: Settings = app.state.settings
    hub: Hub = app.state.hub
    views: RunViews = app.state.views
    if not origin_allowed(websocket, settings.allowed_origins):
        await websocket.close(code=POLICY_VIOLATION)
        return
    await hub.admission()
    await websocket.accept()
    async with hub.subscribe() as subscription:
        for text in await views.snapshots(None):
            subscription.put(text)
        sender = asyncio.create_task(_send(websocket, subscription, settings, hub))
        try:
            await _receive(websocket, subscription, settings, views)
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


async def _receive(
    websocket: WebSocket, subscription: Subscription, settings: Settings, views: RunViews
) -> None:
    """Answer pings, follow what the client asks for; anything else closes the socket with 1008."""
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
            message = CLIENT_MESSAGES.validate_json(text)
        except ValidationError:
            await _close(websocket, POLICY_VIOLATION, "expected a ping, subscribe or unsubscribe message")
            return
        if isinstance(message, PingMessage):
            subscription.put(PongMessage().model_dump_json())
        elif isinstance(message, SubscribeMessage):
            new = [run_id for run_id in message.runs if run_id not in subscription.runs]
            subscription.runs.update(new)  # first follow, then snapshot: nothing falls in between
            if message.active is not None:
                subscription.follow_active = message.active
            for snapshot in await views.snapshots(new) if new else []:
                subscription.put(snapshot)
        elif isinstance(message, UnsubscribeMessage):
            subscription.runs.difference_update(message.runs)
            if message.active:
                subscription.follow_active = False


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code=code, reason=reason)
