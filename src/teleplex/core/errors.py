"""Typed failures, each mapped once to an HTTP status and a stable code (see core/http_errors.py)."""

from __future__ import annotations

from typing import Any


class TeleplexError(Exception):
    """Base of every failure a user can be told about."""

    status = 400
    code = "bad_request"
    # Why, as a stable snake_case key (`last_admin`, `queue_in_use`): a client says it in the user's language
    # (the web catalogue's `error.reason.<key>`, placeholders from `details`) where the code alone is vague.
    reason: str | None = None

    def __init__(self, message: str, details: Any = None, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if reason is not None:
            self.reason = reason


class NotFound(TeleplexError):
    status, code = 404, "not_found"


class Conflict(TeleplexError):
    """The request contradicts what is stored: a duplicate name, or deleting something in use."""

    status, code = 409, "conflict"


class AlreadyExists(Conflict):
    """A unique value (a name, a user name) is already taken; details name the `field` and the `value`."""

    code = "already_exists"


class InvalidInput(TeleplexError):
    status, code = 422, "invalid_input"


class Unauthenticated(TeleplexError):
    status, code = 401, "unauthenticated"


class PermissionDenied(TeleplexError):
    status, code = 403, "permission_denied"


class TooManyAttempts(TeleplexError):
    """Refused for a while; `retry_after` seconds tells the client when to try again."""

    status, code = 429, "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"retry_after": retry_after})
        self.retry_after = retry_after


class ServiceUnavailable(TeleplexError):
    status, code = 503, "unavailable"
