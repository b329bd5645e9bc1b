"""What the widget may send over the WebSocket, checked before anything is done with it; pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from teleplex.core.errors import TeleplexError

MAX_FRAME = 16 * 1024
MAX_TEXT = 4000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class FrameInvalid(ValueError):
    """Answered with an error frame; the connection stays open. `reason` is a catalogue key
    (`error.reason.<reason>`) the widget says in the visitor's language; `client_id` names the refused
    message."""

    code = "invalid_frame"

    def __init__(self, message: str, reason: str = "frame_invalid", details: dict[str, Any] | None = None,
                 client_id: str | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.message, self.reason, self.details, self.client_id = message, reason, details, client_id


@dataclass(frozen=True)
class Auth:
    token: str
    after: int | None


@dataclass(frozen=True)
class Send:
    client_id: str
    text: str


@dataclass(frozen=True)
class Typing:
    typing: bool


@dataclass(frozen=True)
class Read:
    message_id: int


@dataclass(frozen=True)
class Ping:
    pass


Frame = Auth | Send | Typing | Read | Ping


def _text(value: Any, where: str, max_length: int, client_id: str | None = None) -> str:
    """A message's text (with `client_id`: refusals say which message and why) or another string field."""
    said = client_id is not None  # the visitor's own words: each refusal has its own reason

    def refuse(message: str, reason: str, details: dict[str, Any] | None = None) -> FrameInvalid:
        if not said:
            return FrameInvalid(message)
        return FrameInvalid(message, reason, details, client_id)

    expected = f"{where}: expected a non-empty string of at most {max_length} characters"
    if not isinstance(value, str) or not value.strip():
        raise refuse(expected, "text_empty")
    if len(value) > max_length:
        raise refuse(expected, "text_too_long", {"max_length": max_length})
    if "\x00" in value:
        raise refuse(f"{where}: must not contain NUL", "text_unsupported")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise refuse(f"{where}: must be valid Unicode text", "text_unsupported") from None
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        raise FrameInvalid(f"{where}: expected a whole number from 0")
    return value


def parse(raw: str | bytes | None) -> Frame:
    if not isinstance(raw, str):
        raise FrameInvalid("frames are JSON text")
    if len(raw) > MAX_FRAME:
        raise FrameInvalid(f"a frame may not exceed {MAX_FRAME} characters", "frame_too_large")
    try:
        doc = json.loads(raw)
    except ValueError:
        raise FrameInvalid("a frame must be valid JSON") from None
    if not isinstance(doc, dict):
        raise FrameInvalid("a frame must be a JSON object")
    kind = doc.get("type")
    if kind == "message":
        client_id = doc.get("client_id")
        if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
            raise FrameInvalid("client_id: 8 to 64 letters, digits, '-' or '_'", "client_id_format")
        return Send(client_id, _text(doc.get("text"), "text", MAX_TEXT, client_id))
    if kind == "typing":
        if not isinstance(doc.get("typing"), bool):
            raise FrameInvalid("typing: expected true or false")
        return Typing(doc["typing"])
    if kind == "read":
        return Read(_int(doc.get("message_id"), "message_id"))
    if kind == "ping":
        return Ping()
    if kind == "auth":
        after = doc.get("after")
        return Auth(_text(doc.get("token"), "token", 2000), None if after is None else _int(after, "after"))
    raise FrameInvalid("type: one of message, typing, read, ping, auth")


def error_frame(exc: TeleplexError | FrameInvalid, client_id: str | None = None) -> dict[str, Any]:
    """The error frame for a refusal: `code` and the English `message` as ever, and the `reason` the widget
    says in the visitor's language (placeholders from `details`); `client_id` when one message was refused."""
    frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message,
                             "reason": exc.reason or exc.code}  # fmt: skip
    if exc.details is not None:
        frame["details"] = exc.details
    if isinstance(exc, FrameInvalid) and exc.client_id is not None:
        client_id = exc.client_id
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
