"""Liveness, readiness and what a client needs to know."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from deeplook.app.deps import HubDep, ModelsDep, RunsDep, SettingsDep, StoreDep
from deeplook.app.schemas import Health, Info, Ready, Stats
from deeplook.app.views import run_config
from deeplook.engine.config import PRESETS
from deeplook.engine.data import DATASETS

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
def ready(store: StoreDep, models: ModelsDep) -> Ready | JSONResponse:
    """Readiness: the database answers and a model can serve predictions."""
    if not store.ping():
        return JSONResponse(Ready(ready=False, reason="the database does not answer").model_dump(), 503)
    model = models.current
    if model is None:
        reason = "no trained model yet: start a run and let it finish an epoch"
        return JSONResponse(Ready(ready=False, reason=reason).model_dump(), 503)
    return Ready(ready=True, model=model.info())


@router.get("/stats")
async def stats(runs: RunsDep, hub: HubDep) -> Stats:
    """What the server is doing: connected websocket clients and the active run."""
    active = runs.active
    return Stats(websocket_clients=hub.subscriber_count, active_run=active.id if active else None)


@router.get("/info")
async def info(settings: SettingsDep) -> Info:
    """Version, whether mutating routes need a token, the presets, datasets and limits."""
    try:
        current = version("deeplook")
    except PackageNotFoundError:
        current = "unknown"
    return Info(
        version=current,
        auth_required=settings.api_token is not None,
        presets={name: run_config(config) for name, config in PRESETS.items()},
        datasets=list(DATASETS),
        max_batch=settings.max_batch,
        max_body_bytes=settings.max_body_bytes,
    )


fallback = APIRouter()


@fallback.api_route(
    "/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def unknown_api_route(rest: str) -> JSONResponse:
    """Anything under /api that no route matched: a JSON 404, not the static files' page."""
    return JSONResponse({"detail": f"no API route /api/{rest[:100]}"}, status_code=404)
