"""Outbound campaigns: campaigns, their lists and leads, attempts, do-not-call entries and callbacks.

Callbacks are a promise to call a customer back, from an inbound caller's request ("press 1", stored by
voice with source "inbound_overflow") or an agent's schedule; the campaigns capability dials them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teleplex.core.db import Base, UTCDateTime


class Campaign(Base):
    """Every setting the dialer needs; see docs/campaigns.md for what each means and its limits."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(16), index=True)  # states.CampaignState
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="RESTRICT"), index=True)
    dial_mode: Mapped[str] = mapped_column(String(16))  # states.DialMode
    power_ratio: Mapped[float] = mapped_column(Float)
    target_abandon_percent: Mapped[float] = mapped_column(Float)
    calling_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    allow_outside_legal_hours: Mapped[bool] = mapped_column(Boolean)
    default_timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    caller_id: Mapped[str | None] = mapped_column(String(40))
    trunk: Mapped[str | None] = mapped_column(String(200))  # endpoint template with {number}
    max_channels: Mapped[int] = mapped_column(Integer)
    ring_seconds: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    retry_rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    amd_enabled: Mapped[bool] = mapped_column(Boolean)
    machine_action: Mapped[str] = mapped_column(String(16))  # hangup | leave_message
    machine_message: Mapped[str | None] = mapped_column(String(100))
    abandon_message: Mapped[str | None] = mapped_column(String(100))
    no_redial_after_abandon_hours: Mapped[int] = mapped_column(Integer)
    no_redial_after_machine_hours: Mapped[int] = mapped_column(Integer)
    callback_grace_minutes: Mapped[int] = mapped_column(Integer)
    recording: Mapped[bool] = mapped_column(Boolean)
    script: Mapped[str | None] = mapped_column(Text)
    form_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    crm_url_template: Mapped[str | None] = mapped_column(String(2000))  # the screen-pop (center/screen_pop.py)
    screen_pop_mode: Mapped[str] = mapped_column(String(8), default="tab")  # tab | embed
    # what each call needs before its wrap-up may end: "disposition", "notes", "form" (center/wrapup_rules.py)
    wrapup_requires: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["disposition"])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agent_links: Mapped[list[CampaignAgent]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CampaignAgent.agent_id"
    )
    disposition_links: Mapped[list[CampaignDisposition]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CampaignDisposition.disposition_id"
    )

    @property
    def agent_ids(self) -> list[int]:
        return [a.agent_id for a in self.agent_links]

    @property
    def disposition_ids(self) -> list[int]:
        return [d.disposition_id for d in self.disposition_links]


class CampaignAgent(Base):
    """An agent named on a campaign explicitly (instead of, or besides, its queue's members)."""

    __tablename__ = "campaign_agents"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="RESTRICT"), primary_key=True)


class CampaignDisposition(Base):
    __tablename__ = "campaign_dispositions"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    disposition_id: Mapped[int] = mapped_column(
        ForeignKey("dispositions.id", ondelete="RESTRICT"), primary_key=True
    )


class CampaignList(Base):
    """A batch of leads, imported together and switched on or off together."""

    __tablename__ = "campaign_lists"
    __table_args__ = (UniqueConstraint("campaign_id", "name", name="uq_campaign_lists_campaign_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lead(Base):
    """One person to call; unique per list by E.164 phone, so importing a file twice adds nobody twice."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("list_id", "phone", name="uq_leads_list_id_phone"),
        Index("ix_leads_campaign_id_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("campaign_lists.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))
    alt_phones: Mapped[list[str]] = mapped_column(JSON)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    # Candidate IANA zones, space-separated ("" unknown); a +1 toll-free number has 42 (about 730 characters).
    timezones: Mapped[str] = mapped_column(String(1000))
    attributes: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # states.LeadStatus
    attempts: Mapped[int] = mapped_column(Integer)
    outcome_counts: Mapped[dict[str, int]] = mapped_column(JSON)
    last_outcome: Mapped[str | None] = mapped_column(String(24))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_machine_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def timezone_list(self) -> list[str]:
        return self.timezones.split()


class Attempt(Base):
    """One dial of a lead or of a callback (a callback without a lead has none); written as the call goes."""

    __tablename__ = "campaign_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="RESTRICT"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id", ondelete="SET NULL"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    dialed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ringing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))  # rules.Outcome
    amd_result: Mapped[str | None] = mapped_column(String(24))  # HUMAN | MACHINE | NOTSURE | HANGUP
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    disposition_id: Mapped[int | None] = mapped_column(ForeignKey("dispositions.id", ondelete="SET NULL"))
    recording_path: Mapped[str | None] = mapped_column(String(300))
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    form_answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the campaign form, as the agent filled it


class DncEntry(Base):
    """A number not to call: globally (campaign_id NULL) or for one campaign."""

    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("number", "scope", name="uq_dnc_entries_number_scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(24))  # dnc.scope_key(campaign_id)
    source: Mapped[str] = mapped_column(String(24))  # manual | import | sms_stop | disposition
    note: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
    # Added with campaigns (all nullable: inbound requests leave them empty).
    due_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: no end to the window
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(String(100))  # who to ask for
    note: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[str | None] = mapped_column(String(100))  # the user who scheduled it
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def personal(self) -> bool:
        return self.agent_id is not None
