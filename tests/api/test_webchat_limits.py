"""A visitor (or a script) going faster than a person: refused with how long to wait, nothing stored, and the
next try after the wait goes through; typing past a person's pace is dropped. The limits are set small here;
their defaults come from settings."""

from __future__ import annotations

import json

from test_webchat_attachments import PNG, _stored_files, _upload
from test_webchat_support import ORIGIN, Wc, drain, recv, recv_until, wc  # noqa: F401 - fixture

from teleplex.messaging.webchat import service
from teleplex.messaging.webchat.limits import Rate, WebchatLimits


def _send(client_id: str, text: str) -> str:
    return json.dumps({"type": "message", "client_id": client_id, "text": text})


def _limit(wc: Wc, messages: Rate = Rate(60, 100), sessions: Rate = Rate(60, 100)) -> None:
    wc.runtime.webchat_limits = WebchatLimits(messages, sessions)


async def test_a_visitor_flooding_the_socket_is_told_to_wait_and_the_refused_message_is_not_stored(wc: Wc) -> None:
    _limit(wc, messages=Rate(per_minute=20, burst=3))
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        for n in range(3):
            await ws.send(_send(f"client-000{n}", f"message {n}"))
            assert (await recv_until(ws, lambda f: f["type"] in ("ack", "error")))[-1]["type"] == "ack"
        await ws.send(_send("client-0003", "one too many"))
        refused = (await recv_until(ws, lambda f: f["type"] in ("ack", "error")))[-1]
        assert refused == {"type": "error", "code": "too_many_attempts", "reason": "rate_limited",
                           "message": "messages are coming too fast; try again in 3 s",
                           "details": {"retry_after": 3}, "client_id": "client-0003"}
        assert [m.text for m in await wc.messages()] == ["message 0", "message 1", "message 2"]
        wc.clock.advance(3)
        await ws.send(_send("client-0003", "one too many"))  # the widget's retry, after the wait
        ack = (await recv_until(ws, lambda f: f["type"] in ("ack", "error")))[-1]
        assert ack["type"] == "ack" and ack["duplicate"] is False
    assert [m.text for m in await wc.messages()] == ["message 0", "message 1", "message 2", "one too many"]
    assert [inbound.text for _, inbound in wc.sink.inbound] == ["message 0", "message 1", "message 2", "one too many"]


async def test_each_visitor_has_its_own_pace(wc: Wc) -> None:
    _limit(wc, messages=Rate(per_minute=1, burst=1))
    first, second = await wc.visitor({}), await wc.visitor({})
    for visitor, expected in ((first, ["ack", "error"]), (second, ["ack"])):
        seen = []
        async with wc.socket(visitor["token"]) as ws:
            await recv(ws)
            for n in range(len(expected)):
                await ws.send(_send(f"client-{visitor['visitor_id'][:4]}{n:04d}", "hello"))
                seen.append((await recv_until(ws, lambda f: f["type"] in ("ack", "error")))[-1]["type"])
        assert seen == expected
    assert len(await wc.messages()) == 2


async def test_files_count_with_messages_and_a_refused_upload_keeps_no_file(wc: Wc) -> None:
    _limit(wc, messages=Rate(per_minute=6, burst=1))
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        await ws.send(_send("client-0001", "a photo follows"))
        assert (await recv_until(ws, lambda f: f["type"] in ("ack", "error")))[-1]["type"] == "ack"
    r = await _upload(wc, visitor["token"], PNG, "image/png")
    assert r.status_code == 429 and r.headers["retry-after"] == "10"
    assert r.headers["access-control-allow-origin"] == ORIGIN  # the widget can read why
    assert r.json()["error"]["reason"] == "rate_limited" and r.json()["error"]["details"] == {"retry_after": 10}
    assert _stored_files(wc) == [] and len(await wc.messages()) == 1
    wc.clock.advance(10)
    assert (await _upload(wc, visitor["token"], PNG, "image/png")).status_code == 201


async def test_sessions_from_one_address_are_limited_with_retry_after(wc: Wc) -> None:
    _limit(wc, sessions=Rate(per_minute=30, burst=2))
    assert [(await wc.session({})).status_code for _ in range(2)] == [200, 200]
    r = await wc.session({})
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.json()["error"]["code"] == "too_many_attempts" and r.json()["error"]["reason"] == "rate_limited"
    wc.clock.advance(2)
    assert (await wc.session({})).status_code == 200


async def test_a_flood_of_typing_frames_reaches_the_agents_as_a_persons_typing(wc: Wc) -> None:
    """"Typing…" at a person's pace (10 at once, then 30 a minute), and "stopped" only after a "typing" the
    agents were told: a script's thousand frames become a handful of events, and the last word is "stopped"."""
    visitor = await wc.visitor({})
    sub = wc.app.state.bus.subscribe(lambda e: e.type == service.TYPING_EVENT)
    try:
        async with wc.socket(visitor["token"]) as ws:
            await recv(ws)
            await ws.send(json.dumps({"type": "typing", "typing": False}))  # nothing shown: nothing to clear
            for _ in range(30):
                await ws.send(json.dumps({"type": "typing", "typing": True}))
            for _ in range(5):
                await ws.send(json.dumps({"type": "typing", "typing": False}))
            await drain(ws)  # every frame above handled
            wc.clock.advance(2)  # one more "typing" allowed
            await ws.send(json.dumps({"type": "typing", "typing": True}))
            await ws.send(json.dumps({"type": "typing", "typing": False}))
            await drain(ws)
        said = []
        while not sub.queue.empty():
            said.append(sub.queue.get_nowait().data["typing"])
    finally:
        sub.close()
    assert said == [True] * 10 + [False] + [True, False]
