"""Fan-out of run events to websocket clients, one bounded queue per client.

A client follows some runs: the ones it subscribed to by id, and (unless it said otherwise) every
active run. Status messages (a run was created, changed state or ended) go to every client, so run
lists stay current; steps, epochs, progress and changes go to a run's followers only.

``publish`` never waits: it appends to each follower's queue and wakes its sender. Step batches are
joined per client and run, so a client that reads slowly gets fewer, larger step messages (their JSON
joined from each batch's, made once for all clients); a client whose queue overflows is marked stuck
and its socket is closed by its sender.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import cached_property

from pydantic_core import to_json

from deeplook.app.messages import StepMessage

STEP_LIMIT = 50_000
"""Steps a client may fall behind by before it is closed (1013) to reconnect and get a snapshot."""


COLUMNS = ("step", "epoch", "loss", "accuracy")
"""A step message's columns, in the order its JSON holds them."""


class StepPart:
    """One published step message and its JSON, made once and shared by every client that sends it."""

    def __init__(self, message: StepMessage) -> None:
        self.message = message

    @cached_property
    def text(self) -> str:
        return self.message.model_dump_json()

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Each column's JSON without its brackets, as ``model_dump_json`` writes it."""
        return tuple(to_json(getattr(self.message, name)).decode()[1:-1] for name in COLUMNS)


class StepBatch:
    """Steps of one run for the stream, serialised once however many clients send them.

    Batches a slow client has not taken yet are joined by reference (constant time, however far
    behind it is) and sent as one message, made by joining the parts' JSON: no client's frame
    serialises a number again."""

    def __init__(self, message: StepMessage | StepPart, *more: StepPart) -> None:
        self.parts = (message if isinstance(message, StepPart) else StepPart(message), *more)

    @property
    def run_id(self) -> str:
        return self.parts[0].message.run_id

    @property
    def steps(self) -> int:
        return sum(len(part.message.step) for part in self.parts)

    @property
    def last_step(self) -> int:
        last = self.parts[-1].message.step
        return last[-1] if last else 0

    def joined(self, later: StepBatch) -> StepBatch:
        return StepBatch(*self.parts, *later.parts)

    @cached_property
    def text(self) -> str:
        if len(self.parts) == 1:
            return self.parts[0].text
        columns = [
            f'"{name}":[' + ",".join(c for part in self.parts if (c := part.columns[i])) + "]"
            for i, name in enumerate(COLUMNS)
        ]
        run_id = to_json(self.run_id).decode()
        return '{"type":"step","run_id":' + run_id + "," + ",".join(columns) + "}"


Outgoing = str | StepBatch


class Subscription:
    """One client: the runs it follows and its queue of outgoing messages."""

    def __init__(self, hub: Hub, limit: int) -> None:
        self._hub = hub
        self._queue: deque[Outgoing] = deque()
        self._limit = limit
        self._step_limit = STEP_LIMIT
        self._ready = asyncio.Event()
        self._last_steps: dict[str, int] = {}  # run -> position of its last step batch in the queue
        self._dropped = 0  # positions before the queue's start (items taken out so far)
        self.stuck = False
        self.runs: set[str] = set()
        self.follow_active = True

    def follows(self, run_id: str) -> bool:
        return run_id in self.runs or (self.follow_active and run_id in self._hub.active_runs)

    def put(self, message: Outgoing, run_id: str | None = None) -> None:
        if self.stuck:
            return
        if isinstance(message, StepBatch):
            position = self._last_steps.get(message.run_id)
            index = None if position is None else position - self._dropped
            if index is not None and 0 <= index < len(self._queue):
                held = self._queue[index]
                assert isinstance(held, StepBatch)
                joined = held.joined(message)
                if joined.steps > self._step_limit:  # this far behind: a snapshot will serve it better
                    self._stick()
                    return
                self._queue[index] = joined
                self._ready.set()
                return
        if len(self._queue) >= self._limit:
            self._stick()
            return
        self._queue.append(message)
        position = self._dropped + len(self._queue) - 1
        if isinstance(message, StepBatch):
            self._last_steps[message.run_id] = position
        elif run_id is not None:
            self._last_steps.pop(run_id, None)  # later steps must come after this message
        self._ready.set()

    def _stick(self) -> None:
        self.stuck = True
        self._queue.clear()
        self._last_steps.clear()
        self._ready.set()

    async def get(self) -> list[str]:
        """Wait for messages; return all queued, as JSON texts, in order."""
        await self._ready.wait()
        self._ready.clear()
        items = list(self._queue)
        self._dropped += len(self._queue)
        self._queue.clear()
        self._last_steps.clear()
        return [item if isinstance(item, str) else item.text for item in items]

    def close(self) -> None:
        """Wake the sender with nothing queued, so it can notice the hub is closing."""
        self._ready.set()


class Hub:
    """Subscribers and publishing; use from the event loop thread only."""

    def __init__(
        self, queue_limit: int = 512, updates_per_second: float = 20.0, sends_per_second: float = 300.0
    ) -> None:
        self._subscribers: set[Subscription] = set()
        self._queue_limit = queue_limit
        self._updates_per_second = updates_per_second
        self._sends_per_second = sends_per_second
        self.active_runs: set[str] = set()
        self.closing = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._admitting = False

    async def admission(self) -> None:
        """Wait for this new client's turn: clients start one per turn of the event loop.

        A class opening the page at once would otherwise make hundreds of handshakes and snapshot sends
        ready together, and the loop runs everything ready before it looks at its sockets again (a
        health check waited 140 ms behind 200 of them). Nothing is held while a client starts, so a
        client that never reads cannot keep the others waiting.
        """
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        if not self._admitting:
            self._admitting = True
            asyncio.get_running_loop().create_task(self._admit())
        await waiter

    async def _admit(self) -> None:
        try:
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    await asyncio.sleep(0)  # the next one after a turn of the loop
        finally:
            self._admitting = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def frame_interval(self) -> float:
        """Seconds between two frames to one client, whatever the number of runs it follows.

        Each frame costs the event loop time: with many viewers frames come less often and carry more,
        so that all of them together stay within the send budget.
        """
        return max(1.0 / self._updates_per_second, len(self._subscribers) / self._sends_per_second)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription(self, self._queue_limit)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def set_active(self, run_id: str, active: bool) -> None:
        if active:
            self.active_runs.add(run_id)
        else:
            self.active_runs.discard(run_id)

    def publish(self, message: Outgoing, run_id: str | None = None) -> None:
        """Queue a message for every client that follows ``run_id`` (every client when None)."""
        for subscription in self._subscribers:
            if run_id is None or subscription.follows(run_id):
                subscription.put(message, run_id)

    def followers(self, run_id: str) -> Iterable[Subscription]:
        return [s for s in self._subscribers if s.follows(run_id)]

    def close(self) -> None:
        self.closing = True
        for subscription in self._subscribers:
            subscription.close()
