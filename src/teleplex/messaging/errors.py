"""Typed failures of the messaging capability, each mapped once to an HTTP answer by core/http.py."""

from __future__ import annotations

from teleplex.core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable, TeleplexError


class SignatureMissing(TeleplexError):
    """The provider's signature header is absent: not from the provider, or misconfigured."""

    status, code = 401, "signature_missing"


class SignatureInvalid(TeleplexError):
    status, code = 403, "signature_invalid"


class PayloadRejected(InvalidInput):
    """Signed, but not shaped as the provider documents; nothing stored."""


class PayloadTooLarge(TeleplexError):
    status, code = 413, "payload_too_large"


class ChannelNotFound(NotFound):
    pass


class ChannelDisabled(ServiceUnavailable):
    """Disabled channels refuse deliveries with a 503, which providers retry: nothing is lost meanwhile."""


class WindowClosed(Conflict):
    """WhatsApp's 24-hour window is closed: only an approved template may be sent."""

    code = "window_closed"


class OptedOut(Conflict):
    """The customer sent STOP on this channel: nothing but START from them reopens it."""

    code = "opted_out"


class WrongMode(Conflict):
    """A Telegram bot receives by long polling or by webhook, never both."""

    code = "wrong_mode"
