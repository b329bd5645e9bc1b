"""Telegram Bot API: the webhook secret, update parsing, sending, files, long polling and setWebhook."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from teleplex.messaging.providers.base import (
    Identity,
    IdentityKind,
    InboundMessage,
    Location,
    MediaRef,
    MessageKind,
    OutgoingContent,
    ParsedDelivery,
    PayloadInvalid,
    PermanentSendError,
    RateLimited,
    RetryableSendError,
    SharedContact,
    constant_time_equal,
    epoch,
    optional_str,
    require_dict,
    require_str,
    retry_after_header,
    transport_error,
)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_TEXT = 4096
POLL_TIMEOUT_SECONDS = 25
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
_FIELD = re.compile(r"[a-z_]{1,40}")


def secret_valid(expected: str, header: str | None) -> bool:
    return bool(expected) and header is not None and constant_time_equal(expected, header)


def update_id(raw_body: bytes) -> int:
    """The update's id (Telegram's dedupe and order key); raises PayloadInvalid."""
    return _update_id(_load(raw_body))


def _load(raw_body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadInvalid("body: not valid JSON") from None
    return require_dict(doc, "body")


def _update_id(doc: dict[str, Any]) -> int:
    value = doc.get("update_id")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise PayloadInvalid("update_id: expected a non-negative integer")
    return value


def parse(raw_body: bytes) -> ParsedDelivery:
    return parse_update(_load(raw_body))


def parse_update(doc: dict[str, Any]) -> ParsedDelivery:
    """One update: a message, an edited message or a button press; other kinds carry nothing for us."""
    _update_id(doc)
    if isinstance(doc.get("message"), dict):
        return ParsedDelivery((_message(doc["message"], edited=False),))
    if isinstance(doc.get("edited_message"), dict):
        return ParsedDelivery((_message(doc["edited_message"], edited=True),))
    if isinstance(doc.get("callback_query"), dict):
        return ParsedDelivery((_callback(doc["callback_query"]),))
    if any(k in doc for k in ("message", "edited_message", "callback_query")):
        raise PayloadInvalid("update: message must be an object")
    return ParsedDelivery()


def _sender(user: Any, where: str) -> tuple[Identity, str | None]:
    user = require_dict(user, where)
    uid = user.get("id")
    if not isinstance(uid, int) or isinstance(uid, bool):
        raise PayloadInvalid(f"{where}.id: expected an integer")
    names = [optional_str(user.get("first_name"), "first_name", 200), optional_str(user.get("last_name"), "last_name", 200)]
    return Identity(IdentityKind.TELEGRAM, str(uid)), " ".join(n for n in names if n) or None


def _message(msg: dict[str, Any], *, edited: bool) -> InboundMessage:
    message_id = msg.get("message_id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise PayloadInvalid("message.message_id: expected an integer")
    chat = require_dict(msg.get("chat"), "message.chat")
    chat_id = require_str(chat.get("id"), "message.chat.id", 40)
    sender, name = _sender(msg.get("from"), "message.from")
    # message_id is unique per chat only; an edit keeps the id, so it gets its own key.
    provider_id = f"{chat_id}:{message_id}" + (f":edit:{msg.get('edit_date')}" if edited else "")
    base: dict[str, Any] = {
        "provider_message_id": provider_id,
        "sender": sender,
        "identities": (sender,),
        "sent_at": epoch(msg.get("edit_date") if edited else msg.get("date"), "message.date"),
        "edited": edited,
        "profile_name": name,
        "extra": {"chat_id": chat_id, "message_id": message_id,
                  "username": optional_str(msg["from"].get("username"), "username", 100)},
    }
    reply = msg.get("reply_to_message")
    if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
        base["reply_to"] = f"{chat_id}:{reply['message_id']}"
    caption = optional_str(msg.get("caption"), "caption")
    if "text" in msg:
        return InboundMessage(**base, kind=MessageKind.TEXT, text=optional_str(msg.get("text"), "message.text"))
    if isinstance(msg.get("photo"), list) and msg["photo"]:
        biggest = max((p for p in msg["photo"] if isinstance(p, dict)), key=lambda p: p.get("file_size") or 0,
                      default={})
        media = MediaRef(require_str(biggest.get("file_id"), "photo.file_id"), "image/jpeg", caption=caption)
        return InboundMessage(**base, kind=MessageKind.IMAGE, text=caption, media=media)
    for field, kind in (("document", MessageKind.DOCUMENT), ("voice", MessageKind.AUDIO), ("audio", MessageKind.AUDIO),
                        ("video", MessageKind.VIDEO), ("video_note", MessageKind.VIDEO), ("sticker", MessageKind.STICKER)):
        if isinstance(msg.get(field), dict):
            f = msg[field]
            media = MediaRef(require_str(f.get("file_id"), f"{field}.file_id"),
                             optional_str(f.get("mime_type"), "mime_type", 100),
                             optional_str(f.get("file_name"), "file_name", 255), caption)
            return InboundMessage(**base, kind=kind, text=caption, media=media)
    if isinstance(msg.get("location"), dict):
        try:
            loc = Location(float(msg["location"]["latitude"]), float(msg["location"]["longitude"]))
        except (KeyError, TypeError, ValueError):
            raise PayloadInvalid("message.location: latitude and longitude are required") from None
        return InboundMessage(**base, kind=MessageKind.LOCATION, location=loc)
    if isinstance(msg.get("contact"), dict):
        c = msg["contact"]
        owner = c.get("user_id")
        shared = SharedContact(
            phone=require_str(c.get("phone_number"), "contact.phone_number", 40),
            name=optional_str(c.get("first_name"), "contact.first_name", 200),
            user_id=str(owner) if owner is not None else None,
            # The "share my phone" button: Telegram vouches that the number is the sender's own.
            trusted=owner is not None and str(owner) == sender.value,
        )
        return InboundMessage(**base, kind=MessageKind.CONTACTS, contacts=(shared,))
    keys = sorted(k for k in msg if k not in ("from", "chat") and _FIELD.fullmatch(k))[:20]
    return InboundMessage(**{**base, "extra": {**base["extra"], "keys": keys}}, kind=MessageKind.UNSUPPORTED)


def _callback(cb: dict[str, Any]) -> InboundMessage:
    sender, name = _sender(cb.get("from"), "callback_query.from")
    msg = cb.get("message") if isinstance(cb.get("message"), dict) else {}
    chat = msg.get("chat") if isinstance(msg.get("chat"), dict) else {}
    return InboundMessage(
        provider_message_id="callback:" + require_str(cb.get("id"), "callback_query.id", 100),
        sender=sender,
        identities=(sender,),
        kind=MessageKind.INTERACTIVE,
        text=optional_str(cb.get("data"), "callback_query.data", 256),
        profile_name=name,
        extra={"chat_id": str(chat.get("id", sender.value)), "callback_query_id": cb.get("id")},
    )


# --- the Bot API ----------------------------------------------------------------------------------------------


def classify(response: httpx.Response) -> RetryableSendError | PermanentSendError:
    """`{"ok": false, "error_code", "description", "parameters": {"retry_after"}}` as a typed failure."""
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    code = doc.get("error_code", response.status_code)
    message = str(doc.get("description") or f"HTTP {response.status_code}")[:2000]
    params = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
    retry_after = params.get("retry_after")
    retry_after = float(retry_after) if isinstance(retry_after, int | float) else retry_after_header(response)
    if response.status_code == 429 or code == 429:
        return RateLimited(message, "429", response.status_code, retry_after)
    if response.status_code >= 500:
        return RetryableSendError(message, str(code), response.status_code, retry_after)
    return PermanentSendError(message, str(code), response.status_code)


class TelegramClient:
    """Calls `/bot<token>/<method>`; every call has the client's timeout (long polls a longer one)."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token

    async def call(self, method: str, params: dict[str, Any], timeout: float | None = None) -> Any:
        extra = {"timeout": httpx.Timeout(timeout)} if timeout is not None else {}
        try:
            response = await self.http.post(f"/bot{self.token}/{method}", json=params, **extra)
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if response.status_code >= 300:
            raise classify(response)
        try:
            doc = response.json()
        except ValueError:
            raise RetryableSendError("the Bot API answered with something that is not JSON", "bad_answer") from None
        if not isinstance(doc, dict) or not doc.get("ok"):
            raise classify(response)
        return doc.get("result")

    async def send(self, to: str, content: OutgoingContent) -> str:
        """The sent message's key ("chat:message_id"), matching how inbound messages are keyed."""
        if content.kind is MessageKind.TEXT:
            if not content.text or len(content.text) > MAX_TEXT:
                raise PermanentSendError(f"a Telegram text must have 1 to {MAX_TEXT} characters", "text_length")
            params = {"chat_id": to, "text": content.text}
            if content.ask_phone:  # a one-time reply keyboard: the customer's tap shares their own contact
                params["reply_markup"] = {"keyboard": [[{"text": content.ask_phone, "request_contact": True}]],
                                          "one_time_keyboard": True, "resize_keyboard": True}
            result = await self.call("sendMessage", params)
        elif content.kind in (MessageKind.IMAGE, MessageKind.DOCUMENT, MessageKind.AUDIO, MessageKind.VIDEO):
            method, field = {MessageKind.IMAGE: ("sendPhoto", "photo"), MessageKind.DOCUMENT: ("sendDocument", "document"),
                             MessageKind.AUDIO: ("sendVoice", "voice"), MessageKind.VIDEO: ("sendVideo", "video")}[content.kind]
            params: dict[str, Any] = {"chat_id": to, field: content.media_url}
            if content.text:
                params["caption"] = content.text[:1024]
            result = await self.call(method, params)
        else:
            raise PermanentSendError(f"Telegram cannot send a '{content.kind}' message", "unsupported_kind")
        try:
            return f"{result['chat']['id']}:{result['message_id']}"
        except (KeyError, TypeError):
            raise RetryableSendError("the Bot API accepted but answered without a message id", "bad_answer") from None

    async def get_updates(self, offset: int | None, timeout: int = POLL_TIMEOUT_SECONDS) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            params["offset"] = offset
        result = await self.call("getUpdates", params, timeout=timeout + 10)
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    async def set_webhook(self, url: str, secret_token: str, max_connections: int = 40) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret_token, "allowed_updates": ALLOWED_UPDATES,
                                       "max_connections": max_connections})

    async def delete_webhook(self) -> None:
        """Long polling and a webhook exclude each other: polling starts by removing the webhook."""
        await self.call("deleteWebhook", {"drop_pending_updates": False})

    async def download_file(self, file_id: str, max_bytes: int) -> tuple[bytes, str | None]:
        result = await self.call("getFile", {"file_id": file_id})
        path = result.get("file_path") if isinstance(result, dict) else None
        if not path:
            raise PermanentSendError("getFile answered without a file_path", "no_file_path")
        try:
            response = await self.http.get(f"/file/bot{self.token}/{path}")
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if response.status_code >= 300:
            raise classify(response)
        if len(response.content) > max_bytes:
            raise PermanentSendError("media file is too large", "too_large")
        return response.content, response.headers.get("content-type")
