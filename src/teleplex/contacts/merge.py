"""Merging two profiles and undoing it. The pure part decides the merged profile and what the snapshot
holds; the rest moves rows and records the snapshot so an unmerge puts both profiles back as they were."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.campaigns.models import Callback
from teleplex.contacts import service
from teleplex.contacts.models import Contact, ContactIdentity, ContactMerge, ContactNote
from teleplex.core.clock import Clock
from teleplex.core.errors import Conflict, InvalidInput
from teleplex.interactions.models import Interaction

# Rows that belong to a profile and simply change hands; each is listed by id in the snapshot.
MOVABLE: dict[str, Any] = {
    "identities": ContactIdentity,
    "interactions": Interaction,
    "callbacks": Callback,
    "notes": ContactNote,
}


@dataclass(frozen=True)
class ProfileState:
    """What a merge rewrites on a profile (and an unmerge writes back)."""

    display_name: str | None
    tags: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)  # field id (as text) -> value

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "tags": list(self.tags)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProfileState:
        return cls(data.get("display_name"), tuple(data.get("tags", ())), dict(data.get("fields", {})))


def merged_profile(target: ProfileState, source: ProfileState) -> ProfileState:
    """The surviving profile: the target's name and values win; the source fills what the target lacks;
    tags are the union."""
    return ProfileState(
        display_name=target.display_name or source.display_name,
        tags=tuple(sorted(set(target.tags) | set(source.tags))),
        fields={**source.fields, **target.fields},
    )


def build_snapshot(target: ProfileState, source: ProfileState, moved: dict[str, list[int]]) -> dict[str, Any]:
    """Everything an unmerge needs: both profiles before, and the ids of every row that changed hands."""
    return {"target": target.to_json(), "source": source.to_json(),
            "moved": {k: sorted(v) for k, v in moved.items()}}  # fmt: skip


def restore_plan(snapshot: dict[str, Any]) -> tuple[ProfileState, ProfileState, dict[str, list[int]]]:
    """Target state, source state and the rows to hand back, read from a stored snapshot."""
    moved = {k: [int(i) for i in snapshot.get("moved", {}).get(k, [])] for k in MOVABLE}
    return ProfileState.from_json(snapshot["target"]), ProfileState.from_json(snapshot["source"]), moved


# --- applying --------------------------------------------------------------------------------------------


async def profile_state(session: AsyncSession, contact: Contact) -> ProfileState:
    return ProfileState(contact.display_name, tuple(await service.tags_of(session, contact.id)),
                        await service.field_ids_of(session, contact.id))  # fmt: skip


async def _write_state(session: AsyncSession, contact: Contact, state: ProfileState, now: datetime) -> None:
    contact.display_name = state.display_name
    contact.updated_at = now
    await service.replace_tags(session, contact.id, list(state.tags))
    await service.replace_field_ids(session, contact.id, state.fields)


async def _move(session: AsyncSession, ids: dict[str, list[int]], from_id: int, to_id: int) -> None:
    for name, model in MOVABLE.items():
        if ids.get(name):
            await session.execute(update(model).where(model.id.in_(ids[name]), model.contact_id == from_id)
                                  .values(contact_id=to_id).execution_options(synchronize_session=False))  # fmt: skip


def merge_view(merge: ContactMerge) -> dict[str, Any]:
    moved = (merge.snapshot or {}).get("moved", {})
    return {"id": merge.id, "target_id": merge.target_id, "source_id": merge.source_id, "reason": merge.reason,
            "merged_at": merge.merged_at, "merged_by": merge.merged_by, "undone_at": merge.undone_at,
            "undone_by": merge.undone_by, "moved": {k: len(moved.get(k, [])) for k in MOVABLE}}  # fmt: skip


async def merge_contacts(
    session: AsyncSession, clock: Clock, actor: Actor, target: Contact, source: Contact, reason: str | None = None
) -> ContactMerge:
    """Move everything of `source` onto `target`; the source stays as an empty shell pointing at the target."""
    if target.id == source.id:
        raise InvalidInput("source_contact_id: a contact cannot be merged into itself",
                           {"field": "source_contact_id"},
                           reason="merge_into_itself")  # fmt: skip
    for c in (target, source):
        service.check_live(c)
    now = clock.now()
    before_t, before_s = await profile_state(session, target), await profile_state(session, source)
    moved: dict[str, list[int]] = {}
    for name, model in MOVABLE.items():
        moved[name] = list((await session.execute(select(model.id).where(model.contact_id == source.id))).scalars())
    await _move(session, moved, source.id, target.id)
    await _write_state(session, target, merged_profile(before_t, before_s), now)
    await _write_state(session, source, ProfileState(None), now)  # all of it lives on in the snapshot
    source.merged_into_id = target.id
    record = ContactMerge(target_id=target.id, source_id=source.id, snapshot=build_snapshot(before_t, before_s, moved),
                          reason=reason, merged_at=now, merged_by=actor.name)  # fmt: skip
    session.add(record)
    await session.flush()
    session.expire(target, ["identities"])
    session.expire(source, ["identities"])
    await audit.record(session, clock, actor, "merge", "contact", target.id,
                       {"target_id": target.id, "source_id": source.id},
                       {"merge_id": record.id, "moved": {k: len(v) for k, v in moved.items()}})  # fmt: skip
    return record


async def unmerge(session: AsyncSession, clock: Clock, actor: Actor, record: ContactMerge) -> ContactMerge:
    """Put both profiles back as they were at the merge. Rows added to the target since stay there; later
    merges touching either profile must be undone first, newest first."""
    if record.undone_at is not None:
        raise Conflict(f"merge {record.id} was already undone", {"merge_id": record.id},
                       reason="merge_already_undone")  # fmt: skip
    later = (await session.execute(select(ContactMerge.id).where(
        ContactMerge.id > record.id, ContactMerge.undone_at.is_(None),
        or_(*(col.in_((record.target_id, record.source_id)) for col in (ContactMerge.target_id, ContactMerge.source_id))),
    ).order_by(ContactMerge.id.desc()))).scalars().first()  # fmt: skip
    if later is not None:
        raise Conflict(f"merge {later} came later and involves these contacts: undo it first",
                       {"merge_id": later},
                       reason="later_merge")  # fmt: skip
    target = await service.get_contact(session, record.target_id)
    source = await service.get_contact(session, record.source_id)
    if target.erased_at is not None or source.erased_at is not None:
        raise Conflict("an erased contact cannot be unmerged", {"merge_id": record.id},
                       reason="erased_cannot_unmerge")  # fmt: skip
    now = clock.now()
    state_t, state_s, moved = restore_plan(record.snapshot)
    await _move(session, moved, target.id, source.id)
    await _write_state(session, target, state_t, now)
    await _write_state(session, source, state_s, now)
    source.merged_into_id = None
    record.undone_at, record.undone_by = now, actor.name
    await session.flush()
    session.expire(target, ["identities"])
    session.expire(source, ["identities"])
    await audit.record(session, clock, actor, "unmerge", "contact", target.id,
                       {"merge_id": record.id}, {"target_id": target.id, "source_id": source.id})  # fmt: skip
    return record
