"""HTTP routes of customer profiles; thin: check, parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from sqlalchemy import or_, select

from teleplex.auth.deps import require, require_any
from teleplex.auth.principal import Principal
from teleplex.contacts import definitions, merge, privacy, service
from teleplex.contacts.identities import IdentityKind
from teleplex.contacts.models import Contact, ContactFieldDefinition, ContactMerge
from teleplex.contacts.schemas import (
    ContactCreate,
    ContactDetail,
    ContactOut,
    ContactUpdate,
    EraseOut,
    EraseRequest,
    FieldDefinitionCreate,
    FieldDefinitionOut,
    FieldDefinitionUpdate,
    IdentityIn,
    IdentityOut,
    MergeOut,
    MergeRequest,
    NoteCreate,
    NoteOut,
    Tag,
    Timeline,
)
from teleplex.contacts.timeline import timeline
from teleplex.core.crud import get_or_404, page
from teleplex.core.deps import ClockDep, SessionDep, SettingsDep
from teleplex.core.schemas import MAX_ID, ListParams, Page

router = APIRouter(prefix="/api/v1", tags=["contacts"])
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Params = Annotated[ListParams, Depends()]
Reader = Annotated[Principal, require_any("contacts.read", "contacts.read.own")]
Writer = Annotated[Principal, require_any("contacts.write", "contacts.write.own")]
Creator = Annotated[Principal, require("contacts.write")]
FieldReader = Annotated[Principal, require_any("contacts.read", "contacts.read.own")]
Merger = Annotated[Principal, require("contacts.merge")]
Exporter = Annotated[Principal, require("contacts.export")]
Eraser = Annotated[Principal, require("contacts.erase")]
FieldAdmin = Annotated[Principal, require("contact_fields.write")]


async def _readable(session: SessionDep, principal: Principal, contact_id: int) -> Contact:
    contact = await service.get_contact(session, contact_id)
    await service.check_access(session, principal, contact_id)
    return contact


async def _writable(session: SessionDep, principal: Principal, contact_id: int) -> Contact:
    contact = await service.get_contact(session, contact_id)
    await service.check_access(session, principal, contact_id, write=True)
    return contact


@router.get("/contacts", response_model=Page[ContactOut])
async def list_contacts(
    params: Params,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    tag: Annotated[Tag | None, Query(description="only contacts with this tag")] = None,
    identity_kind: Annotated[IdentityKind | None, Query(description="only contacts with such an identity")] = None,
    include_merged: Annotated[bool, Query(description="also merged and erased profiles")] = False,
) -> dict:
    """`search` matches names and identities; a phone number typed any way also finds its E.164 form."""
    items, total = await service.list_contacts(session, principal, params, settings.phone_region, tag=tag,
                                               identity_kind=identity_kind, include_merged=include_merged)  # fmt: skip
    return {"items": await service.contact_views(session, items), "total": total, "limit": params.limit, "offset": params.offset}


@router.post("/contacts", response_model=ContactOut, status_code=201)
async def create_contact(
    body: ContactCreate, session: SessionDep, clock: ClockDep, settings: SettingsDep, actor: Creator
) -> dict:
    return await service.create_contact(session, clock, actor, body, settings.phone_region)


@router.get("/contacts/{contact_id}", response_model=ContactDetail)
async def get_contact(contact_id: IdPath, session: SessionDep, principal: Reader) -> dict:
    contact = await _readable(session, principal, contact_id)
    return await service.contact_view(session, contact, detail=True)


@router.patch("/contacts/{contact_id}", response_model=ContactOut)
async def update_contact(contact_id: IdPath, body: ContactUpdate, session: SessionDep, clock: ClockDep, actor: Writer) -> dict:
    contact = await _writable(session, actor, contact_id)
    return await service.update_contact(session, clock, actor, contact, body)


@router.delete("/contacts/{contact_id}", status_code=204)
async def delete_contact(contact_id: IdPath, session: SessionDep, clock: ClockDep, actor: Eraser) -> None:
    """Only a profile without history; one with interactions must be erased."""
    await service.delete_contact(session, clock, actor, await service.get_contact(session, contact_id))


@router.post("/contacts/{contact_id}/identities", response_model=IdentityOut, status_code=201)
async def add_identity(
    contact_id: IdPath, body: IdentityIn, session: SessionDep, clock: ClockDep, settings: SettingsDep, actor: Writer
) -> object:
    contact = await _writable(session, actor, contact_id)
    return await service.add_identity(session, clock, actor, contact, body.kind, body.value, settings.phone_region)


@router.delete("/contacts/{contact_id}/identities/{identity_id}", status_code=204)
async def remove_identity(
    contact_id: IdPath, identity_id: IdPath, session: SessionDep, clock: ClockDep, actor: Writer
) -> None:
    contact = await _writable(session, actor, contact_id)
    await service.remove_identity(session, clock, actor, contact, identity_id)


@router.delete("/contacts/{contact_id}/suggestions/{suggestion_id}", status_code=204)
async def dismiss_suggestion(
    contact_id: IdPath, suggestion_id: IdPath, session: SessionDep, clock: ClockDep, actor: Writer
) -> None:
    contact = await _writable(session, actor, contact_id)
    await service.dismiss_suggestion(session, clock, actor, contact, suggestion_id)


@router.get("/contacts/{contact_id}/notes", response_model=Page[NoteOut])
async def list_notes(contact_id: IdPath, params: Params, session: SessionDep, principal: Reader) -> dict:
    await _readable(session, principal, contact_id)
    return await service.notes_of(session, contact_id, params)


@router.post("/contacts/{contact_id}/notes", response_model=NoteOut, status_code=201)
async def add_note(contact_id: IdPath, body: NoteCreate, session: SessionDep, clock: ClockDep, actor: Writer) -> object:
    return await service.add_note(session, clock, actor, await _writable(session, actor, contact_id), body.text)


@router.get("/contacts/{contact_id}/timeline", response_model=Timeline)
async def get_timeline(
    contact_id: IdPath,
    session: SessionDep,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500, description="interactions per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="interactions to skip")] = 0,
) -> dict:
    """Every interaction on every channel, newest first, with messages, disposition and recording link."""
    await _readable(session, principal, contact_id)
    return await timeline(session, contact_id, limit, offset)


@router.post("/contacts/{contact_id}/merge", response_model=MergeOut, status_code=201)
async def merge_contacts(
    contact_id: IdPath, body: MergeRequest, session: SessionDep, clock: ClockDep, actor: Merger
) -> dict:
    """Merge `source_contact_id` into this contact; undo with POST /contact-merges/{id}/undo."""
    target = await service.get_contact(session, contact_id)
    source = await service.get_contact(session, body.source_contact_id)
    return merge.merge_view(await merge.merge_contacts(session, clock, actor, target, source, body.reason))


@router.get("/contact-merges", response_model=Page[MergeOut])
async def list_merges(
    params: Params,
    session: SessionDep,
    _: Annotated[Principal, require("contacts.read")],
    contact_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="merges involving this contact")] = None,
) -> dict:
    stmt = select(ContactMerge)
    if contact_id is not None:
        stmt = stmt.where(or_(ContactMerge.target_id == contact_id, ContactMerge.source_id == contact_id))
    items, total = await page(session, stmt, params, search=[ContactMerge.merged_by],
                              order={"id": ContactMerge.id, "merged_at": ContactMerge.merged_at},
                              default_order="-id")  # fmt: skip
    return {"items": [merge.merge_view(m) for m in items], "total": total, "limit": params.limit,
            "offset": params.offset}  # fmt: skip


@router.post("/contact-merges/{merge_id}/undo", response_model=MergeOut)
async def undo_merge(merge_id: IdPath, session: SessionDep, clock: ClockDep, actor: Merger) -> dict:
    record = await get_or_404(session, ContactMerge, merge_id, "contact merge")
    return merge.merge_view(await merge.unmerge(session, clock, actor, record))


@router.get("/contacts/{contact_id}/export", response_model=dict[str, Any])
async def export_contact(contact_id: IdPath, session: SessionDep, clock: ClockDep, actor: Exporter) -> dict:
    """Everything held about the contact: profile, notes, interactions, messages, recordings' paths."""
    return await privacy.export(session, clock, actor, await service.get_contact(session, contact_id))


