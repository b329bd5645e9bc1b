"""Webhooks in: persist the raw delivery (deduplicated), answer, then process every item it carries.

The order is the promise: a delivery is stored before the provider hears 200, so a crash afterwards loses
nothing (unprocessed events are processed again at start); processing is idempotent (messages are unique
per channel by provider id), so a redelivery or a second pass changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.logging import get_logger
from teleplex.messaging import status as delivery
from teleplex.messaging.clients import Providers
from teleplex.messaging.models import Channel, InboundEvent, Message
from teleplex.messaging.providers import telegram, twilio_sms, whatsapp
from teleplex.messaging.providers.base import InboundMessage, ParsedDelivery, PayloadInvalid, StatusUpdate
from teleplex.messaging.schemas import ChannelKind

log = get_logger("teleplex.messaging.ingest")

MAX_EVENT_ATTEMPTS = 10
UNKNOWN_STATUS_PATIENCE = 3  # passes to wait for a status whose message we have not recorded yet
PROCESSING_SLOTS = 4  # deliveries processed at once; the rest wait in the backlog (they are stored already)
YIELD_FACTOR = 3.0  # while providers wait for answers, processing takes about 1 / (1 + this) of the time


class MessageSink(Protocol):
    """Where processed messages go. The default only stores them; the core sets its own on
    `app.state.message_sink` to open or append interactions. Every call runs inside the transaction that
    stores the message, so whatever the sink writes commits (or rolls back) with it, exactly once."""

    async def place(self, session: AsyncSession, channel: Channel,
                    items: Sequence[tuple[Message, InboundMessage]]) -> None:  # fmt: skip
        """Before the messages are written (they have no ids yet): what the sink sets on each, such as its
        `interaction_id`, is written with it, in the same INSERT. One call for a batch of this channel's
        messages (web chat writes them together), in the order they arrived."""
        ...

    async def received(self, session: AsyncSession, channel: Channel, message: Message, inbound: InboundMessage) -> None:
        """After the message is written (it has its id): a sink may now read it back, or reply."""
        ...

    async def status_changed(self, session: AsyncSession, channel: Channel, message: Message, update: StatusUpdate) -> None:
        ...


class StoreOnlySink:
    """The messages table is the whole effect until the core routes messages into interactions."""

    async def place(self, session: AsyncSession, channel: Channel,
                    items: Sequence[tuple[Message, InboundMessage]]) -> None:  # fmt: skip
        return None

    async def received(self, session: AsyncSession, channel: Channel, message: Message, inbound: InboundMessage) -> None:
        return None

    async def status_changed(self, session: AsyncSession, channel: Channel, message: Message, update: StatusUpdate) -> None:
        return None


def parse_event(kind: ChannelKind, source: str, body: bytes) -> ParsedDelivery:
    """The normalized content of a stored delivery; pure, so the edge can validate before storing."""
    if kind is ChannelKind.WHATSAPP:
        return whatsapp.parse(body)
    if kind is ChannelKind.TELEGRAM:
        return telegram.parse(body)
    if kind is ChannelKind.SMS_TWILIO:
        params = twilio_sms.form(body)
        return twilio_sms.parse_status(params) if source == "status" else twilio_sms.parse_inbound(params)
    raise PayloadInvalid(f"channel kind {kind} has no webhook")


class Processor:
    """Turns stored deliveries into message rows and status changes, handing each to the sink."""

    def __init__(
        self, db: Database, clock: Clock, providers: Providers, media_dir: Path,
        sink: Callable[[], MessageSink] = StoreOnlySink,
    ) -> None:  # fmt: skip
        self.db = db
        self.clock = clock
        self.providers = providers
        self.media_dir = media_dir
        self.sink = sink
        # A burst of webhooks is answered first and processed after: a few deliveries at a time, so
        # connections (and, on SQLite, turns at writing) stay free for the next acknowledgements.
        self._slots = asyncio.Semaphore(PROCESSING_SLOTS)
        self._backlog: deque[int] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self.pressed: Callable[[], bool] = lambda: False  # set by the runtime: are acknowledgements waiting?

    async def process(self, event_id: int) -> bool:
        """Process one event; True when it is done (now or before). Never raises: failures are recorded."""
        async with self._slots:
            return await self._process_recorded(event_id)

    def submit(self, event_ids: list[int]) -> None:
        """Process these newly stored events soon, in order, without holding up whoever stored them (the
        provider has its 200 already). The backlog is only memory: what a crash drops, `recover` finds."""
        self._backlog.extend(event_ids)
        while len(self._workers) < min(PROCESSING_SLOTS, len(self._backlog)):
            task = asyncio.create_task(self._work())
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    async def _work(self) -> None:
        """Providers resend what is not answered quickly (and Meta disables slow webhooks), while a customer
        waits a moment longer for processing unharmed: in a burst, processing gives way to answering."""
        while self._backlog:  # workers end when the backlog is empty: none idles
            started = time.monotonic()
            await self.process(self._backlog.popleft())
            if self.pressed():
                await asyncio.sleep(YIELD_FACTOR * len(self._workers) * (time.monotonic() - started))

    def working(self) -> list[asyncio.Task[None]]:
        return list(self._workers)

    async def drain(self) -> None:
        """Wait until the backlog is processed (tests, and shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    async def _process_recorded(self, event_id: int) -> bool:
        try:
            return await self._process(event_id)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong is recorded and retried
            log.exception("processing an inbound event failed", event_id=event_id)
            async with self.db.session() as session:
                await session.execute(
                    update(InboundEvent).where(InboundEvent.id == event_id, InboundEvent.processed_at.is_(None))
                    .values(attempts=InboundEvent.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
                )
            return False

    async def _process(self, event_id: int) -> bool:
        async with self.db.session() as session:
            event = await session.get(InboundEvent, event_id)
            if event is None or event.processed_at is not None:
                return True
            channel = await session.get(Channel, event.channel_id)
            assert channel is not None
            kind, source, body = ChannelKind(channel.kind), event.source, event.body
        try:
            parsed = parse_event(kind, source, body)
        except PayloadInvalid as exc:  # checked at the edge; only a stored body from an older version lands here
            await self._finish(event_id, f"unparseable: {exc}")
            return True
        media = await self._fetch_media(channel, parsed.messages)
        async with self.db.session() as session:
            event = await session.get(InboundEvent, event_id, with_for_update=True)
            if event is None or event.processed_at is not None:
                return True
            channel = await session.get(Channel, event.channel_id)
            assert channel is not None
            sink = self.sink()
            for inbound in parsed.messages:
                await self._store_message(session, channel, inbound, media.get(inbound.provider_message_id), sink)
            unknown = [st for st in parsed.statuses if not await self._apply_status(session, channel, st, sink)]
            event.attempts += 1  # read again under the row lock: a concurrent pass may have counted
            if unknown and event.attempts < UNKNOWN_STATUS_PATIENCE:
                # What could be applied is committed; the event stays pending for the rest (a second pass
                # changes nothing already done).
                event.last_error = f"status for unknown message {unknown[0].provider_message_id}; will retry"
                return False
            event.processed_at = self.clock.now()
            event.last_error = f"{len(unknown)} statuses for unknown messages ignored" if unknown else None
        return True

    async def _finish(self, event_id: int, note: str | None) -> None:
        async with self.db.session() as session:
            await session.execute(update(InboundEvent).where(InboundEvent.id == event_id)
                                  .values(processed_at=self.clock.now(), last_error=note))

    async def _store_message(
        self, session: AsyncSession, channel: Channel, inbound: InboundMessage, media: tuple[str, str | None] | None,
        sink: MessageSink,
    ) -> None:  # fmt: skip
        existing = (await session.execute(select(Message.id).where(
            Message.channel_id == channel.id, Message.provider_message_id == inbound.provider_message_id))).scalar()
        if existing is not None:
            return  # the same message in another delivery: already stored and handed over once
        data = _data(inbound)
        message = Message(
            channel_id=channel.id, direction="in", provider_message_id=inbound.provider_message_id,
            peer_kind=inbound.sender.kind.value, peer=inbound.sender.value, kind=inbound.kind.value,
            text=inbound.text, media_ref=inbound.media.ref if inbound.media else None,
            media_path=media[0] if media else None,
            media_mime=(media[1] if media and media[1] else None) or (inbound.media.mime if inbound.media else None),
            data=data or None, keyword=inbound.keyword.value if inbound.keyword else None,
            status=delivery.DeliveryStatus.RECEIVED.value, status_at=inbound.sent_at, created_at=self.clock.now(),
        )  # fmt: skip
        await sink.place(session, channel, [(message, inbound)])
        session.add(message)
        await session.flush()
        await sink.received(session, channel, message, inbound)

    async def _apply_status(self, session: AsyncSession, channel: Channel, st: StatusUpdate, sink: MessageSink) -> bool:
        message = (await session.execute(select(Message).where(
            Message.channel_id == channel.id, Message.provider_message_id == st.provider_message_id,
            Message.direction == "out"))).scalar()
        if message is None:
            return False
        incoming = delivery.normalise(st.status)
        if incoming is None:
            return True  # a word we do not track: nothing to change
        merged = delivery.merge(message.status, incoming)
        if merged.value != message.status:
            message.status = merged.value
            message.status_at = st.at or self.clock.now()
            if merged is delivery.DeliveryStatus.FAILED:
                message.error_code, message.error_message = st.error_code, st.error_message
            else:  # a later proof of arrival outranks an earlier failure report
                message.error_code = message.error_message = None
            await sink.status_changed(session, channel, message, st)
        return True

    async def _fetch_media(self, channel: Channel, messages: tuple[InboundMessage, ...]) -> dict[str, tuple[str, str | None]]:
        """Download media files outside any transaction; a failure leaves the reference for a later fetch."""
        out: dict[str, tuple[str, str | None]] = {}
        for inbound in messages:
            if inbound.media is None:
                continue
            async with self.db.session() as session:
                known = (await session.execute(select(Message.id).where(
                    Message.channel_id == channel.id, Message.provider_message_id == inbound.provider_message_id))).scalar()
            if known is not None:
                continue
            try:
                content, mime = await self.providers.download(channel, inbound.media.ref)
            except Exception as exc:  # noqa: BLE001 - the message matters more than its attachment
                log.warning("media download failed", channel_id=channel.id, ref=inbound.media.ref[:100], error=str(exc))
                continue
            mime = (mime or inbound.media.mime or "application/octet-stream").split(";")[0].strip()
            ext = mimetypes.guess_extension(mime) or ".bin"
            name = hashlib.sha256(inbound.provider_message_id.encode()).hexdigest()[:32] + ext
            folder = self.media_dir / str(channel.id)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
            out[inbound.provider_message_id] = (f"{channel.id}/{name}", mime)
        return out

    async def recover(self, limit: int = 500) -> int:
        """Process what a crash, a failure or a burst left unprocessed, batch after batch while whole batches
        get done; returns how many are now done."""
        done, after = 0, 0
        while True:
            async with self.db.session() as session:
                ids = (await session.execute(
                    select(InboundEvent.id).where(InboundEvent.processed_at.is_(None), InboundEvent.id > after,
                                                  InboundEvent.attempts < MAX_EVENT_ATTEMPTS)
                    .order_by(InboundEvent.id).limit(limit))).scalars().all()
            for event_id in ids:
                done += await self.process(event_id)
            if len(ids) < limit:
                return done
            after = ids[-1]  # events that stay pending (e.g. statuses waiting for their message) wait a pass


def _data(inbound: InboundMessage) -> dict[str, object]:
    data: dict[str, object] = {}
    if inbound.profile_name:
        data["profile_name"] = inbound.profile_name
    if len(inbound.identities) > 1:
        data["identities"] = [{"kind": i.kind.value, "value": i.value} for i in inbound.identities]
    if inbound.edited:
        data["edited"] = True
    if inbound.reply_to:
        data["reply_to"] = inbound.reply_to
    if inbound.location:
        data["location"] = {k: v for k, v in inbound.location.__dict__.items() if v is not None}
    if inbound.contacts:
        data["contacts"] = [{k: v for k, v in c.__dict__.items() if v is not None} for c in inbound.contacts]
    if inbound.media and inbound.media.filename:
        data["filename"] = inbound.media.filename
    if inbound.extra:
        data["extra"] = {k: v for k, v in inbound.extra.items() if v not in (None, [], {})}
    return data


__all__ = ["MessageSink", "Processor", "StoreOnlySink", "parse_event"]
