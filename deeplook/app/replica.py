"""Predict-only replicas (``deeplook serve --predict-only``): predict, export and health over a data
folder that a full server trains into; no training, no websocket, no dashboard.

A replica serves the model the documented rule picks (the pinned one, else the newest run's latest
epoch). It never writes: it polls one cheap read of the store (``Store.serving_version``: the pin
and the runs' latest epochs) and reloads when that changes, swapping the model in one assignment, so
a new pin is served within a poll interval and no request is dropped or sees half a swap. Run it with
several uvicorn workers (``--workers N``), and as many replicas as wanted behind a load balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from deeplook.app.config import Settings
from deeplook.app.files import RunFiles
from deeplook.app.models import ModelRegistry
from deeplook.app.pictures import Pictures
from deeplook.app.routes import export, models, predict, service
from deeplook.app.schemas import Info, Ready
from deeplook.app.store import Store

logger = logging.getLogger("deeplook.replica")

router = APIRouter()
router.add_api_route("/api/health", service.health, methods=["GET"], tags=["service"])
router.add_api_route(
    "/api/ready",
    service.ready,
    methods=["GET"],
    tags=["service"],
    response_model=Ready,
    responses={503: {"model": Ready, "description": "not ready, with the reason"}},
)
router.add_api_route("/api/info", service.info, methods=["GET"], tags=["service"], response_model=Info)
router.add_api_route("/api/models/current", models.current_model, methods=["GET"], tags=["models"])


async def follow(registry: ModelRegistry, store: Store, interval: float) -> None:
    """Reload the registry whenever what decides the current model changes (forever)."""
    seen: object = await asyncio.to_thread(store.serving_version)
    while True:
        await asyncio.sleep(interval)
        try:
            version = await asyncio.to_thread(store.serving_version)
            if version != seen:
                await asyncio.to_thread(registry.reload)  # read after the version: a later change is seen
                seen = version
                current = registry.current
                logger.info(
                    "serving %s", f"{current.run_id} epoch {current.epoch}" if current else "no model"
                )
        except (sqlite3.Error, OSError) as error:  # a locked or busy database: the next poll tries again
            logger.warning("could not check the current model: %s", error)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    store = Store(settings.database_path)
    registry = ModelRegistry(store, RunFiles(settings.runs_dir))
    await asyncio.to_thread(registry.reload)
    app.state.store, app.state.models = store, registry
    app.state.pictures = pictures = Pictures(settings)
    poller = asyncio.create_task(follow(registry, store, settings.model_poll_interval))
    try:
        yield
    finally:
        poller.cancel()
        pictures.close()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        store.close()


def include_routes(app: FastAPI, settings: Settings) -> list[APIRouter]:
    """A replica's routes: predict (single, batch, file), ONNX export, health, readiness, info and the
    current model."""
    app.include_router(predict.router)
    app.include_router(
        predict.batch_router, max_body_size=max(settings.max_batch_bytes, settings.max_body_bytes)
    )
    app.include_router(export.router)
    app.include_router(router)
    app.include_router(service.fallback)
    return [predict.router, predict.batch_router, export.router, router]
