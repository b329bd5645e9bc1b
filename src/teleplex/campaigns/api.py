"""HTTP routes of outbound campaigns, lists, do-not-call and callbacks; thin: check, parse, call the service."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BeforeValidator, StringConstraints
from sqlalchemy import false, or_, select

from teleplex.audit import service as audit
from teleplex.auth.deps import require, require_any
from teleplex.auth.principal import Principal
from teleplex.campaigns import callback_service, csv_import, dnc, dnc_service, service
from teleplex.campaigns.models import Callback, Campaign, CampaignList, DncEntry, Lead
from teleplex.campaigns.schemas import (
    CallbackCreate,
    CallbackOut,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    DncCheck,
    DncCreate,
    DncImportReport,
    DncOut,
    DueCallbackOut,
    ImportReport,
    LeadOut,
    ListCreate,
    ListOut,
    ListUpdate,
    Progress,
    RecycleRequest,
    RecycleResult,
)
from teleplex.campaigns.states import CampaignState, LeadStatus
from teleplex.center.service import list_page
from teleplex.core.crud import get_or_404
from teleplex.core.deps import ClockDep, SessionDep, SettingsDep
from teleplex.core.errors import InvalidInput, PermissionDenied, TeleplexError
from teleplex.core.schemas import MAX_ID, ListParams, Page, _check_query_text, utc_instant

router = APIRouter(prefix="/api/v1")
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Params = Annotated[ListParams, Depends()]
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
CSV_TYPES = ("text/csv", "text/plain", "text/tab-separated-values", "application/octet-stream")
CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"the file itself (at most {MAX_UPLOAD_BYTES // 1024 // 1024} MiB), any common encoding",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
Encoding = Literal["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "windows-1252", "latin-1"]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class FileTooLarge(TeleplexError):
    status, code = 413, "payload_too_large"


async def csv_body(request: Request) -> bytes:
    """The raw uploaded file, refused early when it is not CSV-like or larger than the limit."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CSV_TYPES:
        raise InvalidInput(
            f"body: send the file itself with content-type text/csv (got '{kind or 'none'}')",
            {"field": "body", "content_type": kind or "none"},
            reason="csv_expected"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        raise FileTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES} bytes; split it", {"limit": MAX_UPLOAD_BYTES})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise FileTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES} bytes; split it", {"limit": MAX_UPLOAD_BYTES})
        chunks.append(chunk)
    return b"".join(chunks)


