"""Request and response bodies of the auth API; also the audit log's picture of users and keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from teleplex.auth.passwords import MIN_LENGTH
from teleplex.auth.roles import Role
from teleplex.core.schemas import ApiInput, ApiOutput, Id, Name

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
]
Password = Annotated[str, StringConstraints(min_length=MIN_LENGTH, max_length=256)]
Language = Annotated[str, StringConstraints(pattern=r"^(en|es)$")]
Roles = Annotated[list[Role], Field(min_length=1, max_length=3)]


def _known_zone(name: str) -> str:
    """Only IANA names the server knows: the UI formats every time in this zone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}' (an IANA name such as 'Europe/Madrid')") from None
    return name


Timezone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)]


def _unique_roles(roles: list[Role] | None) -> list[Role] | None:
    return None if roles is None else sorted(set(roles))


class TokenRequest(ApiInput):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenOut(ApiOutput):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserCreate(ApiInput):
    username: Username
    password: Password
    roles: Roles
    display_name: Name | None = None
    enabled: bool = True
    language: Language = "en"
    timezone: Timezone = "UTC"
    supervised_queue_ids: Annotated[list[Id], Field(max_length=500)] = []

    _roles = field_validator("roles")(_unique_roles)


class UserUpdate(ApiInput):
    roles: Roles | None = None
    display_name: Name | None = None
    enabled: bool | None = None
    language: Language | None = None
    timezone: Timezone | None = None
    supervised_queue_ids: Annotated[list[Id], Field(max_length=500)] | None = None
    password: Password | None = None

    _roles = field_validator("roles")(_unique_roles)


class MyPreferences(ApiInput):
    """What users may change about themselves: how the interface speaks and tells time."""

    language: Language | None = None
    timezone: Timezone | None = None


class PasswordChange(ApiInput):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


class UserOut(ApiOutput):
    id: int
    username: str
    display_name: str | None
    roles: list[Role]
    enabled: bool
    language: str
    timezone: str
    supervised_queue_ids: list[int]
    created_at: datetime
    updated_at: datetime


class MeOut(UserOut):
    permissions: list[str]
    agent_id: int | None


class ApiKeyCreate(ApiInput):
    name: Name
    roles: Roles
    queue_ids: Annotated[list[Id], Field(max_length=500)] = []

    _roles = field_validator("roles")(_unique_roles)


class ApiKeyOut(ApiOutput):
    id: int
    name: str
    prefix: str
    roles: list[Role]
    queue_ids: list[int]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the key itself; shown only this once")
