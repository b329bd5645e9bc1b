"""The screen-pop: a queue's or campaign's CRM URL template, filled with the call's data when an agent takes
it. Pure: checking a template and filling it touch no database and no network.

A template is an http(s) URL with placeholders in braces, e.g.
`https://crm.example/search?phone={caller}&queue={queue}&id={interaction}`; each value is URL-encoded, so a
name with spaces or an ampersand cannot break the URL or add parameters of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from urllib.parse import quote, urlsplit

PLACEHOLDERS: tuple[str, ...] = ("caller", "contact_id", "contact_name", "queue", "campaign", "lead_id",
                                 "interaction")  # fmt: skip
_BRACES = re.compile(r"\{([^{}]*)\}")


class ScreenPopMode(StrEnum):
    TAB = "tab"  # a new browser tab
    EMBED = "embed"  # a panel inside the console


def template_problem(template: str) -> str | None:
    """Why this template cannot be used (a sentence for the admin), or None when it is fine."""
    unknown = sorted({name for name in _BRACES.findall(template) if name not in PLACEHOLDERS})
    if unknown:
        return (f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
                f"known: {', '.join('{' + n + '}' for n in PLACEHOLDERS)}")  # fmt: skip
    stray = _BRACES.sub("", template)
    if "{" in stray or "}" in stray:
        return "a brace without its pair: placeholders are written {name}"
    probe = urlsplit(_BRACES.sub("x", template))
    if probe.scheme not in ("http", "https") or not probe.netloc:
        return "must be an http:// or https:// URL"
    if any(c.isspace() for c in template):
        return "must not contain spaces (placeholders are encoded when filled)"
    return None


def fill(template: str, values: Mapping[str, object | None]) -> str:
    """The template with every placeholder replaced by its URL-encoded value (empty when unknown)."""

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return "" if value is None else quote(str(value), safe="")

    return _BRACES.sub(one, template)
