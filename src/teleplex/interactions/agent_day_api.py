"""GET /agents/{id}/today: the agent's figures since local midnight, for the console's "My day" panel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from sqlalchemy import select

from teleplex.auth.deps import PrincipalDep
from teleplex.auth.models import User
from teleplex.center import service as center
from teleplex.center.models import Agent
from teleplex.core.deps import ClockDep, SessionDep
from teleplex.core.schemas import MAX_ID, ApiOutput
from teleplex.interactions import agent_day
from teleplex.interactions.models import AgentStateChange, Interaction, InteractionEvent

router = APIRouter(prefix="/api/v1", tags=["presence"])
AgentPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


class PauseTime(ApiOutput):
    reason: str
    seconds: float


class AgentDay(ApiOutput):
    agent_id: int
    since: datetime
    timezone: str
    handled_total: int
    handled_by_channel: dict[str, int]
    talk_seconds: float
    average_talk_seconds: float | None
    handle_seconds: float
    average_handle_seconds: float | None
    ready_seconds: float
    pause_seconds: float
    pause_by_reason: list[PauseTime]
    logged_in_seconds: float
    missed_offers: int


@router.get("/agents/{agent_id}/today", response_model=AgentDay,
            summary="An agent's figures since local midnight in their time zone")  # fmt: skip
async def agent_today(agent_id: AgentPath, request: Request, session: SessionDep, principal: PrincipalDep,
                      clock: ClockDep) -> dict:  # fmt: skip
    """The agent themself, a supervisor of one of their queues, or an administrator."""
    agent = await center.get(session, center.AGENT, agent_id)
    await center.check_agent_visible(session, principal, agent_id)
    engine = getattr(request.app.state, "engine", None)
    if engine is not None and engine.started:
        await engine.settle()  # the records the engine writes behind, so an interaction just ended is counted
    assert isinstance(agent, Agent)
    user = await session.get(User, agent.user_id)
    zone = (user.timezone if user is not None else None) or "UTC"
    now = clock.now()
    start = agent_day.day_start(now, zone)
    return {"agent_id": agent_id, **agent_day.figures(
        now=now,
        timezone=zone,
        handled=await _handled(session, agent_id, start),
        states=await _states(session, agent_id, start),
        offer_failures=await _offer_failures(session, agent_id, start),
    )}  # fmt: skip


async def _handled(session: SessionDep, agent_id: int, start: datetime) -> list[agent_day.HandledRecord]:
    stmt = select(Interaction).where(
        Interaction.agent_id == agent_id, Interaction.answered_at.is_not(None), Interaction.ended_at >= start
    )
    return [
        agent_day.HandledRecord(i.channel, i.direction, i.outcome, i.ended_at, i.talk_seconds, i.hold_seconds,
                                i.wrapup_seconds)  # fmt: skip
        for i in (await session.execute(stmt)).scalars()
        if i.ended_at is not None
    ]


async def _states(session: SessionDep, agent_id: int, start: datetime) -> list[agent_day.StateRecord]:
    """Today's changes, and the last one before midnight (the state the day began in; looked back a week)."""
    base = select(AgentStateChange).where(AgentStateChange.agent_id == agent_id)
    before = base.where(AgentStateChange.at < start, AgentStateChange.at >= start - timedelta(days=7))
    latest = before.order_by(AgentStateChange.at.desc(), AgentStateChange.id.desc()).limit(1)
    rows = list((await session.execute(latest)).scalars())
    today = base.where(AgentStateChange.at >= start).order_by(AgentStateChange.id)
    rows += (await session.execute(today)).scalars()
    return [agent_day.StateRecord(r.at, r.state, r.reason) for r in rows]


async def _offer_failures(
    session: SessionDep, agent_id: int, start: datetime
) -> list[agent_day.OfferFailure]:
    stmt = select(InteractionEvent).where(
        InteractionEvent.kind == "offer_failed",
        InteractionEvent.agent_id == agent_id,
        InteractionEvent.at >= start,
    )
    return [
        agent_day.OfferFailure(e.at, (e.data or {}).get("reason"))
        for e in (await session.execute(stmt)).scalars()
    ]
