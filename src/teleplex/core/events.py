"""The in-process event bus: services publish after they commit; streams and webhooks subscribe.

Each subscriber gets its own bounded queue, so one slow WebSocket never holds up the engine: when its queue
is full the subscriber is marked `lagged` and must resynchronise (streams send a fresh snapshot).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_seq = itertools.count(1)


@dataclass(frozen=True)
class Event:
    """Something that happened, shaped like the REST output of the thing it is about."""

    type: str  # "agent.state", "interaction.updated", "queue.stats", ...
    at: datetime
    data: dict[str, Any]
    queue_id: int | None = None  # for scoping supervisors' streams
    agent_id: int | None = None
    # A customer's words (a message, its receipts, their typing): streamed to the agent holding the
    # conversation and the queue's supervisors, not to every agent of the queue.
    private: bool = False
    seq: int = field(default_factory=lambda: next(_seq))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, "at": self.at.isoformat(), "data": self.data}


class Subscription:
    def __init__(self, bus: EventBus, accept: Callable[[Event], bool], size: int) -> None:
        self._bus = bus
        self._accept = accept
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)
        self.lagged = False

    def offer(self, event: Event) -> None:
        if not self._accept(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagged = True

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        self._bus._subs.discard(self)


class EventBus:
    """Publishes to every subscriber and keeps the last `replay` events, so a client that reconnects can
    ask for what it missed (`since(seq)`) instead of reloading everything."""

    def __init__(self, replay: int = 2000) -> None:
        self._subs: set[Subscription] = set()
        self._recent: deque[Event] = deque(maxlen=replay)

    def publish(self, event: Event) -> None:
        self._recent.append(event)
        for sub in list(self._subs):
            sub.offer(event)

    def since(self, seq: int) -> list[Event] | None:
        """Events after `seq`, or None when some of them are no longer kept (the client must resync)."""
        if self._recent and seq < self._recent[0].seq - 1:
            return None
        return [e for e in self._recent if e.seq > seq]

    def subscribe(self, accept: Callable[[Event], bool] = lambda _: True, size: int = 1000) -> Subscription:
        sub = Subscription(self, accept, size)
        self._subs.add(sub)
        return sub
