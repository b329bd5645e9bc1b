"""Request and response bodies of the contact-center configuration API (also the audit log's before/after)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from teleplex.center.screen_pop import ScreenPopMode, template_problem
from teleplex.core.schemas import ApiInput, ApiOutput, Id, Name, Text


class ChannelKind(StrEnum):
    VOICE = "voice"
    WEBCHAT = "webchat"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    SMS = "sms"


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_INTERACTIONS = "fewest_interactions"
    SKILLS_WEIGHTED = "skills_weighted"


class DispositionCategory(StrEnum):
    SUCCESS = "success"
    CALLBACK = "callback"
    NOT_INTERESTED = "not_interested"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"
    UNREACHABLE = "unreachable"
    OTHER = "other"


SkillName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
SkillLevel = Annotated[int, Field(ge=1, le=10)]
Skills = Annotated[dict[SkillName, SkillLevel], Field(max_length=50)]
SoundName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_/-]{1,100}$")]
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{2,20}$")]
Device = Annotated[
    str, StringConstraints(pattern=r"^((PJSIP|SIP|IAX2|Local)/[A-Za-z0-9@._-]{1,80}|browser)$")
]
Clock24 = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


def _crm_template(value: str) -> str:
    problem = template_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


CrmUrlTemplate = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(_crm_template),
    Field(description="Screen-pop: the CRM page opened when an agent takes an interaction; placeholders {caller}, "
                      "{contact_id}, {contact_name}, {queue}, {campaign}, {lead_id}, {interaction}"),
]
ScreenPopModeField = Annotated[ScreenPopMode, Field(description="Screen-pop: a new browser tab, or a panel in the "
                                                               "console")]


# --- overflow targets ------------------------------------------------------------------------------------


class OverflowQueue(ApiInput):
    kind: Literal["queue"]
    queue_id: Id


class OverflowNumber(ApiInput):
    kind: Literal["number"]
    number: PhoneNumber


class OverflowVoicemail(ApiInput):
    kind: Literal["voicemail"]
    mailbox: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z@_-]{1,40}$")]


class OverflowCallback(ApiInput):
    """Offer "press 1 to be called back"; the request is stored for the campaigns capability to dial."""

    kind: Literal["callback"]
    prompt: Annotated[list[SoundName], Field(min_length=1, max_length=10)] = ["vm-tocallback", "vm-press", "digits/1"]
    wait_seconds: Annotated[int, Field(ge=3, le=60)] = 10  # for the key press; then the caller is let go


class OverflowHangup(ApiInput):
    kind: Literal["hangup"]
    message: SoundName | None = None


Overflow = Annotated[
    OverflowQueue | OverflowNumber | OverflowVoicemail | OverflowCallback | OverflowHangup,
    Field(discriminator="kind"),
]


ClosedTreatment = Annotated[OverflowHangup | OverflowVoicemail, Field(discriminator="kind")]
Did = Annotated[str, StringConstraints(pattern=r"^\+?[0-9*#]{1,40}$")]


class Announcements(ApiInput):
    greeting: SoundName | None = None
    periodic_interval_seconds: Annotated[int, Field(ge=0, le=3600)] = 0  # 0: no periodic announcement
    announce_position: bool = False
    announce_expected_wait: bool = False
    closed_message: SoundName | None = None


# --- what a call needs before its wrap-up may end (center/wrapup_rules.py) ----------------------------


def _distinct_requirements(v: list[str] | None) -> list[str] | None:
    return None if v is None else sorted(set(v))


# "disposition": chosen and saved (only when there are dispositions to choose); "notes": not blank;
# "form" (campaigns only): the campaign form saved with its required fields answered
QueueWrapupRequires = Annotated[list[Literal["disposition", "notes"]], Field(max_length=10),
                                AfterValidator(_distinct_requirements)]  # fmt: skip
CampaignWrapupRequires = Annotated[list[Literal["disposition", "notes", "form"]], Field(max_length=10),
                                   AfterValidator(_distinct_requirements)]  # fmt: skip


# --- queues ----------------------------------------------------------------------------------------------


class QueueFields(ApiInput):
    description: Text | None = None
    channels: Annotated[list[ChannelKind], Field(min_length=1, max_length=5)] = [ChannelKind.VOICE]
    strategy: Strategy = Strategy.LONGEST_IDLE
    required_skills: Skills = {}
    priority: Annotated[int, Field(ge=0, le=100)] = 0
    service_level_seconds: Annotated[int, Field(ge=1, le=3600)] = 20
    max_wait_seconds: Annotated[int, Field(ge=1, le=86400)] | None = None
    overflow: Overflow | None = None
    wrapup_seconds: Annotated[int, Field(ge=0, le=3600)] = 10
    ring_timeout_seconds: Annotated[int, Field(ge=5, le=300)] = 20
    recording: bool = False
    moh_class: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "default"
    chat_auto_assign: bool = False  # chats go straight to the chosen agent, no accept needed
    chats_during_call: bool = False  # whether an agent on a call is offered chats
    announcements: Announcements = Announcements()
    business_hours_id: Id | None = None
    closed_treatment: ClosedTreatment | None = None
    disposition_ids: Annotated[list[Id], Field(max_length=200)] = []
    dids: Annotated[list[Did], Field(max_length=100)] = []
    crm_url_template: CrmUrlTemplate | None = None
    screen_pop_mode: ScreenPopModeField = ScreenPopMode.TAB
    wrapup_requires: QueueWrapupRequires = ["disposition"]

    @field_validator("channels")
    @classmethod
    def _distinct(cls, v: list[ChannelKind]) -> list[ChannelKind]:
        return sorted(set(v))

    @field_validator("dids")
    @classmethod
    def _distinct_dids(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else sorted(set(v))


class QueueCreate(QueueFields):
    name: Name

    @model_validator(mode="after")
    def _overflow_with_wait(self) -> QueueCreate:
        if (self.max_wait_seconds is None) != (self.overflow is None):
            raise ValueError("max_wait_seconds and overflow go together: set both or neither")
        return self


class QueueUpdate(QueueFields):
    """Every field optional: only the ones sent change."""

    name: Name | None = None
    channels: Annotated[list[ChannelKind], Field(min_length=1, max_length=5)] | None = None  # type: ignore[assignment]
    strategy: Strategy | None = None  # type: ignore[assignment]
    required_skills: Skills | None = None  # type: ignore[assignment]
    priority: Annotated[int, Field(ge=0, le=100)] | None = None  # type: ignore[assignment]
    service_level_seconds: Annotated[int, Field(ge=1, le=3600)] | None = None  # type: ignore[assignment]
    wrapup_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None  # type: ignore[assignment]
    ring_timeout_seconds: Annotated[int, Field(ge=5, le=300)] | None = None  # type: ignore[assignment]
    recording: bool | None = None  # type: ignore[assignment]
    moh_class: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None  # type: ignore[assignment]
    chat_auto_assign: bool | None = None  # type: ignore[assignment]
    chats_during_call: bool | None = None  # type: ignore[assignment]
    announcements: Announcements | None = None  # type: ignore[assignment]
    disposition_ids: Annotated[list[Id], Field(max_length=200)] | None = None  # type: ignore[assignment]
    dids: Annotated[list[Did], Field(max_length=100)] | None = None  # type: ignore[assignment]
    screen_pop_mode: ScreenPopModeField | None = None  # type: ignore[assignment]
    wrapup_requires: QueueWrapupRequires | None = None  # type: ignore[assignment]

    @field_validator("channels")
    @classmethod
    def _distinct(cls, v: list[ChannelKind] | None) -> list[ChannelKind] | None:
        return None if v is None else sorted(set(v))


class QueueOut(ApiOutput):
    id: int
    name: str
    description: str | None
    channels: list[str]
    strategy: str
    required_skills: dict[str, int]
    priority: int
    service_level_seconds: int
    max_wait_seconds: int | None
    overflow: dict | None
    wrapup_seconds: int
    ring_timeout_seconds: int
    recording: bool
    moh_class: str
    chat_auto_assign: bool
    chats_during_call: bool
    announcements: dict
    business_hours_id: int | None
    closed_treatment: dict | None
    disposition_ids: list[int]
    dids: list[str]
    crm_url_template: str | None
    screen_pop_mode: str
    wrapup_requires: list[str]
    created_at: datetime
    updated_at: datetime


# --- agents ----------------------------------------------------------------------------------------------


class Membership(ApiInput):
    queue_id: Id
    penalty: Annotated[int, Field(ge=0, le=100)] = 0


class Capacity(ApiInput):
    """How much an agent handles at once: voice is one call at most; chat counts every digital channel."""

    voice: Annotated[int, Field(ge=0, le=1)] = 1
    chat: Annotated[int, Field(ge=0, le=20)] = 3


class AgentFields(ApiInput):
    display_name: Name | None = None
    device: Device | None = None
    # "device": calls ring the device, answered on it; "console": the offer shows in the console and the
    # agent's answer there makes the device pick up by itself (auto-answer headsets and softphones)
    answer_mode: Literal["device", "console"] = "device"
    skills: Skills = {}
    capacity: Capacity = Capacity()
    queues: Annotated[list[Membership], Field(max_length=200)] = []

    @field_validator("queues")
    @classmethod
    def _one_membership_per_queue(cls, v: list[Membership] | None) -> list[Membership] | None:
        if v is not None and len({m.queue_id for m in v}) != len(v):
            raise ValueError("each queue may appear once")
        return v


class AgentCreate(AgentFields):
    user_id: Id
    number: Annotated[str, StringConstraints(pattern=r"^[0-9]{2,20}$")]


class AgentUpdate(AgentFields):
    number: Annotated[str, StringConstraints(pattern=r"^[0-9]{2,20}$")] | None = None
    skills: Skills | None = None  # type: ignore[assignment]
    capacity: Capacity | None = None  # type: ignore[assignment]
    queues: Annotated[list[Membership], Field(max_length=200)] | None = None  # type: ignore[assignment]
    answer_mode: Literal["device", "console"] | None = None  # type: ignore[assignment]


class MembershipOut(ApiOutput):
    queue_id: int
    penalty: int


class AgentOut(ApiOutput):
    id: int
    user_id: int
    number: str
    display_name: str
    device: str | None
    answer_mode: str
    skills: dict[str, int]
    capacity: dict[str, int]
    queues: list[MembershipOut] = Field(validation_alias="memberships")
    created_at: datetime
    updated_at: datetime


# --- pause reasons, dispositions -------------------------------------------------------------------------


class PauseReasonCreate(ApiInput):
    name: Name
    paid: bool = False
    max_duration_seconds: Annotated[int, Field(ge=1, le=86400)] | None = None


class PauseReasonUpdate(ApiInput):
    name: Name | None = None
    paid: bool | None = None
    max_duration_seconds: Annotated[int, Field(ge=1, le=86400)] | None = None


class PauseReasonOut(ApiOutput):
    id: int
    name: str
    paid: bool
    max_duration_seconds: int | None
    created_at: datetime
    updated_at: datetime


DispositionCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]


class DispositionCreate(ApiInput):
    code: DispositionCode
    label: Name
    category: DispositionCategory


class DispositionUpdate(ApiInput):
    code: DispositionCode | None = None
    label: Name | None = None
    category: DispositionCategory | None = None


class DispositionOut(ApiOutput):
    id: int
    code: str
    label: str
    category: str
    created_at: datetime
    updated_at: datetime


# --- business hours --------------------------------------------------------------------------------------

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class OpeningSpan(ApiInput):
    day: Day
    open: Clock24
    close: Clock24

    @model_validator(mode="after")
    def _ordered(self) -> OpeningSpan:
        if self.open == "24:00" or self.close <= self.open:
            raise ValueError("close must be later than open on the same day (use 24:00 for midnight)")
        return self


class Holiday(ApiInput):
    date: date
    name: Name | None = None


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _known_zone(tz: str | None) -> str | None:
    if tz is not None and tz not in _zones():
        raise ValueError(f"unknown time zone '{tz}' (use an IANA name such as 'America/Guayaquil')")
    return tz


class BusinessHoursCreate(ApiInput):
    name: Name
    timezone: TimeZoneName
    weekly: Annotated[list[OpeningSpan], Field(max_length=70)]
    holidays: Annotated[list[Holiday], Field(max_length=400)] = []

    _tz = field_validator("timezone")(_known_zone)


class BusinessHoursUpdate(ApiInput):
    name: Name | None = None
    timezone: TimeZoneName | None = None
    weekly: Annotated[list[OpeningSpan], Field(max_length=70)] | None = None
    holidays: Annotated[list[Holiday], Field(max_length=400)] | None = None

    _tz = field_validator("timezone")(_known_zone)


class BusinessHoursOut(ApiOutput):
    id: int
    name: str
    timezone: str
    weekly: list[dict]
    holidays: list[dict]
    created_at: datetime
    updated_at: datetime


class OpenStatus(ApiOutput):
    open: bool
    at: datetime
    local_time: str
