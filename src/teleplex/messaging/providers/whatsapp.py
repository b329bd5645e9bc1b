"""WhatsApp Cloud API (Meta): webhook signature and handshake, payload parsing, the 24-hour window, sending."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
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
    StatusUpdate,
    epoch,
    optional_str,
    require_dict,
    require_list,
    require_str,
    retry_after_header,
    transport_error,
)

SIGNATURE_HEADER = "x-hub-signature-256"
WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW = "131047"
# Graph API codes that mean "slow down" or "try later", not "this message is wrong".
RETRYABLE_CODES = frozenset({"1", "2", "4", "17", "341", "80007", "130429", "131000", "131016", "131056", "133004"})
THROTTLE_CODES = frozenset({"4", "17", "80007", "130429", "131056"})
_MEDIA = {"image": MessageKind.IMAGE, "audio": MessageKind.AUDIO, "video": MessageKind.VIDEO,
          "document": MessageKind.DOCUMENT, "sticker": MessageKind.STICKER}


# --- verification -------------------------------------------------------------------------------------------


def signature_valid(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(app secret, the raw body), compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").strip().lower().encode())


def sign(app_secret: str, raw_body: bytes) -> str:
    """The header value Meta would send; for tests and fakes."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def handshake_challenge(mode: str | None, token: str | None, challenge: str | None, verify_token: str) -> str | None:
    """The challenge to echo when Meta's subscription request carries our verify token; None otherwise."""
    if mode != "subscribe" or token is None or challenge is None or not verify_token:
        return None
    return challenge if hmac.compare_digest(token.encode(), verify_token.encode()) else None


# --- parsing ------------------------------------------------------------------------------------------------


def parse(raw_body: bytes) -> ParsedDelivery:
    """Every message and status of one webhook POST, in order; raises PayloadInvalid on a wrong shape."""
    try:
        doc = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadInvalid("body: not valid JSON") from None
    doc = require_dict(doc, "body")
    if doc.get("object") != "whatsapp_business_account":
        raise PayloadInvalid("object: expected 'whatsapp_business_account'")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    for i, entry in enumerate(require_list(doc.get("entry"), "entry")):
        for j, change in enumerate(require_list(require_dict(entry, f"entry[{i}]").get("changes", []), "changes")):
            change = require_dict(change, f"entry[{i}].changes[{j}]")
            if change.get("field") not in (None, "messages"):
                continue  # account updates, template reviews...: not messages
            value = require_dict(change.get("value"), f"entry[{i}].changes[{j}].value")
            where = f"entry[{i}].changes[{j}].value"
            contacts = [require_dict(c, f"{where}.contacts") for c in require_list(value.get("contacts", []), f"{where}.contacts")]
            for k, msg in enumerate(require_list(value.get("messages", []), f"{where}.messages")):
                messages.append(_message(require_dict(msg, f"{where}.messages[{k}]"), contacts, f"{where}.messages[{k}]"))
            for k, st in enumerate(require_list(value.get("statuses", []), f"{where}.statuses")):
                statuses.append(_status(require_dict(st, f"{where}.statuses[{k}]"), f"{where}.statuses[{k}]"))
    return ParsedDelivery(tuple(messages), tuple(statuses))


def _contact_for(contacts: list[dict[str, Any]], phone: str | None, user_id: str | None) -> dict[str, Any]:
    for c in contacts:
        if (phone and c.get("wa_id") == phone) or (user_id and c.get("user_id") == user_id):
            return c
    return contacts[0] if len(contacts) == 1 else {}


