"""Shapes shared by every API: the strict input base, list parameters and the page of results."""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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


class ApiInput(BaseModel):
    """Base of every request body: unknown fields are an error, and text must be storable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return _check_text(data)


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
            raise InvalidInput("order: must be a field name, optionally prefixed with '-'", {"field": "order"})
        self.limit, self.offset, self.search, self.order = limit, offset, search or None, order


def _check_query_text(name: str, value: str) -> None:
    from teleplex.core.errors import InvalidInput

    try:
        _check_text(value)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}", {"field": name}) from None
