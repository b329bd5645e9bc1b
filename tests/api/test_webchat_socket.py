"""Web chat over the WebSocket: visitor sends enter the MessageSink once per client id, agent replies come
through the outbox exactly once, a reconnect resumes with nothing lost or doubled, bad frames get an error
frame, typing travels both ways."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from test_webchat_support import WIDGET_SECRET, Wc, drain, recv, recv_until, wc  # noqa: F401 - fixture

from teleplex.core.events import Event
from teleplex.messaging.models import OutboxItem
from teleplex.messaging.webchat import service, tokens


def _send(client_id: str, text: str) -> str:
    return json.dumps({"type": "message", "client_id": client_id, "text": text})


def _messages(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f["type"] == "message"]


async def test_a_visitor_message_reaches_the_sink_once_per_client_id(wc: Wc) -> None:
    visitor = await wc.visitor({"name": "Ada", "email": "ada@example.org"})
    async with wc.socket(visitor["token"]) as ws:
        assert (await recv(ws))["type"] == "ready"
        await ws.send(_send("client-0001", "Hello, my order is late"))
        frames = await recv_until(ws, lambda f: f["type"] == "ack")
        ack = frames[-1]
        assert ack["duplicate"] is False and ack["client_id"] == "client-0001"
        await ws.send(_send("client-0001", "Hello, my order is late"))  # a retry after a lost ack
        again = (await recv_until(ws, lambda f: f["type"] == "ack"))[-1]
        assert again["duplicate"] is True and again["message_id"] == ack["message_id"] and again["id"] == ack["id"]
        shown = _messages(frames + await drain(ws))
    assert [m["message"]["client_id"] for m in shown] == ["client-0001"]
    async with wc.socket((await wc.visitor({"visitor_id": visitor["visitor_id"], "visitor_key": visitor["visitor_key"]}))["token"]) as ws:
        await recv(ws)
        await ws.send(_send("client-0001", "Hello, my order is late"))  # a retry on a new connection
        assert (await recv_until(ws, lambda f: f["type"] == "ack"))[-1]["duplicate"] is True
    (stored,) = await wc.messages()
    assert stored.peer_kind == "visitor" and stored.peer == visitor["visitor_id"] and stored.direction == "in"
    ((message_id, inbound),) = wc.sink.inbound
    assert message_id == stored.id and inbound.text == "Hello, my order is late" and inbound.profile_name == "Ada"
    assert inbound.sender.kind.value == "visitor" and inbound.extra["email"] == "ada@example.org"


async def test_a_resend_takes_no_stream_number_and_the_next_message_follows_the_first(wc: Wc) -> None:
    """A resend is refused by the database (the message is unique per client id) and its transaction rolls back
    whole: the visitor's stream stays gapless and the sink hears of each message once."""
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        await ws.send(_send("client-0001", "first"))
        first = (await recv_until(ws, lambda f: f["type"] == "ack"))[-1]
        await ws.send(_send("client-0001", "first"))
        assert (await recv_until(ws, lambda f: f["type"] == "ack"))[-1]["duplicate"] is True
        await ws.send(_send("client-0002", "second"))
        second = (await recv_until(ws, lambda f: f["type"] == "ack"))[-1]
    assert second["duplicate"] is False and second["id"] == first["id"] + 1
    assert [inbound.text for _, inbound in wc.sink.inbound] == ["first", "second"]
    assert [m.text for m in await wc.messages()] == ["first", "second"]


async def test_a_verified_visitor_speaks_as_its_identifier(wc: Wc) -> None:
    proof = {"identifier": "customer-42", "identifier_hash": tokens.identity_hash(WIDGET_SECRET, "customer-42")}
    visitor = await wc.visitor(proof)
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        await ws.send(_send("client-0002", "It's me"))
        await recv_until(ws, lambda f: f["type"] == "ack")
    (stored,) = await wc.messages()
    assert (stored.peer_kind, stored.peer) == ("visitor_verified", "customer-42")
    ((_, inbound),) = wc.sink.inbound
    assert [(i.kind.value, i.value) for i in inbound.identities] == [
        ("visitor_verified", "customer-42"), ("visitor", visitor["visitor_id"])]


