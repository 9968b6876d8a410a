"""Races: runs trained side by side from the same start, to compare one thing."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, status

from deeplook.app import races
from deeplook.app.deps import Authorized, RunsDep, StoreDep, ViewsDep
from deeplook.app.errors import ServiceError
from deeplook.app.schemas import (
    AUTH,
    INVALID,
    QUEUE_FULL,
    RUN_ID_PATTERN,
    STORAGE,
    RaceCreate,
    RaceOut,
    documented,
)
from deeplook.app.store import RaceRecord

router = APIRouter(prefix="/api/races", tags=["races"], responses=INVALID)
RaceIdPath = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="12 lowercase hex digits")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Authorized],
    responses={**AUTH, **QUEUE_FULL, **STORAGE},
)
async def start_race(request: RaceCreate, runs: RunsDep) -> RaceOut:
    """Start 2-4 runs as one race: one seed, batch size, dataset and length; the same initial weights
    wherever their layers agree and the same minibatches; they start together."""
    race = races.plan(request)
    summaries = await runs.create(list(race.runs), race=(race.id, race.name, race.differs))
    return RaceOut(
        id=race.id,
        name=race.name,
        created_at=summaries[0].created_at,
        differs=list(race.differs),
        runs=summaries,
    )


@router.get("")
async def list_races(views: ViewsDep, store: StoreDep) -> list[RaceOut]:
    """Every race, newest first."""
    records = await asyncio.to_thread(store.races)
    return [await _out(record, views) for record in records]


@router.get("/{race_id}", responses=documented(e404="no race with this id"))
async def get_race(race_id: RaceIdPath, views: ViewsDep, store: StoreDep) -> RaceOut:
    """One race and its runs."""
    record = next((r for r in await asyncio.to_thread(store.races) if r.id == race_id), None)
    if record is None:
        raise ServiceError("race_not_found", race=race_id)
    return await _out(record, views)


@router.post(
    "/{race_id}/stop",
    dependencies=[Authorized],
    responses={**AUTH, **documented(e404="no race with this id")},
)
async def stop_race(race_id: RaceIdPath, runs: RunsDep, views: ViewsDep, store: StoreDep) -> RaceOut:
    """Stop every run of the race that still trains or waits."""
    record = next((r for r in await asyncio.to_thread(store.races) if r.id == race_id), None)
    if record is None:
        raise ServiceError("race_not_found", race=race_id)
    await asyncio.gather(
        *(runs.stop(run_id) for run_id in record.runs if run_id in runs.training + runs.queued)
    )
    return await _out(record, views)


async def _out(record: RaceRecord, views: ViewsDep) -> RaceOut:
    summaries = [await views.summary(run_id) for run_id in record.runs]
    return RaceOut(
        id=record.id,
        name=record.name,
        created_at=record.created_at,
        differs=list(record.differs),
        runs=summaries,
    )
