"""Tables of the contact center's configuration: queues, agents, pause reasons, dispositions, business hours."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teleplex.core.db import Base, UTCDateTime


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BusinessHours(Timestamps, Base):
    """A weekly schedule in a time zone, with holidays; a queue outside it gives callers the closed treatment."""

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"day": "mon", "open": "09:00", "close": "17:00"}]
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"date": "2026-12-25", "name": "..."}]


class PauseReason(Timestamps, Base):
    __tablename__ = "pause_reasons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    max_duration_seconds: Mapped[int | None] = mapped_column(Integer)


class Disposition(Timestamps, Base):
    """How an interaction ended, as the agent classifies it; reports group by `category`."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))


class Queue(Timestamps, Base):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    channels: Mapped[list[str]] = mapped_column(JSON)
    strategy: Mapped[str] = mapped_column(String(32))
    required_skills: Mapped[dict[str, int]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    service_level_seconds: Mapped[int] = mapped_column(Integer)
    max_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    overflow: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"kind": "queue", "queue_id": 2} ...
    wrapup_seconds: Mapped[int] = mapped_column(Integer)
    ring_timeout_seconds: Mapped[int] = mapped_column(Integer)
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    moh_class: Mapped[str] = mapped_column(String(64), default="default")
    announcements: Mapped[dict[str, Any]] = mapped_column(JSON)
    business_hours_id: Mapped[int | None] = mapped_column(
        ForeignKey("business_hours.id", ondelete="RESTRICT"), index=True
    )
    closed_treatment: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"kind": "hangup"|"voicemail", ...}
    chat_auto_assign: Mapped[bool] = mapped_column(Boolean, default=False)  # chats assigned without an accept
    chats_during_call: Mapped[bool] = mapped_column(Boolean, default=False)  # offer chats to agents on a call
    crm_url_template: Mapped[str | None] = mapped_column(String(2000))  # the screen-pop (center/screen_pop.py)
    screen_pop_mode: Mapped[str] = mapped_column(String(8), default="tab")  # tab | embed
    # what each call needs before its wrap-up may end: "disposition", "notes" (center/wrapup_rules.py)
    wrapup_requires: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["disposition"])

    did_links: Mapped[list[QueueDid]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="QueueDid.did"
    )

    disposition_links: Mapped[list[QueueDisposition]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="QueueDisposition.disposition_id"
    )

    @property
    def disposition_ids(self) -> list[int]:
        return [d.disposition_id for d in self.disposition_links]

    @property
    def dids(self) -> list[str]:
        return [d.did for d in self.did_links]


class QueueDid(Base):
    """A dialed number that leads into a queue; each number leads to one queue only."""

    __tablename__ = "queue_dids"

    did: Mapped[str] = mapped_column(String(40), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), index=True)


class QueueDisposition(Base):
    __tablename__ = "queue_dispositions"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    disposition_id: Mapped[int] = mapped_column(
        ForeignKey("dispositions.id", ondelete="RESTRICT"), primary_key=True
    )


class Agent(Timestamps, Base):
    """The agent profile of a user: how to reach them, what they know, how much they can handle at once."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    device: Mapped[str | None] = mapped_column(String(100))  # "PJSIP/1001" or "browser"
    answer_mode: Mapped[str] = mapped_column(String(16), default="device")  # device | console
    skills: Mapped[dict[str, int]] = mapped_column(JSON)
    capacity: Mapped[dict[str, int]] = mapped_column(JSON)

    memberships: Mapped[list[AgentQueue]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AgentQueue.queue_id"
    )


class AgentQueue(Base):
    """An agent's membership of a queue; a higher penalty is offered work only when lower ones are busy."""

    __tablename__ = "agent_queues"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="RESTRICT"), primary_key=True)
    penalty: Mapped[int] = mapped_column(Integer, default=0)