async def test_a_failing_sink_stores_nothing_and_the_retry_succeeds(wc: Wc) -> None:
    class Broken:
        async def place(self, *args: object) -> None:
            return None

        async def received(self, *args: object) -> None:
            raise RuntimeError("core is down")

    visitor = await wc.visitor({})
    wc.app.state.message_sink = Broken()
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        await ws.send(_send("client-0003", "anyone?"))
        error = (await recv_until(ws, lambda f: f["type"] in ("error", "ack")))[-1]
        assert error == {"type": "error", "code": "internal_error",
                         "message": "the frame could not be handled", "reason": "frame_failed"}
        assert await wc.messages() == []
        wc.app.state.message_sink = wc.sink
        await ws.send(_send("client-0003", "anyone?"))
        assert (await recv_until(ws, lambda f: f["type"] == "ack"))[-1]["duplicate"] is False
    assert len(wc.sink.inbound) == 1


async def test_an_agent_reply_arrives_once_then_is_delivered_and_read(wc: Wc) -> None:
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        reply_id = await wc.reply(visitor["visitor_id"], "Hi! Let me check.")
        frames = await recv_until(ws, lambda f: f["type"] == "message")
        assert frames[-1]["message"] == {**frames[-1]["message"], "id": reply_id, "direction": "out",
                                         "text": "Hi! Let me check."}
        await wc.until(lambda: _status_is(wc, reply_id, "delivered"))
        await ws.send(json.dumps({"type": "read", "message_id": reply_id}))
        assert (await recv_until(ws, lambda f: f["type"] == "read_ok"))[-1]["message_id"] == reply_id
        assert _messages(await drain(ws)) == []  # nothing twice
    message = await wc.message(reply_id)
    assert message.status == "read" and message.provider_message_id.startswith("webchat:")
    assert wc.sink.statuses == [(reply_id, "sent"), (reply_id, "delivered"), (reply_id, "read")]  # sent: the outbox
    async with wc.db.session() as session:
        (item,) = (await session.execute(select(OutboxItem))).scalars()
    assert item.state == "sent" and item.attempts == 1


async def _status_is(wc: Wc, message_id: int, status: str) -> bool:
    return (await wc.message(message_id)).status == status


async def test_a_reply_to_a_verified_visitor_goes_to_their_identifier(wc: Wc) -> None:
    proof = {"identifier": "customer-7", "identifier_hash": tokens.identity_hash(WIDGET_SECRET, "customer-7")}
    visitor = await wc.visitor(proof)
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        reply_id = await wc.reply("customer-7", "Welcome back")
        assert (await recv_until(ws, lambda f: f["type"] == "message"))[-1]["message"]["id"] == reply_id


async def test_a_reply_to_an_unknown_visitor_is_dead_lettered(wc: Wc) -> None:
    reply_id = await wc.reply("v_" + "x" * 24, "Hello?")
    message = await wc.message(reply_id)
    assert message.status == "failed" and message.error_code == "unknown_visitor"


