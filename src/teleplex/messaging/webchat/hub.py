"""In-process wake-ups for visitors' sockets: a commit that adds to a stream pokes its listeners (with the
new event itself when the writer has it, so a socket that is up to date sends it without reading the
database), and agent typing reaches them directly. Idle sockets also re-read the database now and then
(every 20-40 s), so a write on another node is seen, late, until events cross nodes."""

from __future__ import annotations

import asyncio
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Appended:
    """Stream event `seq` was committed; `frame` is how the widget receives it."""

    seq: int
    frame: dict[str, Any]


Wakeup = Appended | dict[str, Any] | None
Listener = asyncio.Queue[Wakeup]


class Hub:
    def __init__(self) -> None:
        self._listeners: dict[int, set[Listener]] = defaultdict(set)

    def listen(self, visitor_id: int) -> Listener:
        queue: Listener = asyncio.Queue(maxsize=100)
        self._listeners[visitor_id].add(queue)
        return queue

    def appended(self, visitor_id: int, seq: int, frame: dict[str, Any]) -> int:
        """Call after the commit that stored event `seq`."""
        return self.poke(visitor_id, Appended(seq, frame))

    def forget(self, visitor_id: int, queue: Listener) -> None:
        listeners = self._listeners.get(visitor_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[visitor_id]

    def poke(self, visitor_id: int, frame: Wakeup = None) -> int:
        """None means "the stream grew: read it"; a dict is an ephemeral frame (typing). Returns listeners."""
        listeners = list(self._listeners.get(visitor_id, ()))
        for queue in listeners:
            try:
                queue.put_nowait(frame)
            except asyncio.QueueFull:  # a slow socket: its oldest wake-up makes way for a read of the database
                queue.get_nowait()
                queue.put_nowait(None)
        return len(listeners)


_HUBS: weakref.WeakKeyDictionary[Any, Hub] = weakref.WeakKeyDictionary()


def hub_for(db: Any) -> Hub:
    """One hub per Database object (one per app), so apps in one process never mix their visitors."""
    hub = _HUBS.get(db)
    if hub is None:
        hub = _HUBS[db] = Hub()
    return hub
