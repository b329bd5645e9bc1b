"""Finding the customer behind an identity, creating the profile the first time they reach us."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.contacts.models import Contact, ContactIdentity


def normalise_phone(raw: str, region: str) -> str | None:
    """E.164 for a number as a caller id or a form gives it; None when it is not a possible number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def resolve(session: AsyncSession, now: datetime, kind: str, value: str, name: str | None = None) -> Contact:
    """The contact owning this identity; a new one when nobody does yet."""
    found = (
        await session.execute(
            select(Contact).join(ContactIdentity).where(ContactIdentity.kind == kind, ContactIdentity.value == value)
        )
    ).scalar()
    if found is not None:
        return found
    contact = Contact(display_name=name, created_at=now, updated_at=now)
    contact.identities = [ContactIdentity(kind=kind, value=value, created_at=now)]
    session.add(contact)
    await session.flush()
    return contact


async def resolve_phone(
    session: AsyncSession, now: datetime, raw: str | None, region: str, name: str | None = None
) -> Contact | None:
    """The contact for a caller id; None for anonymous or impossible numbers (nothing to match on)."""
    e164 = normalise_phone(raw, region) if raw else None
    return None if e164 is None else await resolve(session, now, "phone", e164, name)
