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


MEDIA_HEADERS = ("IMAGE", "VIDEO", "DOCUMENT")
MAX_COUPON = 15  # Meta: a copy-code button's code has at most 15 characters


@dataclass(frozen=True)
class Header:
    """A template's header: TEXT (with at most one variable), or a media kind whose file is given at send time."""

    format: str  # TEXT, IMAGE, VIDEO, DOCUMENT
    text: str | None = None
    variable: str | None = None

    @property
    def takes_value(self) -> bool:
        return self.format in MEDIA_HEADERS or self.variable is not None


@dataclass(frozen=True)
class Button:
    """A template button that needs a value when sent: a URL with a variable suffix, or a copy-code button."""

    index: int  # its position among all the template's buttons, as Meta numbers them
    type: str  # URL or COPY_CODE
    text: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str | None = None
    body: str | None = None
    variables: tuple[str, ...] = ()
    header: Header | None = None
    buttons: tuple[Button, ...] = ()  # only those that take a value

    def out(self) -> dict[str, Any]:
        header = None if self.header is None else {
            "format": self.header.format, "text": self.header.text, "variable": self.header.variable,
            "takes_value": self.header.takes_value}  # fmt: skip
        buttons = [{"index": b.index, "type": b.type, "text": b.text, "url": b.url} for b in self.buttons]
        return {"name": self.name, "language": self.language, "category": self.category, "body": self.body,
                "variables": list(self.variables), "variable_count": len(self.variables), "header": header,
                "buttons": buttons}  # fmt: skip


@dataclass(frozen=True)
class Offer:
    """The templates offered, where they came from, and why not from Meta when Meta was asked and failed."""

    templates: tuple[Template, ...]
    source: Source
    error: str | None = None


def _parts(components: Any) -> tuple[str | None, Header | None, tuple[Button, ...]] | None:
    """Body text, header and value-taking buttons of Meta's `components`; None when the template needs what
    an agent cannot give here (a LOCATION header)."""
    body, header, buttons = None, None, []
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, dict):
            continue
        kind = str(component.get("type", "")).upper()
        text = component.get("text") if isinstance(component.get("text"), str) else None
        if kind == "BODY":
            body = text
        elif kind == "HEADER":
            fmt = str(component.get("format", "TEXT")).upper()
            if fmt == "TEXT":
                found = body_variables(text)
                header = Header("TEXT", text, found[0] if found else None)
            elif fmt in MEDIA_HEADERS:
                header = Header(fmt)
            else:
                return None
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if not isinstance(button, dict):
                    continue
                sort = str(button.get("type", "")).upper()
                url = button.get("url") if isinstance(button.get("url"), str) else None
                label = button.get("text") if isinstance(button.get("text"), str) else None
                if (sort == "URL" and body_variables(url)) or sort == "COPY_CODE":
                    buttons.append(Button(index, sort, label, url))
    return body, header, tuple(buttons)


def _template(name: str, language: str, category: str | None, components: Any) -> Template | None:
    parts = _parts(components)
    if parts is None:
        log.info("whatsapp template not offered: its header needs a location", template=name)
        return None
    body, header, buttons = parts
    return Template(name, language, category, body, body_variables(body), header, buttons)


def from_meta(items: list[dict[str, Any]]) -> tuple[Template, ...]:
    """The approved ones of Meta's listing (pending, rejected, paused... are not sendable)."""
    offered = []
    for item in items:
        name, language = item.get("name"), item.get("language")
        if item.get("status") != "APPROVED" or not isinstance(name, str) or not isinstance(language, str):
            continue
        category = item.get("category") if isinstance(item.get("category"), str) else None
        template = _template(name, language, category, item.get("components"))
        if template is not None:
            offered.append(template)
    return tuple(offered)


def from_settings(settings: dict[str, Any] | None) -> tuple[Template, ...]:
    """The channel's hand-kept list (`settings.templates`: name, language, optional category, and either a `body`
    text or Meta's `components` for a header and buttons)."""
    offered = []
    for t in (settings or {}).get("templates") or []:
        if isinstance(t, dict) and t.get("name"):
            components = t.get("components") or ([{"type": "BODY", "text": t["body"]}]
                                                 if isinstance(t.get("body"), str) else [])  # fmt: skip
            category = t.get("category") if isinstance(t.get("category"), str) else None
            template = _template(t["name"], t.get("language") or "en_US", category, components)
            if template is not None:
                offered.append(template)
    return tuple(offered)


