"""WhatsApp Cloud API adapter: signature, handshake, parsing of every documented shape, window, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from teleplex.messaging.providers import whatsapp
from teleplex.messaging.providers.base import (
    IdentityKind,
    MessageKind,
    OutgoingContent,
    PayloadInvalid,
    PermanentSendError,
    RateLimited,
    RetryableSendError,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whatsapp"


def load(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = load("text")
    header = whatsapp.sign("secret", body)
    assert whatsapp.signature_valid("secret", body, header)
    assert whatsapp.signature_valid("secret", body, header.upper().replace("SHA256=", "sha256="))
    assert not whatsapp.signature_valid("other", body, header)
    assert not whatsapp.signature_valid("secret", body + b" ", header)
    assert not whatsapp.signature_valid("secret", body, None)
    assert not whatsapp.signature_valid("secret", body, header.removeprefix("sha256="))


def test_handshake_echoes_only_for_subscribe_and_the_right_token() -> None:
    assert whatsapp.handshake_challenge("subscribe", "tok", "123", "tok") == "123"
    assert whatsapp.handshake_challenge("subscribe", "bad", "123", "tok") is None
    assert whatsapp.handshake_challenge("unsubscribe", "tok", "123", "tok") is None
    assert whatsapp.handshake_challenge("subscribe", "", "123", "") is None


def test_text_message_with_phone_identity() -> None:
    (msg,) = whatsapp.parse(load("text")).messages
    assert msg.kind is MessageKind.TEXT and msg.text == "Does it come in another color?"
    assert msg.sender.kind is IdentityKind.WHATSAPP and msg.sender.value == "16505551234"
    assert [(i.kind, i.value) for i in msg.identities] == [(IdentityKind.WHATSAPP, "16505551234"),
                                                           (IdentityKind.PHONE, "+16505551234")]
    assert msg.sent_at == datetime.fromtimestamp(1767603500, UTC) and msg.profile_name == "Sheena Nelson"


def test_user_without_phone_is_identified_by_the_business_scoped_id_only() -> None:
    (msg,) = whatsapp.parse(load("user_id_only")).messages
    assert msg.sender.kind is IdentityKind.WHATSAPP_USER and msg.sender.value == "US.13491208655302741918"
    assert all(i.kind is not IdentityKind.PHONE for i in msg.identities)


def test_every_item_of_a_batch_is_parsed() -> None:
    parsed = whatsapp.parse(load("batch"))
    assert [m.provider_message_id for m in parsed.messages] == ["wamid.BATCH0001", "wamid.BATCH0002"]
    assert [m.profile_name for m in parsed.messages] == ["Sheena Nelson", "Kerry Fisher"]
    assert [(s.provider_message_id, s.status) for s in parsed.statuses] == [
        ("wamid.FAKE000001", "delivered"), ("wamid.FAKE000002", "read")]


@pytest.mark.parametrize(("name", "kind"), [("image", MessageKind.IMAGE), ("document", MessageKind.DOCUMENT),
                                            ("location", MessageKind.LOCATION), ("interactive", MessageKind.INTERACTIVE),
                                            ("reaction", MessageKind.REACTION), ("unsupported", MessageKind.UNSUPPORTED)])
def test_other_kinds(name: str, kind: MessageKind) -> None:
    (msg,) = whatsapp.parse(load(name)).messages
    assert msg.kind is kind


def test_failed_status_carries_the_error() -> None:
    (st,) = whatsapp.parse(load("status_failed")).statuses
    assert st.status == "failed" and st.error_code == "131047" and "24 hours" in st.error_message


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"object":"x"}', b'{"object":"whatsapp_business_account"}',
                                  b'{"object":"whatsapp_business_account","entry":[1]}'])
def test_wrong_shapes_are_refused(body: bytes) -> None:
    with pytest.raises(PayloadInvalid):
        whatsapp.parse(body)


def test_window_is_24_hours_from_the_last_inbound_message() -> None:
    last = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert whatsapp.window_open(last, last + timedelta(hours=23, minutes=59))
    assert not whatsapp.window_open(last, last + timedelta(hours=24))
    assert not whatsapp.window_open(None, last)
    assert whatsapp.window_closes_at(last) == last + timedelta(hours=24)


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "code"),
    [
        (400, {"error": {"code": 131047, "message": "Re-engagement message"}}, None, PermanentSendError, "131047"),
        (400, {"error": {"code": 131026, "message": "Message undeliverable"}}, None, PermanentSendError, "131026"),
        (500, {"error": {"code": 1, "message": "unknown"}}, None, RetryableSendError, "1"),
        (503, "down", None, RetryableSendError, "503"),
        (429, {"error": {"code": 130429, "message": "Rate limit"}}, {"Retry-After": "12"}, RateLimited, "130429"),
        (400, {"error": {"code": 131056, "message": "pair rate limit"}}, None, RateLimited, "131056"),
    ],
)
def test_errors_are_classified(status: int, body: object, headers: dict | None, kind: type, code: str) -> None:
    error = whatsapp.classify(_response(status, body, headers))
    assert type(error) is kind and error.code == code
    if headers:
        assert error.retry_after == 12


async def test_send_posts_the_documented_body_with_the_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _response(200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.X"}]})

    async with httpx.AsyncClient(base_url="https://graph.test/v21.0", transport=httpx.MockTransport(handler)) as http:
        client = whatsapp.WhatsAppClient(http, "TOKEN", "106540352242922")
        assert await client.send("16505551234", OutgoingContent(text="hi")) == "wamid.X"
    (request,) = seen
    assert request.url.path == "/v21.0/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer TOKEN"
    assert json.loads(request.content) == {"messaging_product": "whatsapp", "recipient_type": "individual",
                                           "to": "+16505551234", "type": "text",
                                           "text": {"body": "hi", "preview_url": False}}


def test_media_body_uses_a_link() -> None:
    body = whatsapp.message_body("16505551234", OutgoingContent(kind=MessageKind.DOCUMENT, media_url="https://x/a.pdf",
                                                                filename="a.pdf", text="your invoice"))
    assert body["type"] == "document"
    assert body["document"] == {"link": "https://x/a.pdf", "caption": "your invoice", "filename": "a.pdf"}
