"""The interaction: one customer contact on any channel, with its times, outcome and timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from teleplex.core.db import Base, UTCDateTime


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # voice | webchat | whatsapp | telegram | sms
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    state: Mapped[str] = mapped_column(String(16), index=True)  # see interactions/states.py
    outcome: Mapped[str | None] = mapped_column(String(24))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="RESTRICT"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="RESTRICT"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    did: Mapped[str | None] = mapped_column(String(40))
    caller_id: Mapped[str | None] = mapped_column(String(64))
    caller_name: Mapped[str | None] = mapped_column(String(100))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_seconds: Mapped[float | None] = mapped_column()
    talk_seconds: Mapped[float | None] = mapped_column()
    hold_seconds: Mapped[float] = mapped_column(default=0.0)
    wrapup_seconds: Mapped[float | None] = mapped_column()
    hold_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposition_id: Mapped[int | None] = mapped_column(ForeignKey("dispositions.id", ondelete="RESTRICT"))
    notes: Mapped[str | None] = mapped_column(Text)
    recording_path: Mapped[str | None] = mapped_column(String(300))
    media_ref: Mapped[str | None] = mapped_column(String(100), unique=True)  # the Asterisk channel id, for voice
    bridge_ref: Mapped[str | None] = mapped_column(String(100))
    # conversations (text channels): the messaging channel and the customer's address on it
    channel_ref: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    peer: Mapped[str | None] = mapped_column(String(200))
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the customer's latest message
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the agent's first reply

    __table_args__ = (Index("ix_interactions_conversation", "channel_ref", "peer"),)


class InteractionEvent(Base):
    """One step in an interaction's timeline: queued, offered to an agent, answered, held, transferred, ended."""

    __tablename__ = "interaction_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AgentStateChange(Base):
    """Every presence change of an agent, with its time: the raw material of agent reports."""

    __tablename__ = "agent_state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(100))
    interaction_id: Mapped[int | None] = mapped_column(Integer)


class CannedResponse(Base):
    """A ready-made reply an agent inserts with its shortcut; `{contact.name}`-style placeholders are filled in."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
