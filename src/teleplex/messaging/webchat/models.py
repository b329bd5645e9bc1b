"""Tables of web chat: a widget per webchat channel, its visitors, and each visitor's event stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teleplex.core.db import Base, UTCDateTime


class WebchatWidget(Base):
    """The public face of a webchat channel: its key for `data-channel`, the sites allowed to embed it, and
    the key that signs visitor session tokens (sealed like channel credentials)."""

    __tablename__ = "webchat_widgets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), unique=True)
    public_key: Mapped[str] = mapped_column(String(40), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(100))
    prechat: Mapped[bool] = mapped_column(Boolean, default=True)  # ask name and email before chatting
    signing_key: Mapped[str] = mapped_column(Text)  # Fernet token of {"key": ...}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebchatVisitor(Base):
    """A person chatting through a widget. A verified identifier is unique per widget, so every browser of
    the same customer shares one visitor and one history."""

    __tablename__ = "webchat_visitors"
    __table_args__ = (UniqueConstraint("widget_id", "identifier", name="uq_webchat_visitors_widget_identifier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    widget_id: Mapped[int] = mapped_column(ForeignKey("webchat_widgets.id", ondelete="CASCADE"), index=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    key_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the visitor key kept by the browser
    identifier: Mapped[str | None] = mapped_column(String(200))  # set only when the site's HMAC checked
    name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)  # the stream's counter, bumped under a row lock
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebchatEvent(Base):
    """One entry of a visitor's stream; `seq` is what the widget resumes after. Numbered per visitor under
    the visitor's row lock, so numbers follow commit order and `seq > last seen` never skips one."""

    __tablename__ = "webchat_events"
    __table_args__ = (UniqueConstraint("visitor_id", "seq", name="uq_webchat_events_visitor_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("webchat_visitors.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # message
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
