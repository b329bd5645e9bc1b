"""The use cases of a profile: identities edited by people, custom fields, tags, notes, search and scope.
The channel-facing functions (resolve_identity, link_identity, resolve_phone) live in graph.py and are
re-exported here, where voice and the message sink import them."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.auth.principal import Principal
from teleplex.contacts import fields as custom
from teleplex.contacts.graph import (
    IdentityTaken,
    check_live,
    insert_identity,
    link_identity,
    owner_of,
    resolve,
    resolve_identity,
    resolve_phone,
)
from teleplex.contacts.identities import IdentityKind, normalise, normalise_phone, search_phone
from teleplex.contacts.models import (
    Contact,
    ContactFieldDefinition,
    ContactFieldValue,
    ContactIdentity,
    ContactNote,
    ContactSuggestion,
    ContactTag,
)
from teleplex.contacts.schemas import ContactCreate, ContactUpdate
from teleplex.core.clock import Clock
from teleplex.core.crud import escape_like, get_or_404, page
from teleplex.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from teleplex.core.schemas import ListParams
from teleplex.interactions.models import Interaction

__all__ = ["link_identity", "normalise_phone", "resolve", "resolve_identity", "resolve_phone"]


# --- scope -----------------------------------------------------------------------------------------------


def _handled_by(agent_id: int) -> Any:
    return exists().where(Interaction.contact_id == Contact.id, Interaction.agent_id == agent_id)


def scope_contacts(principal: Principal, stmt: Select[Any]) -> Select[Any]:
    """Supervisors and admins see every profile; an agent those of the interactions they handled."""
    if principal.can("contacts.read"):
        return stmt
    if principal.can("contacts.read.own") and principal.agent_id is not None:
        return stmt.where(_handled_by(principal.agent_id))
    return stmt.where(Contact.id.is_(None))


async def check_access(session: AsyncSession, principal: Principal, contact_id: int, *, write: bool = False) -> None:
    """403 when the contact is outside the caller's scope (after the 404 for one that does not exist)."""
    action = "write" if write else "read"
    if principal.can(f"contacts.{action}"):
        return
    if principal.can(f"contacts.{action}.own") and principal.agent_id is not None:
        stmt = select(Contact.id).where(Contact.id == contact_id, _handled_by(principal.agent_id))
        if (await session.execute(stmt)).first() is not None:
            return
    raise PermissionDenied(f"contact {contact_id} is outside your scope: you handled none of its interactions",
                           {"contact_id": contact_id})  # fmt: skip


# --- profiles --------------------------------------------------------------------------------------------


async def get_contact(session: AsyncSession, contact_id: int) -> Contact:
    return await get_or_404(session, Contact, contact_id, "contact")


async def field_specs(session: AsyncSession) -> tuple[dict[str, custom.FieldSpec], dict[str, int]]:
    defs = (await session.execute(select(ContactFieldDefinition))).scalars().all()
    specs = {d.key: custom.FieldSpec(d.key, custom.FieldKind(d.kind), tuple(d.choices or ())) for d in defs}
    return specs, {d.key: d.id for d in defs}


async def tags_of(session: AsyncSession, contact_id: int) -> list[str]:
    stmt = select(ContactTag.tag).where(ContactTag.contact_id == contact_id).order_by(ContactTag.tag)
    return list((await session.execute(stmt)).scalars())