def _iso_text(value: Any) -> Any:
    """Pydantic reads a bare number as seconds since 1970; an instant here must be written as ISO 8601."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be an ISO 8601 instant, e.g. 2026-01-05T09:00:00Z")
    return value


def _texts(**values: str | list[str] | None) -> None:
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                _check_query_text(name, item)


# --- campaigns -------------------------------------------------------------------------------------------

Reader = Annotated[Principal, require_any("campaigns.read", "campaigns.read.own")]
Writer = Annotated[Principal, require("campaigns.write")]
Controller = Annotated[Principal, require_any("campaigns.control", "campaigns.write")]


@router.get("/campaigns", response_model=Page[CampaignOut], tags=["campaigns"])
async def list_campaigns(
    params: Params,
    session: SessionDep,
    principal: Reader,
    state: Annotated[CampaignState | None, Query(description="only campaigns in this state")] = None,
    queue_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict:
    stmt = service.scope_campaigns(principal, select(Campaign))
    if state is not None:
        stmt = stmt.where(Campaign.state == state.value)
    if queue_id is not None:
        stmt = stmt.where(Campaign.queue_id == queue_id)
    order = {"id": Campaign.id, "name": Campaign.name, "state": Campaign.state, "created_at": Campaign.created_at}
    return await list_page(session, stmt, params, [Campaign.name, Campaign.description], order)


@router.post("/campaigns", response_model=CampaignOut, status_code=201, tags=["campaigns"])
async def create_campaign(body: CampaignCreate, session: SessionDep, clock: ClockDep, actor: Writer) -> object:
    return await service.create_campaign(session, clock, actor, body)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, tags=["campaigns"])
async def get_campaign(campaign_id: IdPath, session: SessionDep, principal: Reader) -> object:
    return await service.get_visible(session, principal, campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut, tags=["campaigns"])
async def update_campaign(
    campaign_id: IdPath, body: CampaignUpdate, session: SessionDep, clock: ClockDep, actor: Writer
) -> object:
    campaign = await get_or_404(session, Campaign, campaign_id, "campaign")
    return await service.update_campaign(session, clock, actor, campaign, body)


@router.delete("/campaigns/{campaign_id}", status_code=204, tags=["campaigns"])
async def delete_campaign(campaign_id: IdPath, session: SessionDep, clock: ClockDep, actor: Writer) -> None:
    campaign = await get_or_404(session, Campaign, campaign_id, "campaign")
    await service.delete_campaign(session, clock, actor, campaign)


async def _move(action: str, campaign_id: int, session: Any, clock: Any, principal: Principal,
                request: Request) -> object:  # fmt: skip
    campaign = await service.get_visible(session, principal, campaign_id)
    service.check_control(principal, campaign)
    moved = await service.change_state(session, clock, principal, campaign, action)
    await session.commit()  # stored before the stream says so (monitors then read the new state)
    request.app.state.engine.publish("campaign.state", clock.now(), {"campaign_id": moved.id, "state": moved.state},
                                     queue_id=moved.queue_id)  # fmt: skip
    return moved


@router.post("/campaigns/{campaign_id}/start", response_model=CampaignOut, tags=["campaigns"])
async def start_campaign(campaign_id: IdPath, request: Request, session: SessionDep, clock: ClockDep,
                 principal: Controller) -> object:  # fmt: skip
    """draft or paused → running; refused (409, with every reason) when there is nothing legal to dial."""
    return await _move("start", campaign_id, session, clock, principal, request)


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignOut, tags=["campaigns"])
async def pause_campaign(campaign_id: IdPath, request: Request, session: SessionDep, clock: ClockDep,
                 principal: Controller) -> object:  # fmt: skip
    return await _move("pause", campaign_id, session, clock, principal, request)


@router.post("/campaigns/{campaign_id}/stop", response_model=CampaignOut, tags=["campaigns"])
async def stop_campaign(campaign_id: IdPath, request: Request, session: SessionDep, clock: ClockDep,
                 principal: Controller) -> object:  # fmt: skip
    """running or paused → stopped, for good."""
    return await _move("stop", campaign_id, session, clock, principal, request)


@router.get("/campaigns/{campaign_id}/progress", response_model=Progress, tags=["campaigns"])
async def campaign_progress(
    campaign_id: IdPath, request: Request, session: SessionDep, clock: ClockDep, principal: Reader
) -> dict:
    campaign = await service.get_visible(session, principal, campaign_id)
    dialer = getattr(request.app.state, "dialer", None)
    return await service.progress(session, campaign, clock.now()) | {"live": dialer and dialer.live(campaign_id)}


# --- lists and leads -------------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/lists", response_model=Page[ListOut], tags=["campaign lists"])
async def list_lists(campaign_id: IdPath, params: Params, session: SessionDep, principal: Reader) -> dict:
    await service.get_visible(session, principal, campaign_id)
    stmt = select(CampaignList).where(CampaignList.campaign_id == campaign_id)
    order = {"id": CampaignList.id, "name": CampaignList.name, "created_at": CampaignList.created_at}
    return await list_page(session, stmt, params, [CampaignList.name], order)


@router.post("/campaigns/{campaign_id}/lists", response_model=ListOut, status_code=201, tags=["campaign lists"])
async def create_list(
    campaign_id: IdPath, body: ListCreate, session: SessionDep, clock: ClockDep, actor: Writer
) -> object:
    campaign = await get_or_404(session, Campaign, campaign_id, "campaign")
    return await service.create_list(session, clock, actor, campaign, body.name, body.active)


async def _visible_list(session: Any, principal: Principal, list_id: int) -> tuple[CampaignList, Campaign]:
    lst = await get_or_404(session, CampaignList, list_id, "campaign list")
    return lst, await service.get_visible(session, principal, lst.campaign_id)


@router.get("/campaign-lists/{list_id}", response_model=ListOut, tags=["campaign lists"])
async def get_list(list_id: IdPath, session: SessionDep, principal: Reader) -> object:
    lst, _ = await _visible_list(session, principal, list_id)
    return lst


@router.patch("/campaign-lists/{list_id}", response_model=ListOut, tags=["campaign lists"])
async def update_list(
    list_id: IdPath, body: ListUpdate, session: SessionDep, clock: ClockDep, principal: Controller
) -> object:
    """Rename, or switch on (`active: true`) and off; supervisors may do it for their queues' campaigns."""
    lst, campaign = await _visible_list(session, principal, list_id)
    service.check_control(principal, campaign)
    return await service.update_list(session, clock, principal, lst, body.model_dump(exclude_unset=True))


@router.delete("/campaign-lists/{list_id}", status_code=204, tags=["campaign lists"])
async def delete_list(list_id: IdPath, session: SessionDep, clock: ClockDep, actor: Writer) -> None:
    await service.delete_list(session, clock, actor, await get_or_404(session, CampaignList, list_id, "campaign list"))


