"""Agents' presence use cases: each is one fact for the router, with its refusal turned into a clear 409."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.auth.principal import Principal
from teleplex.center import service as center
from teleplex.center import wrapup_rules
from teleplex.center.models import Agent, Queue
from teleplex.core.errors import Conflict
from teleplex.engine.engine import Engine, interaction_of
from teleplex.interactions.models import Interaction
from teleplex.routing import AgentNotFound, AgentSnapshot, Decision, RoutingError


def _items(ids: tuple[str, ...]) -> list[int]:
    """Interaction ids (a consulted agent's item stands for the call they were asked about)."""
    return [interaction_of(i) for i in ids]


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
            raise Conflict(f"agent {agent_id} is not logged in", {"agent_id": agent_id},
                           reason="agent_not_logged_in") from None  # fmt: skip
        except RoutingError as exc:
            raise Conflict(str(exc), {"agent_id": agent_id}, reason="presence_refused") from None
    await engine.settle()
    return agent_state(engine, agent_id)


async def login(engine: Engine, agent_id: int, device: str | None, pause_reason: str | None) -> dict[str, Any]:
    async with engine.db.session() as session:
        agent = await session.get(Agent, agent_id)
        assert agent is not None
    if not (device or agent.device):
        raise Conflict(f"agent {agent_id} has no device: give one at login or in the agent's profile",
                       {"field": "device", "agent_id": agent_id}, reason="agent_has_no_device")  # fmt: skip
    async with engine.serial():
        try:
            await engine.agent_login(agent_id, device, pause_reason)
        except RoutingError as exc:
            raise Conflict(str(exc), {"agent_id": agent_id}, reason="login_refused") from None
    await engine.settle()
    return agent_state(engine, agent_id)


async def logout(engine: Engine, agent_id: int) -> dict[str, Any]:
    chat = engine.handlers.get("webchat")
    if chat is not None:  # their conversations go back to the queues before they leave
        async with engine.serial():
            await chat.return_agents_chats(agent_id)  # type: ignore[attr-defined]
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
    """Refused (409 wrapup_incomplete) while a call in wrap-up lacks what its queue or campaign requires."""
    wrapups = agent_state(engine, agent_id)["wrapups"]
    if wrapups:
        async with engine.db.session() as session:
            await wrapup_rules.check_can_end(session, agent_id, wrapups)
    return await _fact(engine, agent_id, lambda: engine.router.end_wrapup(str(agent_id)))


async def live(engine: Engine, session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """Queues and agents now, limited to the caller's scope."""
    snap = engine.router.snapshot(engine.clock.now())
    agent_ids = set((await session.execute(center.scope_agents(principal, select(Agent.id)))).scalars())
    queue_ids = (await session.execute(center.scope_queues(principal, select(Queue.id)).order_by(Queue.id))).scalars()
    stats = {int(q.queue_id): q for q in snap.queues}
    queue_ids = list(queue_ids)
    today = await _today(session, queue_ids, snap.at)
    chat = engine.handlers.get("webchat")
    overdue: dict[int, int] = chat.first_response.overdue_by_queue() if chat is not None else {}  # type: ignore[attr-defined]
    queues = []
    for queue_id in queue_ids:  # every visible queue, idle ones too (the router only knows queues in use)
        q = stats.get(queue_id)
        queues.append({"queue_id": queue_id, "waiting": q.waiting if q else 0, "offered": q.offered if q else 0,
                       "connected": q.connected if q else 0,
                       "longest_wait_s": round(q.longest_wait_s, 3) if q else 0.0,
                       "first_response_overdue": overdue.get(queue_id, 0), **today[queue_id]})  # fmt: skip
    voice = engine.handlers.get("voice")
    return {
        "at": snap.at,
        "voice_link": getattr(voice, "link_up", None) if voice else None,
        "queues": queues,
        "agents": [_shape(a) for a in snap.agents if int(a.agent_id) in agent_ids],
    }


async def _today(session: AsyncSession, queue_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """Each queue's day so far (since midnight UTC): answered, abandoned, service level, average handle time.

    Service level = answered within the queue's `service_level_seconds` / (answered + abandoned)."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    within = case((Interaction.wait_seconds <= Queue.service_level_seconds, 1), else_=0)
    handle = func.coalesce(Interaction.talk_seconds, 0) + func.coalesce(Interaction.hold_seconds, 0) + \
        func.coalesce(Interaction.wrapup_seconds, 0)
    answered = Interaction.answered_at.is_not(None)
    stmt = (
        select(Interaction.queue_id,
               func.sum(case((answered, 1), else_=0)),
               func.sum(case((Interaction.outcome == "abandoned", 1), else_=0)),
               func.sum(case((answered, within), else_=0)),
               func.avg(case((answered & Interaction.ended_at.is_not(None), handle), else_=None)))
        .join(Queue, Queue.id == Interaction.queue_id)
        .where(Interaction.arrived_at >= midnight, Interaction.queue_id.in_(queue_ids))
        .group_by(Interaction.queue_id)
    )  # fmt: skip
    out = {q: {"answered_today": 0, "abandoned_today": 0, "service_level_today": None,
               "average_handle_s_today": None} for q in queue_ids}  # fmt: skip
    for queue_id, n_answered, n_abandoned, n_within, avg_handle in await session.execute(stmt):
        n_answered, n_abandoned = int(n_answered or 0), int(n_abandoned or 0)
        offered = n_answered + n_abandoned
        out[queue_id] = {
            "answered_today": n_answered,
            "abandoned_today": n_abandoned,
            "service_level_today": round(int(n_within or 0) / offered, 4) if offered else None,
            "average_handle_s_today": round(float(avg_handle), 1) if avg_handle is not None else None,
        }
    return out