async def fields_of(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    """Custom values by field key."""
    stmt = (
        select(ContactFieldDefinition.key, ContactFieldValue.value)
        .join(ContactFieldValue, ContactFieldValue.field_id == ContactFieldDefinition.id)
        .where(ContactFieldValue.contact_id == contact_id)
        .order_by(ContactFieldDefinition.key)
    )
    return {k: v for k, v in (await session.execute(stmt)).all()}


async def field_ids_of(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    """Custom values by field id (as text, for JSON snapshots): stable even if a definition is relabelled."""
    stmt = select(ContactFieldValue.field_id, ContactFieldValue.value).where(ContactFieldValue.contact_id == contact_id)
    return {str(f): v for f, v in (await session.execute(stmt)).all()}


async def replace_tags(session: AsyncSession, contact_id: int, tags: list[str]) -> None:
    await session.execute(delete(ContactTag).where(ContactTag.contact_id == contact_id))
    session.add_all(ContactTag(contact_id=contact_id, tag=t) for t in sorted(set(tags)))
    await session.flush()


async def replace_field_ids(session: AsyncSession, contact_id: int, values: dict[str, Any]) -> None:
    await session.execute(delete(ContactFieldValue).where(ContactFieldValue.contact_id == contact_id))
    session.add_all(ContactFieldValue(contact_id=contact_id, field_id=int(f), value=v) for f, v in values.items())
    await session.flush()


async def suggestions_of(session: AsyncSession, contact_id: int) -> list[ContactSuggestion]:
    stmt = select(ContactSuggestion).where(
        or_(ContactSuggestion.contact_id == contact_id, ContactSuggestion.other_contact_id == contact_id)
    )
    return list((await session.execute(stmt.order_by(ContactSuggestion.id))).scalars())


def _view(contact: Contact, tags: list[str], values: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": contact.id, "display_name": contact.display_name, "identities": list(contact.identities),
        "tags": tags, "fields": values, "merged_into_id": contact.merged_into_id, "erased_at": contact.erased_at,
        "created_at": contact.created_at, "updated_at": contact.updated_at,
    }  # fmt: skip


async def contact_view(session: AsyncSession, contact: Contact, *, detail: bool = False) -> dict[str, Any]:
    """The contact as the API shows it (read afresh: a merge may just have moved its identities)."""
    await session.refresh(contact, ["identities"])
    view = _view(contact, await tags_of(session, contact.id), await fields_of(session, contact.id))
    if detail:
        view["suggestions"] = await suggestions_of(session, contact.id)
    return view


async def contact_views(session: AsyncSession, contacts: list[Contact]) -> list[dict[str, Any]]:
    """A page of contacts in three queries, not three per contact (identities came with the page's query)."""
    ids = [c.id for c in contacts]
    tags: dict[int, list[str]] = {i: [] for i in ids}
    values: dict[int, dict[str, Any]] = {i: {} for i in ids}
    if ids:
        rows = await session.execute(select(ContactTag.contact_id, ContactTag.tag)
                                     .where(ContactTag.contact_id.in_(ids)).order_by(ContactTag.tag))  # fmt: skip
        for contact_id, tag in rows.all():
            tags[contact_id].append(tag)
        rows = await session.execute(
            select(ContactFieldValue.contact_id, ContactFieldDefinition.key, ContactFieldValue.value)
            .join(ContactFieldDefinition, ContactFieldValue.field_id == ContactFieldDefinition.id)
            .where(ContactFieldValue.contact_id.in_(ids)).order_by(ContactFieldDefinition.key)
        )  # fmt: skip
        for contact_id, key, value in rows.all():
            values[contact_id][key] = value
    return [_view(c, tags[c.id], values[c.id]) for c in contacts]


def audit_view(view: dict[str, Any]) -> dict[str, Any]:
    from teleplex.contacts.schemas import ContactOut

    return ContactOut.model_validate(view).model_dump(mode="json")


def _tags(tags: list[str]) -> list[str]:
    return sorted({t.lower() for t in tags})


async def _set_fields(session: AsyncSession, contact_id: int, given: dict[str, Any]) -> None:
    specs, ids = await field_specs(session)
    current = await fields_of(session, contact_id)
    values = custom.check_values(specs, given, current)
    await replace_field_ids(session, contact_id, {str(ids[k]): v for k, v in values.items()})


async def create_contact(
    session: AsyncSession, clock: Clock, actor: Actor, data: ContactCreate, region: str
) -> dict[str, Any]:
    """A profile entered by a person; its identities must be free (409 names the owner)."""
    now = clock.now()
    contact = Contact(display_name=data.display_name, created_at=now, updated_at=now)
    session.add(contact)
    await session.flush()
    for i, identity in enumerate(data.identities):
        try:
            k, v = normalise(identity.kind, identity.value, region)
        except InvalidInput as exc:
            exc.message = f"identities[{i}].{exc.message}"
            raise
        owner = await owner_of(session, k.value, v)
        if owner is not None and owner.id != contact.id:
            raise IdentityTaken(f"identities[{i}]: {k.value} {v} belongs to contact {owner.id}",
                                {"field": f"identities[{i}]", "value": v, "contact_id": owner.id},
                                reason="identity_taken")  # fmt: skip
        if owner is None:
            await insert_identity(session, contact, k, v, now, "agent")
    await replace_tags(session, contact.id, _tags(data.tags))
    await _set_fields(session, contact.id, data.fields)
    view = await contact_view(session, contact)
    await audit.record(session, clock, actor, "create", "contact", contact.id, None, audit_view(view))
    return view


async def update_contact(
    session: AsyncSession, clock: Clock, actor: Actor, contact: Contact, data: ContactUpdate
) -> dict[str, Any]:
    check_live(contact)
    before = audit_view(await contact_view(session, contact))
    changes = data.model_dump(exclude_unset=True)
    if "display_name" in changes:
        contact.display_name = changes["display_name"]
    if changes.get("tags") is not None:
        await replace_tags(session, contact.id, _tags(changes["tags"]))
    if changes.get("fields") is not None:
        await _set_fields(session, contact.id, changes["fields"])
    contact.updated_at = clock.now()
    await session.flush()
    view = await contact_view(session, contact)
    after = audit_view(view)
    if {**after, "updated_at": None} != {**before, "updated_at": None}:
        await audit.record(session, clock, actor, "update", "contact", contact.id, before, after)
    return view


async def delete_contact(session: AsyncSession, clock: Clock, actor: Actor, contact: Contact) -> None:
    """Only a profile with no history goes; one with interactions is erased instead (keeps the counts)."""
    used = (await session.execute(select(func.count(Interaction.id)).where(Interaction.contact_id == contact.id))).scalar_one()
    if used:
        raise Conflict(f"contact {contact.id} has {used} interactions; erase it instead (POST .../erase)",
                       {"interactions": used, "contact_id": contact.id},
                       reason="contact_has_interactions")  # fmt: skip
    merged = (await session.execute(select(func.count(Contact.id)).where(Contact.merged_into_id == contact.id))).scalar_one()
    if merged or contact.merged_into_id is not None:
        raise Conflict(f"contact {contact.id} takes part in a merge; unmerge first",
                       {"contact_id": contact.id},
                       reason="contact_in_merge")  # fmt: skip
    before = audit_view(await contact_view(session, contact))
    await session.delete(contact)
    await session.flush()
    await audit.record(session, clock, actor, "delete", "contact", before["id"], before, None)


async def add_identity(
    session: AsyncSession, clock: Clock, actor: Actor, contact: Contact, kind: str, value: str, region: str
) -> ContactIdentity:
    before = audit_view(await contact_view(session, contact))
    identity = await link_identity(session, contact.id, kind, value, clock.now(), "agent", region=region)
    after = audit_view(await contact_view(session, contact))
    if after["identities"] != before["identities"]:
        await audit.record(session, clock, actor, "update", "contact", contact.id, before, after)
    return identity


async def remove_identity(session: AsyncSession, clock: Clock, actor: Actor, contact: Contact, identity_id: int) -> None:
    check_live(contact)
    identity = await session.get(ContactIdentity, identity_id)
    if identity is None or identity.contact_id != contact.id:
        raise NotFound(f"contact {contact.id} has no identity {identity_id}", {"id": identity_id})
    before = audit_view(await contact_view(session, contact))
    await session.delete(identity)
    contact.updated_at = clock.now()
    await session.flush()
    after = audit_view(await contact_view(session, contact))
    await audit.record(session, clock, actor, "update", "contact", contact.id, before, after)


async def dismiss_suggestion(
    session: AsyncSession, clock: Clock, actor: Actor, contact: Contact, suggestion_id: int
) -> None:
    """A person looked and decided these are not the same customer (or merged them): forget the hint."""
    found = await session.get(ContactSuggestion, suggestion_id)
    if found is None or contact.id not in (found.contact_id, found.other_contact_id):
        raise NotFound(f"contact {contact.id} has no suggestion {suggestion_id}", {"id": suggestion_id})
    before = {"contact_id": found.contact_id, "other_contact_id": found.other_contact_id, "reason": found.reason}
    await session.delete(found)
    await session.flush()
    await audit.record(session, clock, actor, "dismiss_suggestion", "contact", contact.id, before, None)


async def add_note(session: AsyncSession, clock: Clock, actor: Actor, contact: Contact, text: str) -> ContactNote:
    check_live(contact)
    note = ContactNote(contact_id=contact.id, text=text, author=actor.name,
                       author_id=actor.id if actor.kind == "user" else None, created_at=clock.now())  # fmt: skip
    session.add(note)
    await session.flush()
    return note


async def notes_of(session: AsyncSession, contact_id: int, params: ListParams) -> dict[str, Any]:
    stmt = select(ContactNote).where(ContactNote.contact_id == contact_id)
    items, total = await page(session, stmt, params, search=[ContactNote.text, ContactNote.author],
                              order={"id": ContactNote.id, "created_at": ContactNote.created_at},
                              default_order="-id")  # fmt: skip
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


# --- search ----------------------------------------------------------------------------------------------


def search_clause(text: str, region: str) -> Any:
    """Name or any identity containing the text; a text that reads as a phone number also finds the E.164
    form (and the WhatsApp id) however it was typed."""
    pattern = f"%{escape_like(text.lower())}%"
    has_identity = exists().where(ContactIdentity.contact_id == Contact.id,
                                  func.lower(ContactIdentity.value).like(pattern, escape="\\"))  # fmt: skip
    clauses = [func.lower(Contact.display_name).like(pattern, escape="\\"), has_identity]
    e164 = search_phone(text, region)
    if e164 is not None:
        clauses.append(exists().where(ContactIdentity.contact_id == Contact.id, or_(
            and_(ContactIdentity.kind == IdentityKind.PHONE.value, ContactIdentity.value == e164),
            and_(ContactIdentity.kind == IdentityKind.WHATSAPP.value, ContactIdentity.value == e164[1:]))))  # fmt: skip
    return or_(*clauses)


async def list_contacts(
    session: AsyncSession, principal: Principal, params: ListParams, region: str, *, tag: str | None = None,
    identity_kind: str | None = None, include_merged: bool = False,
) -> tuple[list[Contact], int]:  # fmt: skip
    stmt: Select[Any] = scope_contacts(principal, select(Contact))
    if not include_merged:
        stmt = stmt.where(Contact.merged_into_id.is_(None), Contact.erased_at.is_(None))
    if params.search:
        stmt = stmt.where(search_clause(params.search, region))
    if tag:
        stmt = stmt.where(exists().where(ContactTag.contact_id == Contact.id, ContactTag.tag == tag.lower()))
    if identity_kind:
        stmt = stmt.where(exists().where(ContactIdentity.contact_id == Contact.id, ContactIdentity.kind == identity_kind))
    unsearched = copy.copy(params)
    unsearched.search = None
    return await page(session, stmt, unsearched, search=[], order={
        "id": Contact.id, "display_name": Contact.display_name, "created_at": Contact.created_at,
        "updated_at": Contact.updated_at})  # fmt: skip
