"""Messages out through the outbox, against fake providers on real sockets: sent once, retried with backoff
through 500s, 429s and timeouts, dead-lettered with the provider's error, never sent twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fakes.base import Failure, Hang
from fakes.bot_api import too_many_requests
from fakes.graph_api import OUTSIDE_WINDOW, graph_error
from fakes.harness import (  # noqa: F401 - fixtures
    Mx, bot, bot_server, fixture_bytes, graph, graph_server, mx, twilio, twilio_server,
)
from fakes.twilio_api import twilio_error
from teleplex.core.errors import InvalidInput
from teleplex.messaging.errors import ChannelDisabled, OptedOut, WindowClosed
from teleplex.messaging.outbox import enqueue_outgoing
from teleplex.messaging.providers.base import MessageKind, OutgoingContent
from teleplex.messaging.retry import RetryPolicy

WA_CUSTOMER = "16505551234"


@pytest.fixture
def steady(mx: Mx) -> Mx:
    """Jitter pinned to the middle, so delays are known."""
    mx.runtime.outbox.rand = lambda: 0.5
    return mx


async def whatsapp_channel_with_open_window(mx: Mx) -> int:
    channel = await mx.channel("whatsapp")
    r = await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    assert r.status_code == 200
    return channel["id"]


async def enqueue(mx: Mx, channel_id: int, to: str, content: OutgoingContent) -> int:
    async with mx.db.session() as session:
        message = await enqueue_outgoing(session, mx.clock, channel_id, to, content)
        return message.id


async def message_json(mx: Mx, message_id: int) -> dict:
    r = await mx.client.get(f"/api/v1/messages/{message_id}", headers=mx.admin)
    assert r.status_code == 200, r.text
    return r.json()


async def test_whatsapp_text_is_sent_once_and_the_wamid_recorded(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="It comes in red and blue."))
    assert mx.graph.sent == []  # persisted first, sent by the worker
    assert await mx.runtime.outbox.run_once() == 1
    assert await mx.runtime.outbox.run_once() == 0
    (sent,) = mx.graph.sent
    assert sent["to"] == "+16505551234" and sent["type"] == "text" and sent["text"]["body"] == "It comes in red and blue."
    assert sent["phone_number_id"] == "106540352242922"
    body = await message_json(mx, message_id)
    assert body["provider_message_id"] == sent["id"] and body["status"] == "sent"
    assert body["delivery"]["state"] == "sent" and body["delivery"]["attempts"] == 1


async def test_whatsapp_template_goes_out_even_with_the_window_closed(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("whatsapp")
    with pytest.raises(WindowClosed):
        await enqueue(mx, channel["id"], WA_CUSTOMER, OutgoingContent(text="free text"))
    template = OutgoingContent(kind=MessageKind.TEMPLATE, template_name="order_update", language="es",
                               components=[{"type": "body", "parameters": [{"type": "text", "text": "42"}]}])
    await enqueue(mx, channel["id"], WA_CUSTOMER, template)
    await mx.runtime.outbox.run_once()
    (sent,) = mx.graph.sent
    assert sent["type"] == "template"
    assert sent["template"] == {"name": "order_update", "language": {"code": "es"},
                                "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}]}


async def test_window_closes_24_hours_after_the_last_customer_message(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    mx.clock.advance(24 * 3600 - 1)
    await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="still open"))
    mx.clock.advance(1)
    with pytest.raises(WindowClosed):
        await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="closed now"))


async def test_provider_500_is_retried_with_backoff_and_sent_once(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    mx.graph.fail(Failure(500, {"error": {"message": "Service temporarily unavailable", "code": 2}}),
                  Failure(503, {"error": {"message": "Service unavailable", "code": 131016}}))
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="hello"))
    await mx.runtime.outbox.run_once()
    delivery = (await message_json(mx, message_id))["delivery"]
    assert delivery["state"] == "failed" and delivery["attempts"] == 1 and "Service temporarily" in delivery["last_error"]
    assert await mx.runtime.outbox.run_once() == 0  # not due yet: backoff (2 s * 0.75 with jitter pinned)
    mx.clock.advance(1.5)
    assert await mx.runtime.outbox.run_once() == 1  # second failure: 4 s * 0.75
    mx.clock.advance(2.9)
    assert await mx.runtime.outbox.run_once() == 0
    mx.clock.advance(0.1)
    assert await mx.runtime.outbox.run_once() == 1
    assert len(mx.graph.sent) == 1 and len(mx.graph.requests) == 3
    body = await message_json(mx, message_id)
    assert body["status"] == "sent" and body["delivery"] == {**body["delivery"], "state": "sent", "attempts": 3,
                                                             "last_error": None}


async def test_timeout_delays_but_loses_nothing(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    mx.graph.fail(Hang(5))
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="are you there?"))
    await mx.runtime.outbox.run_once()
    delivery = (await message_json(mx, message_id))["delivery"]
    assert delivery["state"] == "failed" and delivery["last_error"].startswith("timeout")
    mx.graph.release.set()
    mx.clock.advance(60)
    await mx.runtime.outbox.run_once()
    assert [s["text"]["body"] for s in mx.graph.sent] == ["are you there?"]
    assert (await message_json(mx, message_id))["status"] == "sent"


async def test_connection_refused_is_retried(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="x"))
    good = mx.runtime.providers.settings
    mx.runtime.providers.settings = good.model_copy(update={"whatsapp_api_url": "http://127.0.0.1:9"})
    await mx.runtime.outbox.run_once()
    assert (await message_json(mx, message_id))["delivery"]["last_error"].startswith("connection_error")
    mx.runtime.providers.settings = good
    mx.clock.advance(60)
    await mx.runtime.outbox.run_once()
    assert len(mx.graph.sent) == 1


async def test_telegram_429_throttles_the_whole_bot_for_retry_after(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("telegram")
    mx.bot.fail(too_many_requests(7))
    first = await enqueue(mx, channel["id"], "111222333", OutgoingContent(text="one"))
    second = await enqueue(mx, channel["id"], "999888777", OutgoingContent(text="two"))  # another chat, same bot
    assert await mx.runtime.outbox.run_once() == 1  # the 429 stops the pass: the second is not even tried
    delivery = (await message_json(mx, first))["delivery"]
    assert delivery["state"] == "failed" and delivery["attempts"] == 0 and "retry after 7" in delivery["last_error"]
    mx.clock.advance(6.9)
    assert await mx.runtime.outbox.run_once() == 0
    mx.clock.advance(0.1)
    assert await mx.runtime.outbox.run_once() == 2
    assert sorted(s["text"] for s in mx.bot.sent) == ["one", "two"]
    assert (await message_json(mx, second))["provider_message_id"].startswith("999888777:")


async def test_rate_limit_spreads_a_burst(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("telegram", settings={"rate_per_second": 2})
    for i in range(5):
        await enqueue(mx, channel["id"], f"11122233{i}", OutgoingContent(text=f"m{i}"))  # five chats
    assert await mx.runtime.outbox.run_once() == 2
    mx.clock.advance(0.5)
    assert await mx.runtime.outbox.run_once() == 1
    mx.clock.advance(1)
    assert await mx.runtime.outbox.run_once() == 2
    assert [s["text"] for s in mx.bot.sent] == ["m0", "m1", "m2", "m3", "m4"]


async def test_permanent_error_dead_letters_with_the_providers_error_visible(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    mx.graph.fail(OUTSIDE_WINDOW)
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="late reply"))
    await mx.runtime.outbox.run_once()
    body = await message_json(mx, message_id)
    assert body["status"] == "failed" and body["error_code"] == "131047"
    assert "more than 24 hours" in body["error_message"]
    assert body["delivery"]["state"] == "dead" and body["delivery"]["attempts"] == 1
    mx.clock.advance(3600)
    assert await mx.runtime.outbox.run_once() == 0 and mx.graph.sent == []


async def test_attempts_exhausted_dead_letters(steady: Mx) -> None:
    mx = steady
    mx.runtime.outbox.policy = RetryPolicy(base_seconds=1, cap_seconds=10, max_attempts=3)
    channel_id = await whatsapp_channel_with_open_window(mx)
    mx.graph.fail(*[Failure(500, {"error": {"message": "boom", "code": 1}})] * 3)
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="x"))
    for _ in range(5):
        await mx.runtime.outbox.run_once()
        mx.clock.advance(60)
    body = await message_json(mx, message_id)
    assert body["delivery"]["state"] == "dead" and body["delivery"]["attempts"] == 3
    assert body["status"] == "failed" and body["error_message"] == "gave up after 3 attempts: boom"
    assert len(mx.graph.requests) == 3 and mx.graph.sent == []


async def test_concurrent_workers_send_each_message_once(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    for i in range(4):
        await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text=f"m{i}"))
    from teleplex.messaging.outbox import OutboxWorker

    other = OutboxWorker(mx.db, mx.clock, mx.runtime.providers)
    await asyncio.gather(mx.runtime.outbox.run_once(), other.run_once())
    assert sorted(s["text"]["body"] for s in mx.graph.sent) == ["m0", "m1", "m2", "m3"]


async def test_a_row_claimed_by_a_dead_worker_is_dead_lettered_not_resent(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="x"))
    assert await mx.runtime.outbox._claim((await mx.outbox())[0].id)  # claimed, then the process died
    assert await mx.runtime.outbox.recover_stale() == 0  # still within its lease
    mx.clock.advance(301)
    assert await mx.runtime.outbox.recover_stale() == 1
    await mx.runtime.outbox.run_once()
    body = await message_json(mx, message_id)
    assert body["delivery"]["state"] == "dead" and body["error_code"] == "unknown_outcome"
    assert mx.graph.sent == []


async def test_disabled_channel_holds_its_messages_until_enabled(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("telegram")
    await enqueue(mx, channel["id"], "111222333", OutgoingContent(text="later"))
    await mx.client.patch(f"/api/v1/channels/{channel['id']}", json={"enabled": False}, headers=mx.admin)
    assert await mx.runtime.outbox.run_once() == 0
    with pytest.raises(ChannelDisabled):
        await enqueue(mx, channel["id"], "111222333", OutgoingContent(text="refused"))
    await mx.client.patch(f"/api/v1/channels/{channel['id']}", json={"enabled": True}, headers=mx.admin)
    assert await mx.runtime.outbox.run_once() == 1
    assert [s["text"] for s in mx.bot.sent] == ["later"]


async def test_telegram_media_and_long_text(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("telegram")
    with pytest.raises(InvalidInput):
        await enqueue(mx, channel["id"], "111222333", OutgoingContent(text="x" * 4097))
    await enqueue(mx, channel["id"], "111222333", OutgoingContent(text="x" * 4096))
    await enqueue(mx, channel["id"], "111222333", OutgoingContent(kind=MessageKind.IMAGE, media_url="https://cdn.example.com/a.jpg", text="look"))
    await enqueue(mx, channel["id"], "111222333", OutgoingContent(kind=MessageKind.AUDIO, media_url="https://cdn.example.com/a.ogg"))
    for _ in range(3):  # one chat: one message a second
        assert await mx.runtime.outbox.run_once() == 1
        mx.clock.advance(1)
    assert [s["method"] for s in mx.bot.sent] == ["sendMessage", "sendPhoto", "sendVoice"]
    assert mx.bot.sent[1]["photo"] == "https://cdn.example.com/a.jpg" and mx.bot.sent[1]["caption"] == "look"


async def test_twilio_sends_with_basic_auth_and_status_callback(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("sms_twilio", settings={"from_number": "+14155550100",
                                                       "status_callback_url": "https://cc.example.com/webhooks/twilio/1/status"})
    message_id = await enqueue(mx, channel["id"], "+14155550199", OutgoingContent(text="Your order shipped"))
    await mx.runtime.outbox.run_once()
    (sent,) = mx.twilio.sent
    assert sent["To"] == "+14155550199" and sent["From"] == "+14155550100" and sent["Body"] == "Your order shipped"
    assert sent["StatusCallback"] == "https://cc.example.com/webhooks/twilio/1/status"
    assert (await message_json(mx, message_id))["provider_message_id"] == sent["sid"]


async def test_twilio_invalid_number_is_dead_lettered_with_its_code(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("sms_twilio")
    mx.twilio.fail(twilio_error(21211, "The 'To' number +1415 is not a valid phone number."))
    message_id = await enqueue(mx, channel["id"], "+1415", OutgoingContent(text="x"))
    await mx.runtime.outbox.run_once()
    body = await message_json(mx, message_id)
    assert body["delivery"]["state"] == "dead" and body["error_code"] == "21211"


async def test_sms_stop_blocks_sending_until_start(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("sms_twilio")
    await mx.twilio_post(channel["id"], fixture_bytes("twilio", "stop"))
    with pytest.raises(OptedOut):
        await enqueue(mx, channel["id"], "+14155550199", OutgoingContent(text="promo"))
    mx.clock.advance(60)
    await mx.twilio_post(channel["id"], fixture_bytes("twilio", "start"))
    await enqueue(mx, channel["id"], "+14155550199", OutgoingContent(text="welcome back"))


async def test_the_worker_loop_sends_in_the_background(steady: Mx) -> None:
    """The app's lifespan runs the worker: a queued message goes out without anyone calling run_once."""
    mx = steady
    channel = await mx.channel("telegram")
    await enqueue(mx, channel["id"], "111222333", OutgoingContent(text="from the loop"))
    await mx.runtime.start()
    try:
        mx.runtime.outbox.wakeup.set()
        async with asyncio.timeout(20):
            while not mx.bot.sent:
                await asyncio.sleep(0.05)
    finally:
        await mx.runtime.stop()
    assert [s["text"] for s in mx.bot.sent] == ["from the loop"]


