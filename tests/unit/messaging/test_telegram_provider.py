"""Telegram Bot API adapter: secret header, update parsing, trusted shared contacts, errors, requests."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from teleplex.messaging.providers import telegram
from teleplex.messaging.providers.base import (
    IdentityKind,
    MessageKind,
    OutgoingContent,
    PayloadInvalid,
    PermanentSendError,
    RateLimited,
    RetryableSendError,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"


def load(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def test_secret_header_compared_exactly() -> None:
    assert telegram.secret_valid("s3cret", "s3cret")
    assert not telegram.secret_valid("s3cret", "s3cre")
    assert not telegram.secret_valid("s3cret", None)
    assert not telegram.secret_valid("", "")  # no secret configured: nothing verifies


def test_text_message_identity_is_from_id() -> None:
    (msg,) = telegram.parse(load("text")).messages
    assert msg.sender.kind is IdentityKind.TELEGRAM and msg.sender.value == "111222333"
    assert msg.provider_message_id == "111222333:41" and msg.profile_name == "Ana Ruiz"
    assert msg.extra["username"] == "anaruiz"


def test_edited_message_is_flagged_with_its_own_key() -> None:
    (msg,) = telegram.parse(load("edited_message")).messages
    assert msg.edited and msg.provider_message_id == "111222333:41:edit:1767603560"


@pytest.mark.parametrize(("name", "trusted"), [("contact_own", True), ("contact_other", False)])
def test_shared_contact_trusted_only_when_its_user_id_is_the_sender(name: str, trusted: bool) -> None:
    (msg,) = telegram.parse(load(name)).messages
    (contact,) = msg.contacts
    assert contact.trusted is trusted


def test_photo_takes_the_largest_size() -> None:
    (msg,) = telegram.parse(load("photo")).messages
    assert msg.media is not None and msg.media.ref == "AgACAgQAAxkBAAMbig" and msg.text == "Mira esto"


def test_update_without_a_message_carries_nothing() -> None:
    assert telegram.parse(b'{"update_id": 5, "my_chat_member": {}}').messages == ()


@pytest.mark.parametrize("body", [b"[]", b'{"update_id": true}', b'{"update_id": 1, "message": {"message_id": 1}}'])
def test_wrong_shapes_are_refused(body: bytes) -> None:
    with pytest.raises(PayloadInvalid):
        telegram.parse(body)


@pytest.mark.parametrize(
    ("status", "body", "kind", "retry_after"),
    [
        (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 35",
               "parameters": {"retry_after": 35}}, RateLimited, 35),
        (403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
         PermanentSendError, None),
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, PermanentSendError, None),
        (502, "Bad Gateway", RetryableSendError, None),
    ],
)
def test_errors_are_classified(status: int, body: object, kind: type, retry_after: float | None) -> None:
    error = telegram.classify(httpx.Response(status, content=json.dumps(body).encode()))
    assert type(error) is kind
    assert getattr(error, "retry_after", None) == retry_after


async def test_send_message_and_set_webhook_requests() -> None:
    seen: list[tuple[str, dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, json.loads(request.content)))
        result = {"message_id": 7, "chat": {"id": 42}} if request.url.path.endswith("sendMessage") else True
        return httpx.Response(200, json={"ok": True, "result": result})

    async with httpx.AsyncClient(base_url="https://tg.test", transport=httpx.MockTransport(handler)) as http:
        client = telegram.TelegramClient(http, "123:ABC")
        assert await client.send("42", OutgoingContent(text="hola")) == "42:7"
        await client.set_webhook("https://cc.example.com/webhooks/telegram/1", "sekrit")
        with pytest.raises(PermanentSendError):
            await client.send("42", OutgoingContent(text="x" * 4097))
    assert seen[0] == ("/bot123:ABC/sendMessage", {"chat_id": "42", "text": "hola"})
    assert seen[1][0] == "/bot123:ABC/setWebhook" and seen[1][1]["secret_token"] == "sekrit"
    assert seen[1][1]["url"] == "https://cc.example.com/webhooks/telegram/1"


async def test_timeout_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with httpx.AsyncClient(base_url="https://tg.test", transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(RetryableSendError, match="timeout"):
            await telegram.TelegramClient(http, "t").send("1", OutgoingContent(text="x"))


def test_kinds_from_fixtures() -> None:
    kinds = {name: telegram.parse(load(name)).messages[0].kind for name in
             ("voice", "document", "location", "callback_query", "poll_unsupported")}
    assert kinds == {"voice": MessageKind.AUDIO, "document": MessageKind.DOCUMENT, "location": MessageKind.LOCATION,
                     "callback_query": MessageKind.INTERACTIVE, "poll_unsupported": MessageKind.UNSUPPORTED}
