"""An agent's answers to a campaign's form, checked against its field definitions (schemas.FormField).

Pure: it returns the cleaned answers or the problems, each naming its field, so the API can answer 422 with
every problem at once and the console can show each next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

MAX_TEXT = 2000


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check(definition: dict[str, Any], value: Any) -> tuple[Any, str | None]:
    """The value as stored, or a message saying what is wrong with it."""
    kind = definition.get("type", "text")
    if kind == "checkbox":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "must be a number"
        if value != value or value in (float("inf"), float("-inf")):
            return None, "must be a finite number"
        return value, None
    if not isinstance(value, str):
        return None, "must be text"
    text = value.strip()
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat(), None
        except ValueError:
            return None, "must be a date like 2026-01-31"
    if kind == "select":
        options = definition.get("options") or []
        return (text, None) if text in options else (None, f"must be one of: {', '.join(options)}")
    if len(text) > (MAX_TEXT if kind == "textarea" else 200):
        return None, f"must be at most {MAX_TEXT if kind == 'textarea' else 200} characters"
    return text, None


def validate(fields: list[dict[str, Any]], answers: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Cleaned answers (blank optional fields left out; an unticked box kept as false) and the problems."""
    known = {f["name"]: f for f in fields}
    unknown = [name for name in answers if name not in known]
    problems = [Problem(name, "is not a field of this campaign's form") for name in unknown]
    clean: dict[str, Any] = {}
    for name, definition in known.items():
        value = answers.get(name)
        missing = _empty(value) or (definition.get("type") == "checkbox" and value is False)
        if missing and definition.get("required"):
            problems.append(Problem(name, "is required"))
            continue
        if _empty(value):
            continue
        stored, message = _check(definition, value)
        if message is not None:
            problems.append(Problem(name, message))
        else:
            clean[name] = stored
    return clean, problems
