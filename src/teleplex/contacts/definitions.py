"""Custom field definitions: administrators add them; a definition in use cannot lose what values rely on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.contacts.models import ContactFieldDefinition, ContactFieldValue
from teleplex.contacts.schemas import FieldDefinitionCreate, FieldDefinitionOut, FieldDefinitionUpdate
from teleplex.core.clock import Clock
from teleplex.core.crud import flush_or_conflict
from teleplex.core.errors import Conflict


def _snapshot(d: ContactFieldDefinition) -> dict[str, Any]:
    return FieldDefinitionOut.model_validate(d).model_dump(mode="json")


async def create(session: AsyncSession, clock: Clock, actor: Actor, data: FieldDefinitionCreate) -> ContactFieldDefinition:
    taken = await session.execute(select(ContactFieldDefinition.id).where(ContactFieldDefinition.key == data.key))
    if taken.first():
        raise Conflict(f"a contact field with key '{data.key}' exists",
                       {"field": "key", "value": data.key}, reason="name_taken")  # fmt: skip
    now = clock.now()
    d = ContactFieldDefinition(key=data.key, label=data.label, kind=data.kind.value, choices=data.choices,
                               created_at=now, updated_at=now)  # fmt: skip
    session.add(d)
    await flush_or_conflict(session, f"a contact field with key '{data.key}' exists", reason="name_in_use")
    await audit.record(session, clock, actor, "create", "contact_field", d.id, None, _snapshot(d))
    return d


async def update(
    session: AsyncSession, clock: Clock, actor: Actor, d: ContactFieldDefinition, data: FieldDefinitionUpdate
) -> ContactFieldDefinition:
    """Relabel, or change the choices of a choice field (never dropping one a contact holds)."""
    changes = data.model_dump(exclude_unset=True)
    before = _snapshot(d)
    if changes.get("label") is not None:
        d.label = changes["label"]
    if changes.get("choices") is not None:
        if d.kind != "choice":
            raise Conflict(f"choices: field '{d.key}' is a {d.kind} field and has no choices",
                           {"field": "choices", "key": d.key},
                           reason="field_has_no_choices")  # fmt: skip
        if not changes["choices"]:
            raise Conflict("choices: a choice field needs at least one choice", {"field": "choices"},
                           reason="choice_needed")  # fmt: skip
        values = (await session.execute(select(ContactFieldValue.value).where(ContactFieldValue.field_id == d.id))).scalars()
        in_use = sorted({v for v in values if v not in changes["choices"]})
        if in_use:
            raise Conflict(f"choices: contacts still hold {', '.join(map(str, in_use))}",
                           {"field": "choices", "in_use": in_use},
                           reason="choice_in_use")  # fmt: skip
        d.choices = changes["choices"]
    d.updated_at = clock.now()
    await session.flush()
    after = _snapshot(d)
    if {**after, "updated_at": None} != {**before, "updated_at": None}:
        await audit.record(session, clock, actor, "update", "contact_field", d.id, before, after)
    return d


async def delete(session: AsyncSession, clock: Clock, actor: Actor, d: ContactFieldDefinition) -> None:
    used = (await session.execute(select(func.count(ContactFieldValue.id)).where(ContactFieldValue.field_id == d.id))).scalar_one()
    if used:
        raise Conflict(f"contact field '{d.key}' has values on {used} contacts; clear them first",
                       {"contacts": used, "key": d.key},
                       reason="contact_field_in_use")  # fmt: skip
    before = _snapshot(d)
    await session.delete(d)
    await session.flush()
    await audit.record(session, clock, actor, "delete", "contact_field", before["id"], before, None)
