"""The center's queues as an agent choosing where to transfer sees them: every queue, with how busy it is now.

Scope does not apply here on purpose: a sales agent sends a caller to billing without working in billing.
Only what the choice needs is shown (name, the channels it takes, waiting and ready counts), never the
queue's configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.center.models import AgentQueue, Queue
from teleplex.routing import Presence, RouterSnapshot


async def queue_directory(session: AsyncSession, snapshot: RouterSnapshot) -> list[dict[str, Any]]:
    """Every queue by name, with the customers not yet answered and the members ready now."""
    unanswered = {int(q.queue_id): q.waiting + q.offered for q in snapshot.queues}
    ready_ids = [int(a.agent_id) for a in snapshot.agents if a.state == Presence.READY]
    ready: dict[int, int] = {}
    if ready_ids:
        counts = select(AgentQueue.queue_id, func.count()).where(AgentQueue.agent_id.in_(ready_ids))
        ready = {q: n for q, n in await session.execute(counts.group_by(AgentQueue.queue_id))}
    by_name = select(Queue.id, Queue.name, Queue.channels).order_by(Queue.name, Queue.id)
    queues = (await session.execute(by_name)).all()
    return [{"id": q.id, "name": q.name, "channels": list(q.channels), "waiting": unanswered.get(q.id, 0),
             "ready_agents": ready.get(q.id, 0)} for q in queues]  # fmt: skip
