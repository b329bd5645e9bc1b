"""HTTP routes of the contact-center configuration; thin: check, parse, call the service, shape."""

# No `from __future__ import annotations` here: the route factory below annotates with runtime values.

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel
from sqlalchemy import select

from teleplex.auth.deps import require, require_any
from teleplex.auth.principal import Principal
from teleplex.center import directory, hours, service
from teleplex.center.models import Agent, AgentQueue, BusinessHours, Disposition, PauseReason, Queue
from teleplex.center.schemas import (
    AgentCreate,
    AgentOut,
    AgentUpdate,
    BusinessHoursCreate,
    BusinessHoursOut,
    BusinessHoursUpdate,
    DispositionCreate,
    DispositionOut,
    DispositionUpdate,
    OpenStatus,
    PauseReasonCreate,
    PauseReasonOut,
    PauseReasonUpdate,
    QueueCreate,
    QueueOut,
    QueueUpdate,
)
from teleplex.core.deps import ClockDep, SessionDep
from teleplex.core.schemas import MAX_ID, ListParams, Page, utc_instant

router = APIRouter(prefix="/api/v1")
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Params = Annotated[ListParams, Depends()]

# --- queues ----------------------------------------------------------------------------------------------

QueueReader = Annotated[Principal, require_any("queues.read", "queues.read.own")]
QueueWriter = Annotated[Principal, require("queues.write")]


@router.get("/queues", response_model=Page[QueueOut], tags=["queues"])
async def list_queues(params: Params, session: SessionDep, principal: QueueReader) -> dict:
    stmt = service.scope_queues(principal, select(Queue))
    return await service.list_page(
        session,
        stmt,
        params,
        [Queue.name, Queue.description],
        {"id": Queue.id, "name": Queue.name, "priority": Queue.priority, "created_at": Queue.created_at},
    )


@router.post("/queues", response_model=QueueOut, status_code=201, tags=["queues"])
async def create_queue(body: QueueCreate, session: SessionDep, clock: ClockDep, actor: QueueWriter) -> object:
    return await service.create_queue(session, clock, actor, body)


@router.get("/queues/{queue_id}", response_model=QueueOut, tags=["queues"])
async def get_queue(queue_id: IdPath, session: SessionDep, principal: QueueReader) -> object:
    queue = await service.get(session, service.QUEUE, queue_id)
    service.check_queue_visible(principal, queue_id)
    return queue


@router.patch("/queues/{queue_id}", response_model=QueueOut, tags=["queues"])
async def update_queue(
    queue_id: IdPath, body: QueueUpdate, session: SessionDep, clock: ClockDep, actor: QueueWriter
) -> object:
    queue = await service.get(session, service.QUEUE, queue_id)
    return await service.update_queue(session, clock, actor, queue, body)


@router.delete("/queues/{queue_id}", status_code=204, tags=["queues"])
async def delete_queue(queue_id: IdPath, session: SessionDep, clock: ClockDep, actor: QueueWriter) -> None:
    await service.delete_queue(session, clock, actor, await service.get(session, service.QUEUE, queue_id))


# --- agents ----------------------------------------------------------------------------------------------

AgentReader = Annotated[Principal, require_any("agents.read", "agents.read.own")]
AgentWriter = Annotated[Principal, require("agents.write")]


@router.get("/agents", response_model=Page[AgentOut], tags=["agents"])
async def list_agents(
    params: Params,
    session: SessionDep,
    principal: AgentReader,
    queue_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="only members of this queue")] = None,
) -> dict:
    stmt = service.scope_agents(principal, select(Agent))
    if queue_id is not None:
        stmt = stmt.where(Agent.id.in_(select(AgentQueue.agent_id).where(AgentQueue.queue_id == queue_id)))
    return await service.list_page(
        session,
        stmt,
        params,
        [Agent.display_name, Agent.number, Agent.device],
        {"id": Agent.id, "number": Agent.number, "display_name": Agent.display_name},
    )


class DirectoryEntry(BaseModel):
    id: int
    display_name: str | None
    number: str
    state: str


@router.get("/agents-directory", response_model=list[DirectoryEntry], tags=["agents"],
            summary="Colleagues to transfer to, with their live state")
async def agents_directory(request: Request, session: SessionDep, principal: AgentReader) -> list[dict]:
    """Agents of the queues the caller works in or supervises (admins: all): an agent's transfer list needs
    their colleagues, whom `GET /agents` (scoped to themself) does not show."""
    stmt = select(Agent).order_by(Agent.id)
    if not principal.is_admin:
        queues = principal.member_queue_ids | principal.supervised_queue_ids
        stmt = stmt.where(Agent.id.in_(select(AgentQueue.agent_id).where(AgentQueue.queue_id.in_(queues))))
    engine = request.app.state.engine
    states = {a.agent_id: str(a.state) for a in engine.router.snapshot(engine.clock.now()).agents}
    agents = (await session.execute(stmt)).scalars()
    return [{"id": a.id, "display_name": a.display_name, "number": a.number,
             "state": states.get(str(a.id), "logged_out")} for a in agents]


class QueueDirectoryEntry(BaseModel):
    id: int
    name: str
    channels: list[str]
    waiting: int
    ready_agents: int


@router.get("/queues-directory", response_model=list[QueueDirectoryEntry], tags=["queues"],
            summary="Every queue to transfer to, with how busy it is now")
async def queues_directory(request: Request, session: SessionDep, _: QueueReader) -> list[dict]:
    """Every queue of the center, whatever the caller's scope: an agent transfers to queues they do not work
    in, which `GET /queues` (scoped) does not show. No configuration, only what the choice needs."""
    engine = request.app.state.engine
    return await directory.queue_directory(session, engine.router.snapshot(engine.clock.now()))


