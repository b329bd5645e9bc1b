"""Callbacks: a promise to call a customer back, from an inbound caller's request or an agent's schedule.

The campaigns capability dials them; voice only records the inbound requests ("press 1 to be called back").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from teleplex.core.db import Base, UTCDateTime


class Callback(Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40))  # E.164 when it could be normalised, else as received
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="RESTRICT"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))  # personal
    source: Mapped[str] = mapped_column(String(24))  # inbound_overflow | agent
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | dialing | done | cancelled
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: as soon as possible
