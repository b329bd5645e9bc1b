"""Everything that happened with a contact, on every channel: interactions newest first, each with its
disposition, recording link and, for conversations, its messages in order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.center.models import Disposition
from teleplex.interactions.models import Interaction
from teleplex.messaging.models import Message


def recording_url(interaction: Interaction) -> str | None:
    """Where the API serves the recording (voice's route checks who may hear it)."""
    return f"/api/v1/interactions/{interaction.id}/recording" if interaction.recording_path else None


def message_view(m: Message) -> dict[str, Any]:
    return {"id": m.id, "direction": m.direction, "kind": m.kind, "text": m.text,
            "has_media": bool(m.media_path or m.media_ref), "status": m.status, "created_at": m.created_at}  # fmt: skip


async def timeline(session: AsyncSession, contact_id: int, limit: int, offset: int) -> dict[str, Any]:
    base = select(Interaction).where(Interaction.contact_id == contact_id)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = (await session.execute(
        base.order_by(Interaction.arrived_at.desc(), Interaction.id.desc()).limit(limit).offset(offset)
    )).scalars().all()  # fmt: skip
    ids = [i.id for i in rows]
    messages: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        stmt = select(Message).where(Message.interaction_id.in_(ids)).order_by(Message.created_at, Message.id)
        for m in (await session.execute(stmt)).scalars():
            messages[m.interaction_id].append(message_view(m))  # type: ignore[index]
    disposition_ids = {i.disposition_id for i in rows if i.disposition_id}
    dispositions = {}
    if disposition_ids:
        found = await session.execute(select(Disposition).where(Disposition.id.in_(disposition_ids)))
        dispositions = {d.id: {"id": d.id, "code": d.code, "label": d.label} for d in found.scalars()}
    items = [
        {"interaction_id": i.id, "channel": i.channel, "direction": i.direction, "state": i.state,
         "outcome": i.outcome, "queue_id": i.queue_id, "agent_id": i.agent_id, "arrived_at": i.arrived_at,
         "answered_at": i.answered_at, "ended_at": i.ended_at, "talk_seconds": i.talk_seconds,
         "disposition": dispositions.get(i.disposition_id) if i.disposition_id else None, "notes": i.notes,
         "recording_url": recording_url(i), "messages": messages[i.id]}
        for i in rows
    ]
    return {"contact_id": contact_id, "items": items, "total": total, "limit": limit, "offset": offset}
