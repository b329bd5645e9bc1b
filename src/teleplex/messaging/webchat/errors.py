"""Typed failures of web chat; core/http.py maps them (TeleplexError subclasses) to the one error shape.

Each has a `reason` (a catalogue key, `error.reason.<reason>`) so the widget tells the visitor why in their
language, over HTTP and in the WebSocket's error frames alike.
"""

from __future__ import annotations

from teleplex.core.errors import NotFound, PermissionDenied, ServiceUnavailable, Unauthenticated


class WidgetNotFound(NotFound):
    """No enabled-or-not webchat widget answers to that channel id or public key."""

    code, reason = "widget_not_found", "chat_not_found"


class WidgetDisabled(ServiceUnavailable):
    code, reason = "widget_disabled", "chat_closed"


class OriginNotAllowed(PermissionDenied):
    """The page's origin is not in the widget's allowed origins."""

    code, reason = "origin_not_allowed", "origin_not_allowed"


class TokenInvalid(Unauthenticated):
    """A session token that is malformed, forged, for another widget, or expired (reason `token_expired`)."""

    code, reason = "token_invalid", "token_invalid"


class IdentityInvalid(PermissionDenied):
    """`identifier_hash` is not HMAC-SHA256(widget secret, identifier), or no secret is configured."""

    code, reason = "identity_invalid", "identity_invalid"


class VisitorKeyInvalid(PermissionDenied):
    """The visitor id and key do not match: the widget starts a new visitor."""

    code, reason = "visitor_key_invalid", "visitor_key_invalid"
