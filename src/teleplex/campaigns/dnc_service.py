"""Do-not-call lists in the database: the dial-time check, opt-outs from other channels, and administration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.campaigns import dnc
from teleplex.campaigns.models import DncEntry
from teleplex.core.crud import flush_or_conflict

SMS_STOP = "sms_stop"


def blocked_clause(number: ColumnElement[str], campaign_id: ColumnElement[int] | int | None) -> ColumnElement[bool]:
    """SQL true when `number` is on the global list or on `campaign_id`'s list; for selection queries."""
    scope = DncEntry.campaign_id.is_(None)
    if campaign_id is not None:
        scope = or_(scope, DncEntry.campaign_id == campaign_id)
    return exists(select(DncEntry.id).where(DncEntry.number == number, scope))


async def blocking_entries(session: AsyncSession, number: str, campaign_id: int | None) -> list[DncEntry]:
    stmt = select(DncEntry).where(DncEntry.number == number)
    scope = DncEntry.campaign_id.is_(None)
    if campaign_id is not None:
        scope = or_(scope, DncEntry.campaign_id == campaign_id)
    return list((await session.execute(stmt.where(scope).order_by(DncEntry.id))).scalars())


async def is_blocked(session: AsyncSession, number: str, campaign_id: int | None) -> bool:
    """The dial-time check: never dial a number for which this is true (global list or the campaign's)."""
    return bool(await blocking_entries(session, number, campaign_id))


async def add(
    session: AsyncSession, number: str, campaign_id: int | None, source: str, now: datetime, note: str | None = None
) -> tuple[DncEntry, bool]:
    """Add an E.164 number (idempotent); returns the entry and whether it is new."""
    scope = dnc.scope_key(campaign_id)
    found = (
        await session.execute(select(DncEntry).where(DncEntry.number == number, DncEntry.scope == scope))
    ).scalar_one_or_none()
    if found is not None:
        return found, False
    entry = DncEntry(number=number, campaign_id=campaign_id, scope=scope, source=source, note=note, created_at=now)
    session.add(entry)
    await flush_or_conflict(session, f"{number} was added to this do-not-call list at the same time; try again")
    return entry, True


async def add_many(
    session: AsyncSession, numbers: list[str], campaign_id: int | None, source: str, now: datetime
) -> tuple[int, int]:
    """Add many E.164 numbers at once (a file); returns (added, already there). Duplicates count once."""
    scope = dnc.scope_key(campaign_id)
    unique = list(dict.fromkeys(numbers))
    added = already = 0
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        found = await session.execute(
            select(DncEntry.number).where(DncEntry.scope == scope, DncEntry.number.in_(chunk))
        )
        known = set(found.scalars())
        session.add_all(
            DncEntry(number=n, campaign_id=campaign_id, scope=scope, source=source, created_at=now)
            for n in chunk if n not in known
        )
        added, already = added + len(chunk) - len(known), already + len(known)
        await flush_or_conflict(session, "another change to this do-not-call list ran at the same time; try again")
    return added, already + len(numbers) - len(unique)


async def add_opt_out(session: AsyncSession, number: str, source: str, now: datetime) -> DncEntry | None:
    """A customer said STOP (SMS, WhatsApp, IVR...): add the number to the global list. None if unusable.

    `number` may be in any format a channel gives; it is normalised to E.164 (numbers given without a
    country code are read as international, since channels deliver them with one)."""
    e164 = dnc.normalise(number if number.startswith("+") else "+" + number.lstrip("0"), "ZZ")
    if e164 is None:
        return None
    entry, _ = await add(session, e164, None, source, now)
    return entry


async def remove_opt_out(session: AsyncSession, number: str, source: str = SMS_STOP) -> int:
    """A customer said START: lift the global opt-out that the same channel added (never an administrator's
    entry, nor a campaign's). Returns how many entries were removed."""
    e164 = dnc.normalise(number if number.startswith("+") else "+" + number.lstrip("0"), "ZZ")
    if e164 is None:
        return 0
    result = await session.execute(
        delete(DncEntry).where(DncEntry.number == e164, DncEntry.campaign_id.is_(None), DncEntry.source == source)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
