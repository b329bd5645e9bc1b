"""The live event stream over a WebSocket: a snapshot, then every event in the caller's scope, resumable."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select

from teleplex.auth.deps import SESSION_COOKIE
from teleplex.auth.principal import Principal
from teleplex.auth.service import principal_from_token
from teleplex.center import service as center
from teleplex.center.models import Agent
from teleplex.core.errors import TeleplexError
from teleplex.core.events import Event, Subscription
from teleplex.engine import presence

router = APIRouter()


def in_scope(principal: Principal, agent_ids: frozenset[int] | None, event: Event) -> bool:
    """Admins see everything; others see events of their visible queues and of agents they may see. A
    private event (a customer's words) reaches only the agent it names and the supervisors of its queue."""
    if principal.is_admin:
        return True
    if event.private:
        mine = event.agent_id is not None and event.agent_id == principal.agent_id
        return mine or (event.queue_id is not None and principal.supervises(event.queue_id))
    visible = principal.visible_queue_ids() or frozenset()
    if event.queue_id is not None and event.queue_id in visible:
        return True
    return event.agent_id is not None and agent_ids is not None and event.agent_id in agent_ids


@router.websocket("/api/v1/events")
async def events(ws: WebSocket) -> None:
    """Authenticate with `?token=` (or the web session cookie); `?after=<seq>` resumes after a reconnect.

    Messages are JSON: `{"type": "snapshot", ...}` first (unless resuming), then events
    `{"type", "seq", "at", "data"}`. `{"type": "resync"}` means events were missed: reload the snapshot.
    """
    app = ws.app
    token = ws.query_params.get("token") or ws.cookies.get(SESSION_COOKIE)
    try:
        if not token:
            raise TeleplexError("authentication required")
        async with app.state.db.session() as session:
            principal = await principal_from_token(session, app.state.clock, token)
            agent_ids = frozenset(
                (await session.execute(center.scope_agents(principal, select(Agent.id)))).scalars()
            )
    except TeleplexError as exc:
        # accept, then close with a code: a refused handshake would tell the client only "403"
        await ws.accept()
        await ws.close(code=4401, reason=exc.message[:120])
        return
    engine = app.state.engine
    await ws.accept()
    if not (principal.can("queues.read") or principal.can("queues.read.own")):
        await ws.close(code=4403, reason="permission 'queues.read' is required")
        return
    sub = app.state.bus.subscribe(lambda e: in_scope(principal, agent_ids, e))
    try:
        after = ws.query_params.get("after")
        missed = app.state.bus.since(int(after)) if after and after.isdigit() else None
        if missed is None:
            if after:
                await ws.send_json({"type": "resync"})
            async with app.state.db.session() as session:
                snapshot: dict[str, Any] = await presence.live(engine, session, principal)
            await ws.send_json({"type": "snapshot", "data": _jsonable(snapshot)})
        else:
            for event in missed:
                if in_scope(principal, agent_ids, event):
                    await ws.send_json(event.to_json())
        tasks = {asyncio.create_task(_drain(ws)), asyncio.create_task(_send_events(ws, sub))}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()  # a closed socket ends the stream quietly (below); anything else is raised
    except WebSocketDisconnect:
        pass
    finally:
        sub.close()


async def _send_events(ws: WebSocket, sub: Subscription) -> None:
    """Each event as it comes, after a resync when the subscriber fell behind: one wait per event, no task."""
    while True:
        event = await sub.queue.get()
        if sub.lagged:
            await ws.send_json({"type": "resync"})
            sub.lagged = False
        await ws.send_json(event.to_json())


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a closed connection is noticed at once."""
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        return


def _jsonable(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)