@router.post(
    "/campaign-lists/{list_id}/import", response_model=ImportReport, tags=["campaign lists"], openapi_extra=CSV_BODY
)
async def import_list(
    list_id: IdPath,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    actor: Writer,
    phone_column: Annotated[
        list[ColumnName], Query(min_length=1, max_length=5, description="the column(s) holding phone numbers")
    ],
    first_name_column: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    last_name_column: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    timezone_column: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    encoding: Annotated[Encoding | None, Query(description="default: detected")] = None,
    delimiter: Annotated[Literal["comma", "semicolon", "tab", "pipe"] | None, Query()] = None,
    region: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="for numbers without +country")] = None,
) -> dict:
    """Import a CSV file into the list. Every column not mapped is kept as a lead attribute. The answer lists
    each rejected row with its line number and why; the rest is stored (see docs/campaigns.md)."""
    _texts(phone_column=phone_column, first_name_column=first_name_column, last_name_column=last_name_column,
           timezone_column=timezone_column)  # fmt: skip
    data = await csv_body(request)  # a bad body is a 422 before any lookup, as with JSON bodies
    lst = await get_or_404(session, CampaignList, list_id, "campaign list")
    mapping = csv_import.ColumnMapping(tuple(phone_column), first_name_column, last_name_column, timezone_column)
    try:
        parsed = csv_import.parse(
            data, mapping, region or settings.phone_region, encoding=encoding,
            delimiter=DELIMITERS[delimiter] if delimiter else None,
        )  # fmt: skip
    except csv_import.FileUnreadable as exc:
        raise unreadable(exc) from None
    return await service.import_leads(session, clock, actor, lst, parsed)


def unreadable(exc: csv_import.FileUnreadable) -> InvalidInput:
    """A file that cannot be used as a whole: 422 naming the field, with the rejected rows if that is why."""
    message = str(exc) if str(exc).startswith(exc.field) else f"{exc.field}: {exc}"
    details: dict[str, Any] = {"field": exc.field}
    if exc.rejected:
        details["rejected"] = [r.as_detail() for r in exc.rejected[:100]]
    return InvalidInput(message, details, reason="file_unreadable")


@router.post("/campaign-lists/{list_id}/recycle", response_model=RecycleResult, tags=["campaign lists"])
async def recycle_list(
    list_id: IdPath, body: RecycleRequest, session: SessionDep, clock: ClockDep, principal: Controller
) -> dict:
    """Dial again the closed leads whose last outcome is one of `outcomes` (attempt counts start over)."""
    lst, campaign = await _visible_list(session, principal, list_id)
    service.check_control(principal, campaign)
    return {"list_id": lst.id, "recycled": await service.recycle_list(session, clock, principal, lst, body.outcomes)}


@router.get("/campaign-lists/{list_id}/leads", response_model=Page[LeadOut], tags=["campaign lists"])
async def list_leads(
    list_id: IdPath,
    params: Params,
    session: SessionDep,
    principal: Reader,
    status: Annotated[LeadStatus | None, Query()] = None,
) -> dict:
    await _visible_list(session, principal, list_id)
    stmt = select(Lead).where(Lead.list_id == list_id)
    if status is not None:
        stmt = stmt.where(Lead.status == status.value)
    order = {"id": Lead.id, "phone": Lead.phone, "last_name": Lead.last_name, "next_attempt_at": Lead.next_attempt_at,
             "attempts": Lead.attempts}  # fmt: skip
    return await list_page(session, stmt, params, [Lead.phone, Lead.first_name, Lead.last_name], order)


# --- do-not-call -----------------------------------------------------------------------------------------

DncReader = Annotated[Principal, require("dnc.read")]
DncWriter = Annotated[Principal, require("dnc.write")]


async def _campaign_exists(session: Any, campaign_id: int | None) -> None:
    if campaign_id is not None:
        await get_or_404(session, Campaign, campaign_id, "campaign")


def _number(raw: str, region: str) -> str:
    number = dnc.normalise(raw, region)
    if number is None:
        raise InvalidInput(f"number: '{raw[:40]}' is not a possible phone number",
                           {"field": "number", "value": raw[:40]},
                           reason="not_a_phone_number")  # fmt: skip
    return number


