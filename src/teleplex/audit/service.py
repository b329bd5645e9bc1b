"""Recording and reading the audit log; every administrative change calls `record` in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit.models import AuditEntry
from teleplex.core.clock import Clock
from teleplex.core.crud import page
from teleplex.core.schemas import ListParams

SECRET_FIELDS = frozenset({"password", "password_hash", "key", "key_hash", "token", "secret"})


class Actor(Protocol):
    kind: str
    id: int
    name: str


class SystemActor:
    """Changes made by Teleplex itself or from the command line."""

    kind, id, name = "system", 0, "system"


SYSTEM = SystemActor()


def _redact(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: ("***" if k in SECRET_FIELDS else v) for k, v in data.items()}


async def record(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one entry; it commits or rolls back with the change it describes, so the log never lies."""
    session.add(
        AuditEntry(
            at=clock.now(),
            actor_kind=actor.kind,
            actor_id=actor.id or None,
            actor_name=actor.name,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=_redact(before),
            after=_redact(after),
            request_id=structlog.contextvars.get_contextvars().get("request_id"),
        )
    )


async def list_entries(
    session: AsyncSession,
    params: ListParams,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEntry], int]:
    stmt = select(AuditEntry)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor_name:
        stmt = stmt.where(AuditEntry.actor_name == actor_name)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return await page(
        session,
        stmt,
        params,
        search=[AuditEntry.actor_name, AuditEntry.entity_type, AuditEntry.action],
        order={"id": AuditEntry.id, "at": AuditEntry.at, "entity_type": AuditEntry.entity_type},
        default_order="-id",
    )
