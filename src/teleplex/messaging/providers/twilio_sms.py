"""Twilio Programmable SMS: request signatures, inbound and status-callback forms, sending."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from teleplex.messaging.keywords import keyword
from teleplex.messaging.providers.base import (
    Identity,
    IdentityKind,
    InboundMessage,
    MediaRef,
    MessageKind,
    OutgoingContent,
    ParsedDelivery,
    PayloadInvalid,
    PermanentSendError,
    RateLimited,
    RetryableSendError,
    StatusUpdate,
    optional_str,
    require_str,
    retry_after_header,
    transport_error,
)

SIGNATURE_HEADER = "x-twilio-signature"
RETRYABLE_CODES = frozenset({"20429", "20500", "20503", "30001"})


def form(raw_body: bytes) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded body, keeping repeated names and blank values."""
    try:
        text = raw_body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=1000,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise PayloadInvalid("body: not a valid form") from None
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def compute_signature(auth_token: str, url: str, params: dict[str, list[str]]) -> str:
    """Base64(HMAC-SHA1(auth token, URL + each parameter sorted by name: name + value)), as Twilio signs."""
    data = url
    for name in sorted(params):
        for value in sorted(set(params[name])):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed: Twilio signs whichever it used."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if default is None or parts.hostname is None:
        return variants
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{host}:{default}")))
    elif parts.port == default:
        variants.append(urlunsplit(parts._replace(netloc=host)))
    return variants


def signature_valid(auth_token: str, url: str, params: dict[str, list[str]], header: str | None) -> bool:
    if not header or not auth_token:
        return False
    return any(
        hmac.compare_digest(compute_signature(auth_token, u, params).encode(), header.strip().encode())
        for u in _url_variants(url)
    )


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def parse_inbound(params: dict[str, list[str]]) -> ParsedDelivery:
    """An incoming SMS/MMS: MessageSid, From, To, Body, NumMedia, MediaUrl0..; STOP/START/HELP noted."""
    sid = require_str(_one(params, "MessageSid") or _one(params, "SmsSid"), "MessageSid", 64)
    sender = require_str(_one(params, "From"), "From", 64)
    body = optional_str(_one(params, "Body"), "Body", 10_000)
    try:
        num_media = int(_one(params, "NumMedia") or 0)
    except ValueError:
        raise PayloadInvalid("NumMedia: expected a number") from None
    media = None
    if num_media > 0:
        url = require_str(_one(params, "MediaUrl0"), "MediaUrl0", 2000)
        media = MediaRef(url, optional_str(_one(params, "MediaContentType0"), "MediaContentType0", 100), caption=body)
    mime = media.mime if media else None
    kind = MessageKind.TEXT if media is None else (
        MessageKind.IMAGE if (mime or "").startswith("image/") else
        MessageKind.VIDEO if (mime or "").startswith("video/") else
        MessageKind.AUDIO if (mime or "").startswith("audio/") else MessageKind.DOCUMENT
    )
    identity = Identity(IdentityKind.PHONE, sender)
    message = InboundMessage(
        provider_message_id=sid,
        sender=identity,
        identities=(identity,),
        kind=kind,
        text=body,
        media=media,
        keyword=keyword(body) if media is None else None,
        extra={"to": optional_str(_one(params, "To"), "To", 64), "num_media": num_media,
               "media_urls": [optional_str(u, f"MediaUrl{i}", 2000) for i in range(min(num_media, 10))
                              if (u := _one(params, f"MediaUrl{i}"))]},
    )
    return ParsedDelivery(messages=(message,))


def parse_status(params: dict[str, list[str]]) -> ParsedDelivery:
    """A status callback: MessageSid, MessageStatus, ErrorCode (when it failed)."""
    code = _one(params, "ErrorCode")
    return ParsedDelivery(statuses=(StatusUpdate(
        provider_message_id=require_str(_one(params, "MessageSid") or _one(params, "SmsSid"), "MessageSid", 64),
        status=require_str(_one(params, "MessageStatus") or _one(params, "SmsStatus"), "MessageStatus", 40),
        recipient=optional_str(_one(params, "To"), "To", 64),
        error_code=optional_str(code, "ErrorCode", 40) or None,
        error_message=optional_str(_one(params, "ErrorMessage"), "ErrorMessage", 2000) or None,
    ),))


def classify(response: httpx.Response) -> RetryableSendError | PermanentSendError:
    """Twilio's `{"code", "message", "status"}` as a typed failure."""
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    code = str(doc["code"]) if doc.get("code") is not None else str(response.status_code)
    message = str(doc.get("message") or f"HTTP {response.status_code}")[:2000]
    if response.status_code == 429 or code == "20429":
        return RateLimited(message, code, response.status_code, retry_after_header(response))
    if response.status_code >= 500 or code in RETRYABLE_CODES:
        return RetryableSendError(message, code, response.status_code, retry_after_header(response))
    return PermanentSendError(message, code, response.status_code)


class TwilioClient:
    """`POST /2010-04-01/Accounts/{sid}/Messages.json` with basic auth (account SID, auth token)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        account_sid: str,
        auth_token: str,
        from_number: str | None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> None:
        self.http = http
        self.account_sid = account_sid
        self.auth = httpx.BasicAuth(account_sid, auth_token)
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback

    async def send(self, to: str, content: OutgoingContent) -> str:
        data: dict[str, str] = {"To": to}
        if self.messaging_service_sid:
            data["MessagingServiceSid"] = self.messaging_service_sid
        elif self.from_number:
            data["From"] = self.from_number
        else:
            raise PermanentSendError("the channel has neither a from_number nor a messaging_service_sid", "no_sender")
        if content.kind is MessageKind.TEXT:
            data["Body"] = content.text or ""
        elif content.kind in (MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.AUDIO, MessageKind.DOCUMENT):
            data["MediaUrl"] = content.media_url or ""
            if content.text:
                data["Body"] = content.text
        else:
            raise PermanentSendError(f"SMS cannot carry a '{content.kind}' message", "unsupported_kind")
        if self.status_callback:
            data["StatusCallback"] = self.status_callback
        try:
            response = await self.http.post(
                f"/2010-04-01/Accounts/{self.account_sid}/Messages.json", data=data, auth=self.auth
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if response.status_code >= 300:
            raise classify(response)
        try:
            return str(response.json()["sid"])
        except (ValueError, KeyError, TypeError):
            raise RetryableSendError("Twilio accepted but answered without a sid", "bad_answer") from None

    async def download_media(self, url: str, max_bytes: int) -> tuple[bytes, str | None]:
        try:
            response = await self.http.get(url, auth=self.auth, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if response.status_code >= 300:
            raise classify(response)
        if len(response.content) > max_bytes:
            raise PermanentSendError("media file is too large", "too_large")
        return response.content, response.headers.get("content-type")
