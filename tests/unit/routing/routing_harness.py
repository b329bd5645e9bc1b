"""A small harness so routing tests read as scenarios: a fake clock, a router, and short helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from teleplex.core.clock import FakeClock
from teleplex.routing import (
    AgentSpec,
    AgentStateChanged,
    Decision,
    Offer,
    QueueSpec,
    Router,
    WorkItem,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ALL_CHANNELS = frozenset({"voice", "chat", "whatsapp", "telegram", "sms", "webchat"})


class Harness:
    """A router on a fake clock, with helpers named after what a scenario says."""

    def __init__(self, **router_kwargs: Any) -> None:
        self.clock = FakeClock(T0)
        self.router = Router(self.clock, **router_kwargs)

    def at(self, seconds: float) -> datetime:
        return T0 + timedelta(seconds=seconds)

    def advance(self, seconds: float) -> list[Decision]:
        """Move the clock and tick, as the engine does when a timer fires."""
        self.clock.advance(seconds)
        return self.router.tick()

    def queue(self, queue_id: str = "sales", **fields: Any) -> list[Decision]:
        fields.setdefault("channels", ALL_CHANNELS)
        return self.router.configure_queue(QueueSpec(id=queue_id, **fields))

    def agent(
        self,
        agent_id: str,
        queues: Mapping[str, int] | Iterable[str] = ("sales",),
        **fields: Any,
    ) -> list[Decision]:
        memberships = dict(queues) if isinstance(queues, Mapping) else {q: 0 for q in queues}
        return self.router.agent_login(AgentSpec(id=agent_id, queues=memberships, **fields))

    def item(
        self, item_id: str, queue_id: str = "sales", channel: str = "voice", **fields: Any
    ) -> list[Decision]:
        fields.setdefault("arrived_at", self.clock.now())
        return self.router.enqueue(WorkItem(id=item_id, queue_id=queue_id, channel=channel, **fields))

    def state(self, agent_id: str) -> str:
        return next(a.state for a in self.router.snapshot().agents if a.agent_id == agent_id)


def offers(decisions: Iterable[Decision]) -> list[tuple[str, str]]:
    """(item id, agent id) for every Offer, in order."""
    return [(d.item_id, d.agent_id) for d in decisions if isinstance(d, Offer)]


def moves(decisions: Iterable[Decision], agent_id: str) -> list[tuple[str, str]]:
    """(old, new) presence for one agent, in order."""
    return [(d.old, d.new) for d in decisions if isinstance(d, AgentStateChanged) and d.agent_id == agent_id]


def of_type(decisions: Iterable[Decision], kind: type) -> list[Any]:
    return [d for d in decisions if isinstance(d, kind)]
