"""Conversations: interactions on the text channels (web chat, WhatsApp, Telegram, SMS).

A customer's message joins their open conversation on that channel; if their last one was resolved within
the reopening window it reopens; otherwise a new conversation starts. The conversation then waits in a
queue, is offered to an agent like a call, and ends when the agent resolves it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.interactions.states import OPEN_STATES, InteractionState, Outcome

OPENED, REOPENED, APPENDED = "opened", "reopened", "appended"


# Built once: it runs for every message that comes in.
_LATEST = (
    select(Interaction)
    .where(Interaction.channel_ref == bindparam("channel_id"), Interaction.peer == bindparam("peer"))
    .order_by(Interaction.id.desc()).limit(1)
)  # fmt: skip


_INTERACTIONS = cast(Table, Interaction.__table__)
# Most messages join an open conversation whose profile is settled: one statement finds it and notes the
# customer's message, instead of a read and a write.
_TOUCH_OPEN = (
    update(_INTERACTIONS)
    .where(_INTERACTIONS.c.id.in_(
               select(func.max(_INTERACTIONS.c.id))
               .where(_INTERACTIONS.c.channel_ref == bindparam("of_channel"),
                      _INTERACTIONS.c.peer.in_(bindparam("of_peers", expanding=True)))
               .group_by(_INTERACTIONS.c.peer)),
           _INTERACTIONS.c.state.in_(sorted(OPEN_STATES)), _INTERACTIONS.c.contact_id.is_not(None))
    .values(last_inbound_at=bindparam("at"))
    .returning(_INTERACTIONS.c.peer, _INTERACTIONS.c.id, _INTERACTIONS.c.queue_id, _INTERACTIONS.c.agent_id,
               _INTERACTIONS.c.arrived_at, _INTERACTIONS.c.first_response_at)
)  # fmt: skip


async def touch_open(session: AsyncSession, channel_id: int, peers: Collection[str],
                     now: datetime) -> dict[str, Row[Any]]:  # fmt: skip
    """Each customer's latest conversation on this channel when it is open and has its profile, with the
    message's time noted on it (`id, queue_id, agent_id, arrived_at, first_response_at`), by peer, in one
    statement for all of them; a customer missing from the answer had nothing written: the caller takes the
    full path for them (`latest`, `conversation_for`)."""
    if not peers:
        return {}
    values = {"of_channel": channel_id, "of_peers": list(peers), "at": now}  # an UPDATE reserves column names
    return {row.peer: row for row in await session.execute(_TOUCH_OPEN, values)}


async def latest(session: AsyncSession, channel_id: int, peer: str) -> Interaction | None:
    return (await session.execute(_LATEST, {"channel_id": channel_id, "peer": peer})).scalar()


def open_one(last: Interaction | None) -> Interaction | None:
    """The customer's latest conversation when it is still open (a message then appends to it)."""
    return last if last is not None and last.state in OPEN_STATES else None


def append(conversation: Interaction, now: datetime, contact_id: int | None) -> tuple[Interaction, str]:
    conversation.last_inbound_at = now
    if conversation.contact_id is None:
        conversation.contact_id = contact_id
    return conversation, APPENDED


async def conversation_for(
    session: AsyncSession,
    now: datetime,
    last: Interaction | None,
    *,
    channel_id: int,
    channel: str,
    peer: str,
    queue_id: int,
    contact_id: int | None,
    name: str | None,
    reopen_within: timedelta,
    interaction_id: int | None = None,
) -> tuple[Interaction, str]:
    """The conversation this inbound message belongs to (`last`: the customer's latest on this channel, from
    `latest`), and whether it was opened, reopened or appended to."""
    if open_one(last) is not None:
        return append(last, now, contact_id)
    if (last is not None and last.state == InteractionState.RESOLVED and last.ended_at is not None
            and now - last.ended_at <= reopen_within):  # fmt: skip
        await interactions.event(session, last, now, "reopened", last.agent_id)
        last.ended_at, last.outcome, last.last_inbound_at = None, None, now
        await interactions.queued(session, last, now, last.queue_id or queue_id)
        return last, REOPENED
    conversation = await interactions.open_interaction(
        session, now, channel=channel, caller_id=peer, caller_name=name, contact_id=contact_id,
        interaction_id=interaction_id,
    )  # fmt: skip
    conversation.channel_ref, conversation.peer, conversation.last_inbound_at = channel_id, peer, now
    await interactions.queued(session, conversation, now, queue_id)
    return conversation, OPENED


async def replied(session: AsyncSession, conversation: Interaction, now: datetime, agent_id: int | None) -> None:
    """An agent answered: the first answer stops the first-response clock."""
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        await interactions.event(session, conversation, now, "first_response", agent_id,
                                 seconds=round((now - conversation.arrived_at).total_seconds(), 3))  # fmt: skip


async def resolved(
    session: AsyncSession, conversation: Interaction, now: datetime, agent_id: int | None,
    disposition_id: int | None,
) -> None:  # fmt: skip
    """The agent is done: the conversation is resolved (it may reopen if the customer writes again soon)."""
    interactions._move(conversation, InteractionState.RESOLVED)
    conversation.ended_at, conversation.outcome = now, Outcome.RESOLVED
    if disposition_id is not None:
        conversation.disposition_id = disposition_id
    if conversation.answered_at is not None:
        conversation.talk_seconds = round((now - conversation.answered_at).total_seconds(), 3)
    await interactions.event(session, conversation, now, "resolved", agent_id, disposition_id=disposition_id)


async def open_conversations(session: AsyncSession) -> list[Interaction]:
    """Conversations not yet resolved: what the engine routes again after a restart."""
    stmt = select(Interaction).where(Interaction.channel_ref.is_not(None), Interaction.state.in_(OPEN_STATES))
    return list((await session.execute(stmt.order_by(Interaction.id))).scalars())
