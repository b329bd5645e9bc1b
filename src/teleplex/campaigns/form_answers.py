"""An agent's answers to a campaign's form, checked against its field definitions (schemas.FormField).

Pure: it returns the cleaned answers or the problems, each naming its field, so the API can answer 422 with
every problem at once and the console can show each next to its field. Each problem has a stable `type` and
its `ctx` (the limit broken, the options), named as the API's validation errors name theirs, so a client says
both kinds in its user's language the same way (the web catalogue's `error.type.<type>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any

MAX_TEXT = 2000


@dataclass(frozen=True)
class Problem:
    field: str
    type: str
    message: str
    ctx: dict[str, Any] = dataclass_field(default_factory=dict)


def _problem(kind: str, message: str, **ctx: Any) -> tuple[None, tuple[str, str, dict[str, Any]]]:
    return None, (kind, message, ctx)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check(definition: dict[str, Any], value: Any) -> tuple[Any, tuple[str, str, dict[str, Any]] | None]:
    """The value as stored, or what is wrong with it: (type, message, ctx)."""
    kind = definition.get("type", "text")
    if kind == "checkbox":
        return (value, None) if isinstance(value, bool) else _problem("bool_type", "must be true or false")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _problem("float_type", "must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            return _problem("finite_number", "must be a finite number")
        return value, None
    if not isinstance(value, str):
        return _problem("string_type", "must be text")
    text = value.strip()
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return _problem("date_parsing", "must be a date like 2026-01-31")
    if kind == "select":
        options = definition.get("options") or []
        return (text, None) if text in options else \
            _problem("literal_error", f"must be one of: {', '.join(options)}", expected=list(options))  # fmt: skip
    limit = MAX_TEXT if kind == "textarea" else 200
    if len(text) > limit:
        return _problem("string_too_long", f"must be at most {limit} characters", max_length=limit)
    return text, None


def validate(fields: list[dict[str, Any]], answers: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Cleaned answers (blank optional fields left out; an unticked box kept as false) and the problems."""
    known = {f["name"]: f for f in fields}
    unknown = [name for name in answers if name not in known]
    problems = [Problem(name, "extra_forbidden", "is not a field of this campaign's form") for name in unknown]
    clean: dict[str, Any] = {}
    for name, definition in known.items():
        value = answers.get(name)
        missing = _empty(value) or (definition.get("type") == "checkbox" and value is False)
        if missing and definition.get("required"):
            problems.append(Problem(name, "missing", "is required"))
            continue
        if _empty(value):
            continue
        stored, wrong = _check(definition, value)
        if wrong is not None:
            kind, message, ctx = wrong
            problems.append(Problem(name, kind, message, ctx))
        else:
            clean[name] = stored
    return clean, problems
