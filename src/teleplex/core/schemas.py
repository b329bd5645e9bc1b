"""Shapes shared by every API: the strict input base, list parameters and the page of results."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

T = TypeVar("T")

MAX_ID = 2**31 - 1  # ids are 32-bit on PostgreSQL; a larger one is a 404, not an overflow
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(max_length=2000)]


def _check_text(value: Any) -> Any:
    """Refuse text the databases cannot store: NUL (PostgreSQL) and lone surrogates (not UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_text(k)
            _check_text(v)
    return value


def _numeric(annotation: Any) -> bool:
    """Whether a field holds numbers (int or float, optional or in a list), and never a bool."""
    if annotation is bool:
        return False
    if annotation in (int, float):
        return True
    return any(_numeric(a) for a in get_args(annotation) if a is not type(None))


def _refuse_bools_as_numbers(model: type[BaseModel], data: dict[str, Any]) -> None:
    """Pydantic's lax mode reads `true` as 1; in a request that is a client's mistake, so say so."""
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None or not _numeric(field.annotation):
            continue
        if isinstance(value, bool) or (isinstance(value, list) and any(isinstance(v, bool) for v in value)):
            raise ValueError(f"{name}: a number is expected, not true or false")


class ApiInput(BaseModel):
    """Base of every request body: unknown fields are an error, and text must be storable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _check_text(data)
        if isinstance(data, dict):
            _refuse_bools_as_numbers(cls, data)
        return data


class ApiOutput(BaseModel):
    """Base of every response body; built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total so a client can page through all of it."""

    items: list[T]
    total: int
    limit: int
    offset: int


_ORDER = re.compile(r"^-?[a-z_]{1,40}$")


class ListParams:
    """limit/offset/search/order, parsed once for every list endpoint."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="page size")] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")] = 0,
        search: Annotated[
            str | None, Query(max_length=100, description="case-insensitive text to look for")
        ] = None,
        order: Annotated[
            str | None, Query(max_length=41, description="a field to sort by; a leading '-' sorts descending")
        ] = None,
    ) -> None:
        from teleplex.core.errors import InvalidInput

        if search is not None:
            _check_query_text("search", search)
        if order is not None and not _ORDER.match(order):
            raise InvalidInput("order: must be a field name, optionally prefixed with '-'",
                               {"field": "order"},
                               reason="order_format")  # fmt: skip
        self.limit, self.offset, self.search, self.order = limit, offset, search or None, order


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    """Pydantic also reads a bare number as a Unix time; a query's instant must be written out (ISO 8601)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO 8601 date-time with an offset, e.g. 2026-01-05T09:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]


def utc_instant(name: str, value: datetime | None) -> datetime | None:
    """A query's instant in UTC, or a 422 naming it: it must carry an offset and lie in a sane range
    (beyond year 9000 a time-zone shift overflows Python's dates)."""
    from teleplex.core.errors import InvalidInput

    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidInput(f"{name}: must include a UTC offset, e.g. 2026-01-05T09:00:00Z", {"field": name},
                           reason="needs_utc_offset")  # fmt: skip
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not EARLIEST <= instant < LATEST:
        raise InvalidInput(f"{name}: must lie between 1970 and 9000", {"field": name},
                           reason="date_out_of_range")  # fmt: skip
    return instant


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None
    reason: str | None = Field(None, description="Why, as a stable key a client can say in its own language; "
                                                 "only on some errors")  # fmt: skip


class ErrorBody(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail


def _check_query_text(name: str, value: str) -> None:
    from teleplex.core.errors import InvalidInput

    try:
        _check_text(value)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}", {"field": name}, reason="text_not_storable") from None