def _message(msg: dict[str, Any], contacts: list[dict[str, Any]], where: str) -> InboundMessage:
    msg_id = require_str(msg.get("id"), f"{where}.id")
    phone = optional_str(msg.get("from"), f"{where}.from", 40)
    user_id = optional_str(msg.get("from_user_id"), f"{where}.from_user_id", 200)
    contact = _contact_for(contacts, phone, user_id)
    phone = phone or optional_str(contact.get("wa_id"), "contacts.wa_id", 40)
    user_id = user_id or optional_str(contact.get("user_id"), "contacts.user_id", 200)
    identities: list[Identity] = []
    if phone:
        identities.append(Identity(IdentityKind.WHATSAPP, phone))
        identities.append(Identity(IdentityKind.PHONE, "+" + phone.lstrip("+")))
    if user_id:
        identities.append(Identity(IdentityKind.WHATSAPP_USER, user_id))
    if not identities:
        raise PayloadInvalid(f"{where}: no sender (neither 'from' nor a user id)")
    sender = identities[0] if phone else identities[-1]
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    type_ = optional_str(msg.get("type"), f"{where}.type", 40) or "unsupported"
    context = msg.get("context") if isinstance(msg.get("context"), dict) else {}
    base: dict[str, Any] = {
        "provider_message_id": msg_id,
        "sender": sender,
        "identities": tuple(identities),
        "sent_at": epoch(msg.get("timestamp"), f"{where}.timestamp"),
        "profile_name": optional_str(profile.get("name"), "profile.name", 200),
        "reply_to": optional_str(context.get("id"), "context.id", 200),
    }
    body = msg.get(type_) if isinstance(msg.get(type_), dict) else {}
    if type_ == "text":
        return InboundMessage(**base, kind=MessageKind.TEXT, text=optional_str(body.get("body"), f"{where}.text.body"))
    if type_ in _MEDIA:
        media = MediaRef(
            ref=require_str(body.get("id"), f"{where}.{type_}.id"),
            mime=optional_str(body.get("mime_type"), "mime_type", 100),
            filename=optional_str(body.get("filename"), "filename", 255),
            caption=optional_str(body.get("caption"), "caption"),
        )
        return InboundMessage(**base, kind=_MEDIA[type_], text=media.caption, media=media)
    if type_ == "location":
        try:
            loc = Location(float(body["latitude"]), float(body["longitude"]),
                           optional_str(body.get("name"), "name", 500), optional_str(body.get("address"), "address", 500))
        except (KeyError, TypeError, ValueError):
            raise PayloadInvalid(f"{where}.location: latitude and longitude are required") from None
        return InboundMessage(**base, kind=MessageKind.LOCATION, location=loc)
    if type_ == "contacts":
        shared = []
        for c in require_list(msg.get("contacts"), f"{where}.contacts"):
            c = require_dict(c, f"{where}.contacts[]")
            name = c.get("name", {}).get("formatted_name") if isinstance(c.get("name"), dict) else None
            for p in c.get("phones", []) if isinstance(c.get("phones"), list) else []:
                if isinstance(p, dict) and p.get("phone"):
                    # A vCard someone forwards is about anybody: never trusted as the sender's own number.
                    shared.append(SharedContact(str(p["phone"]), optional_str(name, "formatted_name", 200),
                                                optional_str(p.get("wa_id"), "wa_id", 40), trusted=False))
        return InboundMessage(**base, kind=MessageKind.CONTACTS, contacts=tuple(shared))
    if type_ == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        reply = reply if isinstance(reply, dict) else {}
        return InboundMessage(**base, kind=MessageKind.INTERACTIVE, text=optional_str(reply.get("title"), "title"),
                              extra={"reply_type": optional_str(body.get("type"), "interactive.type", 40),
                                     "reply_id": optional_str(reply.get("id"), "id", 256)})
    if type_ == "button":
        return InboundMessage(**base, kind=MessageKind.BUTTON, text=optional_str(body.get("text"), "button.text"),
                              extra={"payload": optional_str(body.get("payload"), "button.payload")})
    if type_ == "reaction":
        return InboundMessage(**base, kind=MessageKind.REACTION, text=optional_str(body.get("emoji"), "emoji", 50),
                              extra={"message_id": optional_str(body.get("message_id"), "message_id", 200)})
    errors = msg.get("errors") if isinstance(msg.get("errors"), list) else []
    # Only the parts we understand are kept: the raw body stays in inbound_events for anything else.
    codes = [optional_str(e.get("code"), "errors.code", 40) for e in errors[:5] if isinstance(e, dict)]
    return InboundMessage(**base, kind=MessageKind.UNSUPPORTED, extra={"type": type_, "error_codes": codes})


