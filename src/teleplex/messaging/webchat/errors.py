"""Typed failures of web chat; core/http.py maps them (TeleplexError subclasses) to the one error shape."""

from __future__ import annotations

from teleplex.core.errors import NotFound, PermissionDenied, ServiceUnavailable, Unauthenticated


class WidgetNotFound(NotFound):
    """No enabled-or-not webchat widget answers to that channel id or public key."""

    code = "widget_not_found"


class WidgetDisabled(ServiceUnavailable):
    code = "widget_disabled"


class OriginNotAllowed(PermissionDenied):
    """The page's origin is not in the widget's allowed origins."""

    code = "origin_not_allowed"


class TokenInvalid(Unauthenticated):
    """A session token that is malformed, forged, for another widget, or expired."""

    code = "token_invalid"


class IdentityInvalid(PermissionDenied):
    """`identifier_hash` is not HMAC-SHA256(widget secret, identifier), or no secret is configured."""

    code = "identity_invalid"


class VisitorKeyInvalid(PermissionDenied):
    """The visitor id and key do not match: the widget starts a new visitor."""

    code = "visitor_key_invalid"