async def test_resume_after_a_dropped_connection_loses_and_doubles_nothing(wc: Wc) -> None:
    visitor = await wc.visitor({})
    peer = visitor["visitor_id"]
    async with wc.socket(visitor["token"]) as ws:
        ready = await recv(ws)
        assert ready["last_id"] == 0
        await ws.send(_send("client-0010", "first"))
        await recv_until(ws, lambda f: f["type"] == "ack")
        await wc.reply(peer, "reply one")
        seen = _messages(await recv_until(ws, lambda f: f["type"] == "message" and f["message"]["text"] == "reply one"))
    last = max(f["id"] for f in seen)
    # Offline: two replies arrive, and the widget retries a send it never saw acknowledged.
    await wc.reply(peer, "reply two")
    await wc.reply(peer, "reply three")
    async with wc.socket(visitor["token"], after=last) as ws:
        assert (await recv(ws))["resumed_after"] == last
        await ws.send(_send("client-0010", "first"))
        frames = await recv_until(ws, lambda f: f["type"] == "ack") + await drain(ws)
    resumed = _messages(frames)
    assert [f["message"]["text"] for f in resumed] == ["reply two", "reply three"]
    everything = seen + resumed
    ids = [f["id"] for f in everything]
    assert ids == sorted(set(ids)) and len({f["message"]["id"] for f in everything}) == len(everything)
    async with wc.socket(visitor["token"], after=0) as ws:  # a fresh page: the whole history, in order
        await recv(ws)
        history = _messages(await drain(ws))
    assert [f["message"]["text"] for f in history] == ["first", "reply one", "reply two", "reply three"]
    assert [f["id"] for f in history] == [1, 2, 3, 4]


async def test_concurrent_replies_and_sends_keep_one_gapless_order(wc: Wc) -> None:
    visitor = await wc.visitor({})
    peer = visitor["visitor_id"]
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        sends = [ws.send(_send(f"client-{i:04d}", f"visitor {i}")) for i in range(5)]
        await asyncio.gather(*sends, *(wc.reply(peer, f"agent {i}") for i in range(5)))
        frames: list[dict] = []
        while len(_messages(frames)) < 10:
            try:
                frames.append(await recv(ws))
            except TimeoutError:
                raise AssertionError([(f["type"], f.get("id"), f.get("message", {}).get("text")) for f in frames]) from None
            assert frames[-1]["type"] != "error", frames
    ids = [f["id"] for f in _messages(frames)]
    assert ids == list(range(1, 11))


async def test_malformed_frames_get_an_error_frame_and_the_socket_stays(wc: Wc) -> None:
    visitor = await wc.visitor({})
    bad = ["not json", "[]", "42", "{}", '{"type": "nope"}', '{"type": "message", "text": "no id"}',
           '{"type": "message", "client_id": "short", "text": "x"}',
           json.dumps({"type": "message", "client_id": "client-0100", "text": "x" * 4001}),
           json.dumps({"type": "message", "client_id": "client-0100", "text": "   "}),
           json.dumps({"type": "message", "client_id": "client-0100", "text": "a\x00b"}),
           '{"type": "typing", "typing": "yes"}', '{"type": "read", "message_id": -1}',
           '{"type": "read", "message_id": true}', '{"type": "read", "message_id": 999999}',
           '{"type": "auth", "token": "again"}', "x" * 20_000]
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        for raw in bad:
            await ws.send(raw)
            frame = await recv(ws)
            assert frame["type"] == "error" and frame["code"] == "invalid_frame" and frame["message"], raw
        await ws.send(b"\x00\x01binary")
        assert (await recv(ws))["type"] == "error"
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv(ws)) == {"type": "pong"}
    assert await wc.messages() == []


async def test_each_error_frame_says_why_with_a_reason_the_widget_can_translate(wc: Wc) -> None:
    """The code and English message stay for API users; the reason (with its details, and the refused
    message's client_id) is what the widget turns into a sentence in the visitor's language."""
    visitor = await wc.visitor({})
    cases = [
        ("not json", {"reason": "frame_invalid"}),
        ('{"type": "nope"}', {"reason": "frame_invalid"}),
        ("x" * 20_000, {"reason": "frame_too_large"}),
        ('{"type": "message", "client_id": "short", "text": "x"}', {"reason": "client_id_format"}),
        (_send("client-0300", "x" * 4001),
         {"reason": "text_too_long", "details": {"max_length": 4000}, "client_id": "client-0300"}),
        (_send("client-0301", "   "), {"reason": "text_empty", "client_id": "client-0301"}),
        (_send("client-0302", "a\x00b"), {"reason": "text_unsupported", "client_id": "client-0302"}),
        ('{"type": "read", "message_id": 999999}',
         {"reason": "read_not_in_chat", "details": {"message_id": 999999}}),
        ('{"type": "auth", "token": "again"}', {"reason": "already_authenticated"}),
    ]
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        for raw, expected in cases:
            await ws.send(raw)
            frame = await recv(ws)
            assert frame["code"] == "invalid_frame" and frame["message"], raw
            assert {k: v for k, v in frame.items() if k not in ("type", "code", "message")} == expected, raw
        r = await wc.http.patch(f"/api/v1/channels/{wc.channel_id}", headers=wc.admin, json={"enabled": False})
        assert r.status_code == 200, r.text  # the chat closes while the visitor writes
        await ws.send(_send("client-0303", "still there?"))
        frame = await recv(ws)
        assert (frame["code"], frame["reason"]) == ("widget_disabled", "chat_closed")
    assert await wc.messages() == []


