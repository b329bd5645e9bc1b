"""HTTP routes for agents' presence and the live state of queues and agents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam

from teleplex.auth.deps import PrincipalDep
from teleplex.auth.principal import Principal
from teleplex.center import service as center
from teleplex.core.deps import SessionDep
from teleplex.core.errors import PermissionDenied, ServiceUnavailable
from teleplex.core.schemas import MAX_ID
from teleplex.engine import presence
from teleplex.engine.engine import Engine
from teleplex.engine.schemas import AgentLive, LiveState, LoginBody, PauseBody

router = APIRouter(prefix="/api/v1", tags=["presence"])
AgentPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def engine_of(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None or not engine.started:
        raise ServiceUnavailable("the routing engine is not running on this node")
    return engine


async def _may_act(session: Any, principal: Principal, agent_id: int, *, supervisor_ok: bool) -> None:
    """An agent acts on themself; a supervisor may force some moves on agents of their queues; admins may all."""
    if principal.agent_id == agent_id or principal.is_admin:
        return
    if supervisor_ok and principal.can("agents.control"):
        await center.check_agent_visible(session, principal, agent_id)
        return
    raise PermissionDenied(f"you may not change the presence of agent {agent_id}", {"agent_id": agent_id})


@router.post("/agents/{agent_id}/login", response_model=AgentLive, summary="Log in with a device")
async def login(agent_id: AgentPath, body: LoginBody, request: Request, session: SessionDep,
                principal: PrincipalDep) -> dict:  # fmt: skip
    await center.get(session, center.AGENT, agent_id)
    await _may_act(session, principal, agent_id, supervisor_ok=False)
    return await presence.login(engine_of(request), agent_id, body.device, body.pause_reason)


@router.post("/agents/{agent_id}/logout", response_model=AgentLive, summary="Log out (supervisors may force it)")
async def logout(agent_id: AgentPath, request: Request, session: SessionDep, principal: PrincipalDep) -> dict:
    await center.get(session, center.AGENT, agent_id)
    await _may_act(session, principal, agent_id, supervisor_ok=True)
    return await presence.logout(engine_of(request), agent_id)


@router.post("/agents/{agent_id}/ready", response_model=AgentLive, summary="Ready for work")
async def ready(agent_id: AgentPath, request: Request, session: SessionDep, principal: PrincipalDep) -> dict:
    await _may_act(session, principal, agent_id, supervisor_ok=False)
    return await presence.ready(engine_of(request), agent_id)


@router.post("/agents/{agent_id}/pause", response_model=AgentLive, summary="Pause with a reason (supervisors may force it)")
async def pause(agent_id: AgentPath, body: PauseBody, request: Request, session: SessionDep,
                principal: PrincipalDep) -> dict:  # fmt: skip
    await _may_act(session, principal, agent_id, supervisor_ok=True)
    return await presence.pause(engine_of(request), agent_id, body.reason, body.after_current)


@router.post("/agents/{agent_id}/wrapup/end", response_model=AgentLive, summary="End wrap-up now")
async def end_wrapup(agent_id: AgentPath, request: Request, session: SessionDep, principal: PrincipalDep) -> dict:
    await _may_act(session, principal, agent_id, supervisor_ok=False)
    return await presence.end_wrapup(engine_of(request), agent_id)


@router.get("/agents/{agent_id}/presence", response_model=AgentLive, summary="An agent's state now")
async def agent_presence(agent_id: AgentPath, request: Request, session: SessionDep, principal: PrincipalDep) -> dict:
    await center.get(session, center.AGENT, agent_id)
    await center.check_agent_visible(session, principal, agent_id)
    return presence.agent_state(engine_of(request), agent_id)


@router.get("/live", response_model=LiveState, summary="Live state of the queues and agents in your scope")
async def live(request: Request, session: SessionDep, principal: PrincipalDep) -> dict:
    if not (principal.can("queues.read") or principal.can("queues.read.own")):
        raise PermissionDenied("permission 'queues.read' is required", {"permission": "queues.read"})
    return await presence.live(engine_of(request), session, principal)


