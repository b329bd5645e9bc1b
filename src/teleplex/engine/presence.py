"""Agents' presence use cases: each is one fact for the router, with its refusal turned into a clear 409."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.auth.principal import Principal
from teleplex.center import service as center
from teleplex.center.models import Agent, Queue
from teleplex.core.errors import Conflict
from teleplex.engine.engine import Engine
from teleplex.routing import AgentNotFound, AgentSnapshot, Decision, RoutingError


def _items(ids: tuple[str, ...]) -> list[int]:
    return [int(i) for i in ids]


def _shape(a: AgentSnapshot) -> dict[str, Any]:
    return {
        "agent_id": int(a.agent_id),
        "state": str(a.state),
        "since": a.since,
        "time_in_state_s": round(a.time_in_state_s, 3),
        "pause_reason": a.pause_reason,
        "device": a.device,
        "offers": _items(a.offers),
        "interactions": _items(a.interactions),
        "wrapups": _items(a.wrapups),
    }


def agent_state(engine: Engine, agent_id: int) -> dict[str, Any]:
    for a in engine.router.snapshot(engine.clock.now()).agents:
        if a.agent_id == str(agent_id):
            return _shape(a)
    now = engine.clock.now()
    return {"agent_id": agent_id, "state": "logged_out", "since": now, "time_in_state_s": 0.0, "pause_reason": None,
            "device": None, "offers": [], "interactions": [], "wrapups": []}  # fmt: skip


async def _fact(engine: Engine, agent_id: int, fact: Callable[[], list[Decision]]) -> dict[str, Any]:
    async with engine.serial():
        try:
            await engine.decide(fact)
        except AgentNotFound:
            raise Conflict(f"agent {agent_id} is not logged in", {"agent_id": agent_id}) from None
        except RoutingError as exc:
            raise Conflict(str(exc), {"agent_id": agent_id}) from None
    await engine.settle()
    return agent_state(engine, agent_id)


async def login(engine: Engine, agent_id: int, device: str | None, pause_reason: str | None) -> dict[str, Any]:
    async with engine.db.session() as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
    if not (device or agent.device):
        raise Conflict(f"agent {agent_id} has no device: give one at login or in the agent's profile",
                       {"field": "device"})  # fmt: skip
    async with engine.serial():
        try:
            await engine.agent_login(agent_id, device, pause_reason)
        except RoutingError as exc:
            raise Conflict(str(exc), {"agent_id": agent_id}) from None
    await engine.settle()
    return agent_state(engine, agent_id)


async def logout(engine: Engine, agent_id: int) -> dict[str, Any]:
    result = await _fact(engine, agent_id, lambda: engine.router.agent_logout(str(agent_id)))
    engine.devices.pop(str(agent_id), None)
    return result


async def ready(engine: Engine, agent_id: int) -> dict[str, Any]:
    return await _fact(engine, agent_id, lambda: engine.router.agent_ready(str(agent_id)))


async def pause(engine: Engine, agent_id: int, reason: str, after_current: bool) -> dict[str, Any]:
    limit = await engine.pause_limit(reason)
    if after_current:
        return await _fact(engine, agent_id, lambda: engine.router.pause_after_current(str(agent_id), reason, limit))
    return await _fact(engine, agent_id, lambda: engine.router.agent_pause(str(agent_id), reason, limit))


async def end_wrapup(engine: Engine, agent_id: int) -> dict[str, Any]:
    return await _fact(engine, agent_id, lambda: engine.router.end_wrapup(str(agent_id)))


async def live(engine: Engine, session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """Queues and agents now, limited to the caller's scope."""
    snap = engine.router.snapshot(engine.clock.now())
    agent_ids = set((await session.execute(center.scope_agents(principal, select(Agent.id)))).scalars())
    queue_ids = (await session.execute(center.scope_queues(principal, select(Queue.id)).order_by(Queue.id))).scalars()
    stats = {int(q.queue_id): q for q in snap.queues}
    queues = []
    for queue_id in queue_ids:  # every visible queue, idle ones too (the router only knows queues in use)
        q = stats.get(queue_id)
        queues.append({"queue_id": queue_id, "waiting": q.waiting if q else 0, "offered": q.offered if q else 0,
                       "connected": q.connected if q else 0,
                       "longest_wait_s": round(q.longest_wait_s, 3) if q else 0.0})  # fmt: skip
    voice = engine.handlers.get("voice")
    return {
        "at": snap.at,
        "voice_link": getattr(voice, "link_up", None) if voice else None,
        "queues": queues,
        "agents": [_shape(a) for a in snap.agents if int(a.agent_id) in agent_ids],
    }
