"""The identity graph: the contact behind an identity seen on a channel, found, created, linked or (on
trusted evidence) merged. This is what voice and the message sink call for every call and message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit.service import SYSTEM
from teleplex.contacts.identities import (
    DEFAULT_REGION,
    IdentityKind,
    InvalidIdentity,
    implied_phone,
    normalise,
    normalise_phone,
    provider_phone,
)
from teleplex.contacts.models import Contact, ContactIdentity, ContactSuggestion
from teleplex.core.crud import get_or_404
from teleplex.core.errors import Conflict
from teleplex.core.logging import get_logger

log = get_logger("teleplex.contacts")


class IdentityTaken(Conflict):
    """The identity already belongs to another contact: linking it would merge two people silently."""


class FixedClock:
    """`now` as a Clock, for the audit records written by the channel path (which is handed an instant)."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return 0.0


# --- the identity graph ------------------------------------------------------------------------------------


async def owner_of(session: AsyncSession, kind: str, value: str) -> Contact | None:
    stmt = select(Contact).join(ContactIdentity).where(ContactIdentity.kind == kind, ContactIdentity.value == value)
    return (await session.execute(stmt)).scalar()


async def insert_identity(
    session: AsyncSession, contact: Contact, kind: IdentityKind, value: str, now: datetime, source: str | None
) -> ContactIdentity:
    """Add the identity to the contact; a concurrent claim by another contact is IdentityTaken."""
    identity = ContactIdentity(contact_id=contact.id, kind=kind.value, value=value, created_at=now, source=source)
    try:
        async with session.begin_nested():
            session.add(identity)
            await session.flush()
    except IntegrityError:
        owner = await owner_of(session, kind.value, value)
        if owner is not None and owner.id == contact.id:
            return next(i for i in owner.identities if i.kind == kind.value and i.value == value)
        raise IdentityTaken(
            f"{kind.value} {value} belongs to contact {owner.id if owner else '?'}",
            {"field": "value", "value": value, "contact_id": owner.id if owner else None},
            reason="identity_taken",
        ) from None
    await session.refresh(contact, ["identities"])
    return identity


async def _create(
    session: AsyncSession, now: datetime, kind: IdentityKind, value: str, name: str | None, source: str | None
) -> Contact:
    """A new profile owning this identity; if another transaction created it meanwhile, theirs."""
    contact = Contact(display_name=name, created_at=now, updated_at=now)
    contact.identities = [ContactIdentity(kind=kind.value, value=value, created_at=now, source=source)]
    try:
        async with session.begin_nested():
            session.add(contact)
            await session.flush()
    except IntegrityError:
        found = await owner_of(session, kind.value, value)
        if found is None:
            raise
        return found
    return contact


async def _suggest(
    session: AsyncSession, now: datetime, contact: Contact, other: Contact | None, reason: str,
    kind: IdentityKind, value: str, phone: str,
) -> None:  # fmt: skip
    """Record a link we will not make ourselves, once."""
    other_id = other.id if other else None
    seen = await session.execute(select(ContactSuggestion.id).where(
        ContactSuggestion.contact_id == contact.id, ContactSuggestion.kind == kind.value,
        ContactSuggestion.value == value, ContactSuggestion.phone == phone,
        ContactSuggestion.other_contact_id.is_(None) if other_id is None else ContactSuggestion.other_contact_id == other_id,
    ))  # fmt: skip
    if seen.first() is None:
        session.add(ContactSuggestion(contact_id=contact.id, other_contact_id=other_id, reason=reason,
                                      kind=kind.value, value=value, phone=phone, created_at=now))  # fmt: skip
        await session.flush()


async def _link_extras(
    session: AsyncSession, now: datetime, contact: Contact, extras: list[tuple[IdentityKind, str]], source: str | None
) -> None:
    for kind, value in extras:
        owner = await owner_of(session, kind.value, value)
        if owner is None:
            await insert_identity(session, contact, kind, value, now, source)
        elif owner.id != contact.id:
            log.warning("identity kept on its own profile", kind=kind.value, contact_id=owner.id, wanted=contact.id)


