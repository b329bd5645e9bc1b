"""Use cases of the interaction record: every move of an interaction is stored as it happens, with a timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.core.ids import reserve
from teleplex.interactions import states
from teleplex.interactions.models import AgentStateChange, Interaction, InteractionEvent
from teleplex.interactions.states import InteractionState as S
from teleplex.interactions.states import Outcome


def _seconds(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else round((end - start).total_seconds(), 3)


async def event(
    session: AsyncSession,
    interaction: Interaction,
    at: datetime,
    kind: str,
    agent_id: int | None = None,
    **data: Any,
) -> None:
    session.add(
        InteractionEvent(interaction_id=interaction.id, at=at, kind=kind, agent_id=agent_id, data=data or None)
    )


def _move(interaction: Interaction, new: S) -> None:
    states.check(interaction.state, new)
    interaction.state = new


async def open_interaction(
    session: AsyncSession,
    at: datetime,
    *,
    channel: str,
    direction: str = "inbound",
    media_ref: str | None = None,
    did: str | None = None,
    caller_id: str | None = None,
    caller_name: str | None = None,
    contact_id: int | None = None,
    interaction_id: int | None = None,
) -> Interaction:
    """Open the record; its id comes from the shared counter (see core/ids.py), given or reserved here."""
    if interaction_id is None:
        interaction_id = (await reserve(session, "interactions", 1))[0]
    interaction = Interaction(
        id=interaction_id,
        channel=channel,
        direction=direction,
        state=S.ARRIVED,
        arrived_at=at,
        media_ref=media_ref,
        did=did,
        caller_id=caller_id,
        caller_name=caller_name,
        contact_id=contact_id,
        hold_seconds=0.0,
    )
    session.add(interaction)
    await session.flush()
    await event(session, interaction, at, "arrived", did=did, caller_id=caller_id)
    return interaction


async def queued(session: AsyncSession, interaction: Interaction, at: datetime, queue_id: int) -> None:
    _move(interaction, S.QUEUED)
    interaction.queue_id = queue_id
    interaction.queued_at = interaction.queued_at or at
    await event(session, interaction, at, "queued", queue_id=queue_id)


async def offered(session: AsyncSession, interaction: Interaction, at: datetime, agent_id: int) -> None:
    _move(interaction, S.OFFERED)
    interaction.offered_at = interaction.offered_at or at
    await event(session, interaction, at, "offered", agent_id)


async def offer_failed(
    session: AsyncSession, interaction: Interaction, at: datetime, agent_id: int | None, reason: str
) -> None:
    """The agent did not take it (no answer, busy, declined): back to waiting."""
    _move(interaction, S.QUEUED)
    await event(session, interaction, at, "offer_failed", agent_id, reason=reason)


async def connected(session: AsyncSession, interaction: Interaction, at: datetime, agent_id: int) -> None:
    _move(interaction, S.CONNECTED)
    interaction.agent_id = agent_id
    if interaction.answered_at is None:
        interaction.answered_at = at
        interaction.wait_seconds = _seconds(interaction.arrived_at, at)
    await event(session, interaction, at, "answered", agent_id)


async def transferred(
    session: AsyncSession, interaction: Interaction, at: datetime, agent_id: int | None, to: dict[str, Any]
) -> None:
    """A blind transfer within the center (to a queue or an agent): the record goes on, waiting again."""
    if interaction.state == S.HELD:
        await unheld(session, interaction, at)
    _move(interaction, S.QUEUED)
    await event(session, interaction, at, "transferred", agent_id, to=to)
    if to.get("kind") == "queue":
        interaction.queue_id = to["queue_id"]


async def held(session: AsyncSession, interaction: Interaction, at: datetime) -> None:
    _move(interaction, S.HELD)
    interaction.hold_started_at = at
    await event(session, interaction, at, "held", interaction.agent_id)


async def unheld(session: AsyncSession, interaction: Interaction, at: datetime) -> None:
    _move(interaction, S.CONNECTED)
    interaction.hold_seconds = (interaction.hold_seconds or 0.0) + (_seconds(interaction.hold_started_at, at) or 0.0)
    interaction.hold_started_at = None
    await event(session, interaction, at, "unheld", interaction.agent_id)


async def ended(
    session: AsyncSession, interaction: Interaction, at: datetime, outcome: Outcome, **data: Any
) -> None:
    """Close the record with its outcome and durations; idempotent, since both legs may report the end."""
    if interaction.state == S.ENDED:
        return
    if interaction.state == S.HELD:
        await unheld(session, interaction, at)
    _move(interaction, S.ENDED)
    interaction.ended_at = at
    interaction.outcome = outcome
    if interaction.answered_at is not None:
        interaction.talk_seconds = max(
            0.0, (_seconds(interaction.answered_at, at) or 0.0) - (interaction.hold_seconds or 0.0)
        )
    else:
        interaction.wait_seconds = _seconds(interaction.arrived_at, at)
    await event(session, interaction, at, "ended", interaction.agent_id, outcome=outcome, **data)


async def wrapup_done(session: AsyncSession, interaction: Interaction, at: datetime) -> None:
    if interaction.ended_at is not None and interaction.wrapup_seconds is None:
        interaction.wrapup_seconds = _seconds(interaction.ended_at, at)
        await event(session, interaction, at, "wrapup_ended", interaction.agent_id)


async def agent_state(
    session: AsyncSession,
    agent_id: int,
    at: datetime,
    state: str,
    reason: str | None = None,
    interaction_id: int | None = None,
) -> None:
    session.add(AgentStateChange(agent_id=agent_id, at=at, state=state, reason=reason, interaction_id=interaction_id))


async def open_interactions(session: AsyncSession, channel: str) -> list[Interaction]:
    """Interactions not yet ended: what the engine must reconcile after a restart."""
    stmt = select(Interaction).where(Interaction.channel == channel, Interaction.state.in_(states.OPEN_STATES))
    return list((await session.execute(stmt.order_by(Interaction.id))).scalars())
