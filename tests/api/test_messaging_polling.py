"""Telegram long polling: updates stored before they are confirmed, deduplicated, webhook removed first."""

from __future__ import annotations

import json

from fakes.harness import (  # noqa: F401 - fixtures
    Mx, bot, bot_server, fixture_bytes, graph, graph_server, mx, twilio, twilio_server,
)
from teleplex.messaging.models import Channel
from teleplex.messaging.polling import TelegramPoller


async def poller_for(mx: Mx) -> TelegramPoller:
    created = await mx.channel("telegram", settings={"mode": "polling"})
    async with mx.db.session() as session:
        channel = await session.get(Channel, created["id"])
    return TelegramPoller(mx.db, mx.clock, mx.runtime.providers, channel, mx.runtime.process, poll_timeout=0)


async def test_polling_stores_each_update_and_confirms_with_the_offset(mx: Mx) -> None:
    mx.bot.webhook = {"url": "https://old.example.com"}
    poller = await poller_for(mx)
    mx.bot.updates = [json.loads(fixture_bytes("telegram", n)) for n in ("text", "photo", "edited_message")]
    assert await poller.poll_once() == 3
    assert mx.bot.webhook is None  # polling and a webhook exclude each other
    assert [m.kind for m in await mx.messages()] == ["text", "image", "text"]
    assert poller.offset == 900000006
    assert await poller.poll_once() == 0
    assert mx.bot.confirmed_offset == 900000006 and mx.bot.updates == []


async def test_updates_redelivered_after_a_crash_are_stored_once(mx: Mx) -> None:
    poller = await poller_for(mx)
    mx.bot.updates = [json.loads(fixture_bytes("telegram", "text"))]
    await poller.poll_once()
    restarted = await poller_for_same(mx, poller)  # a new process: no offset known, Telegram resends
    assert await restarted.poll_once() == 0
    assert len(await mx.messages()) == 1 and len(await mx.events()) == 1


async def poller_for_same(mx: Mx, poller: TelegramPoller) -> TelegramPoller:
    return TelegramPoller(mx.db, mx.clock, mx.runtime.providers, poller.channel, mx.runtime.process, poll_timeout=0)


async def test_runtime_starts_a_poller_for_polling_channels_only(mx: Mx) -> None:
    await mx.channel("telegram", name="webhook bot")
    polling = await mx.channel("telegram", name="polling bot", settings={"mode": "polling"})
    await mx.runtime.reconcile_pollers()
    try:
        assert set(mx.runtime.pollers) == {polling["id"]}
    finally:
        await mx.runtime.stop()


async def test_webhook_mode_channel_is_registered_with_its_secret(mx: Mx) -> None:
    await mx.channel("telegram", settings={"webhook_url": "https://cc.example.com/webhooks/telegram/1"})
    await mx.runtime.reconcile_pollers()
    await mx.runtime.reconcile_pollers()  # once, not at every pass
    assert mx.bot.webhook is not None
    assert mx.bot.webhook["url"] == "https://cc.example.com/webhooks/telegram/1"
    assert mx.bot.webhook["secret_token"] == "telegram-webhook-secret"
    assert [q["body"]["method"] for q in mx.bot.requests] == ["setWebhook"]


async def test_a_changed_channel_gets_a_fresh_poller(mx: Mx) -> None:
    polling = await mx.channel("telegram", settings={"mode": "polling"})
    await mx.runtime.reconcile_pollers()
    try:
        first = mx.runtime.pollers[polling["id"]]
        await mx.runtime.reconcile_pollers()
        assert mx.runtime.pollers[polling["id"]] is first
        mx.clock.advance(1)
        r = await mx.client.patch(f"/api/v1/channels/{polling['id']}", headers=mx.admin,
                                  json={"credentials": {"bot_token": "999:ROTATED"}})
        assert r.status_code == 200
        await mx.runtime.reconcile_pollers()
        assert mx.runtime.pollers[polling["id"]] is not first
    finally:
        await mx.runtime.stop()
