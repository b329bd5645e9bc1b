"""Conversations end to end, with the engine and the messaging workers running against a fake Graph API:
a customer's WhatsApp message is queued, offered to an agent, accepted, answered (exactly one send reaches the
provider), resolved, and reopened when the customer writes again; their profile is the one their calls use."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api_client import Api

from fakes.harness import APP_SECRET, CHANNELS, fixture_bytes, graph, graph_server  # noqa: F401 - fixtures
from teleplex.app import create_app
from teleplex.contacts.service import resolve_phone
from teleplex.messaging.providers import whatsapp
from teleplex.messaging.runtime import runtime_for

CUSTOMER = "+16505551234"  # the wa_id in the fixtures


class Center(Api):
    """The app with its lifespan running, acting as the admin or an agent."""

    def __init__(self, client: httpx.AsyncClient, app: Any) -> None:
        super().__init__(client)
        self.app = app

    async def whatsapp(self, channel_id: int, body: bytes) -> httpx.Response:
        headers = {"content-type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(APP_SECRET, body)}
        response = await self.client.post(f"/webhooks/whatsapp/{channel_id}", content=body, headers=headers)
        await runtime_for(self.app).processor.drain()  # processing follows the provider's answer
        return response

    async def until(self, check, what: str, timeout: float = 10.0):  # noqa: ANN001
        async with asyncio.timeout(timeout):
            while True:
                value = await check()
                if value:
                    return value
                await asyncio.sleep(0.02)


@pytest.fixture
async def center(settings, clock, clean_database, tmp_path, graph) -> AsyncIterator[Center]:  # noqa: F811
    custom = settings.model_copy(update={
        "credentials_key": SecretStr("conversation-test-key"), "var_dir": tmp_path,
        "whatsapp_api_url": graph.base_url, "provider_timeout_seconds": 2.0,
    })  # fmt: skip
    app = create_app(custom, clock=clock, db=clean_database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://teleplex.test") as client:
            c = Center(client, app)
            await c.bootstrap_admin(clean_database, clock)
            yield c


async def _setup(c: Center, **queue: Any) -> tuple[dict, dict, dict[str, str], dict]:
    q = await c.create("queues", {"name": "chat", "channels": ["whatsapp"], **queue})
    user = await c.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    agent = await c.create("agents", {"user_id": user["id"], "number": "1001", "device": "PJSIP/1001",
                                      "queues": [{"queue_id": q["id"]}]})  # fmt: skip
    me = await c.login("ana", "password-123")
    assert (await c.post(f"agents/{agent['id']}/login", {}, me)).status_code == 200
    channel = await c.create("channels", {**CHANNELS["whatsapp"], "settings": {
        **CHANNELS["whatsapp"]["settings"], "queue_id": q["id"]}})  # fmt: skip
    return q, agent, me, channel


async def _conversation(c: Center, state: str) -> dict | None:
    r = await c.get("interactions", channel="whatsapp")
    found = [i for i in r.json()["items"] if i["state"] == state]
    return found[0] if found else None


async def test_a_whatsapp_message_reaches_an_agent_who_answers_and_resolves(center: Center, graph) -> None:  # noqa: F811
    q, agent, me, channel = await _setup(center)
    assert (await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))).status_code == 200
    offered = await center.until(lambda: _conversation(center, "offered"), "the conversation to be offered")
    assert offered["queue_id"] == q["id"] and offered["caller_id"] == "16505551234"

    r = await center.post(f"conversations/{offered['id']}/accept", None, me)
    assert r.status_code == 204, r.text
    presence = (await center.get(f"agents/{agent['id']}/presence", me)).json()
    assert presence["interactions"] == [offered["id"]]
    r = await center.post(f"conversations/{offered['id']}/reply", {"text": "Hello, how can I help?"}, me)
    assert r.status_code == 201, r.text
    await center.until(lambda: _sent(graph), "the reply to reach the provider")
    await asyncio.sleep(0.3)  # a second send would show up here
    assert [m["text"]["body"] for m in graph.sent] == ["Hello, how can I help?"]
    assert graph.sent[0]["to"] == CUSTOMER

    messages = (await center.get(f"conversations/{offered['id']}/messages", me)).json()["items"]
    assert [(m["direction"], m["text"]) for m in messages] == [("in", "Does it come in another color?"),
                                                           ("out", "Hello, how can I help?")]

    assert (await center.post(f"conversations/{offered['id']}/resolve", {}, me)).status_code == 204
    done = (await center.get(f"interactions/{offered['id']}")).json()
    assert done["state"] == "resolved" and done["outcome"] == "resolved" and done["agent_id"] == agent["id"]
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds[:4] == ["arrived", "queued", "offered", "answered"] and "first_response" in kinds


async def _sent(graph) -> bool:  # noqa: ANN001, F811
    return bool(graph.sent)


async def test_writing_again_soon_reopens_the_same_conversation(center: Center) -> None:
    q, agent, me, channel = await _setup(center, chat_auto_assign=True)
    assert (await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))).status_code == 200
    first = await center.until(lambda: _conversation(center, "connected"), "auto-assigned")
    assert first["agent_id"] == agent["id"]  # no accept needed: the queue assigns chats
    assert (await center.post(f"conversations/{first['id']}/resolve", {}, me)).status_code == 204
    again = json.loads(fixture_bytes("whatsapp", "text"))
    again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.again"
    assert (await center.whatsapp(channel["id"], json.dumps(again).encode())).status_code == 200
    reopened = await center.until(lambda: _conversation(center, "connected"), "reopened and assigned")
    assert reopened["id"] == first["id"]
    timeline = [e["kind"] for e in (await center.get(f"interactions/{first['id']}")).json()["timeline"]]
    assert "reopened" in timeline


async def test_a_message_after_the_reopening_window_starts_a_new_conversation(center: Center, clock) -> None:
    q, agent, me, channel = await _setup(center, chat_auto_assign=True)
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    first = await center.until(lambda: _conversation(center, "connected"), "assigned")
    await center.post(f"conversations/{first['id']}/resolve", {}, me)
    clock.advance(61 * 60)  # the window is an hour by default
    later = json.loads(fixture_bytes("whatsapp", "text"))
    later["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.later"
    await center.whatsapp(channel["id"], json.dumps(later).encode())
    second = await center.until(lambda: _conversation(center, "connected"), "a new conversation")
    assert second["id"] != first["id"] and second["contact_id"] == first["contact_id"]


async def test_the_customers_calls_and_chats_meet_on_one_profile(center: Center, clean_database, clock) -> None:
    q, agent, me, channel = await _setup(center)
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await center.until(lambda: _conversation(center, "offered"), "the conversation")
    async with clean_database.session() as session:  # what voice does with a caller id
        caller = await resolve_phone(session, clock.now(), "(650) 555-1234", "US")
    assert chat["contact_id"] is not None and caller is not None and caller.id == chat["contact_id"]


async def test_an_agent_who_logs_out_hands_their_conversations_back_to_the_queue(center: Center) -> None:
    q, agent, me, channel = await _setup(center, chat_auto_assign=True)
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await center.until(lambda: _conversation(center, "connected"), "assigned")
    r = await center.post(f"agents/{agent['id']}/logout", None, me)
    assert r.status_code == 200, r.text
    back = await center.until(lambda: _conversation(center, "queued"), "back in the queue")
    assert back["id"] == chat["id"]


async def test_conversation_actions_are_refused_clearly(center: Center) -> None:
    q, agent, me, channel = await _setup(center)
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    offered = await center.until(lambda: _conversation(center, "offered"), "offered")
    other = await center.user("bob", "agent")
    assert (await center.post(f"conversations/{offered['id']}/reply", {"text": "hi"}, other)).status_code == 403
    assert (await center.post(f"conversations/{offered['id']}/reply", {}, me)).status_code == 422
    r = await center.post(f"conversations/{offered['id']}/accept", None, other)
    assert r.status_code == 403  # bob has no agent profile
    assert (await center.post("conversations/999999/accept", None, me)).status_code == 404


async def test_a_canned_response_fills_in_the_customers_name(center: Center, graph) -> None:  # noqa: F811
    q, agent, me, channel = await _setup(center, chat_auto_assign=True)
    canned = await center.create("canned-responses", {"shortcut": "hello", "title": "Greeting",
                                                      "body": "Hi {contact.name}, I'm {agent.name}."})  # fmt: skip
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await center.until(lambda: _conversation(center, "connected"), "assigned")
    r = await center.post(f"conversations/{chat['id']}/reply", {"canned_response_id": canned["id"]}, me)
    assert r.status_code == 201 and r.json()["text"] == "Hi Sheena Nelson, I'm ana.", r.text


async def test_resolving_a_chat_follows_its_queues_wrapup_rule(center: Center) -> None:
    """A queue that requires a disposition and notes refuses the agent's resolve without them (409, as the
    wrap-up's end is refused for calls), and resolves once they are given."""
    solved = await center.create("dispositions", {"code": "solved", "label": "Solved", "category": "success"})
    _, _, me, channel = await _setup(center, chat_auto_assign=True, wrapup_requires=["disposition", "notes"])
    assert (await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))).status_code == 200
    chat = await center.until(lambda: _conversation(center, "connected"), "auto-assigned")

    r = await center.post(f"conversations/{chat['id']}/resolve", {}, me)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "wrapup_incomplete"
    assert error["details"] == {"interactions": [{"interaction_id": chat["id"], "missing": ["disposition", "notes"],
                                                  "fields": []}]}  # fmt: skip
    r = await center.post(f"conversations/{chat['id']}/resolve", {"disposition_id": solved["id"]}, me)
    assert r.status_code == 409 and r.json()["error"]["details"]["interactions"][0]["missing"] == ["notes"]
    assert (await center.get(f"interactions/{chat['id']}")).json()["state"] == "connected"

    assert (await center.patch(f"interactions/{chat['id']}", {"notes": "Sent the manual"}, me)).status_code == 200
    r = await center.post(f"conversations/{chat['id']}/resolve", {"disposition_id": solved["id"]}, me)
    assert r.status_code == 204, r.text
    done = (await center.get(f"interactions/{chat['id']}")).json()
    assert (done["state"], done["disposition_id"], done["notes"]) == ("resolved", solved["id"], "Sent the manual")
