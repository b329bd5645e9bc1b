"""Callbacks in the database: scheduling, scoped listing, cancelling, and what is due now.

Inbound callers' "press 1" requests (source inbound_overflow, stored by voice) and agents' schedules live in
the same table and appear in the same lists.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.auth.principal import Principal
from teleplex.campaigns import due as due_rules
from teleplex.campaigns.dnc import normalise
from teleplex.campaigns.models import Callback, Campaign, CampaignAgent, Lead
from teleplex.campaigns.schemas import CallbackCreate, CallbackOut
from teleplex.center.models import Agent, AgentQueue, Queue
from teleplex.core.clock import Clock
from teleplex.core.crud import get_or_404
from teleplex.core.errors import Conflict, InvalidInput, PermissionDenied

PENDING, CANCELLED = "pending", "cancelled"


def snapshot(cb: Callback) -> dict[str, Any]:
    return CallbackOut.model_validate(cb).model_dump(mode="json")


def _team_queues(principal: Principal) -> frozenset[int]:
    """Queues whose team callbacks the caller handles: supervised ones (supervisors), member ones (agents)."""
    out: frozenset[int] = frozenset()
    if principal.can("callbacks.read") or principal.can("callbacks.write"):
        out |= principal.supervised_queue_ids
    if principal.can("callbacks.read.own") or principal.can("callbacks.write.own"):
        out |= principal.member_queue_ids
    return out


def scope_callbacks(principal: Principal, stmt: Select[Any]) -> Select[Any]:
    """Admins: all. Supervisors: every callback of their queues. Agents: their own personal ones, and the
    team (non-personal) ones of their queues and of the campaigns they are named on."""
    if principal.is_admin:
        return stmt
    clauses: list[ColumnElement[bool]] = []
    if principal.can("callbacks.read") and principal.supervised_queue_ids:
        clauses.append(Callback.queue_id.in_(principal.supervised_queue_ids))
    if principal.can("callbacks.read.own"):
        if principal.agent_id is not None:
            clauses.append(Callback.agent_id == principal.agent_id)
            mine = select(CampaignAgent.campaign_id).where(CampaignAgent.agent_id == principal.agent_id)
            clauses.append(and_(Callback.agent_id.is_(None), Callback.campaign_id.in_(mine)))
        if principal.member_queue_ids:
            clauses.append(and_(Callback.agent_id.is_(None), Callback.queue_id.in_(principal.member_queue_ids)))
    return stmt.where(or_(*clauses)) if clauses else stmt.where(false())


async def get_visible(session: AsyncSession, principal: Principal, callback_id: int) -> Callback:
    cb = await get_or_404(session, Callback, callback_id, "callback")
    found = await session.execute(scope_callbacks(principal, select(Callback.id).where(Callback.id == callback_id)))
    if found.first() is None:
        raise PermissionDenied(f"callback {callback_id} is outside your scope", {"callback_id": callback_id})
    return cb


async def schedule(
    session: AsyncSession, clock: Clock, principal: Principal, region: str, data: CallbackCreate
) -> Callback:
    """An agent's or supervisor's promise to call back; checked against the caller's scope."""
    number = normalise(data.number, region)
    if number is None:
        raise InvalidInput(f"number: '{data.number}' is not a possible phone number",
                           {"field": "number", "value": data.number},
                           reason="not_a_phone_number")  # fmt: skip
    queue_id, campaign_id = data.queue_id, data.campaign_id
    if campaign_id is not None:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise InvalidInput(f"campaign_id: no campaign with id {campaign_id}",
                               {"field": "campaign_id", "missing": campaign_id},
                               reason="unknown_id")  # fmt: skip
        if queue_id is None:
            queue_id = campaign.queue_id
    if queue_id is not None and await session.get(Queue, queue_id) is None:
        raise InvalidInput(f"queue_id: no queue with id {queue_id}",
                           {"field": "queue_id", "missing": queue_id},
                           reason="unknown_id")  # fmt: skip
    if data.agent_id is not None and await session.get(Agent, data.agent_id) is None:
        raise InvalidInput(f"agent_id: no agent with id {data.agent_id}",
                           {"field": "agent_id", "missing": data.agent_id},
                           reason="unknown_id")  # fmt: skip
    if data.lead_id is not None:
        lead = await session.get(Lead, data.lead_id)
        if lead is None or (campaign_id is not None and lead.campaign_id != campaign_id):
            raise InvalidInput(f"lead_id: no lead {data.lead_id} in this campaign",
                               {"field": "lead_id", "missing": data.lead_id},
                               reason="unknown_id")  # fmt: skip
    await _check_may_schedule(session, principal, data.agent_id, queue_id, campaign_id)
    now = clock.now()
    if data.due_until is not None and data.due_until <= now:
        raise InvalidInput("due_until: the window has already ended", {"field": "due_until"},
                           reason="window_ended")  # fmt: skip
    cb = Callback(
        number=number, name=data.name, note=data.note, agent_id=data.agent_id, queue_id=queue_id,
        campaign_id=campaign_id, lead_id=data.lead_id, source="agent", status=PENDING, requested_at=now,
        due_at=data.due_at, due_until=data.due_until, created_by=principal.name, updated_at=now,
    )  # fmt: skip
    session.add(cb)
    await session.flush()
    await audit.record(session, clock, principal, "create", "callback", cb.id, None, snapshot(cb))
    return cb


