"""The normalized shapes every provider adapter produces and consumes, and the typed send failures."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx

from teleplex.messaging.keywords import Keyword

DEFAULT_TIMEOUT_SECONDS = 10.0


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    TEMPLATE = "template"  # outgoing only
    UNSUPPORTED = "unsupported"


MEDIA_KINDS = frozenset({MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO, MessageKind.DOCUMENT,
                         MessageKind.STICKER})


class IdentityKind(StrEnum):
    """How a customer is recognised; the contacts capability links identities into one profile."""

    PHONE = "phone"  # E.164 with "+"
    WHATSAPP = "whatsapp"  # wa_id: the phone number without "+"
    WHATSAPP_USER = "whatsapp_user"  # business-scoped user id (BSUID), e.g. US.1349...; may come without phone
    TELEGRAM = "telegram"  # from.id
    VISITOR = "visitor"  # web chat: the widget's visitor id (v_...)
    VISITOR_VERIFIED = "visitor_verified"  # web chat: the site's identifier, proven by its HMAC


@dataclass(frozen=True)
class Identity:
    kind: IdentityKind
    value: str


@dataclass(frozen=True)
class MediaRef:
    """Where the provider keeps a media file: an id to look up (WhatsApp, Telegram) or a URL (Twilio)."""

    ref: str
    mime: str | None = None
    filename: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class SharedContact:
    """A phone number the customer shared. `trusted` only when it is provably their own (Telegram:
    contact.user_id == from.id); an untrusted one must never be linked to the sender's profile."""

    phone: str
    name: str | None = None
    user_id: str | None = None
    trusted: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """One customer message, whatever channel it came on."""

    provider_message_id: str
    sender: Identity
    identities: tuple[Identity, ...]  # every identity the provider revealed (phone and BSUID...)
    kind: MessageKind
    sent_at: datetime | None = None
    text: str | None = None
    media: MediaRef | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    edited: bool = False
    profile_name: str | None = None
    reply_to: str | None = None  # provider id of the message this answers (reactions, buttons, context)
    keyword: Keyword | None = None  # SMS STOP/START/HELP
    extra: dict[str, Any] = field(default_factory=dict)  # interactive reply ids, reaction emoji, chat id...


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery report about a message we sent."""

    provider_message_id: str
    status: str  # the provider's word; status.normalise() maps it
    at: datetime | None = None
    recipient: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class ParsedDelivery:
    """Everything one webhook POST (or one polled update) carried."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()


@dataclass(frozen=True)
class OutgoingContent:
    """What to send; providers refuse kinds they cannot carry."""

    kind: MessageKind = MessageKind.TEXT
    text: str | None = None
    media_url: str | None = None
    filename: str | None = None
    template_name: str | None = None
    language: str | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    ask_phone: str | None = None  # a button with this label asking the customer to share their phone (Telegram)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [])}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutgoingContent:
        return cls(**{**data, "kind": MessageKind(data.get("kind", "text"))})


# --- failures ---------------------------------------------------------------------------------------------


class PayloadInvalid(ValueError):
    """A webhook body that does not have the documented shape; answered 4xx, nothing stored."""


class SendError(Exception):
    """Sending failed; `code` and `message` are the provider's own, kept for the agent to see."""

    retryable = False

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class RetryableSendError(SendError):
    """Worth trying again later: the provider is down, slow, or asks us to wait (`retry_after` seconds)."""

    retryable = True

    def __init__(
        self, message: str, code: str | None = None, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code, status)
        self.retry_after = retry_after


class RateLimited(RetryableSendError):
    """A 429: the whole channel (a Telegram bot, a WhatsApp number) must pause, not just this message."""


class PermanentSendError(SendError):
    """Retrying cannot help: a bad number, a closed 24-hour window, a blocked bot."""


# --- helpers ------------------------------------------------------------------------------------------------


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Compare secrets without leaking where they differ through timing."""
    ab = a.encode() if isinstance(a, str) else a
    bb = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(ab, bb)


def retry_after_header(response: httpx.Response, now: datetime | None = None) -> float | None:
    """HTTP Retry-After, in seconds or as a date."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now is None or when is None:
        return None
    return max(0.0, (when - now).total_seconds())


def transport_error(exc: httpx.HTTPError) -> RetryableSendError:
    """Timeouts and connection failures: the provider may never have seen the request; try again."""
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"
    return RetryableSendError(f"{kind}: {exc.__class__.__name__} {exc}".strip(), code=kind)


def new_http_client(base_url: str, timeout: float, **kwargs: Any) -> httpx.AsyncClient:
    """Every provider call has a base URL (tests point it at a local fake) and a timeout."""
    return httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout), **kwargs)


def require_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadInvalid(f"{where}: expected an object")
    return value


def require_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadInvalid(f"{where}: expected a list")
    return value


def _storable(value: str, where: str) -> str:
    """Text the databases can keep: no NUL (PostgreSQL) and no lone surrogates (not UTF-8)."""
    if "\x00" in value:
        raise PayloadInvalid(f"{where}: must not contain NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadInvalid(f"{where}: must be valid Unicode text") from None
    return value


def require_str(value: Any, where: str, max_length: int = 500) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise PayloadInvalid(f"{where}: expected a non-empty string")
    return _storable(value, where)


def optional_str(value: Any, where: str, max_length: int = 100_000) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > max_length:
        raise PayloadInvalid(f"{where}: expected a string")
    return _storable(value, where)


def epoch(value: Any, where: str) -> datetime | None:
    """A Unix timestamp (number or digits, as providers send them) as an aware datetime."""
    from datetime import UTC

    if value is None:
        return None
    try:
        seconds = int(value)
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise PayloadInvalid(f"{where}: expected a Unix timestamp") from None
