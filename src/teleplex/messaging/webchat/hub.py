"""In-process wake-ups for visitors' sockets: a commit that adds to a stream pokes its listeners, and
agent typing reaches them directly. Idle sockets also re-read the database now and then (every 20-40 s), so
a write on another node is seen, late, until events cross nodes."""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from typing import Any


class Hub:
    def __init__(self) -> None:
        self._listeners: dict[int, set[asyncio.Queue[dict[str, Any] | None]]] = defaultdict(set)

    def listen(self, visitor_id: int) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=100)
        self._listeners[visitor_id].add(queue)
        return queue

    def forget(self, visitor_id: int, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        listeners = self._listeners.get(visitor_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[visitor_id]

    def poke(self, visitor_id: int, frame: dict[str, Any] | None = None) -> int:
        """None means "the stream grew: read it"; a dict is an ephemeral frame (typing). Returns listeners."""
        listeners = list(self._listeners.get(visitor_id, ()))
        for queue in listeners:
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:  # a slow socket: a stream wake-up is enough, it reads the database
                pass
        return len(listeners)


_HUBS: weakref.WeakKeyDictionary[Any, Hub] = weakref.WeakKeyDictionary()


def hub_for(db: Any) -> Hub:
    """One hub per Database object (one per app), so apps in one process never mix their visitors."""
    hub = _HUBS.get(db)
    if hub is None:
        hub = _HUBS[db] = Hub()
    return hub
