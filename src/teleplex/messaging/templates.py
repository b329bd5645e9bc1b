"""The WhatsApp templates an agent may send once a conversation's 24-hour window has closed.

Meta's own list (the business account's APPROVED templates, read with the Graph API) is the truth; it is cached
per channel for a few minutes, and when Meta cannot be read the channel's hand-kept `settings.templates` stand
in, saying so. The parsing and checking below are pure; only `TemplateCatalogue` does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from teleplex.core.clock import Clock
from teleplex.core.errors import InvalidInput
from teleplex.core.logging import get_logger
from teleplex.messaging.models import Channel
from teleplex.messaging.providers.base import SendError

log = get_logger("teleplex.messaging")

CACHE_FOR = timedelta(minutes=5)
RETRY_AFTER = timedelta(seconds=30)  # Meta down: ask again this soon, not on every window request
MAX_VALUE = 1024
# {{1}} (positional) or {{first_name}} (named, Meta's "NAMED" parameter format)
_VARIABLE = re.compile(r"\{\{\s*([0-9]{1,3}|[a-z_][a-z0-9_]{0,63})\s*\}\}")

Source = Literal["meta", "settings"]


def body_variables(text: str | None) -> tuple[str, ...]:
    """The variables of a template body, as Meta fills them: positional ones by number ("1", "2"...), then
    named ones in the order they first appear; each once."""
    if not text:
        return ()
    found = _VARIABLE.findall(text)
    positional = sorted({v for v in found if v.isdigit()}, key=int)
    named = list(dict.fromkeys(v for v in found if not v.isdigit()))
    return (*positional, *named)


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str | None = None
    body: str | None = None
    variables: tuple[str, ...] = ()

    def out(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "category": self.category, "body": self.body,
                "variables": list(self.variables), "variable_count": len(self.variables)}  # fmt: skip


@dataclass(frozen=True)
class Offer:
    """The templates offered, where they came from, and why not from Meta when Meta was asked and failed."""

    templates: tuple[Template, ...]
    source: Source
    error: str | None = None


def _body_of(components: Any) -> str | None:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            text = component.get("text")
            return text if isinstance(text, str) else None
    return None


def from_meta(items: list[dict[str, Any]]) -> tuple[Template, ...]:
    """The approved ones of Meta's listing (pending, rejected, paused... are not sendable)."""
    offered = []
    for item in items:
        name, language = item.get("name"), item.get("language")
        if item.get("status") != "APPROVED" or not isinstance(name, str) or not isinstance(language, str):
            continue
        body = _body_of(item.get("components"))
        category = item.get("category") if isinstance(item.get("category"), str) else None
        offered.append(Template(name, language, category, body, body_variables(body)))
    return tuple(offered)


def from_settings(settings: dict[str, Any] | None) -> tuple[Template, ...]:
    """The channel's hand-kept list (`settings.templates`: name, language, optional body)."""
    offered = []
    for t in (settings or {}).get("templates") or []:
        if isinstance(t, dict) and t.get("name"):
            body = t.get("body") if isinstance(t.get("body"), str) else None
            offered.append(Template(t["name"], t.get("language") or "en_US", None, body, body_variables(body)))
    return tuple(offered)


def choose(offered: tuple[Template, ...], name: str, language: str | None) -> Template:
    """The offered template the agent named; 422 when it is not among them (or the language is ambiguous)."""
    same_name = [t for t in offered if t.name == name]
    if language is not None:
        same_name = [t for t in same_name if t.language == language]
    if not same_name:
        what = f"'{name}'" + (f" in '{language}'" if language else "")
        raise InvalidInput(f"template_name: {what} is not one of this channel's approved templates",
                           {"field": "template_name"})  # fmt: skip
    if len(same_name) > 1:
        languages = ", ".join(t.language for t in same_name)
        raise InvalidInput(f"template_language: '{name}' exists in several languages ({languages}): say which",
                           {"field": "template_language"})  # fmt: skip
    return same_name[0]


def components_for(template: Template, values: list[str]) -> list[dict[str, Any]]:
    """The send request's `components`: one body parameter per variable, in the template's order; 422 on a
    wrong count or an empty value."""
    if len(values) != len(template.variables):
        raise InvalidInput(f"template_variables: '{template.name}' takes {len(template.variables)} variable(s), "
                           f"got {len(values)}", {"field": "template_variables"})  # fmt: skip
    for i, value in enumerate(values):
        if not value.strip():
            raise InvalidInput(f"template_variables[{i}]: a variable cannot be empty",
                               {"field": "template_variables"})  # fmt: skip
    if not values:
        return []
    parameters = []
    for variable, value in zip(template.variables, values, strict=True):
        parameter: dict[str, Any] = {"type": "text", "text": value}
        if not variable.isdigit():
            parameter["parameter_name"] = variable
        parameters.append(parameter)
    return [{"type": "body", "parameters": parameters}]


@dataclass
class _Cached:
    at: datetime
    version: Any  # the channel's updated_at: an edit on another node is seen too
    offer: Offer


@dataclass
class TemplateCatalogue:
    """Meta's approved templates per channel, cached; the settings' list when Meta cannot be read."""

    providers: Any  # teleplex.messaging.clients.Providers
    clock: Clock
    cached: dict[int, _Cached] = field(default_factory=dict)

    def forget(self, channel_id: int) -> None:
        self.cached.pop(channel_id, None)

    async def offered(self, channel: Channel) -> Offer:
        settings = channel.settings or {}
        waba = settings.get("business_account_id")
        if not waba:
            return Offer(from_settings(settings), "settings")
        now = self.clock.now()
        hit = self.cached.get(channel.id)
        if hit is not None and hit.version == channel.updated_at and now - hit.at < (
                CACHE_FOR if hit.offer.source == "meta" else RETRY_AFTER):  # fmt: skip
            return hit.offer
        try:
            async with self.providers.open(channel) as client:
                offer = Offer(from_meta(await client.message_templates(str(waba))), "meta")
        except Exception as exc:  # noqa: BLE001 - Meta down, a bad token, a broken answer: the settings' list
            log.warning("whatsapp template list failed", channel_id=channel.id, error=str(exc))
            offer = Offer(from_settings(settings), "settings", _why(exc))
        self.cached[channel.id] = _Cached(now, channel.updated_at, offer)
        return offer


def _why(exc: Exception) -> str:
    if isinstance(exc, SendError):
        status = f"HTTP {exc.status}: " if exc.status else ""
        reason = f"{status}{exc.message}"
    else:
        reason = exc.__class__.__name__
    return f"Meta's template list could not be read ({reason[:300]}): showing the channel's own list"
