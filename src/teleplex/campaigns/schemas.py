"""Request and response bodies of the campaigns API: campaigns, lists, leads, do-not-call, callbacks."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from teleplex.campaigns.rules import DEFAULT_RULES, Outcome
from teleplex.campaigns.states import DialMode
from teleplex.campaigns.windows import DEFAULT_WINDOWS, outside_legal_hours
from teleplex.center.schemas import (CampaignWrapupRequires, Clock24, CrmUrlTemplate, Day, PhoneNumber,
                                     ScreenPopMode, ScreenPopModeField, SoundName, TimeZoneName, _known_zone)  # fmt: skip
from teleplex.core.schemas import EARLIEST, LATEST, ApiInput, ApiOutput, Id, Name, Text

Trunk = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]+/[^\s]*\{number\}[^\s]*$", max_length=200)]
Script = Annotated[str, StringConstraints(max_length=20000)]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Option = Annotated[str, StringConstraints(min_length=1, max_length=100)]
NumberText = Annotated[str, StringConstraints(min_length=1, max_length=40)]


def _instant(value: datetime | None) -> datetime | None:
    """Body instants must carry an offset and lie in a sane range, like query instants."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset, e.g. 2026-01-05T09:00:00Z")
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must lie between 1970 and 9000") from None
    if not EARLIEST <= instant < LATEST:
        raise ValueError("must lie between 1970 and 9000")
    return instant


class RetryRule(ApiInput):
    delay_minutes: Annotated[int, Field(ge=1, le=43200)]
    max_attempts: Annotated[int, Field(ge=1, le=50)]


class RetryRules(ApiInput):
    """Per retryable outcome; a missing (null) rule means that outcome closes the lead at once."""

    busy: RetryRule | None = None
    no_answer: RetryRule | None = None
    failed: RetryRule | None = None
    machine: RetryRule | None = None
    abandoned: RetryRule | None = None
    callback: RetryRule | None = None


class CallingWindow(ApiInput):
    """Days and hours in the lead's local time; windows do not cross midnight (use two)."""

    days: Annotated[list[Day], Field(min_length=1, max_length=7)]
    start: Clock24
    end: Clock24

    @model_validator(mode="after")
    def _ordered(self) -> CallingWindow:
        if self.start == "24:00" or self.end <= self.start:
            raise ValueError("end must be later than start on the same day")
        self.days = sorted(set(self.days), key=("mon", "tue", "wed", "thu", "fri", "sat", "sun").index)
        return self


