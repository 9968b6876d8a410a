"""Dependencies: the long-lived objects on ``app.state``, and the token check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deeplook.app.config import Settings
from deeplook.app.datasets import DatasetCache
from deeplook.app.files import RunFiles
from deeplook.app.hub import Hub
from deeplook.app.looks import Looks
from deeplook.app.models import ModelRegistry
from deeplook.app.reports import ReportStore
from deeplook.app.runs import RunManager
from deeplook.app.store import Store
from deeplook.app.views import RunViews
from deeplook.app.writer import StoreWriter


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_runs(request: Request) -> RunManager:
    return request.app.state.runs


async def get_models(request: Request) -> ModelRegistry:
    return request.app.state.models


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_datasets(request: Request) -> DatasetCache:
    return request.app.state.datasets


async def get_reports(request: Request) -> ReportStore:
    return request.app.state.reports


async def get_hub(request: Request) -> Hub:
    return request.app.state.hub


async def get_views(request: Request) -> RunViews:
    return request.app.state.views


async def get_files(request: Request) -> RunFiles:
    return request.app.state.files


async def get_writer(request: Request) -> StoreWriter:
    return request.app.state.writer


def get_looks(request: Request) -> Looks:
    return request.app.state.looks


SettingsDep = Annotated[Settings, Depends(get_settings)]
RunsDep = Annotated[RunManager, Depends(get_runs)]
ModelsDep = Annotated[ModelRegistry, Depends(get_models)]
StoreDep = Annotated[Store, Depends(get_store)]
DatasetsDep = Annotated[DatasetCache, Depends(get_datasets)]
HubDep = Annotated[Hub, Depends(get_hub)]
ReportsDep = Annotated[ReportStore, Depends(get_reports)]
FilesDep = Annotated[RunFiles, Depends(get_files)]
ViewsDep = Annotated[RunViews, Depends(get_views)]
WriterDep = Annotated[StoreWriter, Depends(get_writer)]
LooksDep = Annotated[Looks, Depends(get_looks)]

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
