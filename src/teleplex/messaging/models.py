"""Tables of the digital channels: channels, raw inbound events, messages both ways, and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teleplex.core.db import Base, UTCDateTime


class Channel(Base):
    """One provider account: a WhatsApp number, a Telegram bot, a Twilio sender, a web chat widget."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # whatsapp | telegram | sms_twilio | webchat
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    credentials: Mapped[str] = mapped_column(Text)  # Fernet token of a JSON object; never leaves in clear
    credential_names: Mapped[list[str]] = mapped_column(JSON)  # which credentials are set, for the API
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)  # public, per-kind settings
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundEvent(Base):
    """A webhook delivery (or polled update) exactly as received, kept until processed: the at-least-once
    inbox. The provider's id (or the body's hash) is unique per channel, so a redelivery stores nothing."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("channel_id", "provider_event_id", name="uq_inbound_events_channel_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # message | status (Twilio's two callbacks) | update | poll
    provider_event_id: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class Message(Base):
    """One message in either direction; inbound ones are unique per channel by the provider's id."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("channel_id", "provider_message_id", name="uq_messages_channel_provider_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"), index=True)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    peer_kind: Mapped[str] = mapped_column(String(32))  # the customer's identity: sender (in) or recipient (out)
    peer: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    media_ref: Mapped[str | None] = mapped_column(String(2000))
    media_path: Mapped[str | None] = mapped_column(String(500))
    media_mime: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # location, shared contacts, replies, template...
    keyword: Mapped[str | None] = mapped_column(String(8))  # SMS stop | start | help
    status: Mapped[str] = mapped_column(String(16))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxItem(Base):
    """The sending of one outgoing message: claimed atomically, retried with backoff, dead-lettered."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # see outbox.OutboxState
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