async def _check_may_schedule(
    session: AsyncSession, principal: Principal, agent_id: int | None, queue_id: int | None, campaign_id: int | None
) -> None:
    if principal.is_admin:
        return
    if principal.can("callbacks.write"):  # supervisors: within their queues
        if queue_id is not None and queue_id in principal.supervised_queue_ids:
            if agent_id is None:
                return
            member = await session.execute(
                select(AgentQueue.agent_id).where(AgentQueue.agent_id == agent_id, AgentQueue.queue_id == queue_id)
            )
            if member.first() is not None:
                return
    if principal.can("callbacks.write.own") and principal.agent_id is not None:  # agents: themselves, their teams
        if agent_id not in (None, principal.agent_id):
            raise PermissionDenied("agents schedule personal callbacks only for themselves", {"field": "agent_id"})
        if queue_id is None and agent_id == principal.agent_id and campaign_id is None:
            return
        if queue_id is not None and queue_id in principal.member_queue_ids:
            return
        if campaign_id is not None:
            named = await session.execute(select(CampaignAgent.agent_id).where(
                CampaignAgent.campaign_id == campaign_id, CampaignAgent.agent_id == principal.agent_id
            ))  # fmt: skip
            if named.first() is not None:
                return
    raise PermissionDenied("this callback is outside your scope (queue, campaign or agent)", {"queue_id": queue_id})


async def cancel(session: AsyncSession, clock: Clock, actor: Actor, cb: Callback) -> Callback:
    if cb.status != PENDING:
        raise Conflict(f"callback {cb.id} is {cb.status}; only pending callbacks can be cancelled",
                       {"status": cb.status, "callback_id": cb.id},
                       reason="callback_not_pending")  # fmt: skip
    before = snapshot(cb)
    cb.status = CANCELLED
    cb.updated_at = clock.now()
    await session.flush()
    await audit.record(session, clock, actor, "cancel", "callback", cb.id, before, snapshot(cb))
    return cb


async def due_now(
    session: AsyncSession, stmt: Select[Any], now: datetime, grace: timedelta | None = None
) -> list[tuple[Callback, due_rules.DueCallback]]:
    """Pending callbacks (of `stmt`, already scoped) that may be dialed at `now`, most urgent first.

    The grace before a personal callback goes to the team is its campaign's `callback_grace_minutes`, or
    `grace` (default 15 minutes) for callbacks without a campaign."""
    rows = list((await session.execute(stmt.where(Callback.status == PENDING))).scalars())
    campaign_ids = {cb.campaign_id for cb in rows if cb.campaign_id is not None}
    graces: dict[int | None, timedelta] = {None: grace or due_rules.DEFAULT_GRACE}
    if campaign_ids:
        found = await session.execute(
            select(Campaign.id, Campaign.callback_grace_minutes).where(Campaign.id.in_(campaign_ids))
        )
        graces |= {cid: timedelta(minutes=m) for cid, m in found.all()}
    by_id = {cb.id: cb for cb in rows}
    out: list[tuple[Callback, due_rules.DueCallback]] = []
    for cb in rows:
        view = due_rules.PendingCallback(cb.id, cb.requested_at, cb.due_at, cb.due_until, cb.agent_id, cb.source)
        for d in due_rules.due([view], now, graces.get(cb.campaign_id, graces[None])):
            out.append((by_id[d.id], d))
    out.sort(key=lambda pair: (-pair[1].priority, pair[0].requested_at, pair[0].id))
    return out
