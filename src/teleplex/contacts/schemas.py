"""Request and response bodies of the contacts API (also the audit log's before/after)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator

from teleplex.contacts.fields import FieldKind
from teleplex.contacts.identities import IdentityKind
from teleplex.core.schemas import ApiInput, ApiOutput, Id, Name

Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9 _.-]{0,38}[A-Za-z0-9])?$")]
Tags = Annotated[list[Tag], Field(max_length=50)]
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
FieldValue = Annotated[str, StringConstraints(max_length=2000)] | int | float | None
FieldValues = Annotated[dict[FieldKey, FieldValue], Field(max_length=100)]
IdentityValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Choice = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _no_bools(values: Any) -> Any:
    """A custom number or text is never true/false: say so instead of reading it as 1."""
    if isinstance(values, dict):
        for key, value in values.items():
            if isinstance(value, bool):
                raise ValueError(f"{key}: true/false is not a text, number, date or choice")  # noqa: TRY004
    return values


class IdentityIn(ApiInput):
    kind: IdentityKind
    value: IdentityValue


class ContactCreate(ApiInput):
    display_name: Name | None = None
    identities: Annotated[list[IdentityIn], Field(max_length=20)] = []
    tags: Tags = []
    fields: FieldValues = {}

    _fields_no_bools = field_validator("fields", mode="before")(_no_bools)


class ContactUpdate(ApiInput):
    """Only what is sent changes; `tags` replaces the list; `fields` sets the keys sent (null removes one)."""

    display_name: Name | None = None
    tags: Tags | None = None
    fields: FieldValues | None = None

    _fields_no_bools = field_validator("fields", mode="before")(_no_bools)


class IdentityOut(ApiOutput):
    id: int
    kind: str
    value: str
    source: str | None
    created_at: datetime


class SuggestionOut(ApiOutput):
    id: int
    contact_id: int
    other_contact_id: int | None
    reason: str
    kind: str
    value: str
    phone: str
    created_at: datetime


class ContactOut(ApiOutput):
    id: int
    display_name: str | None
    identities: list[IdentityOut]
    tags: list[str]
    fields: dict[str, str | int | float]
    merged_into_id: int | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ContactDetail(ContactOut):
    suggestions: list[SuggestionOut]


class NoteCreate(ApiInput):
    text: NoteText


class NoteOut(ApiOutput):
    id: int
    contact_id: int
    text: str
    author: str
    author_id: int | None
    created_at: datetime


class FieldDefinitionCreate(ApiInput):
    key: FieldKey
    label: Name
    kind: FieldKind
    choices: Annotated[list[Choice], Field(max_length=100)] = []

    @model_validator(mode="after")
    def _choices_for_choice(self) -> FieldDefinitionCreate:
        if self.kind is FieldKind.CHOICE and not self.choices:
            raise ValueError("choices: a choice field needs at least one choice")
        if self.kind is not FieldKind.CHOICE and self.choices:
            raise ValueError("choices: only a choice field has choices")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("choices: each choice may appear once")
        return self


class FieldDefinitionUpdate(ApiInput):
    """The key and kind stay: stored values were checked against them."""

    label: Name | None = None
    choices: Annotated[list[Choice], Field(min_length=1, max_length=100)] | None = None

    @field_validator("choices")
    @classmethod
    def _distinct(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("each choice may appear once")
        return v


class FieldDefinitionOut(ApiOutput):
    id: int
    key: str
    label: str
    kind: str
    choices: list[str]
    created_at: datetime
    updated_at: datetime


class MergeRequest(ApiInput):
    """Merge `source_contact_id` into the contact of the path; it survives, the source points at it."""

    source_contact_id: Id
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


class MergeOut(ApiOutput):
    id: int
    target_id: int
    source_id: int
    reason: str | None
    merged_at: datetime
    merged_by: str
    undone_at: datetime | None
    undone_by: str | None
    moved: dict[str, int]  # how many of each record moved


class EraseRequest(ApiInput):
    """Erasure cannot be undone: repeat the contact's id to confirm."""

    confirm_contact_id: Id


class EraseOut(ApiOutput):
    contact_id: int
    erased_at: datetime
    removed: dict[str, int]


class TimelineMessage(ApiOutput):
    id: int
    direction: str
    kind: str
    text: str | None
    has_media: bool
    status: str
    created_at: datetime


class TimelineDisposition(ApiOutput):
    id: int
    code: str
    label: str


class TimelineEntry(ApiOutput):
    interaction_id: int
    channel: str
    direction: str
    state: str
    outcome: str | None
    queue_id: int | None
    agent_id: int | None
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    talk_seconds: float | None
    disposition: TimelineDisposition | None
    notes: str | None
    recording_url: str | None
    messages: list[TimelineMessage]


class Timeline(ApiOutput):
    contact_id: int
    items: list[TimelineEntry]
    total: int
    limit: int
    offset: int

