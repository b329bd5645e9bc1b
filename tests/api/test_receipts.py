"""Delivery and read receipts on every channel that has them, with the engine and the outbox running against
the fake providers: the agent holding a conversation sees each step of their reply (sent, delivered, read,
failed) as `conversation.message_status`, whichever channel it went out on; and when the agent has seen a
WhatsApp customer's messages, WhatsApp is told with the Cloud API's mark-as-read request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from test_conversations import Center
from twilio.request_validator import RequestValidator

from fakes.harness import (  # noqa: F401 - fixtures
    AUTH_TOKEN,
    CHANNELS,
    bot,
    bot_server,
    fixture_bytes,
    graph,
    graph_server,
    twilio,
    twilio_server,
)
from teleplex.app import create_app
from teleplex.messaging.models import Message

STATUS = "conversation.message_status"
BASE = "http://teleplex.test"


@pytest.fixture
async def center(settings, clock, clean_database, tmp_path, graph, twilio, bot) -> AsyncIterator[Center]:  # noqa: F811
    custom = settings.model_copy(update={
        "credentials_key": SecretStr("receipts-test-key"), "var_dir": tmp_path, "whatsapp_api_url": graph.base_url,
        "twilio_api_url": twilio.base_url, "telegram_api_url": bot.base_url, "provider_timeout_seconds": 2.0,
    })  # fmt: skip
    app = create_app(custom, clock=clock, db=clean_database)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            c = Center(client, app)
            await c.bootstrap_admin(clean_database, clock)
            yield c


async def _agent_on(c: Center, kind: str, channel_kind: str) -> tuple[dict, dict, dict[str, str], dict]:
    """A queue for the channel that assigns without an accept, a logged-in agent, and the channel."""
    q = await c.create("queues", {"name": f"q-{kind}", "channels": [kind], "chat_auto_assign": True})
    user = await c.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    agent = await c.create("agents", {"user_id": user["id"], "number": "1001", "device": "PJSIP/1001",
                                      "queues": [{"queue_id": q["id"]}]})  # fmt: skip
    me = await c.login("ana", "password-123")
    assert (await c.post(f"agents/{agent['id']}/login", {}, me)).status_code == 200
    base = CHANNELS[channel_kind]
    channel = await c.create("channels", {**base, "settings": {**base.get("settings", {}), "queue_id": q["id"]}})
    return q, agent, me, channel


async def _assigned(c: Center, kind: str) -> dict:
    async def found() -> dict | None:
        items = (await c.get("interactions", channel=kind)).json()["items"]
        return next((i for i in items if i["state"] == "connected"), None)

    return await c.until(found, "the conversation to be assigned")


async def _provider_id(c: Center, message_id: int) -> str:
    async def sent() -> str | None:
        async with c.app.state.db.session() as session:
            return (await session.execute(select(Message.provider_message_id).where(
                Message.id == message_id, Message.status != "queued"))).scalar()

    return await c.until(sent, "the reply to be sent")


async def _statuses(c: Center, sub: Any, message_id: int, wanted: list[str]) -> list[Any]:
    seen: list[Any] = []

    async def arrived() -> bool:
        while not sub.queue.empty():
            event = sub.queue.get_nowait()
            if event.data["message_id"] == message_id:
                seen.append(event)
        return [e.data["status"] for e in seen] == wanted

    try:
        await c.until(arrived, f"statuses {wanted}", timeout=5)
    except TimeoutError:
        raise AssertionError(f"got {[e.data['status'] for e in seen]}, wanted {wanted}") from None
    return seen


async def _whatsapp_status(c: Center, channel_id: int, wamid: str, word: str) -> None:
    doc = json.loads(fixture_bytes("whatsapp", "status_read"))
    doc["entry"][0]["changes"][0]["value"]["statuses"][0].update({"id": wamid, "status": word})
    r = await c.whatsapp(channel_id, json.dumps(doc).encode())
    assert r.status_code == 200, r.text


async def test_the_agent_sees_every_step_of_a_whatsapp_reply(center: Center, graph) -> None:  # noqa: F811
    q, agent, me, channel = await _agent_on(center, "whatsapp", "whatsapp")
    sub = center.app.state.bus.subscribe(lambda e: e.type == STATUS)
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await _assigned(center, "whatsapp")
    r = await center.post(f"conversations/{chat['id']}/reply", {"text": "On its way"}, me)
    assert r.status_code == 201, r.text
    wamid = await _provider_id(center, r.json()["id"])
    await _whatsapp_status(center, channel["id"], wamid, "delivered")
    await _whatsapp_status(center, channel["id"], wamid, "sent")  # late and out of order: ignored
    await _whatsapp_status(center, channel["id"], wamid, "read")
    events = await _statuses(center, sub, r.json()["id"], ["sent", "delivered", "read"])
    assert {(e.queue_id, e.agent_id) for e in events} == {(q["id"], agent["id"])}  # in the agent's scope
    assert {e.data["channel"] for e in events} == {"whatsapp"}
    assert events[-1].data["interaction_id"] == chat["id"]


async def test_a_failed_whatsapp_delivery_reaches_the_agent_with_the_providers_error(center: Center) -> None:
    q, agent, me, channel = await _agent_on(center, "whatsapp", "whatsapp")
    sub = center.app.state.bus.subscribe(lambda e: e.type == STATUS)
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await _assigned(center, "whatsapp")
    r = await center.post(f"conversations/{chat['id']}/reply", {"text": "Here you go"}, me)
    wamid = await _provider_id(center, r.json()["id"])
    doc = json.loads(fixture_bytes("whatsapp", "status_failed"))
    doc["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    assert (await center.whatsapp(channel["id"], json.dumps(doc).encode())).status_code == 200
    events = await _statuses(center, sub, r.json()["id"], ["sent", "failed"])
    assert events[-1].agent_id == agent["id"] and events[-1].data["error_code"]


async def _twilio_status(c: Center, channel_id: int, sid: str, word: str) -> None:
    params = dict(parse_qsl(fixture_bytes("twilio", "status_delivered").decode(), keep_blank_values=True))
    params.update({"MessageSid": sid, "SmsSid": sid, "MessageStatus": word, "SmsStatus": word})
    path = f"/webhooks/twilio/{channel_id}/status"
    headers = {"content-type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(BASE + path, params)}
    r = await c.client.post(path, content=urlencode(params).encode(), headers=headers)
    assert r.status_code == 204, r.text  # Twilio's status callbacks are answered without a body


async def _twilio_inbound(c: Center, channel_id: int) -> None:
    body = fixture_bytes("twilio", "sms_inbound")
    params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    path = f"/webhooks/twilio/{channel_id}"
    headers = {"content-type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(BASE + path, params)}
    assert (await c.client.post(path, content=body, headers=headers)).status_code == 200


async def test_sms_delivery_reports_reach_the_agent_as_the_same_event(center: Center, twilio) -> None:  # noqa: F811
    q, agent, me, channel = await _agent_on(center, "sms", "sms_twilio")
    sub = center.app.state.bus.subscribe(lambda e: e.type == STATUS)
    await _twilio_inbound(center, channel["id"])
    chat = await _assigned(center, "sms")
    r = await center.post(f"conversations/{chat['id']}/reply", {"text": "Yes, it shipped"}, me)
    assert r.status_code == 201, r.text
    sid = await _provider_id(center, r.json()["id"])
    await _twilio_status(center, channel["id"], sid, "delivered")
    events = await _statuses(center, sub, r.json()["id"], ["sent", "delivered"])
    assert {(e.queue_id, e.agent_id, e.data["channel"]) for e in events} == {(q["id"], agent["id"], "sms")}


async def test_a_telegram_reply_reports_sent_the_only_receipt_the_bot_api_has(center: Center, bot) -> None:  # noqa: F811
    q, agent, me, channel = await _agent_on(center, "telegram", "telegram")
    sub = center.app.state.bus.subscribe(lambda e: e.type == STATUS)
    r = await center.client.post(f"/webhooks/telegram/{channel['id']}", content=fixture_bytes("telegram", "text"),
                                 headers={"content-type": "application/json",
                                          "X-Telegram-Bot-Api-Secret-Token": CHANNELS["telegram"]["credentials"]["secret_token"]})  # fmt: skip
    assert r.status_code == 200, r.text
    chat = await _assigned(center, "telegram")
    r = await center.post(f"conversations/{chat['id']}/reply", {"text": "Hello from the bot"}, me)
    events = await _statuses(center, sub, r.json()["id"], ["sent"])
    assert events[0].agent_id == agent["id"] and events[0].data["channel"] == "telegram"


async def test_whatsapp_is_told_when_the_agent_has_read_the_customers_messages(center: Center, graph) -> None:  # noqa: F811
    q = await center.create("queues", {"name": "chat", "channels": ["whatsapp"]})
    user = await center.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    agent = await center.create("agents", {"user_id": user["id"], "number": "1001", "device": "PJSIP/1001",
                                           "queues": [{"queue_id": q["id"]}]})  # fmt: skip
    me = await center.login("ana", "password-123")
    await center.post(f"agents/{agent['id']}/login", {}, me)
    channel = await center.create("channels", {**CHANNELS["whatsapp"], "settings": {
        **CHANNELS["whatsapp"]["settings"], "queue_id": q["id"]}})  # fmt: skip
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))

    async def offered() -> dict | None:
        items = (await center.get("interactions", channel="whatsapp")).json()["items"]
        return next((i for i in items if i["state"] == "offered"), None)

    chat = await center.until(offered, "the offer")
    assert graph.read == []  # offered is not seen
    assert (await center.post(f"conversations/{chat['id']}/accept", None, me)).status_code == 204
    inbound_id = json.loads(fixture_bytes("whatsapp", "text"))["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert graph.read == [{"phone_number_id": "106540352242922", "messaging_product": "whatsapp", "status": "read",
                           "message_id": inbound_id}]  # fmt: skip
    assert graph.sent == []  # a receipt, not a message
    messages = (await center.get(f"conversations/{chat['id']}/messages", me)).json()["items"]
    assert [(m["direction"], m["status"]) for m in messages] == [("in", "read")]

    assert (await center.post(f"conversations/{chat['id']}/read", None, me)).status_code == 204
    assert len(graph.read) == 1  # nothing new to mark: no second request

    again = json.loads(fixture_bytes("whatsapp", "text"))
    again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.second-question"
    await center.whatsapp(channel["id"], json.dumps(again).encode())

    async def stored() -> bool:
        return len((await center.get(f"conversations/{chat['id']}/messages", me)).json()["items"]) == 2

    await center.until(stored, "the second message")
    assert (await center.post(f"conversations/{chat['id']}/read", None, me)).status_code == 204
    assert [r["message_id"] for r in graph.read] == [inbound_id, "wamid.second-question"]
    other = await center.user("bob", "agent")
    assert (await center.post(f"conversations/{chat['id']}/read", None, other)).status_code == 403
    # An administrator (or a supervisor) looking at the chat has not read it for the agent: refused, nothing sent.
    r = await center.post(f"conversations/{chat['id']}/read", None, center.admin)
    assert r.status_code == 403 and "only the agent holding" in r.json()["error"]["message"]
    assert len(graph.read) == 2


async def test_a_failed_mark_as_read_is_tried_again_at_the_next_action(center: Center, graph) -> None:  # noqa: F811
    from fakes.base import Failure

    q, agent, me, channel = await _agent_on(center, "whatsapp", "whatsapp")
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await _assigned(center, "whatsapp")
    graph.fail(Failure(500, {"error": {"message": "down", "code": 2}}))
    assert (await center.post(f"conversations/{chat['id']}/read", None, me)).status_code == 204
    assert graph.read == []
    messages = (await center.get(f"conversations/{chat['id']}/messages", me)).json()["items"]
    assert messages[0]["status"] == "received"  # not told, so not marked
    assert (await center.post(f"conversations/{chat['id']}/read", None, me)).status_code == 204
    assert len(graph.read) == 1


async def test_a_reply_with_a_file_goes_to_whatsapp_by_its_public_url(center: Center, graph) -> None:  # noqa: F811
    q, agent, me, channel = await _agent_on(center, "whatsapp", "whatsapp")
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await _assigned(center, "whatsapp")
    r = await center.post(f"conversations/{chat['id']}/reply", {
        "media_url": "https://cdn.example/labels/label.pdf", "filename": "label.pdf", "text": "Your label"}, me)
    assert r.status_code == 201, r.text
    await _provider_id(center, r.json()["id"])
    (sent,) = graph.sent
    assert sent["type"] == "document" and sent["document"] == {
        "link": "https://cdn.example/labels/label.pdf", "caption": "Your label", "filename": "label.pdf"}
    refused = await center.post(f"conversations/{chat['id']}/reply", {"media_url": "media:1/" + "a" * 32 + ".pdf"}, me)
    assert refused.status_code == 422 and refused.json()["error"]["details"] == {"field": "media_url"}
    upload = await center.client.post(f"/api/v1/conversations/{chat['id']}/attachments", content=b"%PDF-1.4",
                                      headers={**me, "content-type": "application/pdf"})  # fmt: skip
    assert upload.status_code == 409  # WhatsApp fetches files from a public URL
