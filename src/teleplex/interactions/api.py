"""HTTP routes of interactions: the record of every call and conversation, scoped by role."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from sqlalchemy import Select, or_, select

from teleplex.audit import service as audit
from teleplex.auth.deps import PrincipalDep
from teleplex.auth.principal import Principal
from teleplex.campaigns.dispositions import disposition_set
from teleplex.center.models import Disposition
from teleplex.core.crud import get_or_404, page
from teleplex.core.deps import ClockDep, SessionDep
from teleplex.core.errors import InvalidInput, PermissionDenied
from teleplex.core.schemas import MAX_ID, IsoDateTime, ListParams, Page, utc_instant
from teleplex.interactions.models import Interaction, InteractionEvent
from teleplex.interactions.schemas import InteractionDetail, InteractionOut, InteractionUpdate

router = APIRouter(prefix="/api/v1", tags=["interactions"])
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def scope(principal: Principal, stmt: Select[Any]) -> Select[Any]:
    """Admins see all; supervisors the interactions of their queues; agents the ones they handled."""
    if principal.is_admin:
        return stmt
    clauses = []
    if principal.can("interactions.read") and principal.supervised_queue_ids:
        clauses.append(Interaction.queue_id.in_(principal.supervised_queue_ids))
    if principal.can("interactions.read.own") and principal.agent_id is not None:
        clauses.append(Interaction.agent_id == principal.agent_id)
    return stmt.where(or_(*clauses)) if clauses else stmt.where(Interaction.id.is_(None))


async def _visible(session: SessionDep, principal: Principal, interaction_id: int) -> Interaction:
    interaction = await get_or_404(session, Interaction, interaction_id, "interaction")
    found = await session.execute(scope(principal, select(Interaction.id).where(Interaction.id == interaction_id)))
    if found.first() is None:
        raise PermissionDenied(f"interaction {interaction_id} is outside your scope")
    return interaction


@router.get("/interactions", response_model=Page[InteractionOut])
async def list_interactions(
    params: Annotated[ListParams, Depends()],
    session: SessionDep,
    principal: PrincipalDep,
    queue_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    channel: Annotated[str | None, Query(pattern=r"^[a-z]{2,16}$")] = None,
    outcome: Annotated[str | None, Query(pattern=r"^[a-z_]{2,24}$")] = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
) -> dict:
    principal.require_any("interactions.read", "interactions.read.own")
    stmt = scope(principal, select(Interaction))
    for column, value in ((Interaction.queue_id, queue_id), (Interaction.agent_id, agent_id),
                          (Interaction.channel, channel), (Interaction.outcome, outcome)):  # fmt: skip
        if value is not None:
            stmt = stmt.where(column == value)
    since, until = utc_instant("since", since), utc_instant("until", until)
    if since:
        stmt = stmt.where(Interaction.arrived_at >= since)
    if until:
        stmt = stmt.where(Interaction.arrived_at < until)
    items, total = await page(
        session, stmt, params,
        search=[Interaction.caller_id, Interaction.caller_name, Interaction.did],
        order={"id": Interaction.id, "arrived_at": Interaction.arrived_at, "wait_seconds": Interaction.wait_seconds},
        default_order="-id",
    )  # fmt: skip
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


@router.get("/interactions/{interaction_id}", response_model=InteractionDetail)
async def get_interaction(interaction_id: IdPath, session: SessionDep, principal: PrincipalDep) -> dict:
    principal.require_any("interactions.read", "interactions.read.own")
    interaction = await _visible(session, principal, interaction_id)
    events = (
        await session.execute(
            select(InteractionEvent).where(InteractionEvent.interaction_id == interaction_id).order_by(InteractionEvent.id)
        )
    ).scalars()
    return {**InteractionOut.model_validate(interaction).model_dump(), "timeline": list(events)}


@router.patch("/interactions/{interaction_id}", response_model=InteractionOut)
async def update_interaction(
    interaction_id: IdPath, body: InteractionUpdate, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> object:
    """Set the disposition and notes: the agent who handled it, or a supervisor of its queue."""
    principal.require_any("interactions.read", "interactions.read.own")
    interaction = await _visible(session, principal, interaction_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("disposition_id") is not None and await session.get(Disposition, changes["disposition_id"]) is None:
        raise InvalidInput(f"disposition_id: no disposition with id {changes['disposition_id']}",
                           {"field": "disposition_id", "missing": changes["disposition_id"]},
                           reason="unknown_id")  # fmt: skip
    before = InteractionOut.model_validate(interaction).model_dump(mode="json")
    for name, value in changes.items():
        setattr(interaction, name, value)
    await session.flush()
    if "disposition_id" in changes:  # a campaign call's disposition decides its lead's next step
        await disposition_set(session, interaction.id, interaction.disposition_id, clock.now())
    after = InteractionOut.model_validate(interaction).model_dump(mode="json")
    session.add(InteractionEvent(interaction_id=interaction.id, at=clock.now(), kind="disposition",
                                 agent_id=principal.agent_id, data=changes or None))  # fmt: skip
    await audit.record(session, clock, principal, "update", "interaction", interaction.id, before, after)
    return interaction