async def test_a_refused_socket_says_why_before_it_closes(wc: Wc) -> None:
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"], origin="https://evil.example") as ws:
        assert (await recv(ws))["reason"] == "origin_not_allowed"
    async with wc.socket() as ws:
        await ws.send("x" * 20_000)  # a first frame that is no auth frame: refused with the parse's reason
        error = await recv(ws)
        assert (error["code"], error["reason"]) == ("invalid_input", "frame_too_large")
    wc.clock.advance(tokens.TOKEN_TTL_SECONDS)
    async with wc.socket(visitor["token"]) as ws:
        error = await recv(ws)
        assert (error["code"], error["reason"]) == ("token_invalid", "token_expired")


async def test_a_visitor_cannot_mark_another_visitors_reply_read(wc: Wc) -> None:
    one, two = await wc.visitor({}), await wc.visitor({})
    reply_id = await wc.reply(one["visitor_id"], "for one only")
    async with wc.socket(two["token"]) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "read", "message_id": reply_id}))
        assert (await recv(ws))["code"] == "invalid_frame"
        assert _messages(await drain(ws)) == []
    assert (await wc.message(reply_id)).status != "read"


async def test_the_token_may_come_in_the_first_frame(wc: Wc) -> None:
    visitor = await wc.visitor({})
    async with wc.socket() as ws:
        await ws.send(json.dumps({"type": "auth", "token": visitor["token"], "after": 0}))
        assert (await recv(ws))["type"] == "ready"
    async with wc.socket() as ws:
        await ws.send(json.dumps({"type": "message", "client_id": "client-0200", "text": "before auth"}))
        assert (await recv(ws))["code"] == "token_invalid"
    from websockets.asyncio.client import connect

    async with connect(wc.ws_url(visitor["token"]) + "&after=abc", origin="https://shop.example") as ws:  # type: ignore[arg-type]
        assert (await recv(ws))["code"] == "invalid_input"


async def test_visitor_typing_is_published_for_the_agents(wc: Wc) -> None:
    visitor = await wc.visitor({})
    sub = wc.app.state.bus.subscribe(lambda e: e.type == service.TYPING_EVENT)
    try:
        async with wc.socket(visitor["token"]) as ws:
            await recv(ws)
            await ws.send(json.dumps({"type": "typing", "typing": True}))
            event: Event = await asyncio.wait_for(sub.queue.get(), 10)
    finally:
        sub.close()
    assert event.data == {"channel_id": wc.channel_id, "peer": visitor["visitor_id"], "who": "visitor",
                          "visitor_id": visitor["visitor_id"], "interaction_id": None, "typing": True}


async def test_agent_typing_reaches_the_visitors_widget(wc: Wc) -> None:
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        await drain(ws)  # the socket is registered once it has answered
        told = await service.agent_typing(wc.db, wc.channel_id, visitor["visitor_id"], True)
        assert told == 1
        assert (await recv(ws)) == {"type": "typing", "from": "agent", "typing": True}
    assert await service.agent_typing(wc.db, wc.channel_id, "v_" + "n" * 20, True) == 0
