"""Dependencies: the long-lived objects on ``app.state``, and the token check."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deeplook.app.config import Settings
from deeplook.app.datasets import DatasetCache
from deeplook.app.files import RunFiles
from deeplook.app.hub import Hub
from deeplook.app.looks import Looks
from deeplook.app.models import ModelRegistry
from deeplook.app.pictures import Pictures
from deeplook.app.reports import ReportStore
from deeplook.app.runs import RunManager
from deeplook.app.store import Store
from deeplook.app.views import RunViews
from deeplook.app.writer import StoreWriter


def _state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency that answers the application's long-lived object ``app.state.<name>`` (async: a
    plain function would be run on the thread pool, for every request)."""

    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"get_{name}"
    return get


SettingsDep = Annotated[Settings, Depends(_state("settings"))]
RunsDep = Annotated[RunManager, Depends(_state("runs"))]
ModelsDep = Annotated[ModelRegistry, Depends(_state("models"))]
PicturesDep = Annotated[Pictures, Depends(_state("pictures"))]
StoreDep = Annotated[Store, Depends(_state("store"))]
DatasetsDep = Annotated[DatasetCache, Depends(_state("datasets"))]
HubDep = Annotated[Hub, Depends(_state("hub"))]
ReportsDep = Annotated[ReportStore, Depends(_state("reports"))]
FilesDep = Annotated[RunFiles, Depends(_state("files"))]
ViewsDep = Annotated[RunViews, Depends(_state("views"))]
WriterDep = Annotated[StoreWriter, Depends(_state("writer"))]
LooksDep = Annotated[Looks, Depends(_state("looks"))]

_bearer = HTTPBearer(auto_error=False, description="needed on mutating routes when DEEPLOOK_API_TOKEN is set")


def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """When a token is configured, the request must carry it as ``Authorization: Bearer <token>``."""
    expected = settings.api_token
    if expected is None:
        return
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this server needs an API token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the API token is wrong")


Authorized = Depends(require_token)