@router.get("/dnc", response_model=Page[DncOut], tags=["do-not-call"])
async def list_dnc(
    params: Params,
    session: SessionDep,
    _: DncReader,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="that campaign's list")] = None,
    scope: Annotated[Literal["global", "campaign", "all"], Query()] = "all",
) -> dict:
    stmt = select(DncEntry)
    if campaign_id is not None:
        stmt = stmt.where(DncEntry.campaign_id == campaign_id)
    if scope == "global":
        stmt = stmt.where(DncEntry.campaign_id.is_(None))
    elif scope == "campaign":
        stmt = stmt.where(DncEntry.campaign_id.is_not(None))
    order = {"id": DncEntry.id, "number": DncEntry.number, "created_at": DncEntry.created_at}
    return await list_page(session, stmt, params, [DncEntry.number, DncEntry.note], order)


@router.post("/dnc", response_model=DncOut, status_code=201, tags=["do-not-call"])
async def add_dnc(
    body: DncCreate, session: SessionDep, clock: ClockDep, settings: SettingsDep, actor: DncWriter
) -> object:
    """Add a number to the global list (no campaign_id) or to one campaign's; adding it twice is harmless."""
    await _campaign_exists(session, body.campaign_id)
    entry, new = await dnc_service.add(
        session, _number(body.number, settings.phone_region), body.campaign_id, "manual", clock.now(), body.note
    )
    if new:
        after = DncOut.model_validate(entry).model_dump(mode="json")
        await audit.record(session, clock, actor, "create", "dnc_entry", entry.id, None, after)
    return entry


@router.get("/dnc/check", response_model=DncCheck, tags=["do-not-call"])
async def check_dnc(
    session: SessionDep,
    settings: SettingsDep,
    _: DncReader,
    number: Annotated[str, Query(min_length=1, max_length=40)],
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict:
    """Whether a number may be called (for a campaign): the same check the dialer makes before each dial."""
    _texts(number=number)
    e164 = _number(number, settings.phone_region)
    entries = await dnc_service.blocking_entries(session, e164, campaign_id)
    return {"number": e164, "campaign_id": campaign_id, "blocked": bool(entries), "entries": entries}


@router.delete("/dnc/{entry_id}", status_code=204, tags=["do-not-call"])
async def remove_dnc(entry_id: IdPath, session: SessionDep, clock: ClockDep, actor: DncWriter) -> None:
    entry = await get_or_404(session, DncEntry, entry_id, "do-not-call entry")
    before = DncOut.model_validate(entry).model_dump(mode="json")
    await session.delete(entry)
    await session.flush()
    await audit.record(session, clock, actor, "delete", "dnc_entry", entry_id, before, None)


@router.post("/dnc/import", response_model=DncImportReport, tags=["do-not-call"], openapi_extra=CSV_BODY)
async def import_dnc(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    actor: DncWriter,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="default: the global list")] = None,
    number_column: Annotated[str | None, Query(min_length=1, max_length=100, description="default: first")] = None,
    encoding: Annotated[Encoding | None, Query()] = None,
) -> dict:
    """Import numbers (one per row; with a header line when `number_column` names the column)."""
    _texts(number_column=number_column)
    data = await csv_body(request)
    await _campaign_exists(session, campaign_id)
    try:
        rows, used = dnc_rows(data, number_column, encoding)
    except csv_import.FileUnreadable as exc:
        raise unreadable(exc) from None
    numbers, rejected = [], []
    for line, raw in rows:
        number = dnc.normalise(raw, settings.phone_region)
        if number is None:
            rejection = (csv_import.Rejection(line, "invalid_number", "invalid number", raw[:100]) if raw
                         else csv_import.Rejection(line, "empty", "empty"))  # fmt: skip
            rejected.append(rejection.as_detail())
        else:
            numbers.append(number)
    added, already = await dnc_service.add_many(session, numbers, campaign_id, "import", clock.now())
    if added:
        await audit.record(session, clock, actor, "import", "dnc_entry", None, None,
                           {"campaign_id": campaign_id, "added": added, "already": already})  # fmt: skip
    if not rows:
        raise InvalidInput("body: the file has no numbers", {"field": "body"}, reason="file_has_no_numbers")
    if added + already == 0:
        first = rejected[0]
        raise InvalidInput(f"body: no row holds a usable number; line {first['line']}: {first['reason']}",
                           {"field": "body", "rejected": rejected[:100], "line": first["line"]},
                           reason="no_usable_row")  # fmt: skip
    return {"campaign_id": campaign_id, "encoding": used, "rows": len(rows), "added": added, "already": already,
            "rejected": rejected}  # fmt: skip


