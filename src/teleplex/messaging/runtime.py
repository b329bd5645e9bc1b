"""The messaging capability's moving parts for one app: processor, outbox worker, Telegram pollers.

Created lazily (webhooks work without the lifespan, as in tests); the app's lifespan starts the background
loops when `messaging_workers` is on: recovery of unprocessed events, the outbox, and long polling.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.logging import get_logger
from teleplex.core.settings import Settings
from teleplex.messaging.clients import Providers
from teleplex.messaging.crypto import CredentialBox
from teleplex.messaging.ingest import MessageSink, Processor, StoreOnlySink
from teleplex.messaging.inbox import Inbox
from teleplex.messaging.models import Channel
from teleplex.messaging.outbox import OutboxWorker
from teleplex.messaging.polling import TelegramPoller
from teleplex.messaging.providers.telegram import TelegramClient
from teleplex.messaging.schemas import ChannelKind
from teleplex.messaging.templates import TemplateCatalogue
from teleplex.messaging.webchat.limits import WebchatLimits

log = get_logger("teleplex.messaging")

RECONCILE_SECONDS = 15.0
CHANNEL_CACHE_SECONDS = 5.0  # how long a webhook may see a channel as it was (another node's edit included)
_STORE_ONLY = StoreOnlySink()


class MessagingRuntime:
    def __init__(self, db: Database, clock: Clock, settings: Settings, state: Any = None) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.state = state
        self.box = CredentialBox.from_settings(settings)
        self.providers = Providers(settings, self.box, db, clock)
        self.processor = Processor(db, clock, self.providers, settings.var_dir / "media", self.sink)
        self.inbox = Inbox(db, clock, stored=self.processor.submit)  # webhooks store here, then processed
        self.processor.pressed = self.inbox.pressed
        self.outbox = OutboxWorker(db, clock, self.providers, sink=self.sink)
        self.pollers: dict[int, asyncio.Task[None]] = {}
        self.polled: dict[int, Any] = {}  # channel id -> the updated_at its poller was started with
        self.webhooks: dict[int, tuple[str, str]] = {}  # Telegram webhooks registered by this process
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()
        self._channels: dict[int, tuple[float, Channel]] = {}
        self.templates = TemplateCatalogue(self.providers, clock)  # Meta's approved WhatsApp templates, cached
        self.webchat_limits = WebchatLimits.from_settings(settings)  # anonymous visitors' pace

    async def webhook_channel(self, channel_id: int) -> Channel | None:
        """The channel a webhook names, read at most every few seconds: under a burst of deliveries, one read
        instead of one per delivery. Edits through this process's API are seen at once (`forget_channel`)."""
        cached = self._channels.get(channel_id)
        if cached is not None and time.monotonic() - cached[0] < CHANNEL_CACHE_SECONDS:
            return cached[1]
        async with self.db.session() as session:
            channel = await session.get(Channel, channel_id)
        if channel is None:
            self._channels.pop(channel_id, None)
        else:
            self._channels[channel_id] = (time.monotonic(), channel)
        return channel

    def forget_channel(self, channel_id: int) -> None:
        self._channels.pop(channel_id, None)
        self.templates.forget(channel_id)

    def sink(self) -> MessageSink:
        """The core's sink when it set one on `app.state.message_sink`, else store-only."""
        return getattr(self.state, "message_sink", None) or _STORE_ONLY

    async def process(self, event_id: int) -> None:
        await self.processor.process(event_id)

    async def start(self) -> None:
        self._stop.clear()
        try:
            await self.processor.recover()
            await self.outbox.recover_stale()
        except Exception:  # noqa: BLE001 - a start-up hiccup must not keep the center down
            log.exception("messaging recovery failed at start")
        self._spawn(self.outbox.run(self._stop))
        self._spawn(self._supervise())

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _supervise(self) -> None:
        """Keep one poller per enabled polling-mode Telegram channel; retry unprocessed events now and then."""
        while not self._stop.is_set():
            try:
                await self.reconcile_pollers()
                await self.processor.recover()
            except Exception:  # noqa: BLE001
                log.exception("messaging supervision pass failed")
            try:
                await asyncio.wait_for(self._stop.wait(), RECONCILE_SECONDS)
            except TimeoutError:
                pass

    async def reconcile_pollers(self) -> None:
        async with self.db.session() as session:
            channels = (await session.execute(select(Channel).where(
                Channel.kind == ChannelKind.TELEGRAM.value, Channel.enabled.is_(True)))).scalars().all()
        wanted = {c.id: c for c in channels if (c.settings or {}).get("mode") == "polling"}
        for channel in channels:
            if channel.id not in wanted and (channel.settings or {}).get("webhook_url"):
                await self.register_webhook(channel)
        for channel_id in set(self.pollers) - set(wanted):
            self.pollers.pop(channel_id).cancel()
        for channel_id, channel in wanted.items():
            running = self.pollers.get(channel_id)
            if running is not None and not running.done() and self.polled[channel_id] == channel.updated_at:
                continue
            if running is not None:
                running.cancel()  # the channel changed (a rotated token...): poll with the new configuration
            poller = TelegramPoller(self.db, self.clock, self.providers, channel, self.process)
            self.pollers[channel_id] = self._spawn(poller.run(self._stop))
            self.polled[channel_id] = channel.updated_at

    async def register_webhook(self, channel: Channel) -> None:
        """setWebhook with the channel's URL and secret, once per process and whenever either changes."""
        try:
            secret = self.box.open(channel.credentials).get("secret_token", "")
            wanted = (channel.settings["webhook_url"], secret)
            if self.webhooks.get(channel.id) == wanted or not secret:
                return
            async with self.providers.open(channel) as client:
                assert isinstance(client, TelegramClient)
                await client.set_webhook(*wanted)
            self.webhooks[channel.id] = wanted
        except Exception as exc:  # noqa: BLE001 - retried at the next reconciliation
            log.warning("telegram setWebhook failed", channel_id=channel.id, error=str(exc))

    async def stop(self) -> None:
        self._stop.set()
        self.outbox.wakeup.set()
        for task in [*self._tasks, *self.processor.working()]:  # the backlog is stored: the next start has it
            task.cancel()
        await asyncio.gather(*self._tasks, *self.processor.working(), return_exceptions=True)
        self.pollers.clear()


def runtime_for(app: Any) -> MessagingRuntime:
    """The app's runtime, made on first use from the app's database, clock and settings."""
    runtime = getattr(app.state, "messaging", None)
    if runtime is None:
        runtime = MessagingRuntime(app.state.db, app.state.clock, app.state.settings, app.state)
        app.state.messaging = runtime
    return runtime
