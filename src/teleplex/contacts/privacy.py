"""A person's right to see and to remove what we hold about them: export everything as JSON; erase it.

Erasure keeps what reports count (the interactions, their times, queue, agent, outcome) and removes what
identifies the person: identities, custom values, tags, notes, suggestions, message text and media,
caller id and name, interaction notes, recordings, callbacks' numbers, and the values in the contact's
audit entries (who did what and when stays). It cannot be undone, so the request repeats the id."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.models import AuditEntry
from teleplex.audit.service import Actor
from teleplex.campaigns.models import Callback
from teleplex.contacts import service
from teleplex.contacts.merge import merge_view
from teleplex.contacts.models import (
    Contact,
    ContactFieldValue,
    ContactIdentity,
    ContactMerge,
    ContactNote,
    ContactSuggestion,
    ContactTag,
)
from teleplex.contacts.schemas import ContactDetail, NoteOut
from teleplex.core.clock import Clock
from teleplex.core.errors import Conflict, InvalidInput
from teleplex.core.logging import get_logger
from teleplex.interactions.models import Interaction, InteractionEvent
from teleplex.messaging.models import Message

log = get_logger("teleplex.contacts.privacy")
PERSONAL_EVENT_KEYS = ("caller_id", "caller_name", "from", "name", "number")
ERASED_PEER = "erased"


async def _interactions(session: AsyncSession, contact_id: int) -> list[Interaction]:
    stmt = select(Interaction).where(Interaction.contact_id == contact_id).order_by(Interaction.id)
    return list((await session.execute(stmt)).scalars())


async def _messages(session: AsyncSession, interaction_ids: list[int], peers: set[str]) -> list[Message]:
    """Messages of the contact's interactions, and any sent or received on its identities without one."""
    clauses = []
    if interaction_ids:
        clauses.append(Message.interaction_id.in_(interaction_ids))
    if peers:
        clauses.append(Message.peer.in_(peers))
    if not clauses:
        return []
    stmt = select(Message).where(or_(*clauses)).order_by(Message.created_at, Message.id)
    return list((await session.execute(stmt)).scalars())


def _peers(identities: list[ContactIdentity]) -> set[str]:
    """The forms messaging stores a peer in: E.164 (SMS), wa_id, business-scoped id, Telegram id."""
    return {i.value for i in identities if i.kind in ("phone", "whatsapp", "whatsapp_bsuid", "telegram")}


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


async def export(session: AsyncSession, clock: Clock, actor: Actor, contact: Contact) -> dict[str, Any]:
    """Everything we hold about the contact, as JSON-ready data; the export itself is audited."""
    from pydantic import TypeAdapter

    view = await service.contact_view(session, contact, detail=True)
    interactions = await _interactions(session, contact.id)
    ids = [i.id for i in interactions]
    events = []
    if ids:
        events = list((await session.execute(select(InteractionEvent).where(
            InteractionEvent.interaction_id.in_(ids)).order_by(InteractionEvent.id))).scalars())  # fmt: skip
    messages = await _messages(session, ids, _peers(list(contact.identities)))
    notes = (await session.execute(select(ContactNote).where(ContactNote.contact_id == contact.id)
                                   .order_by(ContactNote.id))).scalars().all()  # fmt: skip
    callbacks = (await session.execute(select(Callback).where(Callback.contact_id == contact.id)
                                       .order_by(Callback.id))).scalars().all()  # fmt: skip
    merges = (await session.execute(select(ContactMerge).where(or_(
        ContactMerge.target_id == contact.id, ContactMerge.source_id == contact.id)).order_by(ContactMerge.id))).scalars()
    by_interaction: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        by_interaction.setdefault(e.interaction_id, []).append(_row(e, ("interaction_id",)))
    data = {
        "exported_at": clock.now(),
        "contact": ContactDetail.model_validate(view).model_dump(),
        "notes": [NoteOut.model_validate(n).model_dump() for n in notes],
        "interactions": [{**_row(i), "events": by_interaction.get(i.id, [])} for i in interactions],
        "messages": [_row(m) for m in messages],
        "recordings": [{"interaction_id": i.id, "path": i.recording_path} for i in interactions if i.recording_path],
        "callbacks": [_row(c) for c in callbacks],
        "merges": [merge_view(m) for m in merges],
    }
    await audit.record(session, clock, actor, "export", "contact", contact.id, None,
                       {"interactions": len(interactions), "messages": len(messages)})  # fmt: skip
    return TypeAdapter(dict[str, Any]).dump_python(data, mode="json")


