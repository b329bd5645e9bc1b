"""Signed short-lived visitor session tokens and the site's identity hash; pure, time passed in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

PREFIX = "wc1"
TOKEN_TTL_SECONDS = 15 * 60  # the widget asks for a new one when it reconnects after this


class TokenError(ValueError):
    """Why a token was refused; the message is safe to show."""


class TokenExpired(TokenError):
    """A good token, too old: the widget asks for a new session (the visitor is told so if that fails)."""


@dataclass(frozen=True)
class Claims:
    widget_id: int
    visitor_id: int
    origin: str  # "" when the session was created without an Origin header (not from a browser)
    expires: int  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    return secrets.token_urlsafe(32)


def sign(key: str, claims: Claims) -> str:
    body = _b64(json.dumps({"w": claims.widget_id, "v": claims.visitor_id, "o": claims.origin,
                            "exp": claims.expires}, separators=(",", ":")).encode())
    mac = hmac.new(key.encode(), f"{PREFIX}.{body}".encode(), hashlib.sha256).digest()
    return f"{PREFIX}.{body}.{_b64(mac)}"


def peek_widget(token: str) -> int:
    """The widget a token claims to be for, read before its key is known; nothing is trusted yet."""
    return unverified(token).widget_id


def unverified(token: str) -> Claims:
    parts = token.split(".") if isinstance(token, str) and len(token) < 2000 else []
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenError("the session token is malformed")
    try:
        data = json.loads(_unb64(parts[1]))
        claims = Claims(int(data["w"]), int(data["v"]), str(data["o"]), int(data["exp"]))
    except (ValueError, KeyError, TypeError):
        raise TokenError("the session token is malformed") from None
    return claims


def verify(key: str, token: str, now: float) -> Claims:
    """The claims of a token signed with `key` that has not expired at `now` (Unix seconds)."""
    claims = unverified(token)
    prefix, body, mac = token.split(".")
    expected = hmac.new(key.encode(), f"{prefix}.{body}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(mac)
    except ValueError:
        raise TokenError("the session token is malformed") from None
    if not hmac.compare_digest(expected, given):
        raise TokenError("the session token's signature is invalid")
    if now >= claims.expires:
        raise TokenExpired("the session token has expired; create a new session")
    return claims


def identity_hash(secret: str, identifier: str) -> str:
    """What the site's backend computes: hex(HMAC-SHA256(widget secret, identifier))."""
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def identity_valid(secret: str, identifier: str, given_hash: str) -> bool:
    return bool(secret) and hmac.compare_digest(identity_hash(secret, identifier), given_hash.lower())


def key_hash(visitor_key: str) -> str:
    return hashlib.sha256(visitor_key.encode()).hexdigest()
