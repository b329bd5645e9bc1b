"""HTTP route of the audit log, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from teleplex.audit import service
from teleplex.audit.schemas import AuditEntryOut
from teleplex.auth.deps import require
from teleplex.auth.principal import Principal
from teleplex.core.deps import SessionDep
from teleplex.core.schemas import MAX_ID, IsoDateTime, ListParams, Page, utc_instant

router = APIRouter(prefix="/api/v1")


@router.get("/audit-log", response_model=Page[AuditEntryOut], tags=["audit"], summary="Who changed what, newest first")
async def list_audit_log(
    params: Annotated[ListParams, Depends()],
    session: SessionDep,
    _: Annotated[Principal, require("audit.read")],
    entity_type: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    actor: Annotated[str | None, Query(max_length=100, pattern=r"^[A-Za-z0-9._@:-]+$")] = None,
    since: IsoDateTime | None = None,
    until: IsoDateTime | None = None,
) -> dict:
    since, until = utc_instant("since", since), utc_instant("until", until)
    items, total = await service.list_entries(
        session, params, entity_type=entity_type, entity_id=entity_id, actor_name=actor, since=since, until=until
    )
    return {"items": items, "total": total, "limit": params.limit, "offset": params.offset}
