"""Which model other services get: the current one by the documented rule, or a pinned one."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from deeplook.app.deps import Authorized, ModelsDep, StoreDep, WriterDep
from deeplook.app.errors import ServiceError
from deeplook.app.schemas import INVALID, ModelInfo, RunId, Strict, documented
from deeplook.app.writer import StoreUnavailable

router = APIRouter(prefix="/api/models", tags=["models"], responses=INVALID)

RULE = (
    "a pinned model when one is pinned; otherwise the newest run (by creation) that has finished an "
    "epoch, at its latest epoch"
)


class Pin(Strict):
    run_id: RunId
    epoch: Annotated[int, Field(ge=1)] | None = Field(
        None, description="default: the run's latest epoch, as it grows"
    )


class Current(BaseModel):
    model: ModelInfo | None = Field(description="the model predictions get when they name none")
    pin: Pin | None
    rule: str = RULE


ERRORS = documented(
    e404="no such run or epoch",
    e409="the run has no trained model",
    e503="the database does not take writes right now",
)


def _current(models: ModelsDep) -> Current:
    pin = models.pin
    current = models.current
    return Current(
        model=current.info(pinned=models.pinned) if current else None,
        pin=Pin(run_id=pin.run_id, epoch=pin.epoch) if pin else None,
    )


@router.get("/current")
async def current_model(models: ModelsDep) -> Current:
    """The model that answers predictions naming none, the pin (if any) and the rule."""
    return _current(models)


@router.put("/current", dependencies=[Authorized], responses=ERRORS)
async def pin_model(pin: Pin, models: ModelsDep, store: StoreDep, writer: WriterDep) -> Current:
    """Pin the model other services get: a run, and an epoch (or its latest, following it as it trains).
    Predict-only replicas sharing the data folder pick it up within a second."""
    await asyncio.to_thread(models.load, pin.run_id, pin.epoch)  # 404/409 when it cannot serve
    try:
        await writer.write(store.pin, pin.run_id, pin.epoch)
    except StoreUnavailable as error:
        raise ServiceError("storage_unavailable", error=str(error)) from error
    await asyncio.to_thread(models.reload)
    return _current(models)


@router.delete("/current", dependencies=[Authorized], responses=ERRORS)
async def unpin_model(models: ModelsDep, store: StoreDep, writer: WriterDep) -> Current:
    """Unpin: the current model follows the rule again."""
    try:
        await writer.write(store.pin, None)
    except StoreUnavailable as error:
        raise ServiceError("storage_unavailable", error=str(error)) from error
    await asyncio.to_thread(models.reload)
    return _current(models)