async def test_graph_api_rate_limit_code_is_retried_not_dead(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    mx.graph.fail(graph_error(130429, "Rate limit hit", 400))
    message_id = await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="x"))
    await mx.runtime.outbox.run_once()
    assert (await message_json(mx, message_id))["delivery"]["state"] == "failed"
    mx.clock.advance(60)
    await mx.runtime.outbox.run_once()
    assert len(mx.graph.sent) == 1


async def test_due_time_is_stored_so_a_restart_keeps_the_backoff(steady: Mx) -> None:
    mx = steady
    channel_id = await whatsapp_channel_with_open_window(mx)
    mx.graph.fail(Failure(500, {"error": {"message": "boom", "code": 1}}))
    await enqueue(mx, channel_id, WA_CUSTOMER, OutgoingContent(text="x"))
    await mx.runtime.outbox.run_once()
    (item,) = await mx.outbox()
    assert item.next_attempt_at == mx.clock.now() + timedelta(seconds=1.5)
    assert item.state == "failed" and item.attempts == 1


async def test_window_state_for_the_console(steady: Mx) -> None:
    from teleplex.messaging.outbox import whatsapp_window

    mx = steady
    channel = await mx.channel("whatsapp")
    async with mx.db.session() as session:
        assert (await whatsapp_window(session, mx.clock, channel["id"], WA_CUSTOMER))["open"] is False
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    async with mx.db.session() as session:
        state = await whatsapp_window(session, mx.clock, channel["id"], WA_CUSTOMER)
    assert state["open"] is True and state["closes_at"] == mx.clock.now() + timedelta(hours=24)


async def test_telegram_sends_one_message_a_second_per_chat_in_order(steady: Mx) -> None:
    mx = steady
    channel = await mx.channel("telegram")
    for text in ("a1", "a2", "a3"):
        await enqueue(mx, channel["id"], "111", OutgoingContent(text=text))
    await enqueue(mx, channel["id"], "222", OutgoingContent(text="b1"))
    assert await mx.runtime.outbox.run_once() == 2  # a1 and b1
    assert await mx.runtime.outbox.run_once() == 0
    mx.clock.advance(1)
    assert await mx.runtime.outbox.run_once() == 1
    mx.clock.advance(1)
    assert await mx.runtime.outbox.run_once() == 1
    assert [s["text"] for s in mx.bot.sent] == ["a1", "b1", "a2", "a3"]
