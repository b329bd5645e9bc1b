"""Use cases of the contact-center configuration: every change validated, scoped, stored and audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.auth.models import SupervisorQueue, User
from teleplex.auth.principal import Principal
from teleplex.auth.roles import Role
from teleplex.center.models import (
    Agent,
    AgentQueue,
    BusinessHours,
    Disposition,
    PauseReason,
    Queue,
    QueueDid,
    QueueDisposition,
)
from teleplex.center.schemas import (
    AgentCreate,
    AgentOut,
    AgentUpdate,
    BusinessHoursOut,
    DispositionOut,
    PauseReasonOut,
    QueueCreate,
    QueueOut,
    QueueUpdate,
)
from teleplex.core.clock import Clock
from teleplex.core.crud import flush_or_conflict, get_or_404, page
from teleplex.core.errors import AlreadyExists, Conflict, InvalidInput, PermissionDenied
from teleplex.core.schemas import ListParams
from teleplex.interactions.models import Interaction


@dataclass(frozen=True)
class Kind:
    """What the generic create/update/delete needs to know about one kind of configuration record."""

    model: type[Any]
    out: type[BaseModel]
    label: str  # for messages: "queue", "pause reason"
    audit_type: str
    unique: str  # the field that must be unique, for a friendly 409
    permission: str  # prefix of its permissions: "<permission>.read", "<permission>.write"
    nullable: frozenset[str] = frozenset()


QUEUE = Kind(
    Queue, QueueOut, "queue", "queue", "name", "queues",
    frozenset({"description", "max_wait_seconds", "overflow", "business_hours_id", "closed_treatment",
               "crm_url_template"}),
)  # fmt: skip
AGENT = Kind(Agent, AgentOut, "agent", "agent", "number", "agents", frozenset({"device"}))
PAUSE_REASON = Kind(
    PauseReason, PauseReasonOut, "pause reason", "pause_reason", "name", "pause_reasons",
    frozenset({"max_duration_seconds"}),
)  # fmt: skip
DISPOSITION = Kind(Disposition, DispositionOut, "disposition", "disposition", "code", "dispositions")
BUSINESS_HOURS = Kind(BusinessHours, BusinessHoursOut, "business hours", "business_hours", "name", "business_hours")


def snapshot(kind: Kind, obj: Any) -> dict[str, Any]:
    """The record as the API shows it; the audit log stores this shape."""
    return kind.out.model_validate(obj).model_dump(mode="json")


async def _ensure_unique(session: AsyncSession, kind: Kind, value: Any, exclude_id: int | None = None) -> None:
    column = getattr(kind.model, kind.unique)
    stmt = select(kind.model.id).where(column == value)
    if exclude_id is not None:
        stmt = stmt.where(kind.model.id != exclude_id)
    if (await session.execute(stmt)).first():
        raise AlreadyExists(f"a {kind.label} with {kind.unique} '{value}' exists", {"field": kind.unique, "value": value})


def _reject_nulls(kind: Kind, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is None and name not in kind.nullable:
            raise InvalidInput(f"{name}: may not be null", {"field": name}, reason="not_nullable")


async def create(session: AsyncSession, clock: Clock, actor: Actor, kind: Kind, values: dict[str, Any]) -> Any:
    """Insert one record after the uniqueness check; audited."""
    await _ensure_unique(session, kind, values[kind.unique])
    now = clock.now()
    obj = kind.model(**values, created_at=now, updated_at=now)
    session.add(obj)
    await flush_or_conflict(session, f"a {kind.label} with {kind.unique} '{values[kind.unique]}' exists",
                            reason="name_in_use")  # fmt: skip
    await session.refresh(obj)
    await audit.record(session, clock, actor, "create", kind.audit_type, obj.id, None, snapshot(kind, obj))
    return obj


async def update(
    session: AsyncSession, clock: Clock, actor: Actor, kind: Kind, obj: Any, changes: dict[str, Any]
) -> Any:
    """Apply only the fields the caller sent; audited with before and after."""
    _reject_nulls(kind, changes)
    before = snapshot(kind, obj)
    if kind.unique in changes:
        await _ensure_unique(session, kind, changes[kind.unique], exclude_id=obj.id)
    for name, value in changes.items():
        setattr(obj, name, value)
    obj.updated_at = clock.now()
    await flush_or_conflict(session, f"a {kind.label} with that {kind.unique} exists", reason="name_in_use")
    await session.refresh(obj)
    after = snapshot(kind, obj)
    if after != before:
        await audit.record(session, clock, actor, "update", kind.audit_type, obj.id, before, after)
    return obj


async def delete(session: AsyncSession, clock: Clock, actor: Actor, kind: Kind, obj: Any) -> None:
    before = snapshot(kind, obj)
    await session.delete(obj)
    await flush_or_conflict(session, f"this {kind.label} is still referenced by other records",
                            reason="still_referenced")  # fmt: skip
    await audit.record(session, clock, actor, "delete", kind.audit_type, before["id"], before, None)


async def list_page(
    session: AsyncSession,
    stmt: Select[Any],
    params: ListParams,
    search: list[ColumnElement[Any]],
    order: dict[str, ColumnElement[Any]],
) -> dict[str, Any]:
    items, total = await page(session, stmt, params, search=search, order=order)
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


async def _refuse_if_history(session: AsyncSession, column: Any, obj_id: int, what: str) -> None:
    """Records that interactions point at stay: reports and recordings must keep meaning something."""
    count = (await session.execute(select(func.count(Interaction.id)).where(column == obj_id))).scalar_one()
    if count:
        raise Conflict(f"{what} has {count} interactions in its history and cannot be deleted",
                       {"interactions": count},
                       reason="has_history")  # fmt: skip


async def _refuse_if_used(
    session: AsyncSession, stmt: Select[Any], message: str, *, reason: str, name: str
) -> None:
    """Deleting something still referenced would leave records dangling: refuse with who uses it."""
    users = sorted(set((await session.execute(stmt)).scalars()))
    if users:
        details = {"used_by": users, "name": name}
        raise Conflict(f"{message}: {', '.join(map(str, users))}", details, reason=reason)


# --- scope -----------------------------------------------------------------------------------------------


def check_queue_visible(principal: Principal, queue_id: int) -> None:
    visible = principal.visible_queue_ids()
    if visible is not None and queue_id not in visible:
        raise PermissionDenied(f"queue {queue_id} is outside your scope", {"queue_id": queue_id})


def scope_queues(principal: Principal, stmt: Select[Any]) -> Select[Any]:
    visible = principal.visible_queue_ids()
    return stmt if visible is None else stmt.where(Queue.id.in_(visible))


def scope_agents(principal: Principal, stmt: Select[Any]) -> Select[Any]:
    """Admins see every agent; supervisors the agents of their queues; an agent sees only themself."""
    if principal.is_admin:
        return stmt
    clauses = []
    if principal.can("agents.read") and principal.supervised_queue_ids:
        members = select(AgentQueue.agent_id).where(AgentQueue.queue_id.in_(principal.supervised_queue_ids))
        clauses.append(Agent.id.in_(members))
    if principal.can("agents.read.own") and principal.agent_id is not None:
        clauses.append(Agent.id == principal.agent_id)
    if not clauses:
        return stmt.where(Agent.id.is_(None))
    return stmt.where(or_(*clauses))


async def check_agent_visible(session: AsyncSession, principal: Principal, agent_id: int) -> None:
    found = (await session.execute(scope_agents(principal, select(Agent.id).where(Agent.id == agent_id)))).first()
    if found is None:
        raise PermissionDenied(f"agent {agent_id} is outside your scope", {"agent_id": agent_id})


# --- queues ----------------------------------------------------------------------------------------------


async def _check_queue_refs(session: AsyncSession, values: dict[str, Any], queue_id: int | None) -> None:
    overflow = values.get("overflow")
    if overflow and overflow.get("kind") == "queue":
        target = overflow["queue_id"]
        if target == queue_id:
            raise InvalidInput("overflow.queue_id: a queue cannot overflow to itself",
                               {"field": "overflow.queue_id"},
                               reason="overflow_to_itself")  # fmt: skip
        if await session.get(Queue, target) is None:
            raise InvalidInput(f"overflow.queue_id: no queue with id {target}",
                               {"field": "overflow.queue_id", "missing": target},
                               reason="unknown_id")  # fmt: skip
    hours = values.get("business_hours_id")
    if hours is not None and await session.get(BusinessHours, hours) is None:
        raise InvalidInput(f"business_hours_id: no business hours with id {hours}",
                           {"field": "business_hours_id", "missing": hours},
                           reason="unknown_id")  # fmt: skip
    ids = values.get("disposition_ids") or []
    if ids:
        found = set((await session.execute(select(Disposition.id).where(Disposition.id.in_(ids)))).scalars())
        missing = sorted(set(ids) - found)
        if missing:
            raise InvalidInput(
                f"disposition_ids: no disposition with id {', '.join(map(str, missing))}",
                {"field": "disposition_ids", "missing": missing},
                reason="unknown_id"
            )


async def _queue_values(
    session: AsyncSession, data: BaseModel, queue_id: int | None, exclude_unset: bool
) -> dict[str, Any]:
    """Validate references and turn the id lists into link rows."""
    values = data.model_dump(mode="json", exclude_unset=exclude_unset)
    dispositions = values.pop("disposition_ids", None)
    dids = values.pop("dids", None)
    await _check_queue_refs(session, {**values, "disposition_ids": dispositions}, queue_id)
    if dispositions is not None:
        values["disposition_links"] = [QueueDisposition(disposition_id=d) for d in sorted(set(dispositions))]
    if dids is not None:
        taken = select(QueueDid).where(QueueDid.did.in_(dids))
        if queue_id is not None:
            taken = taken.where(QueueDid.queue_id != queue_id)
        clash = (await session.execute(taken)).scalars().first()
        if clash is not None:
            raise Conflict(
                f"dids: number {clash.did} already leads to queue {clash.queue_id}",
                {"field": "dids", "did": clash.did, "queue_id": clash.queue_id}, reason="did_taken",
            )
        values["did_links"] = [QueueDid(did=d) for d in dids]
    return values


async def create_queue(session: AsyncSession, clock: Clock, actor: Actor, data: QueueCreate) -> Queue:
    values = await _queue_values(session, data, None, exclude_unset=False)
    return await create(session, clock, actor, QUEUE, values)


async def update_queue(session: AsyncSession, clock: Clock, actor: Actor, queue: Queue, data: QueueUpdate) -> Queue:
    values = await _queue_values(session, data, queue.id, exclude_unset=True)
    max_wait = values.get("max_wait_seconds", queue.max_wait_seconds)
    overflow = values.get("overflow", queue.overflow)
    if (max_wait is None) != (overflow is None):
        raise InvalidInput("max_wait_seconds and overflow go together: set both or neither",
                           {"field": "overflow"},
                           reason="overflow_needs_max_wait")  # fmt: skip
    return await update(session, clock, actor, QUEUE, queue, values)


async def delete_queue(session: AsyncSession, clock: Clock, actor: Actor, queue: Queue) -> None:
    await _refuse_if_used(
        session,
        select(Agent.number).join(AgentQueue, AgentQueue.agent_id == Agent.id).where(AgentQueue.queue_id == queue.id),
        f"queue '{queue.name}' has member agents (remove them first)",
        reason="queue_has_members", name=queue.name,
    )
    others = (await session.execute(select(Queue).where(Queue.id != queue.id))).scalars()
    overflowing = [q.name for q in others if (q.overflow or {}).get("queue_id") == queue.id]
    if overflowing:
        raise Conflict(
            f"queue '{queue.name}' is the overflow target of: {', '.join(sorted(overflowing))}",
            {"used_by": sorted(overflowing), "name": queue.name}, reason="queue_is_overflow_target",
        )
    await _refuse_if_used(
        session,
        select(User.username).join(SupervisorQueue, SupervisorQueue.user_id == User.id).where(
            SupervisorQueue.queue_id == queue.id
        ),
        f"queue '{queue.name}' is supervised by",
        reason="queue_supervised", name=queue.name,
    )
    await _refuse_if_history(session, Interaction.queue_id, queue.id, f"queue '{queue.name}'")
    await delete(session, clock, actor, QUEUE, queue)


# --- agents ----------------------------------------------------------------------------------------------


async def _check_memberships(session: AsyncSession, queues: list[dict[str, Any]] | None) -> None:
    ids = [m["queue_id"] for m in queues or []]
    if ids:
        found = set((await session.execute(select(Queue.id).where(Queue.id.in_(ids)))).scalars())
        missing = sorted(set(ids) - found)
        if missing:
            raise InvalidInput(f"queues: no queue with id {', '.join(map(str, missing))}",
                               {"field": "queues", "missing": missing},
                               reason="unknown_id")  # fmt: skip


async def create_agent(session: AsyncSession, clock: Clock, actor: Actor, data: AgentCreate) -> Agent:
    user = await session.get(User, data.user_id)
    if user is None:
        raise InvalidInput(f"user_id: no user with id {data.user_id}",
                           {"field": "user_id", "missing": data.user_id},
                           reason="unknown_id")  # fmt: skip
    if Role.AGENT not in user.roles:
        raise InvalidInput(f"user_id: user '{user.username}' does not hold the agent role",
                           {"field": "user_id", "username": user.username},
                           reason="user_not_agent")  # fmt: skip
    if (await session.execute(select(Agent.id).where(Agent.user_id == user.id))).first():
        raise Conflict(f"user '{user.username}' already has an agent profile",
                       {"field": "user_id", "username": user.username},
                       reason="user_already_agent")  # fmt: skip
    values = data.model_dump(mode="json")
    await _check_memberships(session, values["queues"])
    values["memberships"] = [AgentQueue(**m) for m in values.pop("queues")]
    values["display_name"] = values["display_name"] or user.display_name or user.username
    return await create(session, clock, actor, AGENT, values)


async def update_agent(session: AsyncSession, clock: Clock, actor: Actor, agent: Agent, data: AgentUpdate) -> Agent:
    values = data.model_dump(mode="json", exclude_unset=True)
    if "queues" in values:
        await _check_memberships(session, values["queues"])
        queues = values.pop("queues")
        if queues is None:
            raise InvalidInput("queues: may not be null", {"field": "queues"}, reason="not_nullable")
        values["memberships"] = [AgentQueue(**m) for m in queues]
    if "display_name" in values and values["display_name"] is None:
        raise InvalidInput("display_name: may not be null", {"field": "display_name"}, reason="not_nullable")
    return await update(session, clock, actor, AGENT, agent, values)


async def delete_agent(session: AsyncSession, clock: Clock, actor: Actor, agent: Agent) -> None:
    await _refuse_if_history(session, Interaction.agent_id, agent.id, f"agent {agent.number}")
    await delete(session, clock, actor, AGENT, agent)


# --- pause reasons, dispositions, business hours -----------------------------------------------------------


async def delete_disposition(session: AsyncSession, clock: Clock, actor: Actor, disp: Disposition) -> None:
    await _refuse_if_used(
        session,
        select(Queue.name).join(QueueDisposition, QueueDisposition.queue_id == Queue.id).where(
            QueueDisposition.disposition_id == disp.id
        ),
        f"disposition '{disp.code}' is attached to queues",
        reason="disposition_in_queues", name=disp.code,
    )
    await _refuse_if_history(session, Interaction.disposition_id, disp.id, f"disposition '{disp.code}'")
    await delete(session, clock, actor, DISPOSITION, disp)


async def delete_business_hours(session: AsyncSession, clock: Clock, actor: Actor, hours: BusinessHours) -> None:
    await _refuse_if_used(
        session,
        select(Queue.name).where(Queue.business_hours_id == hours.id),
        f"business hours '{hours.name}' are used by queues",
        reason="business_hours_in_use", name=hours.name,
    )
    await delete(session, clock, actor, BUSINESS_HOURS, hours)


async def get(session: AsyncSession, kind: Kind, obj_id: int) -> Any:
    return await get_or_404(session, kind.model, obj_id, kind.label)