def dnc_rows(data: bytes, column: str | None, encoding: str | None) -> tuple[list[tuple[int, str]], str]:
    """(line, raw number) pairs of a do-not-call file: the named column, or the first of a header-less file."""
    text, used = csv_import.decode(data, encoding)
    if "\x00" in text:
        raise csv_import.FileUnreadable("the file contains NUL characters")
    delim = csv_import.detect_delimiter(text)
    records = list(csv_import._records(text, delim))
    index, start = 0, 0
    if column is not None:
        if not records:
            raise csv_import.FileUnreadable("the file is empty")
        index, start = csv_import._column([h.strip() for h in records[0][1]], column, "number_column"), 1
    out = [(line, (row[index] if index < len(row) else "").strip()) for line, row in records[start:]
           if any(c.strip() for c in row)]  # fmt: skip
    return out, used


# --- callbacks -------------------------------------------------------------------------------------------

CallbackReader = Annotated[Principal, require_any("callbacks.read", "callbacks.read.own")]
CallbackWriter = Annotated[Principal, require_any("callbacks.write", "callbacks.write.own")]


@router.get("/callbacks", response_model=Page[CallbackOut], tags=["callbacks"])
async def list_callbacks(
    params: Params,
    session: SessionDep,
    principal: CallbackReader,
    status: Annotated[Literal["pending", "dialing", "done", "cancelled"] | None, Query()] = None,
    queue_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    campaign_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="personal callbacks of this agent")] = None,
) -> dict:
    stmt = callback_service.scope_callbacks(principal, select(Callback))
    for column, value in ((Callback.status, status), (Callback.queue_id, queue_id),
                          (Callback.campaign_id, campaign_id), (Callback.agent_id, agent_id)):  # fmt: skip
        if value is not None:
            stmt = stmt.where(column == value)
    order = {"id": Callback.id, "due_at": Callback.due_at, "requested_at": Callback.requested_at}
    return await list_page(session, stmt, params, [Callback.number, Callback.name, Callback.note], order)


@router.post("/callbacks", response_model=CallbackOut, status_code=201, tags=["callbacks"])
async def schedule_callback(
    body: CallbackCreate, session: SessionDep, clock: ClockDep, settings: SettingsDep, principal: CallbackWriter
) -> object:
    """Schedule a callback: personal (`agent_id`: agents may name only themselves) or for a queue/campaign."""
    return await callback_service.schedule(session, clock, principal, settings.phone_region, body)


@router.get("/callbacks/due", response_model=list[DueCallbackOut], tags=["callbacks"])
async def due_callbacks(
    session: SessionDep,
    clock: ClockDep,
    principal: CallbackReader,
    at: Annotated[
        datetime | None, BeforeValidator(_iso_text), Query(description="an instant with a UTC offset; default: now")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict]:
    """What may be dialed now, most urgent first, and by whom (a personal callback past its grace period is
    handed to the team). Agents see only what they may take."""
    now = utc_instant("at", at) or clock.now()
    if principal.is_admin or principal.can("callbacks.read"):
        stmt = callback_service.scope_callbacks(principal, select(Callback))
    else:
        stmt = _agent_due_scope(principal)
    pairs = await callback_service.due_now(session, stmt, now)
    out = []
    for cb, d in pairs:
        if principal.is_admin or principal.can("callbacks.read") or d.agent_id in (None, principal.agent_id):
            out.append({"callback": cb, "priority": d.priority, "agent_id": d.agent_id,
                        "handed_to_team": d.handed_to_team})  # fmt: skip
    return out[:limit]


def _agent_due_scope(principal: Principal) -> Any:
    """Agents' due list also holds team mates' personal callbacks once handed over (filtered after)."""
    clauses = []
    if principal.agent_id is not None:
        clauses.append(Callback.agent_id == principal.agent_id)
    if principal.member_queue_ids:
        clauses.append(Callback.queue_id.in_(principal.member_queue_ids))
    if not clauses:
        return select(Callback).where(false())
    return select(Callback).where(or_(*clauses))


@router.get("/callbacks/{callback_id}", response_model=CallbackOut, tags=["callbacks"])
async def get_callback(callback_id: IdPath, session: SessionDep, principal: CallbackReader) -> object:
    return await callback_service.get_visible(session, principal, callback_id)


@router.post("/callbacks/{callback_id}/cancel", response_model=CallbackOut, tags=["callbacks"])
async def cancel_callback(
    callback_id: IdPath, session: SessionDep, clock: ClockDep, principal: CallbackWriter
) -> object:
    cb = await callback_service.get_visible(session, principal, callback_id)
    if not principal.is_admin and not principal.can("callbacks.write") and cb.agent_id not in (None, principal.agent_id):
        raise PermissionDenied("agents cancel only their own or their team's callbacks", {"callback_id": callback_id})
    return await callback_service.cancel(session, clock, principal, cb)
