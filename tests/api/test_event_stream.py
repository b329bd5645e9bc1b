"""The live event stream: a scoped snapshot, then events as they happen, resumable after a reconnect."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from teleplex.app import create_app
from teleplex.core.events import Event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def served(settings, clock, clean_database) -> AsyncIterator[tuple[str, httpx.AsyncClient, Any]]:
    """The real app behind a real HTTP server on this event loop, as a browser would reach it."""
    app = create_app(settings, clock=clock, db=clean_database)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        from teleplex.auth.service import create_first_admin

        async with clean_database.session() as session:
            await create_first_admin(session, clock, "admin-password")
        yield f"ws://127.0.0.1:{port}", client, app
    server.should_exit = True
    await task


async def token(client, username, password="password-123") -> str:
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return r.json()["access_token"]


async def setup(client, admin):
    h = {"Authorization": f"Bearer {admin}"}
    queues = [(await client.post("/api/v1/queues", json={"name": n}, headers=h)).json()["id"] for n in ("a", "b")]
    agents = []
    for name, q in (("ana", queues[0]), ("bea", queues[1])):
        user = (await client.post("/api/v1/users", headers=h, json={
            "username": name, "password": "password-123", "roles": ["agent"]})).json()  # fmt: skip
        agent = (await client.post("/api/v1/agents", headers=h, json={
            "user_id": user["id"], "number": str(1000 + user["id"]), "device": "PJSIP/1",
            "queues": [{"queue_id": q}]})).json()  # fmt: skip
        agents.append(agent["id"])
    sup = (await client.post("/api/v1/users", headers=h, json={
        "username": "sup", "password": "password-123", "roles": ["supervisor"],
        "supervised_queue_ids": [queues[0]]})).json()  # fmt: skip
    return queues, agents, sup


async def recv(ws, timeout=5.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def test_supervisor_gets_a_snapshot_then_only_their_agents_events(served):
    base, client, _ = served
    admin = await token(client, "admin", "admin-password")
    queues, (ana, bea), _ = await setup(client, admin)
    sup = await token(client, "sup")
    async with websockets.connect(f"{base}/api/v1/events?token={sup}") as ws:
        snapshot = await recv(ws)
        assert snapshot["type"] == "snapshot"
        assert [q["queue_id"] for q in snapshot["data"]["queues"]] == [queues[0]]
        for agent, name in ((bea, "bea"), (ana, "ana")):
            r = await client.post(f"/api/v1/agents/{agent}/login", json={},
                                  headers={"Authorization": f"Bearer {await token(client, name)}"})  # fmt: skip
            assert r.status_code == 200
        event = await recv(ws)
        assert event["type"] == "agent.state" and event["data"]["agent_id"] == ana
        assert event["data"]["state"] == "ready" and event["seq"] > 0
        with pytest.raises(TimeoutError):
            await recv(ws, timeout=0.5)  # bea's login is outside the supervisor's scope


async def test_reconnect_with_after_replays_what_was_missed(served):
    base, client, _ = served
    admin = await token(client, "admin", "admin-password")
    _, (ana, _), _ = await setup(client, admin)
    h = {"Authorization": f"Bearer {admin}"}
    async with websockets.connect(f"{base}/api/v1/events?token={admin}") as ws:
        await recv(ws)
        await client.post(f"/api/v1/agents/{ana}/login", json={}, headers=h)
        last = (await recv(ws))["seq"]
    # while disconnected
    await client.post(f"/api/v1/agents/{ana}/pause", json={"reason": "Lunch"}, headers=h)
    async with websockets.connect(f"{base}/api/v1/events?token={admin}&after={last}") as ws:
        missed = await recv(ws)
        assert missed["type"] == "agent.state" and missed["data"]["state"] == "paused"
        assert missed["seq"] > last


async def test_stream_refuses_without_a_valid_token(served):
    base, _, _ = served
    for url in (f"{base}/api/v1/events", f"{base}/api/v1/events?token=nope"):
        async with websockets.connect(url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(ws)
            assert closed.value.rcvd.code == 4401


async def test_a_customers_words_reach_their_agent_and_the_supervisors_not_the_other_agents(served):
    """A conversation's messages, receipts and typing are private events: the agent holding it, the queue's
    supervisors and admins see them; a colleague in the same queue sees the queue's other events only."""
    base, client, app = served
    admin = await token(client, "admin", "admin-password")
    queues, (ana, _), _ = await setup(client, admin)
    h = {"Authorization": f"Bearer {admin}"}
    user = (await client.post("/api/v1/users", headers=h, json={
        "username": "cy", "password": "password-123", "roles": ["agent"]})).json()  # fmt: skip
    r = await client.post("/api/v1/agents", headers=h, json={
        "user_id": user["id"], "number": "1999", "device": "PJSIP/2", "queues": [{"queue_id": queues[0]}]})
    assert r.status_code == 201, r.text
    now = datetime.now(UTC)
    words = Event("conversation.message", now, {"interaction_id": 7, "text": "my card number is ..."},
                  queue_id=queues[0], agent_id=ana, private=True)  # fmt: skip
    waiting = Event("conversation.message", now, {"interaction_id": 8, "text": "anyone there?"},
                    queue_id=queues[0], private=True)  # fmt: skip
    marker = Event("queue.stats", now, {"queue_id": queues[0]}, queue_id=queues[0])
    seen: dict[str, list[tuple[str, int | None]]] = {}
    for name in ("ana", "cy", "sup", "admin"):
        password = "admin-password" if name == "admin" else "password-123"
        async with websockets.connect(f"{base}/api/v1/events?token={await token(client, name, password)}") as ws:
            assert (await recv(ws))["type"] == "snapshot"
            for event in (words, waiting, marker):
                app.state.bus.publish(event)
            got = []
            while not got or got[-1][0] != "queue.stats":
                event = await recv(ws)
                got.append((event["type"], event["data"].get("interaction_id")))
            seen[name] = got
    assert seen == {
        "ana": [("conversation.message", 7), ("queue.stats", None)],
        "cy": [("queue.stats", None)],
        "sup": [("conversation.message", 7), ("conversation.message", 8), ("queue.stats", None)],
        "admin": [("conversation.message", 7), ("conversation.message", 8), ("queue.stats", None)],
    }