class FormField(ApiInput):
    name: FieldName
    label: Name
    type: Literal["text", "textarea", "number", "date", "select", "checkbox"] = "text"
    required: bool = False
    options: Annotated[list[Option], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _options_for_select(self) -> FormField:
        if self.type == "select" and not self.options:
            raise ValueError("a select field needs options")
        return self


Windows = Annotated[list[CallingWindow], Field(min_length=1, max_length=21)]
FormFields = Annotated[list[FormField], Field(max_length=50)]
Percent = Annotated[float, Field(ge=0.1, le=3.0)]
Ratio = Annotated[float, Field(ge=1.0, le=10.0)]
Channels = Annotated[int, Field(ge=1, le=1000)]
RingSeconds = Annotated[int, Field(ge=15, le=120)]
MaxAttempts = Annotated[int, Field(ge=1, le=100)]
AbandonHours = Annotated[int, Field(ge=0, le=720)]
GraceMinutes = Annotated[int, Field(ge=0, le=1440)]
IdList = Annotated[list[Id], Field(max_length=200)]


class CampaignFields(ApiInput):
    description: Text | None = None
    queue_id: Id | None = None
    agent_ids: IdList = []
    dial_mode: DialMode = DialMode.PROGRESSIVE
    power_ratio: Ratio = 2.0
    target_abandon_percent: Percent = 3.0
    calling_windows: Windows = [CallingWindow.model_validate(w) for w in DEFAULT_WINDOWS]
    allow_outside_legal_hours: bool = False
    default_timezone: TimeZoneName = "UTC"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    caller_id: PhoneNumber | None = None
    trunk: Trunk | None = None
    max_channels: Channels = 10
    ring_seconds: RingSeconds = 25
    max_attempts: MaxAttempts = 5
    retry_rules: RetryRules = RetryRules.model_validate(DEFAULT_RULES)
    amd_enabled: bool = False
    machine_action: Literal["hangup", "leave_message"] = "hangup"
    machine_message: SoundName | None = None
    abandon_message: SoundName | None = None
    no_redial_after_abandon_hours: AbandonHours = 72
    no_redial_after_machine_hours: AbandonHours = 24
    callback_grace_minutes: GraceMinutes = 15
    recording: bool = False
    script: Script | None = None
    form_fields: FormFields = []
    disposition_ids: IdList = []
    crm_url_template: CrmUrlTemplate | None = None
    screen_pop_mode: ScreenPopModeField = ScreenPopMode.TAB
    wrapup_requires: CampaignWrapupRequires = ["disposition"]

    _tz = field_validator("default_timezone")(_known_zone)
    _when = field_validator("starts_at", "ends_at")(_instant)

    @field_validator("agent_ids", "disposition_ids")
    @classmethod
    def _distinct(cls, v: list[int] | None) -> list[int] | None:
        return None if v is None else sorted(set(v))

    @field_validator("form_fields")
    @classmethod
    def _unique_names(cls, v: list[FormField] | None) -> list[FormField] | None:
        if v is not None and len({f.name for f in v}) != len(v):
            raise ValueError("each form field needs a distinct name")
        return v


class CampaignCreate(CampaignFields):
    name: Name


class CampaignUpdate(CampaignFields):
    """Every field optional: only the ones sent change (the service checks the merged result)."""

    name: Name | None = None
    agent_ids: IdList | None = None  # type: ignore[assignment]
    dial_mode: DialMode | None = None  # type: ignore[assignment]
    power_ratio: Ratio | None = None  # type: ignore[assignment]
    target_abandon_percent: Percent | None = None  # type: ignore[assignment]
    calling_windows: Windows | None = None  # type: ignore[assignment]
    allow_outside_legal_hours: bool | None = None  # type: ignore[assignment]
    default_timezone: TimeZoneName | None = None  # type: ignore[assignment]
    max_channels: Channels | None = None  # type: ignore[assignment]
    ring_seconds: RingSeconds | None = None  # type: ignore[assignment]
    max_attempts: MaxAttempts | None = None  # type: ignore[assignment]
    retry_rules: RetryRules | None = None  # type: ignore[assignment]
    amd_enabled: bool | None = None  # type: ignore[assignment]
    machine_action: Literal["hangup", "leave_message"] | None = None  # type: ignore[assignment]
    no_redial_after_abandon_hours: AbandonHours | None = None  # type: ignore[assignment]
    no_redial_after_machine_hours: AbandonHours | None = None  # type: ignore[assignment]
    callback_grace_minutes: GraceMinutes | None = None  # type: ignore[assignment]
    recording: bool | None = None  # type: ignore[assignment]
    form_fields: FormFields | None = None  # type: ignore[assignment]
    disposition_ids: IdList | None = None  # type: ignore[assignment]
    screen_pop_mode: ScreenPopModeField | None = None  # type: ignore[assignment]
    wrapup_requires: CampaignWrapupRequires | None = None  # type: ignore[assignment]


@dataclass(frozen=True)
class CampaignProblem:
    """Why settings cannot stand (or a campaign cannot start): a stable `code` a client says in its own language
    (the web catalogue's `error.campaign_problem.<code>`, placeholders from `params`), and the English `message`."""

    code: str
    field: str | None
    message: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    def as_detail(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": self.message, "params": self.params}


def campaign_problems(values: dict) -> list[CampaignProblem]:
    """Settings that contradict each other; used on create, update and start."""
    out: list[CampaignProblem] = []
    if values.get("queue_id") is None and not values.get("agent_ids"):
        out.append(CampaignProblem("no_queue_or_agents", "queue_id",
                                   "queue_id: a campaign needs a queue or explicit agent_ids"))  # fmt: skip
    if not values.get("allow_outside_legal_hours"):
        bad = outside_legal_hours(values.get("calling_windows") or [])
        if bad:
            out.append(CampaignProblem(
                "outside_legal_hours", "calling_windows",
                f"calling_windows: {', '.join(bad)} reaches outside 08:00-21:00 local time; "
                "set allow_outside_legal_hours to true only where the law allows it",
                {"windows": bad},
            ))  # fmt: skip
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts is not None and ends is not None and str(ends) <= str(starts):
        out.append(CampaignProblem("ends_before_start", "ends_at", "ends_at: must be later than starts_at"))
    if values.get("machine_action") == "leave_message" and not values.get("machine_message"):
        out.append(CampaignProblem("machine_message_missing", "machine_message",
                                   "machine_message: leave_message needs the sound to play"))  # fmt: skip
    return out


class CampaignOut(ApiOutput):
    id: int
    name: str
    description: str | None
    state: str
    queue_id: int | None
    agent_ids: list[int]
    dial_mode: str
    power_ratio: float
    target_abandon_percent: float
    calling_windows: list[dict]
    allow_outside_legal_hours: bool
    default_timezone: str
    starts_at: datetime | None
    ends_at: datetime | None
    caller_id: str | None
    trunk: str | None
    max_channels: int
    ring_seconds: int
    max_attempts: int
    retry_rules: dict
    amd_enabled: bool
    machine_action: str
    machine_message: str | None
    abandon_message: str | None
    no_redial_after_abandon_hours: int
    no_redial_after_machine_hours: int
    callback_grace_minutes: int
    recording: bool
    script: str | None
    form_fields: list[dict]
    disposition_ids: list[int]
    crm_url_template: str | None
    screen_pop_mode: str
    wrapup_requires: list[str]
    created_at: datetime
    updated_at: datetime


class ListProgress(ApiOutput):
    list_id: int
    name: str
    active: bool
    leads: int
    pending: int


class Progress(ApiOutput):
    """Figures computed from the database at `at`; `dialable_now` applies every rule next_leads applies."""

    campaign_id: int
    state: str
    at: datetime
    leads_total: int
    by_status: dict[str, int]
    dialable_now: int
    waiting_retry: int
    blocked_dnc: int
    done_by_outcome: dict[str, int]
    attempts: int
    attempts_by_outcome: dict[str, int]
    lists: list[ListProgress]
    abandon_rate_24h: float | None = None  # abandoned / people answered, over the last 24 hours (None: none)
    abandon_rate_30d: float | None = None
    live: dict[str, float | int] | None = None  # the dialer's calls now (ringing, waiting, channels), when voice is on


# --- lists and leads -------------------------------------------------------------------------------------


class ListCreate(ApiInput):
    name: Name
    active: bool = True


class ListUpdate(ApiInput):
    name: Name | None = None
    active: bool | None = None


class ListOut(ApiOutput):
    id: int
    campaign_id: int
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime


class RecycleRequest(ApiInput):
    outcomes: Annotated[list[Outcome], Field(min_length=1, max_length=20)]


class RecycleResult(ApiOutput):
    list_id: int
    recycled: int


class RejectedRow(ApiOutput):
    """A row left out: `code` (`too_many_fields`, `empty`, `invalid_number`, `duplicate_in_file`,
    `name_too_long`, `unknown_time_zone`, `value_too_long`) with its `params`, `reason` in English."""

    line: int
    code: str
    reason: str
    value: str | None
    params: dict[str, Any] = {}


class ImportReport(ApiOutput):
    list_id: int
    encoding: str
    delimiter: str
    columns: list[str]
    rows: int
    added: int
    updated: int
    unchanged: int
    rejected: list[RejectedRow]


class LeadOut(ApiOutput):
    id: int
    list_id: int
    campaign_id: int
    phone: str
    alt_phones: list[str]
    first_name: str | None
    last_name: str | None
    timezones: list[str] = Field(validation_alias="timezone_list")
    attributes: dict[str, str]
    status: str
    attempts: int
    outcome_counts: dict[str, int]
    last_outcome: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime


# --- dialing by the agent's hand --------------------------------------------------------------------------


class AttemptOut(ApiOutput):
    """One dial: a lead's, a callback's or a manual one; times fill in as the call progresses."""

    id: int
    campaign_id: int
    lead_id: int | None
    callback_id: int | None
    number: str
    dialed_at: datetime
    ringing_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    amd_result: str | None
    agent_id: int | None
    interaction_id: int | None
    form_answers: dict[str, Any] | None = None


class PreviewOut(ApiOutput):
    """The lead held for the agent, with its history and the campaign's script and form."""

    lead: LeadOut
    history: list[AttemptOut]
    script: str | None
    form_fields: list[dict[str, Any]]


class SkipBody(ApiInput):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ManualDial(ApiInput):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]


# --- do-not-call -----------------------------------------------------------------------------------------


class DncCreate(ApiInput):
    number: NumberText
    campaign_id: Id | None = None
    note: Text | None = None


class DncOut(ApiOutput):
    id: int
    number: str
    campaign_id: int | None
    source: str
    note: str | None
    created_at: datetime


class DncCheck(ApiOutput):
    number: str
    campaign_id: int | None
    blocked: bool
    entries: list[DncOut]


class DncImportReport(ApiOutput):
    campaign_id: int | None
    encoding: str
    rows: int
    added: int
    already: int
    rejected: list[RejectedRow]


# --- callbacks -------------------------------------------------------------------------------------------


class CallbackCreate(ApiInput):
    """A callback for one agent (`agent_id`) or for the team of a queue or campaign (agent_id null)."""

    number: NumberText
    name: Name | None = None
    note: Text | None = None
    due_at: datetime | None = None
    due_until: datetime | None = None
    agent_id: Id | None = None
    queue_id: Id | None = None
    campaign_id: Id | None = None
    lead_id: Id | None = None

    _when = field_validator("due_at", "due_until")(_instant)

    @model_validator(mode="after")
    def _window(self) -> CallbackCreate:
        if self.due_at is not None and self.due_until is not None and self.due_until <= self.due_at:
            raise ValueError("due_until must be later than due_at")
        if self.agent_id is None and self.queue_id is None and self.campaign_id is None:
            raise ValueError("a callback needs an agent_id (personal) or a queue_id or campaign_id (team)")
        return self


class CallbackOut(ApiOutput):
    id: int
    number: str
    name: str | None
    note: str | None
    source: str
    status: str
    personal: bool
    agent_id: int | None
    queue_id: int | None
    campaign_id: int | None
    lead_id: int | None
    contact_id: int | None
    interaction_id: int | None
    requested_at: datetime
    due_at: datetime | None
    due_until: datetime | None
    created_by: str | None


class DueCallbackOut(ApiOutput):
    callback: CallbackOut
    priority: int
    agent_id: int | None
    handed_to_team: bool
