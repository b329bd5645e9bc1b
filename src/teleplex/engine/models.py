"""What the engine must remember across its own restart: who is logged in, on which device, paused or not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from teleplex.core.db import Base, UTCDateTime


class AgentSession(Base):
    """An agent's login; the row exists while they are logged in."""

    __tablename__ = "agent_sessions"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    device: Mapped[str | None] = mapped_column(String(100))
    logged_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(100))
