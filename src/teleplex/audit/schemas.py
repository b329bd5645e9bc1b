"""The audit log as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from teleplex.core.schemas import ApiOutput


class AuditEntryOut(ApiOutput):
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
