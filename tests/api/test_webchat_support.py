"""Fixtures for the web chat tests (no tests here): the app served on a loopback socket, an administrator,
a webchat channel with its widget, a sink that records what it was handed, and socket helpers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes.server import serve
from pydantic import SecretStr
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from teleplex.app import create_app
from teleplex.core.clock import FakeClock
from teleplex.core.db import Database
from teleplex.core.settings import Settings
from teleplex.messaging.models import Message, OutboxItem
from teleplex.messaging.outbox import enqueue_outgoing
from teleplex.messaging.providers.base import OutgoingContent
from teleplex.messaging.runtime import MessagingRuntime, runtime_for

ORIGIN = "https://shop.example"
WIDGET_SECRET = "widget-secret-known-only-to-the-site-backend"
WAIT = 10  # seconds before a test that waits for a frame gives up (a hang guard, not a timing assertion)


class RecordingSink:
    """Stands in for the core's sink: keeps what web chat hands over."""

    def __init__(self) -> None:
        self.inbound: list[tuple[int, Any]] = []
        self.statuses: list[tuple[int, str]] = []

    async def place(self, session, channel, items) -> None:
        return None

    async def received(self, session, channel, message, inbound) -> None:
        self.inbound.append((message.id, inbound))

    async def status_changed(self, session, channel, message, update) -> None:
        self.statuses.append((message.id, update.status))


@dataclass
class Wc:
    http: httpx.AsyncClient
    url: str
    admin: dict[str, str]
    app: Any
    runtime: MessagingRuntime
    db: Database
    clock: FakeClock
    sink: RecordingSink
    channel_id: int
    public_key: str

    async def session(self, body: dict[str, Any] | None = None, origin: str | None = ORIGIN,
                      ref: str | None = None) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if origin is not None:
            headers["origin"] = origin
        return await self.http.post(f"/webchat/v1/widgets/{ref or self.public_key}/session",
                                    content=json.dumps(body or {}), headers=headers)

    async def visitor(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.session(body)
        assert r.status_code == 200, r.text
        return r.json()

    def ws_url(self, token: str | None = None, after: int | None = None) -> str:
        query = []
        if token is not None:
            query.append(f"token={token}")
        if after is not None:
            query.append(f"after={after}")
        return self.url.replace("http://", "ws://") + "/webchat/v1/ws" + ("?" + "&".join(query) if query else "")

    def socket(self, token: str | None = None, after: int | None = None, origin: str | None = ORIGIN) -> Any:
        return connect(self.ws_url(token, after), origin=origin, open_timeout=WAIT)  # type: ignore[arg-type]

    async def reply(self, peer: str, text: str) -> int:
        """The agent's side: enqueue through the outbox, then one pass of the worker."""
        async with self.db.session() as session:
            message = await enqueue_outgoing(session, self.clock, self.channel_id, peer, OutgoingContent(text=text))
            message_id = message.id
        for _ in range(20):
            await self.runtime.outbox.run_once()
            async with self.db.session() as session:
                state = (await session.execute(select(OutboxItem.state).where(
                    OutboxItem.message_id == message_id))).scalar_one()
            if state != "pending":
                break
            self.clock.advance(1)  # the channel's token bucket refills with the clock's time
        return message_id

    async def message(self, message_id: int) -> Message:
        async with self.db.session() as session:
            found = await session.get(Message, message_id)
            assert found is not None
            return found

    async def messages(self) -> list[Message]:
        async with self.db.session() as session:
            return list((await session.execute(select(Message).order_by(Message.id))).scalars())

    async def until(self, check: Callable[[], Any]) -> None:
        """Wait for a state the server reaches after sending a frame (e.g. "delivered")."""
        async with asyncio.timeout(WAIT):
            while not await check():
                await asyncio.sleep(0.02)


async def recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


async def recv_until(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Every frame up to and including the first one `wanted` accepts."""
    frames = []
    while True:
        frame = await recv(ws)
        frames.append(frame)
        if wanted(frame):
            return frames


async def drain(ws: ClientConnection) -> list[dict[str, Any]]:
    """Frames already sent, after a ping round trip proves the server has nothing older in flight."""
    await ws.send(json.dumps({"type": "ping"}))
    return [f for f in await recv_until(ws, lambda f: f["type"] == "pong") if f["type"] != "pong"]


@pytest.fixture
async def wc(settings: Settings, clock: FakeClock, clean_database: Database, tmp_path: Path) -> AsyncIterator[Wc]:
    custom = settings.model_copy(update={"credentials_key": SecretStr("webchat-test-key"), "var_dir": tmp_path,
                                         "messaging_workers": False})
    app = create_app(custom, clock=clock, db=clean_database)
    sink = RecordingSink()
    app.state.message_sink = sink
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
        from teleplex.auth.service import create_first_admin

        async with clean_database.session() as session:
            await create_first_admin(session, clock, "admin-password")
        r = await http.post("/api/v1/auth/token", json={"username": "admin", "password": "admin-password"})
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await http.post("/api/v1/channels", headers=admin, json={
            "kind": "webchat", "name": "Shop chat", "credentials": {"widget_secret": WIDGET_SECRET}})
        assert r.status_code == 201, r.text
        channel_id = r.json()["id"]
        r = await http.put(f"/api/v1/channels/{channel_id}/webchat", headers=admin,
                           json={"allowed_origins": [ORIGIN], "title": "Shop help"})
        assert r.status_code == 200, r.text
        yield Wc(http, url, admin, app, runtime_for(app), clean_database, clock, sink, channel_id,
                 r.json()["public_key"])


async def login_agent(wc: Wc, queue_id: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Ana, an agent of the queue, logged in: her agent record and her bearer header."""
    user = (await wc.http.post("/api/v1/users", headers=wc.admin, json={
        "username": "ana", "password": "password-123", "roles": ["agent"]})).json()
    agent = (await wc.http.post("/api/v1/agents", headers=wc.admin, json={
        "user_id": user["id"], "number": "1001", "device": "PJSIP/1001", "queues": [{"queue_id": queue_id}]})).json()
    r = await wc.http.post("/api/v1/auth/token", json={"username": "ana", "password": "password-123"})
    me = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await wc.http.post(f"/api/v1/agents/{agent['id']}/login", headers=me, json={})).status_code == 200
    return agent, me
