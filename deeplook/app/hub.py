"""Fan-out of training events to websocket clients, one bounded queue per client.

``publish`` never waits: it appends to each subscriber's queue and wakes its sender. Step batches
are merged per subscriber, so a client that reads slowly gets fewer, larger step messages; a
subscriber whose queue overflows is marked stuck and its socket is closed by its sender.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property

from deeplook.app.messages import StepMessage


class StepBatch:
    """Steps for the stream, serialised once however many subscribers send them."""

    def __init__(self, message: StepMessage) -> None:
        self.message = message

    @cached_property
    def text(self) -> str:
        return self.message.model_dump_json()


Outgoing = str | StepBatch


class Subscription:
    """One client's queue of outgoing messages (JSON text, or step batches still to be merged)."""

    def __init__(self, limit: int) -> None:
        self._queue: deque[Outgoing] = deque()
        self._limit = limit
        self._ready = asyncio.Event()
        self.stuck = False

    def put(self, message: Outgoing) -> None:
        if self.stuck:
            return
        last = self._queue[-1] if self._queue else None
        if isinstance(message, StepBatch) and isinstance(last, StepBatch) and _same_run(last, message):
            self._queue[-1] = StepBatch(_merge(last.message, message.message))
        elif len(self._queue) >= self._limit:
            self.stuck = True
            self._queue.clear()
        else:
            self._queue.append(message)
        self._ready.set()

    async def get(self) -> list[str]:
        """Wait for messages; return all queued, as JSON texts, in order."""
        await self._ready.wait()
        self._ready.clear()
        items = list(self._queue)
        self._queue.clear()
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
        self.closing = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def frame_interval(self) -> float:
        """Seconds between two frames to one client, and between two step batches from training.

        Each frame costs the event loop, and so the training thread, time: with many viewers frames
        come less often and carry more, so that all of them together stay within the send budget.
        """
        return max(1.0 / self._updates_per_second, len(self._subscribers) / self._sends_per_second)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription(self._queue_limit)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def publish(self, message: Outgoing) -> None:
        """Queue a message for every subscriber (serialised once, here, unless it is a step batch)."""
        for subscription in self._subscribers:
            subscription.put(message)

    def close(self) -> None:
        self.closing = True
        for subscription in self._subscribers:
            subscription.close()


def _same_run(first: StepBatch, second: StepBatch) -> bool:
    return first.message.run_id == second.message.run_id


def _merge(first: StepMessage, second: StepMessage) -> StepMessage:
    return StepMessage.model_construct(  # both halves are already valid
        run_id=first.run_id,
        step=first.step + second.step,
        epoch=first.epoch + second.epoch,
        loss=first.loss + second.loss,
        accuracy=first.accuracy + second.accuracy,
    )
