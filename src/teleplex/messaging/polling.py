"""Telegram long polling: for installs without a public URL. getUpdates and a webhook exclude each other.

Each update is stored (deduplicated by update_id) before the next getUpdates confirms it with `offset`, so
a crash replays at most the last batch, which deduplication absorbs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.logging import get_logger
from teleplex.messaging.clients import Providers
from teleplex.messaging.inbox import Delivery, Inbox
from teleplex.messaging.models import Channel
from teleplex.messaging.providers import telegram
from teleplex.messaging.providers.base import PermanentSendError, RetryableSendError
from teleplex.messaging.retry import RetryPolicy

log = get_logger("teleplex.messaging.polling")


class TelegramPoller:
    """Polls one bot; `poll_once` is one getUpdates round (tests drive it), `run` loops until stopped."""

    def __init__(
        self, db: Database, clock: Clock, providers: Providers, channel: Channel,
        on_event: Callable[[int], Awaitable[object]], poll_timeout: int = telegram.POLL_TIMEOUT_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.db = db
        self.clock = clock
        self.inbox = Inbox(db, clock)
        self.providers = providers
        self.channel = channel
        self.on_event = on_event
        self.poll_timeout = poll_timeout
        self.sleep = sleep
        self.offset: int | None = None
        self.webhook_removed = False

    async def poll_once(self) -> int:
        """Fetch, store and hand over one batch of updates; returns how many were new."""
        new = 0
        async with self.providers.open(self.channel) as client:
            assert isinstance(client, telegram.TelegramClient)
            if not self.webhook_removed:
                await client.delete_webhook()
                self.webhook_removed = True
            updates = await client.get_updates(self.offset, self.poll_timeout)
        for update in updates:
            body = json.dumps(update, ensure_ascii=False).encode()
            try:
                update_id = telegram.update_id(body)
                telegram.parse(body)
            except ValueError as exc:
                log.warning("skipping a malformed update", channel_id=self.channel.id, error=str(exc))
                if isinstance(update.get("update_id"), int):
                    self.offset = max(self.offset or 0, update["update_id"] + 1)
                continue
            event_id, created = await self.inbox.store(Delivery(self.channel.id, "poll", str(update_id), body))
            new += created
            await self.on_event(event_id)
            self.offset = max(self.offset or 0, update_id + 1)
        return new

    async def run(self, stop: asyncio.Event) -> None:
        policy = RetryPolicy(base_seconds=1.0, cap_seconds=60.0)
        failures = 0
        while not stop.is_set():
            try:
                await self.poll_once()
                failures = 0
            except RetryableSendError as exc:
                failures += 1
                await self.sleep(policy.next_delay(failures, lambda: 0.5, exc.retry_after))
            except PermanentSendError as exc:  # a bad token, or a webhook set elsewhere (409)
                log.warning("telegram polling refused", channel_id=self.channel.id, error=exc.message)
                self.webhook_removed = False
                await self.sleep(30.0)
            except Exception:  # noqa: BLE001 - keep polling through database hiccups
                log.exception("telegram polling failed", channel_id=self.channel.id)
                await self.sleep(5.0)
