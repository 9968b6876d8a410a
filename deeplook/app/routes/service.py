"""Liveness, readiness and what a client needs to know."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from deeplook import __version__
from deeplook.app.deps import HubDep, ModelsDep, RunsDep, SettingsDep, StoreDep, WriterDep
from deeplook.app.messages import message_schema
from deeplook.app.schemas import Health, Info, Limits, Ready, Stats, registries
from deeplook.app.views import Body, json_body

router = APIRouter(prefix="/api", tags=["service"])


@router.get("/health")
async def health() -> Health:
    """Liveness: answers as long as the event loop does; touches nothing."""
    return Health()


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "not ready, with the reason"}},
)
async def ready(store: StoreDep, models: ModelsDep) -> Ready | JSONResponse:
    """Readiness: the database answers and a model can serve predictions."""
    if not await asyncio.to_thread(store.ping):
        return JSONResponse(Ready(ready=False, reason="the database does not answer").model_dump(), 503)
    model = models.current
    if model is None:
        reason = "no trained model yet: start a run and let it finish an epoch"
        return JSONResponse(Ready(ready=False, reason=reason).model_dump(), 503)
    return Ready(ready=True, model=model.info(pinned=models.pinned))


@router.get("/stats")
async def stats(runs: RunsDep, hub: HubDep, writer: WriterDep) -> Stats:
    """What the server is doing: websocket clients, runs training and queued, unwritten steps."""
    return Stats(
        websocket_clients=hub.subscriber_count,
        training=runs.training,
        queued=runs.queued,
        executor=runs.executor.name,
        workers=runs.workers(),
        pending_steps=writer.pending_steps,
        database_locked_for=writer.locked_for,
    )


@router.get("/info", response_model=Info)
async def info(request: Request, settings: SettingsDep) -> Response:
    """Version, whether mutating routes need a token, every registry (presets, settings with their
    bounds, activations, initialisers, optimizers, datasets, statuses, reasons) and the limits."""
    body = getattr(request.app.state, "info", None)
    if body is None:  # the same for the server's whole life: built once
        info = Info(
            version=__version__,
            auth_required=settings.api_token is not None,
            limits=Limits(
                max_batch=settings.max_batch,
                max_body_bytes=settings.max_body_bytes,
                max_model_bytes=settings.max_model_bytes,
                max_active_runs=settings.max_active_runs,
                max_queued_runs=settings.max_queued_runs,
            ),
            **registries(),
        )
        body = request.app.state.info = Body(info.model_dump_json())
    return json_body(request, body)


@router.get("/schema/messages")
async def messages_schema() -> dict[str, Any]:
    """The JSON schema of every websocket message: ``server`` (sent on /ws) and ``client`` (accepted)."""
    return message_schema()


fallback = APIRouter()


@fallback.api_route(
    "/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown_api_route(rest: str) -> JSONResponse:
    """Anything under /api that no route matched: a JSON 404, not the static files' page."""
    return JSONResponse({"detail": f"no API route /api/{rest[:100]}"}, status_code=404)