@router.post("/contacts/{contact_id}/erase", response_model=EraseOut)
async def erase_contact(
    contact_id: IdPath, body: EraseRequest, session: SessionDep, clock: ClockDep, settings: SettingsDep, actor: Eraser
) -> dict:
    """Irreversible: identities, values, notes, message text and media, recordings go; counts stay."""
    contact = await service.get_contact(session, contact_id)
    return await privacy.erase(session, clock, actor, contact, body.confirm_contact_id,
                               recordings_dir=settings.recordings_dir, media_dir=settings.var_dir / "media")  # fmt: skip


# --- custom field definitions ------------------------------------------------------------------------------


@router.get("/contact-fields", response_model=Page[FieldDefinitionOut])
async def list_fields(params: Params, session: SessionDep, _: FieldReader) -> dict:
    items, total = await page(session, select(ContactFieldDefinition), params,
                              search=[ContactFieldDefinition.key, ContactFieldDefinition.label],
                              order={"id": ContactFieldDefinition.id, "key": ContactFieldDefinition.key})  # fmt: skip
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}


@router.post("/contact-fields", response_model=FieldDefinitionOut, status_code=201)
async def create_field(body: FieldDefinitionCreate, session: SessionDep, clock: ClockDep, actor: FieldAdmin) -> object:
    return await definitions.create(session, clock, actor, body)


@router.get("/contact-fields/{field_id}", response_model=FieldDefinitionOut)
async def get_field(field_id: IdPath, session: SessionDep, _: FieldReader) -> object:
    return await get_or_404(session, ContactFieldDefinition, field_id, "contact field")


@router.patch("/contact-fields/{field_id}", response_model=FieldDefinitionOut)
async def update_field(
    field_id: IdPath, body: FieldDefinitionUpdate, session: SessionDep, clock: ClockDep, actor: FieldAdmin
) -> object:
    d = await get_or_404(session, ContactFieldDefinition, field_id, "contact field")
    return await definitions.update(session, clock, actor, d, body)


@router.delete("/contact-fields/{field_id}", status_code=204)
async def delete_field(field_id: IdPath, session: SessionDep, clock: ClockDep, actor: FieldAdmin) -> None:
    d = await get_or_404(session, ContactFieldDefinition, field_id, "contact field")
    await definitions.delete(session, clock, actor, d)