def choose(offered: tuple[Template, ...], name: str, language: str | None) -> Template:
    """The offered template the agent named; 422 when it is not among them (or the language is ambiguous)."""
    same_name = [t for t in offered if t.name == name]
    if language is not None:
        same_name = [t for t in same_name if t.language == language]
    if not same_name:
        what = f"'{name}'" + (f" in '{language}'" if language else "")
        raise InvalidInput(f"template_name: {what} is not one of this channel's approved templates",
                           {"field": "template_name", "name": name}, reason="template_not_offered")  # fmt: skip
    if len(same_name) > 1:
        languages = ", ".join(t.language for t in same_name)
        raise InvalidInput(f"template_language: '{name}' exists in several languages ({languages}): say which",
                           {"field": "template_language", "name": name, "languages": languages},
                           reason="template_language_ambiguous")  # fmt: skip
    return same_name[0]


def _filled(values: list[str], expected: int, field: str, name: str, what: str) -> None:
    """422 unless there is exactly one non-empty value per slot."""
    if len(values) != expected:
        raise InvalidInput(f"{field}: '{name}' takes {expected} {what}, got {len(values)}",
                           {"field": field, "expected": expected, "given": len(values)},
                           reason="template_value_count")  # fmt: skip
    for i, value in enumerate(values):
        if not value.strip():
            raise InvalidInput(f"{field}[{i}]: a value cannot be empty", {"field": field},
                               reason="template_value_empty")  # fmt: skip


def _text(variable: str, value: str) -> dict[str, Any]:
    parameter: dict[str, Any] = {"type": "text", "text": value}
    if not variable.isdigit():
        parameter["parameter_name"] = variable
    return parameter


def _header(template: Template, value: str | None) -> list[dict[str, Any]]:
    header = template.header
    if header is None or not header.takes_value:
        if value is not None:
            raise InvalidInput(f"template_header: '{template.name}' has no header to fill",
                               {"field": "template_header"}, reason="template_header_unused")  # fmt: skip
        return []
    if value is None or not value.strip():
        what = "the header's text" if header.format == "TEXT" else f"a link to the header's {header.format.lower()}"
        raise InvalidInput(f"template_header: '{template.name}' needs {what}", {"field": "template_header"},
                           reason="template_header_missing")  # fmt: skip
    if header.format == "TEXT":
        assert header.variable is not None
        return [{"type": "header", "parameters": [_text(header.variable, value)]}]
    if not value.startswith(("https://", "http://")):
        raise InvalidInput("template_header: the header's file must be an http(s) link Meta can fetch",
                           {"field": "template_header"}, reason="template_header_link")  # fmt: skip
    kind = header.format.lower()
    return [{"type": "header", "parameters": [{"type": kind, kind: {"link": value}}]}]


def _buttons(template: Template, values: list[str]) -> list[dict[str, Any]]:
    _filled(values, len(template.buttons), "template_buttons", template.name, "button value(s)")
    components = []
    for button, value in zip(template.buttons, values, strict=True):
        if button.type == "COPY_CODE":
            if len(value) > MAX_COUPON:
                raise InvalidInput(f"template_buttons: a copy code has at most {MAX_COUPON} characters",
                                   {"field": "template_buttons", "max_length": MAX_COUPON},
                                   reason="template_code_too_long")  # fmt: skip
            parameter: dict[str, Any] = {"type": "coupon_code", "coupon_code": value}
            sub_type = "copy_code"
        else:
            parameter, sub_type = {"type": "text", "text": value}, "url"
        components.append({"type": "button", "sub_type": sub_type, "index": str(button.index),
                           "parameters": [parameter]})  # fmt: skip
    return components


def components_for(template: Template, values: list[str], header: str | None = None,
                   buttons: list[str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The send request's `components`, as Meta documents them: the header's parameter (its variable's text,
    or the link to its image, video or document), one body parameter per variable in the template's order,
    one parameter per button that takes a value (a URL's suffix, a copy code); 422 on anything missing,
    extra or empty."""
    _filled(values, len(template.variables), "template_variables", template.name, "variable(s)")
    components = _header(template, header)
    if values:
        components.append({"type": "body", "parameters": [_text(v, value)
                                                          for v, value in zip(template.variables, values, strict=True)]})
    return components + _buttons(template, buttons or [])


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
