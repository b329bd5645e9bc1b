"""Custom field values checked against their definitions. Pure, so every rule is testable without a database;
all problems are reported at once, each naming its field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from teleplex.core.errors import InvalidInput

MAX_NUMBER = 1e15  # beyond this a JSON number loses integer precision in some clients
MAX_TEXT = 2000


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    kind: FieldKind
    choices: tuple[str, ...] = ()


def check_value(spec: FieldSpec, value: Any) -> tuple[Any, str | None]:
    """The value as stored, or an error message; None removes the value."""
    if value is None:
        return None, None
    if spec.kind is FieldKind.TEXT:
        if not isinstance(value, str):
            return None, "must be text"
        return (value, None) if len(value) <= MAX_TEXT else (None, f"must be at most {MAX_TEXT} characters")
    if spec.kind is FieldKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "must be a number"
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            return None, f"must lie between -{MAX_NUMBER:.0e} and {MAX_NUMBER:.0e}"
        return value, None
    if spec.kind is FieldKind.DATE:
        problem = "must be a date as YYYY-MM-DD"
        if not isinstance(value, str) or len(value) != 10:
            return None, problem
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, problem
    if not isinstance(value, str) or value not in spec.choices:
        return None, f"must be one of: {', '.join(spec.choices)}"
    return value, None


def check_values(
    specs: dict[str, FieldSpec], given: dict[str, Any], current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge `given` over `current` (None removes) after checking every value; InvalidInput lists each
    bad field as `fields.<key>`, unknown keys included."""
    errors: list[dict[str, str]] = []
    result = dict(current or {})
    for key, value in given.items():
        spec = specs.get(key)
        if spec is None:
            errors.append({"field": f"fields.{key}", "message": "no such custom field"})
            continue
        stored, problem = check_value(spec, value)
        if problem:
            errors.append({"field": f"fields.{key}", "message": problem})
        elif stored is None:
            result.pop(key, None)
        else:
            result[key] = stored
    if errors:
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(message, errors, reason="custom_fields_invalid")
    return result