def _status(st: dict[str, Any], where: str) -> StatusUpdate:
    errors = st.get("errors") if isinstance(st.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    detail = first.get("error_data", {}).get("details") if isinstance(first.get("error_data"), dict) else None
    return StatusUpdate(
        provider_message_id=require_str(st.get("id"), f"{where}.id"),
        status=require_str(st.get("status"), f"{where}.status", 40),
        at=epoch(st.get("timestamp"), f"{where}.timestamp"),
        recipient=optional_str(st.get("recipient_id") or st.get("recipient_user_id"), f"{where}.recipient_id", 200),
        error_code=optional_str(first.get("code"), "errors.code", 40),
        error_message=optional_str(detail or first.get("message") or first.get("title"), "errors.message", 2000),
    )


# --- the 24-hour customer service window --------------------------------------------------------------------


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Free-form messages are allowed only within 24 h of the customer's last message; templates always."""
    return last_inbound_at is not None and now < last_inbound_at + WINDOW


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    return None if last_inbound_at is None else last_inbound_at + WINDOW


# --- sending ------------------------------------------------------------------------------------------------


def recipient(identity_value: str) -> str:
    """Phone numbers go with "+", business-scoped user ids as they are."""
    return identity_value if "." in identity_value else "+" + identity_value.lstrip("+")


def message_body(to: str, content: OutgoingContent) -> dict[str, Any]:
    """The Graph API body for one message."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient(to)}
    if content.kind is MessageKind.TEXT:
        body |= {"type": "text", "text": {"body": content.text or "", "preview_url": False}}
    elif content.kind is MessageKind.TEMPLATE:
        template: dict[str, Any] = {"name": content.template_name, "language": {"code": content.language or "en_US"}}
        if content.components:
            template["components"] = content.components
        body |= {"type": "template", "template": template}
    elif content.kind in (MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO, MessageKind.DOCUMENT):
        media: dict[str, Any] = {"link": content.media_url}
        if content.text and content.kind is not MessageKind.AUDIO:
            media["caption"] = content.text
        if content.filename and content.kind is MessageKind.DOCUMENT:
            media["filename"] = content.filename
        body |= {"type": content.kind.value, content.kind.value: media}
    else:
        raise PermanentSendError(f"WhatsApp cannot send a '{content.kind}' message", code="unsupported_kind")
    return body


def classify(response: httpx.Response) -> RetryableSendError | PermanentSendError:
    """A non-2xx Graph API answer as a typed failure, with Meta's code and message."""
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    error = doc.get("error", {}) if isinstance(doc, dict) else {}
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code")) if error.get("code") is not None else None
    details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    message = str(details or error.get("message") or f"HTTP {response.status_code}")[:2000]
    status = response.status_code
    if status == 429 or code in THROTTLE_CODES:
        return RateLimited(message, code or "429", status, retry_after_header(response))
    if status >= 500 or code in RETRYABLE_CODES:
        return RetryableSendError(message, code or str(status), status, retry_after_header(response))
    return PermanentSendError(message, code or str(status), status)


class WhatsAppClient:
    """Sends through `POST /{phone-number-id}/messages` with the channel's bearer token."""

    def __init__(self, http: httpx.AsyncClient, access_token: str, phone_number_id: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {access_token}"}
        self.phone_number_id = phone_number_id

    async def send(self, to: str, content: OutgoingContent) -> str:
        """The wamid of the accepted message; raises a typed SendError otherwise."""
        body = message_body(to, content)
        try:
            response = await self.http.post(f"/{self.phone_number_id}/messages", json=body, headers=self.headers)
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if response.status_code >= 300:
            raise classify(response)
        try:
            return str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise RetryableSendError("the provider accepted but answered without a message id", "bad_answer") from None

    async def message_templates(self, business_account_id: str, max_pages: int = 20) -> list[dict[str, Any]]:
        """Every template of the business account, any status, as Meta documents the listing:
        `GET /{waba}/message_templates?fields=...&limit=100`, the next page asked for with `paging.cursors.after`
        while `paging.next` is present (our own path, so the token never follows a URL the answer names),
        at most `max_pages` pages."""
        params = {"fields": "name,language,status,category,components", "limit": "100"}
        found: list[dict[str, Any]] = []
        for _ in range(max_pages):
            try:
                response = await self.http.get(f"/{business_account_id}/message_templates", params=params,
                                                headers=self.headers)  # fmt: skip
            except httpx.HTTPError as exc:
                raise transport_error(exc) from None
            if response.status_code >= 300:
                raise classify(response)
            try:
                doc = response.json()
                data = doc["data"]
                if not isinstance(data, list):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise RetryableSendError("the template list came without its 'data'", "bad_answer") from None
            found.extend(item for item in data if isinstance(item, dict))
            paging = doc.get("paging") if isinstance(doc.get("paging"), dict) else {}
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = cursors.get("after")
            if not paging.get("next") or not isinstance(after, str) or not after:
                break
            params = {**params, "after": after}
        return found

    async def mark_read(self, wamid: str) -> None:
        """Tell the customer the business has read their message (blue ticks): the Cloud API's documented
        `{"messaging_product": "whatsapp", "status": "read", "message_id"}` on the same endpoint. It also
        marks the earlier messages of the chat read, so the latest one is enough."""
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        try:
            response = await self.http.post(f"/{self.phone_number_id}/messages", json=body, headers=self.headers)
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        if response.status_code >= 300:
            raise classify(response)

    async def download_media(self, media_id: str, max_bytes: int) -> tuple[bytes, str | None]:
        """GET /{media-id} gives a short-lived URL, fetched with the same token."""
        try:
            meta = await self.http.get(f"/{media_id}", headers=self.headers)
            if meta.status_code >= 300:
                raise classify(meta)
            url = meta.json()["url"]
            file = await self.http.get(url, headers=self.headers)
        except httpx.HTTPError as exc:
            raise transport_error(exc) from None
        except (ValueError, KeyError, TypeError):
            raise RetryableSendError("media lookup answered without a url", "bad_answer") from None
        if file.status_code >= 300:
            raise classify(file)
        if len(file.content) > max_bytes:
            raise PermanentSendError("media file is too large", "too_large")
        return file.content, meta.json().get("mime_type")
