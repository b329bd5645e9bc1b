"""Web chat's receipts through the core: the visitor's typing and the sent/delivered/read steps of the agent's
reply reach the agent holding the conversation (scoped to its queue and agent on the event stream)."""

from __future__ import annotations

import asyncio
import json

from test_webchat_support import Wc, login_agent, recv, recv_until, wc  # noqa: F401 - fixture

from teleplex.engine.conversation_sink import ConversationSink
from teleplex.messaging.receipts import agent_read
from teleplex.messaging.webchat import service


async def test_the_agent_gets_the_visitors_typing_and_every_step_of_their_reply(wc: Wc) -> None:
    wc.app.state.message_sink = ConversationSink(wc.app.state.chat, wc.app.state.settings)
    async with wc.app.router.lifespan_context(wc.app):
        queue = (await wc.http.post("/api/v1/queues", headers=wc.admin, json={
            "name": "web", "channels": ["webchat"], "chat_auto_assign": True})).json()
        user = (await wc.http.post("/api/v1/users", headers=wc.admin, json={
            "username": "ana", "password": "password-123", "roles": ["agent"]})).json()
        agent = (await wc.http.post("/api/v1/agents", headers=wc.admin, json={
            "user_id": user["id"], "number": "1001", "device": "PJSIP/1001",
            "queues": [{"queue_id": queue["id"]}]})).json()  # fmt: skip
        r = await wc.http.post("/api/v1/auth/token", json={"username": "ana", "password": "password-123"})
        me = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await wc.http.post(f"/api/v1/agents/{agent['id']}/login", headers=me, json={})).status_code == 200
        sub = wc.app.state.bus.subscribe(lambda e: e.type in (
            "conversation.message", service.TYPING_EVENT, "conversation.message_status"))  # fmt: skip
        visitor = await wc.visitor({"name": "Ada"})
        async with wc.socket(visitor["token"]) as ws:
            await recv(ws)
            await ws.send(json.dumps({"type": "message", "client_id": "client-0001", "text": "Hello?"}))
            await recv_until(ws, lambda f: f["type"] == "ack")
            said = await asyncio.wait_for(sub.queue.get(), 10)  # the customer's words: private (stream.in_scope)
            assert (said.type, said.data["text"], said.queue_id, said.private) == (
                "conversation.message", "Hello?", queue["id"], True)

            async def assigned() -> dict | None:
                items = (await wc.http.get("/api/v1/interactions", headers=wc.admin,
                                           params={"channel": "webchat"})).json()["items"]  # fmt: skip
                return items[0] if items and items[0]["state"] == "connected" else None

            async with asyncio.timeout(10):
                while (chat := await assigned()) is None:
                    await asyncio.sleep(0.02)
            await ws.send(json.dumps({"type": "typing", "typing": True}))
            typing = await asyncio.wait_for(sub.queue.get(), 10)
            assert typing.type == service.TYPING_EVENT and typing.data["interaction_id"] == chat["id"]
            assert (typing.queue_id, typing.agent_id, typing.private) == (queue["id"], agent["id"], True)

            r = await wc.http.post(f"/api/v1/conversations/{chat['id']}/reply", headers=me, json={"text": "Hi Ada"})
            assert r.status_code == 201, r.text
            await wc.runtime.outbox.run_once()
            frame = (await recv_until(ws, lambda f: f["type"] == "message" and f["message"]["direction"] == "out"))[-1]
            await ws.send(json.dumps({"type": "read", "message_id": frame["message"]["id"]}))
            await recv_until(ws, lambda f: f["type"] == "read_ok")
            steps: list = []
            try:
                async with asyncio.timeout(10):
                    while not steps or steps[-1].data["status"] != "read":
                        event = await sub.queue.get()
                        if event.type == "conversation.message_status":
                            steps.append(event)
            except TimeoutError:
                raise AssertionError(f"statuses so far: {[e.data['status'] for e in steps]}") from None
        # "delivered" may be overtaken by "read" when the widget reports both before they are recorded
        assert [e.data["status"] for e in steps] in (["sent", "delivered", "read"], ["sent", "read"])
        assert {(e.queue_id, e.agent_id, e.data["channel"], e.private) for e in steps} == {
            (queue["id"], agent["id"], "webchat", True)}


async def test_the_visitor_sees_when_the_agent_has_read_their_messages_and_again_after_resuming(wc: Wc) -> None:
    wc.app.state.message_sink = ConversationSink(wc.app.state.chat, wc.app.state.settings)
    async with wc.app.router.lifespan_context(wc.app):
        queue = (await wc.http.post("/api/v1/queues", headers=wc.admin, json={
            "name": "web", "channels": ["webchat"]})).json()
        agent, me = await login_agent(wc, queue["id"])
        visitor = await wc.visitor({"name": "Ada"})
        async with wc.socket(visitor["token"]) as ws:
            await recv(ws)
            acks = []
            for n, text in enumerate(("Hello?", "Anyone there?")):
                await ws.send(json.dumps({"type": "message", "client_id": f"client-000{n}", "text": text}))
                acks.append((await recv_until(ws, lambda f: f["type"] == "ack"))[-1])
            chat = await _offered(wc)
            r = await wc.http.post(f"/api/v1/conversations/{chat['id']}/accept", headers=me)
            assert r.status_code == 204, r.text
            seen = (await recv_until(ws, lambda f: f["type"] == "seen"))[-1]
        assert seen["message_ids"] == [a["message_id"] for a in acks]
        assert seen["id"] > max(a["id"] for a in acks)  # after the messages in the stream

        # A widget that resumes from before the messages gets them, then the receipt, in order.
        async with wc.socket(visitor["token"], after=0) as ws:
            frames = await recv_until(ws, lambda f: f["type"] == "seen")
        kinds = [f["type"] for f in frames if f["type"] in ("message", "seen")]
        assert kinds == ["message", "message", "seen"]

        # Read again with nothing new: no second receipt (the stream does not grow).
        assert await agent_read(wc.db, wc.clock, wc.runtime.providers, chat["id"]) == 0
        async with wc.socket(visitor["token"], after=seen["id"]) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            frames = await recv_until(ws, lambda f: f["type"] == "pong")
        assert [f for f in frames if f["type"] == "seen"] == []


async def _offered(wc: Wc) -> dict:
    async with asyncio.timeout(10):
        while True:
            items = (await wc.http.get("/api/v1/interactions", headers=wc.admin,
                                       params={"channel": "webchat"})).json()["items"]  # fmt: skip
            if items and items[0]["state"] == "offered":
                return items[0]
            await asyncio.sleep(0.02)
