"""The application factory: settings, long-lived objects on ``app.state``, routers and static files."""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute
from threadpoolctl import threadpool_limits

from deeplook import __version__
from deeplook.app import replica
from deeplook.app.config import Settings
from deeplook.app.datasets import DatasetCache
from deeplook.app.errors import ServiceError
from deeplook.app.files import RunFiles
from deeplook.app.hub import Hub
from deeplook.app.looks import Looks
from deeplook.app.messages import message_schema
from deeplook.app.models import ModelRegistry
from deeplook.app.pictures import Pictures
from deeplook.app.reports import ReportStore
from deeplook.app.routes import docs, export, inspect, look, models, predict, races, runs, service, trace, ws
from deeplook.app.runs import RunManager
from deeplook.app.store import Store
from deeplook.app.workers.base import Executor
from deeplook.app.workers.local import LocalExecutor
from deeplook.app.writer import StoreWriter

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
RETRY_AFTER = 10
"""Seconds a client refused with 429 (the queue is full) is asked to wait."""
logger = logging.getLogger("deeplook")


SERVER_BLAS_THREADS = 1


def make_executor(settings: Settings) -> Executor:
    """The executor the settings name: local processes (the default) or a Ray cluster."""
    if settings.executor == "ray":
        from deeplook.app.workers.ray import RayExecutor  # only with deeplook[ray] installed

        return RayExecutor(settings.ray_address)
    return LocalExecutor(settings.shared_dir)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # The server's own NumPy work (predictions, looks inside) uses one BLAS thread: training runs in
    # worker processes beside it, and threaded BLAS competing with them for the cores spins (measured:
    # a 10x784 product 70x slower with two threads than with one on the loaded 2-core machine).
    blas = threadpool_limits(limits=SERVER_BLAS_THREADS, user_api="blas")
    store = Store(settings.database_path)
    interrupted = store.mark_interrupted()
    if interrupted:
        logger.warning("marked as interrupted after a restart: %s", ", ".join(interrupted))
    loop = asyncio.get_running_loop()
    runs: RunManager | None = None

    def steps_unwritable(run_ids: list[str], why: str) -> None:
        if runs is not None:
            loop.call_soon_threadsafe(runs.storage_failed, run_ids, why)

    writer = StoreWriter(store, settings.store_lock_limit, steps_unwritable)
    files = RunFiles(settings.runs_dir)
    executor = make_executor(settings)
    hub = Hub(settings.ws_queue_limit, settings.ws_updates_per_second, settings.ws_sends_per_second)
    models = ModelRegistry(store, files)
    await asyncio.to_thread(models.reload)
    datasets = DatasetCache(settings, executor)
    reports = ReportStore(files)
    runs = RunManager(settings, store, writer, hub, models, datasets, reports, files, executor)
    state = app.state
    state.store, state.writer, state.files, state.hub = store, writer, files, hub
    state.models, state.datasets, state.reports, state.runs = models, datasets, reports, runs
    state.views = runs.views
    state.looks = Looks(models, datasets, files)
    state.pictures = pictures = Pictures(settings)
    # Everything made so far lives as long as the server: out of the cyclic collector's sight, its full
    # passes (tens of milliseconds on the loop with hundreds of clients) stay short.
    gc.freeze()
    try:
        yield
    finally:
        hub.close()
        pictures.close()
        await runs.shutdown()
        await asyncio.to_thread(writer.close)
        executor.close()
        store.close()
        blas.restore_original_limits()


async def service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    headers = {"Retry-After": str(RETRY_AFTER)} if error.status == 429 else None
    body = {"detail": error.message, "code": error.code, "params": error.params}
    return JSONResponse(body, status_code=error.status, headers=headers)


async def database_error(request: Request, error: Exception) -> JSONResponse:
    """A read the database refused (locked by another process for too long, I/O error): 503."""
    return await service_error(request, ServiceError("storage_unavailable", error=str(error)))


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    """422 with pydantic's errors, minus the offending input (it may be huge, or NaN, which JSON lacks)."""
    assert isinstance(error, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in error.errors()
    ]
    return JSONResponse({"detail": details}, status_code=422)


def openapi_with_messages(app: FastAPI, messages: bool = True) -> dict[str, Any]:
    """The OpenAPI document, with every websocket message's schema among its components (unless
    ``messages`` is false: a replica has no websocket)."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        components.update(predict.REQUEST_SCHEMAS)  # bodies the predict routes read themselves
        if messages:
            for direction in message_schema().values():
                components.update(direction.pop("$defs", {}))
            document["x-websocket-messages"] = message_schema()
            for direction in document["x-websocket-messages"].values():
                direction.pop("$defs", None)
        app.openapi_schema = document
    return app.openapi_schema


def include_routes(app: FastAPI, settings: Settings) -> list[APIRouter]:
    """Every route of the full server, predict's and health's first: routes are matched in order."""
    routers = [m.router for m in (predict, service, runs, export, races, models, inspect, look, trace, ws)]
    for router in routers:
        app.include_router(router)
    app.include_router(runs.import_router, max_body_size=settings.max_model_bytes)
    app.include_router(
        predict.batch_router, max_body_size=max(settings.max_batch_bytes, settings.max_body_bytes)
    )
    app.include_router(docs.router)
    app.include_router(service.fallback)
    return [*routers, runs.import_router, predict.batch_router]


def route_methods(route: BaseRoute) -> set[str]:
    return getattr(route, "methods", None) or set()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings come from the environment unless given."""
    settings = settings or Settings()
    app = FastAPI(
        title="deeplook",
        summary="Watch a NumPy neural network learn MNIST live, look inside it, and ask it what you drew.",
        version=__version__,
        lifespan=replica.lifespan if settings.predict_only else lifespan,
        max_body_size=settings.max_body_bytes,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(sqlite3.Error, database_error)
    # long histories: 6 MB of JSON -> ~1.5 MB; level 4, as level 9 takes 4x the time
    app.add_middleware(GZipMiddleware, minimum_size=64_000, compresslevel=4)
    if settings.predict_only:
        routers = replica.include_routes(app, settings)
        app.openapi = lambda: openapi_with_messages(app, messages=False)  # type: ignore[method-assign]
    else:
        routers = include_routes(app, settings)
        app.openapi = lambda: openapi_with_messages(app)  # type: ignore[method-assign]
    if settings.allowed_origins:
        methods = {method for router in routers for route in router.routes for method in route_methods(route)}
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=sorted(methods - {"HEAD"}),  # every method a route answers, PATCH too
            allow_headers=["Authorization", "Content-Type"],
        )
    if STATIC_DIR.is_dir() and not settings.predict_only:
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app
