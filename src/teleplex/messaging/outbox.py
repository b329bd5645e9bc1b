"""Messages out: persisted first, then sent by a worker with backoff, rate limits and a dead-letter state.

Exactly-once as far as the providers allow: a row is claimed by an atomic UPDATE (only one worker wins it),
and the provider's message id is stored in the same transaction that marks it sent. What remains is the
instant between the provider accepting and that commit: if the process dies there (or the answer is lost
to a read timeout), nothing proves the message left. A row found still "sending" after its lease is
therefore dead-lettered as `unknown_outcome` for a person to check, never re-sent blindly; a read timeout
is retried (the providers offer no idempotency key), which can duplicate a message the provider did accept.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.errors import InvalidInput
from teleplex.core.logging import get_logger
from teleplex.messaging import status as delivery
from teleplex.messaging.clients import SENDABLE, Providers
from teleplex.messaging.errors import ChannelDisabled, OptedOut, WindowClosed
from teleplex.messaging.keywords import Keyword
from teleplex.messaging.models import Channel, Message, OutboxItem
from teleplex.messaging.providers import telegram, whatsapp
from teleplex.messaging.providers.base import (
    IdentityKind,
    MessageKind,
    OutgoingContent,
    PermanentSendError,
    RateLimited,
    RetryableSendError,
    SendError,
    StatusUpdate,
)
from teleplex.messaging.retry import RetryPolicy, TokenBucket
from teleplex.messaging.schemas import ChannelKind
from teleplex.messaging.service import get_channel

log = get_logger("teleplex.messaging.outbox")

LEASE_SECONDS = 300  # a "sending" row older than this belongs to a worker that died
TELEGRAM_PER_CHAT_RATE = 1.0
DEFAULT_RATES = {ChannelKind.WHATSAPP: 50.0, ChannelKind.TELEGRAM: 25.0, ChannelKind.SMS_TWILIO: 10.0}


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for its first attempt
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"  # the provider accepted it; delivery reports continue on the message
    FAILED = "failed"  # an attempt failed; another is due at next_attempt_at
    DEAD = "dead"  # given up: permanent error, attempts exhausted, or unknown outcome


# The allowed moves, in one table.
MOVES: dict[OutboxState, frozenset[OutboxState]] = {
    OutboxState.PENDING: frozenset({OutboxState.SENDING}),
    OutboxState.FAILED: frozenset({OutboxState.SENDING}),
    OutboxState.SENDING: frozenset({OutboxState.SENT, OutboxState.FAILED, OutboxState.DEAD}),
    OutboxState.SENT: frozenset(),
    OutboxState.DEAD: frozenset(),
}
CLAIMABLE = (OutboxState.PENDING.value, OutboxState.FAILED.value)

PEER_KIND = {ChannelKind.WHATSAPP: IdentityKind.WHATSAPP, ChannelKind.TELEGRAM: IdentityKind.TELEGRAM,
             ChannelKind.SMS_TWILIO: IdentityKind.PHONE, ChannelKind.WEBCHAT: IdentityKind.VISITOR}


async def reply_peer_kind(session: AsyncSession, channel_id: int, kind: ChannelKind, to_identity: str) -> IdentityKind:
    """A reply is stored under the same identity kind as the customer's messages to it, so a profile's
    timeline and search see one peer: a verified web-chat visitor writes as `visitor_verified`."""
    if kind is ChannelKind.WHATSAPP:
        return IdentityKind.WHATSAPP_USER if "." in to_identity else IdentityKind.WHATSAPP
    if kind is ChannelKind.WEBCHAT:
        stmt = (select(Message.peer_kind).where(Message.channel_id == channel_id, Message.direction == "in",
                                                Message.peer == to_identity)
                .order_by(Message.id.desc()).limit(1))
        found = (await session.execute(stmt)).scalar()
        if found is not None:
            return IdentityKind(found)
    return PEER_KIND[kind]


async def last_inbound_at(session: AsyncSession, channel_id: int, peer: str) -> Any:
    stmt = select(func.max(Message.created_at)).where(
        Message.channel_id == channel_id, Message.direction == "in", Message.peer == peer
    )
    return (await session.execute(stmt)).scalar()


async def opted_out(session: AsyncSession, channel_id: int, peer: str) -> bool:
    """The customer's last STOP/START on this channel decides."""
    stmt = (select(Message.keyword).where(Message.channel_id == channel_id, Message.direction == "in",
                                          Message.peer == peer, Message.keyword.in_([Keyword.STOP, Keyword.START]))
            .order_by(Message.created_at.desc(), Message.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar() == Keyword.STOP.value


async def whatsapp_window(session: AsyncSession, clock: Clock, channel_id: int, peer: str) -> dict[str, Any]:
    """Whether free-form replies are allowed now, and until when: what the console shows beside a chat."""
    last = await last_inbound_at(session, channel_id, peer)
    return {"open": whatsapp.window_open(last, clock.now()), "closes_at": whatsapp.window_closes_at(last),
            "last_inbound_at": last}


async def enqueue_outgoing(
    session: AsyncSession, clock: Clock, channel_id: int, to_identity: str, content: OutgoingContent,
    interaction_id: int | None = None,
) -> Message:
    """Persist an outgoing message and its outbox row in the caller's transaction; the worker sends it.

    Refuses, with a typed error the console can act on, what cannot succeed: a disabled channel, a kind the
    channel cannot carry, WhatsApp free-form text outside the 24-hour window (`WindowClosed`: offer a
    template), SMS to a customer who sent STOP (`OptedOut`)."""
    channel = await get_channel(session, channel_id)
    kind = ChannelKind(channel.kind)
    if not channel.enabled:
        raise ChannelDisabled(f"channel {channel.id} is disabled")
    if content.kind not in SENDABLE[kind]:
        raise InvalidInput(f"kind: a {kind} channel cannot send '{content.kind}'",
                           {"field": "kind", "channel_kind": kind, "content_kind": content.kind},
                           reason="kind_not_sendable")  # fmt: skip
    if content.kind is MessageKind.TEXT and not content.text:
        raise InvalidInput("text: required for a text message", {"field": "text"},
                           reason="required_for_message")  # fmt: skip
    if content.kind is MessageKind.TEMPLATE and not content.template_name:
        raise InvalidInput("template_name: required for a template", {"field": "template_name"},
                           reason="required_for_message")  # fmt: skip
    if content.kind in (MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO, MessageKind.DOCUMENT) \
            and not content.media_url:
        raise InvalidInput("media_url: required for a media message", {"field": "media_url"},
                           reason="required_for_message")  # fmt: skip
    now = clock.now()
    if kind is ChannelKind.TELEGRAM and content.text and len(content.text) > telegram.MAX_TEXT:
        raise InvalidInput(f"text: Telegram takes at most {telegram.MAX_TEXT} characters",
                           {"field": "text", "max_length": telegram.MAX_TEXT},
                           reason="telegram_text_too_long")  # fmt: skip
    if kind is ChannelKind.WHATSAPP and content.kind is not MessageKind.TEMPLATE:
        last = await last_inbound_at(session, channel.id, to_identity)
        if not whatsapp.window_open(last, now):
            raise WindowClosed(
                "the 24-hour WhatsApp window is closed: only an approved template can be sent",
                {"last_inbound_at": last.isoformat() if last else None},
            )
    if kind is ChannelKind.SMS_TWILIO and await opted_out(session, channel.id, to_identity):
        raise OptedOut(f"{to_identity} replied STOP on this channel; they must send START first")
    peer_kind = await reply_peer_kind(session, channel.id, kind, to_identity)
    message = Message(
        channel_id=channel.id, interaction_id=interaction_id, direction="out", peer_kind=peer_kind.value,
        peer=to_identity, kind=content.kind.value, text=content.text, media_ref=content.media_url,
        data={"content": content.to_json()}, status=delivery.DeliveryStatus.QUEUED.value, status_at=now, created_at=now,
    )  # fmt: skip
    session.add(message)
    await session.flush()
    session.add(OutboxItem(message_id=message.id, channel_id=channel.id, state=OutboxState.PENDING.value, attempts=0,
                           next_attempt_at=now, created_at=now, updated_at=now))
    await session.flush()
    return message


class OutboxWorker:
    """Sends due outbox rows. `run_once` is one pass (tests drive it); `run` loops until stopped."""

    def __init__(
        self, db: Database, clock: Clock, providers: Providers, policy: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random, lease_seconds: float = LEASE_SECONDS,
        sink: Callable[[], Any] | None = None,
    ) -> None:  # fmt: skip
        self.db = db
        self.sink = sink  # the MessageSink getter: told when a message becomes sent or failed here
        self.clock = clock
        self.providers = providers
        self.policy = policy or RetryPolicy()
        self.rand = rand
        self.lease = timedelta(seconds=lease_seconds)
        self.buckets: dict[int, TokenBucket] = {}
        self.chats: dict[tuple[int, str], TokenBucket] = {}
        self.wakeup = asyncio.Event()

    def bucket(self, channel: Channel) -> TokenBucket:
        rate = float((channel.settings or {}).get("rate_per_second") or DEFAULT_RATES.get(ChannelKind(channel.kind), 10.0))
        bucket = self.buckets.get(channel.id)
        if bucket is None or bucket.rate != rate:
            bucket = self.buckets[channel.id] = TokenBucket(rate=rate, burst=max(1.0, rate))
        return bucket

    def chat_bucket(self, channel: Channel, peer: str) -> TokenBucket | None:
        """Telegram also limits each chat to about one message a second."""
        if channel.kind != ChannelKind.TELEGRAM.value:
            return None
        if len(self.chats) > 10_000:  # forget idle chats; a full bucket is the same as no bucket
            self.chats = {k: b for k, b in self.chats.items() if b.wait_time(self.clock.monotonic()) > 0}
        return self.chats.setdefault((channel.id, peer), TokenBucket(rate=TELEGRAM_PER_CHAT_RATE, burst=1))

    async def run_once(self, limit: int = 100) -> int:
        """Attempt every due row the rate limits allow; returns how many attempts were made."""
        now = self.clock.now()
        async with self.db.session() as session:
            rows = (await session.execute(
                select(OutboxItem.id, Message.peer, Channel).join(Channel, Channel.id == OutboxItem.channel_id)
                .join(Message, Message.id == OutboxItem.message_id)
                .where(OutboxItem.state.in_(CLAIMABLE), OutboxItem.next_attempt_at <= now, Channel.enabled.is_(True))
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id).limit(limit))).all()
        attempted = 0
        for item_id, peer, channel in rows:
            now_mono = self.clock.monotonic()
            chat = self.chat_bucket(channel, peer)
            if chat is not None and chat.wait_time(now_mono) > 0:
                continue  # this chat had its message this second (Telegram's per-chat limit)
            if not self.bucket(channel).take(now_mono):
                continue  # this channel is at its rate (or told to wait): the row stays due for the next pass
            if chat is not None:
                chat.take(now_mono)
            if await self._claim(item_id):
                attempted += 1
                await self._attempt(item_id, channel)
        return attempted

    async def _claim(self, item_id: int) -> bool:
        """Only one worker wins a row: the UPDATE succeeds for exactly one of them."""
        now = self.clock.now()
        async with self.db.session() as session:
            result = await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.state.in_(CLAIMABLE), OutboxItem.next_attempt_at <= now)
                .values(state=OutboxState.SENDING.value, claimed_at=now, attempts=OutboxItem.attempts + 1,
                        updated_at=now)
            )
            return result.rowcount == 1

    async def _attempt(self, item_id: int, channel: Channel) -> None:
        async with self.db.session() as session:
            item = await session.get(OutboxItem, item_id)
            message = await session.get(Message, item.message_id) if item else None
            if item is None or message is None:
                return
            to, content, attempts = message.peer, OutgoingContent.from_json((message.data or {})["content"]), item.attempts
        try:
            async with self.providers.open(channel) as client:
                provider_id = await client.send(to, content)
        except SendError as exc:
            await self._failed(item_id, channel, attempts, exc)
            return
        except Exception as exc:  # noqa: BLE001 - a bug or unreadable credentials: retried, then dead-lettered
            log.exception("sending failed unexpectedly", outbox_id=item_id)
            await self._failed(item_id, channel, attempts, RetryableSendError(f"{type(exc).__name__}: {exc}", "internal"))
            return
        now = self.clock.now()
        async with self.db.session() as session:  # the provider's id and "sent" commit together
            item = await session.get(OutboxItem, item_id)
            message = await session.get(Message, item.message_id)
            item.state, item.last_error, item.updated_at = OutboxState.SENT.value, None, now
            message.provider_message_id = provider_id
            merged = delivery.merge(message.status, delivery.DeliveryStatus.SENT)
            if merged.value != message.status:
                message.status, message.status_at = merged.value, now
                await self._report(session, channel, message)

    async def _failed(self, item_id: int, channel: Channel, attempts: int, exc: SendError) -> None:
        now = self.clock.now()
        error = f"{exc.code}: {exc.message}" if exc.code else exc.message
        async with self.db.session() as session:
            item = await session.get(OutboxItem, item_id)
            message = await session.get(Message, item.message_id)
            item.last_error, item.updated_at = error[:2000], now
            if isinstance(exc, RateLimited):
                # The whole channel waits; this attempt does not count against the message.
                wait = exc.retry_after if exc.retry_after is not None else self.policy.delay(1, self.rand)
                self.bucket(channel).block(self.clock.monotonic(), wait)
                item.state, item.attempts = OutboxState.FAILED.value, max(0, attempts - 1)
                item.next_attempt_at = now + timedelta(seconds=wait)
            elif isinstance(exc, RetryableSendError) and not self.policy.exhausted(attempts):
                item.state = OutboxState.FAILED.value
                item.next_attempt_at = now + timedelta(seconds=self.policy.next_delay(attempts, self.rand, exc.retry_after))
            else:
                item.state = OutboxState.DEAD.value
                message.status, message.status_at = delivery.DeliveryStatus.FAILED.value, now
                message.error_code = exc.code
                message.error_message = exc.message[:2000] if isinstance(exc, PermanentSendError) \
                    else f"gave up after {attempts} attempts: {exc.message}"[:2000]
                await self._report(session, channel, message)
        log.info("send attempt failed", outbox_id=item_id, error=error[:200], retryable=exc.retryable)

    async def recover_stale(self) -> int:
        """Rows left "sending" by a worker that died: their outcome is unknown, so they are dead-lettered
        for a person to check instead of being sent a second time."""
        now = self.clock.now()
        async with self.db.session() as session:
            stale = (await session.execute(select(OutboxItem).where(
                OutboxItem.state == OutboxState.SENDING.value, OutboxItem.claimed_at < now - self.lease))).scalars().all()
            for item in stale:
                message = await session.get(Message, item.message_id)
                item.state, item.updated_at = OutboxState.DEAD.value, now
                item.last_error = "unknown_outcome: the sender stopped during the attempt; check before resending"
                if message is not None:
                    message.status, message.status_at = delivery.DeliveryStatus.FAILED.value, now
                    message.error_code, message.error_message = "unknown_outcome", item.last_error
                    channel = await session.get(Channel, item.channel_id)
                    if channel is not None:
                        await self._report(session, channel, message)
            return len(stale)

    async def _report(self, session: AsyncSession, channel: Channel, message: Message) -> None:
        """Hand a status this worker set (sent, failed) to the sink, in the transaction that stores it, as the
        providers' delivery reports are: the agent sees every step of every channel the same way."""
        if self.sink is None:
            return
        update = StatusUpdate(
            provider_message_id=message.provider_message_id or f"outbox:{message.id}", status=message.status,
            at=message.status_at, recipient=message.peer, error_code=message.error_code,
            error_message=message.error_message)  # fmt: skip
        try:
            await self.sink().status_changed(session, channel, message, update)
        except Exception:  # noqa: BLE001 - the provider has the message: its "sent" must commit whatever the sink does
            log.exception("the sink failed on an outbox status", message_id=message.id)

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.recover_stale()
                await self.run_once()
            except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup
                log.exception("outbox pass failed")
            self.wakeup.clear()
            try:
                await asyncio.wait_for(self.wakeup.wait(), idle_seconds)
            except TimeoutError:
                pass