async def resolve_identity(
    session: AsyncSession,
    now: datetime,
    kind: str,
    value: str,
    *,
    display_name: str | None = None,
    phone: str | None = None,
    trusted: bool = True,
    region: str = DEFAULT_REGION,
    source: str | None = None,
) -> Contact:
    """The contact behind an identity seen on a channel, found or created; never None.

    `phone` is a number the same event ties to this identity (a WhatsApp wa_id is one by itself; a Telegram
    shared contact is another). Trusted, it links: the identity joins the phone's profile, or, when the two
    already belong to different profiles, the identity's profile is merged into the phone's (audited as the
    system, undoable). Untrusted, nothing links or merges: a suggestion is recorded for a person to decide.
    Raises InvalidIdentity (422) for a value that cannot be an identity of its kind.
    """
    k, v = normalise(kind, value, region)
    name = display_name.strip()[:200] or None if display_name else None
    e164 = implied_phone(k, v) or (provider_phone(phone, region) if phone else None)
    if phone and e164 is None:
        log.info("unusable phone ignored", kind=k.value)  # the number itself stays out of the logs
    owner = await owner_of(session, k.value, v)
    if e164 is None or k is IdentityKind.PHONE:
        if owner is None:
            return await _create(session, now, k, v, name, source)
        if owner.display_name is None and name:
            owner.display_name, owner.updated_at = name, now
        return owner
    phone_owner = await owner_of(session, IdentityKind.PHONE.value, e164)
    extras = [(IdentityKind.PHONE, e164)]
    if k is IdentityKind.WHATSAPP_BSUID:
        extras.append((IdentityKind.WHATSAPP, e164[1:]))  # the phone a BSUID arrives with is its wa_id
    if not trusted:
        contact = owner or await _create(session, now, k, v, name, source)
        if phone_owner is None or phone_owner.id != contact.id:
            reason = "untrusted_phone" if phone_owner is None else "phone_owned_by_other"
            await _suggest(session, now, contact, phone_owner, reason, k, v, e164)
        return contact
    if owner is None and phone_owner is None:
        contact = await _create(session, now, k, v, name, source)
    elif owner is None:
        assert phone_owner is not None
        contact = phone_owner
        await insert_identity(session, contact, k, v, now, source)
    elif phone_owner is None or phone_owner.id == owner.id:
        contact = owner
    else:
        from teleplex.contacts.merge import merge_contacts  # merge builds on this module

        await merge_contacts(session, FixedClock(now), SYSTEM, phone_owner, owner,
                             reason=f"{k.value} {v} arrived with phone {e164}")  # fmt: skip
        contact = phone_owner
    await _link_extras(session, now, contact, extras, source)
    if contact.display_name is None and name:
        contact.display_name, contact.updated_at = name, now
    return contact


async def link_identity(
    session: AsyncSession,
    contact_id: int,
    kind: str,
    value: str,
    now: datetime,
    source: str | None,
    *,
    region: str = DEFAULT_REGION,
) -> ContactIdentity:
    """Add an identity to a known contact (a verified web chat identifier, an agent's edit); idempotent.
    IdentityTaken (409) when another contact owns it: merging is a separate, audited decision."""
    contact = await get_or_404(session, Contact, contact_id, "contact")
    check_live(contact)
    k, v = normalise(kind, value, region)
    owner = await owner_of(session, k.value, v)
    if owner is not None:
        if owner.id != contact.id:
            raise IdentityTaken(f"{k.value} {v} belongs to contact {owner.id}",
                                {"field": "value", "value": v, "contact_id": owner.id}, reason="identity_taken")
        return next(i for i in owner.identities if i.kind == k.value and i.value == v)
    identity = await insert_identity(session, contact, k, v, now, source)
    contact.updated_at = now
    return identity


async def resolve(session: AsyncSession, now: datetime, kind: str, value: str, name: str | None = None) -> Contact:
    """The contact owning this identity; a new one when nobody does yet (kept for existing callers).

    Unlike resolve_identity it never refuses: a value that is no valid identity of its kind (or a kind we do
    not know) is matched exactly as given, as before, so a message is never held back by its sender's id."""
    try:
        return await resolve_identity(session, now, kind, value, display_name=name)
    except InvalidIdentity:
        found = await owner_of(session, kind, value)
        if found is not None:
            return found
        contact = Contact(display_name=name[:200] if name else None, created_at=now, updated_at=now)
        contact.identities = [ContactIdentity(kind=kind[:32], value=value[:200], created_at=now)]
        session.add(contact)
        await session.flush()
        return contact


async def resolve_phone(
    session: AsyncSession, now: datetime, raw: str | None, region: str, name: str | None = None
) -> Contact | None:
    """The contact for a caller id; None for anonymous or impossible numbers (nothing to match on)."""
    e164 = normalise_phone(raw, region) if raw else None
    if e164 is None:
        return None
    return await resolve_identity(session, now, IdentityKind.PHONE, e164, display_name=name, source="voice")


def check_live(contact: Contact) -> None:
    """Merged shells and erased tombstones take no changes: say where to go instead."""
    if contact.erased_at is not None:
        raise Conflict(f"contact {contact.id} was erased", {"contact_id": contact.id},
                       reason="contact_erased")  # fmt: skip
    if contact.merged_into_id is not None:
        raise Conflict(
            f"contact {contact.id} is merged into contact {contact.merged_into_id}: change that one",
            {"contact_id": contact.id, "merged_into_id": contact.merged_into_id}, reason="contact_merged",
        )