async def _with_shells(session: AsyncSession, contact_id: int) -> list[int]:
    """The contact and every profile merged into it (directly or through another merge): the shells'
    snapshots hold the same person's data."""
    family, frontier = {contact_id}, {contact_id}
    while frontier:
        found = set((await session.execute(select(Contact.id).where(Contact.merged_into_id.in_(frontier)))).scalars())
        frontier = found - family
        family |= frontier
    return sorted(family)


def _remove_file(folder: Path | None, relative: str | None) -> bool:
    """Delete a file only when it lies inside `folder`: a stored path never sends us elsewhere."""
    if folder is None or not relative:
        return False
    root = folder.resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        return False
    try:
        path.unlink()
    except OSError as exc:
        log.warning("could not remove file", path=str(path), error=str(exc))
        return False
    return True


async def erase(
    session: AsyncSession, clock: Clock, actor: Actor, contact: Contact, confirm_contact_id: int, *,
    recordings_dir: Path | None, media_dir: Path | None,
) -> dict[str, Any]:  # fmt: skip
    """Remove what identifies the contact and keep the counts; audited, irreversible."""
    if confirm_contact_id != contact.id:
        raise InvalidInput(f"confirm_contact_id: must repeat the contact's id ({contact.id}) to confirm erasure",
                           {"field": "confirm_contact_id", "contact_id": contact.id},
                           reason="confirm_erasure")  # fmt: skip
    if contact.erased_at is not None:
        raise Conflict(f"contact {contact.id} was already erased", {"contact_id": contact.id},
                       reason="contact_erased")  # fmt: skip
    if contact.merged_into_id is not None:
        raise Conflict(f"contact {contact.id} is merged into contact {contact.merged_into_id}: erase that one",
                       {"merged_into_id": contact.merged_into_id, "contact_id": contact.id},
                       reason="contact_merged")  # fmt: skip
    now: datetime = clock.now()
    await session.refresh(contact, ["identities"])
    interactions = await _interactions(session, contact.id)
    ids = [i.id for i in interactions]
    messages = await _messages(session, ids, _peers(list(contact.identities)))
    removed = {"identities": len(contact.identities), "interactions_anonymised": len(interactions),
               "messages_cleared": len(messages), "recordings_deleted": 0, "media_deleted": 0}  # fmt: skip
    for m in messages:
        removed["media_deleted"] += _remove_file(media_dir, m.media_path)
        m.text = m.media_ref = m.media_path = m.media_mime = m.data = m.error_message = None
        m.peer = ERASED_PEER
    for i in interactions:
        removed["recordings_deleted"] += _remove_file(recordings_dir, Path(i.recording_path).name if i.recording_path else None)
        i.caller_id = i.caller_name = i.notes = i.recording_path = None
    if ids:
        for e in (await session.execute(select(InteractionEvent).where(InteractionEvent.interaction_id.in_(ids)))).scalars():
            if e.data and any(k in e.data for k in PERSONAL_EVENT_KEYS):
                e.data = {k: v for k, v in e.data.items() if k not in PERSONAL_EVENT_KEYS} or None
    for cb in (await session.execute(select(Callback).where(Callback.contact_id == contact.id))).scalars():
        cb.number, cb.name, cb.note = ERASED_PEER, None, None
        if cb.status in ("pending", "dialing"):
            cb.status = "cancelled"
    family = await _with_shells(session, contact.id)
    for model in (ContactFieldValue, ContactTag, ContactNote):
        result = await session.execute(delete(model).where(model.contact_id.in_(family)))
        removed[model.__tablename__.removeprefix("contact_")] = result.rowcount or 0
    await session.execute(delete(ContactSuggestion).where(or_(
        ContactSuggestion.contact_id.in_(family), ContactSuggestion.other_contact_id.in_(family))))  # fmt: skip
    await session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id.in_(family)))
    for entry in (await session.execute(select(AuditEntry).where(
            AuditEntry.entity_type == "contact", AuditEntry.entity_id.in_(family)))).scalars():  # fmt: skip
        if entry.action in ("create", "update", "delete"):
            entry.before = {"erased": True} if entry.before is not None else None
            entry.after = {"erased": True} if entry.after is not None else None
    for merge in (await session.execute(select(ContactMerge).where(or_(
            ContactMerge.target_id.in_(family), ContactMerge.source_id.in_(family))))).scalars():  # fmt: skip
        merge.snapshot = {"erased": True, "moved": merge.snapshot.get("moved", {})}
        merge.reason = None
    for member in (await session.execute(select(Contact).where(Contact.id.in_(family)))).scalars():
        member.display_name = None
        member.erased_at = member.updated_at = now
    await session.flush()
    session.expire(contact, ["identities"])
    await audit.record(session, clock, actor, "erase", "contact", contact.id, None, removed)
    return {"contact_id": contact.id, "erased_at": now, "removed": removed}

