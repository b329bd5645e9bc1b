"""Which callbacks are due at an instant, in what order, and for whom. Pure.

A personal callback (one agent's promise) belongs to that agent from its start until `grace` after it; if the
agent has not dialed it by then it is handed to the team (its campaign or queue), so no promise is forgotten
because one person is away. A callback whose window (`due_until`) has passed is missed, not due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_GRACE = timedelta(minutes=15)
CLOSING_SOON = timedelta(minutes=30)


@dataclass(frozen=True)
class PendingCallback:
    id: int
    requested_at: datetime
    due_at: datetime | None  # None: as soon as possible
    due_until: datetime | None
    agent_id: int | None  # personal when set
    source: str  # inbound_overflow | agent | campaign


@dataclass(frozen=True)
class DueCallback:
    id: int
    priority: int  # higher first
    agent_id: int | None  # who may dial it now: that agent only, or None for anyone in the team
    handed_to_team: bool


def starts(cb: PendingCallback) -> datetime:
    return cb.due_at or cb.requested_at


def is_missed(cb: PendingCallback, now: datetime) -> bool:
    return cb.due_until is not None and now >= cb.due_until


def due(callbacks: Iterable[PendingCallback], now: datetime, grace: timedelta = DEFAULT_GRACE) -> list[DueCallback]:
    """The callbacks that may be dialed at `now`, most urgent first.

    Priority: a window closing within 30 minutes first (+1000), then a caller who asked from the queue
    (+100: they were waiting on the line), then by minutes overdue. Ties keep the oldest request first.
    """
    out: list[tuple[int, datetime, int, DueCallback]] = []
    for cb in callbacks:
        start = starts(cb)
        if start > now or is_missed(cb, now):
            continue
        overdue = int((now - start).total_seconds() // 60)
        priority = min(overdue, 99)
        if cb.source == "inbound_overflow":
            priority += 100
        if cb.due_until is not None and cb.due_until - now <= CLOSING_SOON:
            priority += 1000
        handed = cb.agent_id is not None and now >= start + grace
        owner = None if handed else cb.agent_id
        out.append((-priority, cb.requested_at, cb.id, DueCallback(cb.id, priority, owner, handed)))
    return [item[3] for item in sorted(out, key=lambda t: (t[0], t[1], t[2]))]
