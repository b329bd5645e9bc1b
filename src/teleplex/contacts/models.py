"""Customer profiles as an identity graph: one contact, many identities (phone, WhatsApp, Telegram, visitor),
plus what people add to a profile (custom fields, tags, notes) and the records that make merges reversible."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teleplex.core.db import Base, UTCDateTime


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Added with profiles. No foreign key on purpose: adding one would make SQLite copy the table, and
    # dropping the old copy would fire ON DELETE SET NULL on every interaction pointing at a contact.
    merged_into_id: Mapped[int | None] = mapped_column(Integer, index=True)  # set while merged into another
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a tombstone after a privacy erasure

    identities: Mapped[list[ContactIdentity]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContactIdentity.id"
    )


class ContactIdentity(Base):
    """One way to reach or recognise a contact; phone numbers are stored in E.164 so channels meet."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_contact_identities_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # see identities.IdentityKind
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(32))  # how we learnt it: voice, whatsapp, agent, merge...


class ContactFieldDefinition(Base):
    """A custom field an administrator defines once; every contact's value is checked against it."""

    __tablename__ = "contact_field_definitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # text | number | date | choice
    choices: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactFieldValue(Base):
    __tablename__ = "contact_field_values"
    __table_args__ = (UniqueConstraint("contact_id", "field_id", name="uq_contact_field_values_contact_field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("contact_field_definitions.id", ondelete="RESTRICT"), index=True)
    value: Mapped[Any] = mapped_column(JSON)


class ContactTag(Base):
    __tablename__ = "contact_tags"
    __table_args__ = (UniqueConstraint("contact_id", "tag", name="uq_contact_tags_contact_tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(40), index=True)


class ContactNote(Base):
    __tablename__ = "contact_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactMerge(Base):
    """One merge of `source` into `target`, with a snapshot of everything that moved, so it can be undone."""

    __tablename__ = "contact_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(200))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    merged_by: Mapped[str] = mapped_column(String(100))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(100))


class ContactSuggestion(Base):
    """A link we saw but would not make on our own (untrusted data, or two profiles already apart): a
    person decides, usually by merging."""

    __tablename__ = "contact_suggestions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    other_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # untrusted_phone | phone_owned_by_other
    kind: Mapped[str] = mapped_column(String(32))  # the identity that arrived
    value: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))  # the phone it claimed (E.164)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