@router.post("/agents", response_model=AgentOut, status_code=201, tags=["agents"])
async def create_agent(body: AgentCreate, session: SessionDep, clock: ClockDep, actor: AgentWriter) -> object:
    return await service.create_agent(session, clock, actor, body)


@router.get("/agents/{agent_id}", response_model=AgentOut, tags=["agents"])
async def get_agent(agent_id: IdPath, session: SessionDep, principal: AgentReader) -> object:
    agent = await service.get(session, service.AGENT, agent_id)
    await service.check_agent_visible(session, principal, agent_id)
    return agent


@router.patch("/agents/{agent_id}", response_model=AgentOut, tags=["agents"])
async def update_agent(
    agent_id: IdPath, body: AgentUpdate, session: SessionDep, clock: ClockDep, actor: AgentWriter
) -> object:
    agent = await service.get(session, service.AGENT, agent_id)
    return await service.update_agent(session, clock, actor, agent, body)


@router.delete("/agents/{agent_id}", status_code=204, tags=["agents"])
async def delete_agent(agent_id: IdPath, session: SessionDep, clock: ClockDep, actor: AgentWriter) -> None:
    await service.delete_agent(session, clock, actor, await service.get(session, service.AGENT, agent_id))


# --- simple records: pause reasons, dispositions, business hours ------------------------------------------


def add_record_routes(
    path: str,
    tag: str,
    kind: service.Kind,
    create_body: type[BaseModel],
    update_body: type[BaseModel],
    out: type[BaseModel],
    search: list[Any],
    order: dict[str, Any],
    delete_fn: Callable[..., Awaitable[None]] | None = None,
) -> None:
    """Register list/create/get/update/delete for a record with no scope of its own."""
    reader = Annotated[Principal, require(f"{kind.permission}.read")]
    writer = Annotated[Principal, require(f"{kind.permission}.write")]
    remove = delete_fn or (lambda s, c, a, obj: service.delete(s, c, a, kind, obj))

    async def list_records(params: Params, session: SessionDep, _: reader) -> dict:
        return await service.list_page(session, select(kind.model), params, search, order)

    async def create_record(body: create_body, session: SessionDep, clock: ClockDep, actor: writer) -> object:  # type: ignore[valid-type]
        return await service.create(session, clock, actor, kind, body.model_dump(mode="json"))

    async def get_record(record_id: IdPath, session: SessionDep, _: reader) -> object:
        return await service.get(session, kind, record_id)

    async def update_record(
        record_id: IdPath, body: update_body, session: SessionDep, clock: ClockDep, actor: writer  # type: ignore[valid-type]
    ) -> object:
        obj = await service.get(session, kind, record_id)
        return await service.update(session, clock, actor, kind, obj, body.model_dump(mode="json", exclude_unset=True))

    async def delete_record(record_id: IdPath, session: SessionDep, clock: ClockDep, actor: writer) -> None:
        await remove(session, clock, actor, await service.get(session, kind, record_id))

    name = kind.audit_type
    router.add_api_route(path, list_records, methods=["GET"], response_model=Page[out], tags=[tag], name=f"list_{name}")
    router.add_api_route(
        path, create_record, methods=["POST"], response_model=out, status_code=201, tags=[tag], name=f"create_{name}"
    )
    item = path + "/{record_id}"
    router.add_api_route(item, get_record, methods=["GET"], response_model=out, tags=[tag], name=f"get_{name}")
    router.add_api_route(item, update_record, methods=["PATCH"], response_model=out, tags=[tag], name=f"update_{name}")
    router.add_api_route(item, delete_record, methods=["DELETE"], status_code=204, tags=[tag], name=f"delete_{name}")


add_record_routes(
    "/pause-reasons",
    "pause reasons",
    service.PAUSE_REASON,
    PauseReasonCreate,
    PauseReasonUpdate,
    PauseReasonOut,
    [PauseReason.name],
    {"id": PauseReason.id, "name": PauseReason.name},
)
add_record_routes(
    "/dispositions",
    "dispositions",
    service.DISPOSITION,
    DispositionCreate,
    DispositionUpdate,
    DispositionOut,
    [Disposition.code, Disposition.label],
    {"id": Disposition.id, "code": Disposition.code, "label": Disposition.label, "category": Disposition.category},
    service.delete_disposition,
)
add_record_routes(
    "/business-hours",
    "business hours",
    service.BUSINESS_HOURS,
    BusinessHoursCreate,
    BusinessHoursUpdate,
    BusinessHoursOut,
    [BusinessHours.name, BusinessHours.timezone],
    {"id": BusinessHours.id, "name": BusinessHours.name},
    service.delete_business_hours,
)


@router.get("/business-hours/{record_id}/status", response_model=OpenStatus, tags=["business hours"])
async def business_hours_status(
    record_id: IdPath,
    session: SessionDep,
    clock: ClockDep,
    _: Annotated[Principal, require("business_hours.read")],
    at: Annotated[datetime | None, Query(description="an instant with a UTC offset; default: now")] = None,
) -> dict:
    """Whether the schedule is open now (or at `at`): a quick check of a schedule before attaching it."""
    record = await service.get(session, service.BUSINESS_HOURS, record_id)
    when = utc_instant("at", at) or clock.now()
    local = when.astimezone(ZoneInfo(record.timezone))
    return {
        "open": hours.is_open(record.timezone, record.weekly, record.holidays, when),
        "at": when,
        "local_time": local.isoformat(),
    }
