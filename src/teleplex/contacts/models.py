"""Customer profiles as an identity graph: one contact, many identities (phone, WhatsApp, Telegram, visitor)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teleplex.core.db import Base, UTCDateTime


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    identities: Mapped[list[ContactIdentity]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContactIdentity.id"
    )


class ContactIdentity(Base):
    """One way to reach or recognise a contact; phone numbers are stored in E.164 so channels meet."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_identities_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # phone | whatsapp | telegram | visitor | email
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
