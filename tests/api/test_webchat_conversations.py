"""A web-chat visitor reaches an agent through the core: the visitor's message opens a conversation that the
router offers to a logged-in agent, who accepts and replies; the reply arrives in the visitor's widget once."""

from __future__ import annotations

import asyncio
import json

from test_webchat_support import Wc, drain, login_agent, recv, recv_until, wc  # noqa: F401 - fixture
from teleplex.engine.conversation_sink import ConversationSink



async def test_a_visitor_chats_with_an_agent_through_the_router(wc: Wc) -> None:
    wc.app.state.message_sink = ConversationSink(wc.app.state.chat, wc.app.state.settings)
    async with wc.app.router.lifespan_context(wc.app):  # the engine runs (the fixture serves without it)
        await _chat(wc)


async def _chat(wc: Wc) -> None:
    queue = (await wc.http.post("/api/v1/queues", headers=wc.admin, json={"name": "web", "channels": ["webchat"]})).json()
    agent, me = await login_agent(wc, queue["id"])
    visitor = await wc.visitor({"name": "Ada", "email": "ada@example.org"})
    async with wc.socket(visitor["token"]) as ws:
        assert (await recv(ws))["type"] == "ready"
        await ws.send(json.dumps({"type": "message", "client_id": "client-0001", "text": "Where is my order?"}))
        await recv_until(ws, lambda f: f["type"] == "ack")

        async def offered():
            items = (await wc.http.get("/api/v1/interactions", headers=wc.admin, params={"channel": "webchat"})).json()
            return items["items"][0] if items["items"] and items["items"][0]["state"] == "offered" else None

        async def wait_offered():
            while (found := await offered()) is None:
                await asyncio.sleep(0.02)
            return found

        conversation = await asyncio.wait_for(wait_offered(), 10)
        assert conversation["caller_name"] == "Ada" and conversation["queue_id"] == queue["id"]
        assert (await wc.http.post(f"/api/v1/conversations/{conversation['id']}/accept", headers=me)).status_code == 204
        r = await wc.http.post(f"/api/v1/conversations/{conversation['id']}/typing", headers=me, json={"typing": True})
        assert r.status_code == 204
        r = await wc.http.post(f"/api/v1/conversations/{conversation['id']}/reply", headers=me,
                               json={"text": "It ships today."})
        assert r.status_code == 201, r.text
        await wc.runtime.outbox.run_once()
        frames = await drain(ws)
    shown = [f["message"]["text"] for f in frames if f["type"] == "message"]
    assert shown.count("It ships today.") == 1
    assert any(f["type"] == "typing" for f in frames)
