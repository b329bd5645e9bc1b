"""Webhooks in: recorded provider payloads replayed through the real HTTP endpoints, one table per provider,
stating what is answered and what is stored; plus signatures, duplicates, batches, bad bodies and recovery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import update

from fakes.harness import (  # noqa: F401 - fixtures
    APP_SECRET, VERIFY_TOKEN, Mx, bot, bot_server, fixture_bytes, graph, graph_server, mx, twilio, twilio_server,
)
from teleplex.messaging.inbox import Delivery, Inbox
from teleplex.messaging.models import InboundEvent, Message
from teleplex.messaging.outbox import enqueue_outgoing
from teleplex.messaging.providers.base import OutgoingContent

# --- WhatsApp ----------------------------------------------------------------------------------------------

WHATSAPP_TABLE: list[tuple[str, list[dict[str, Any]]]] = [
    ("text", [{"kind": "text", "peer_kind": "whatsapp", "peer": "16505551234", "text": "Does it come in another color?",
               "provider_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="}]),
    ("image", [{"kind": "image", "text": "This is the one", "media_ref": "1003383421387256", "media_mime": "image/jpeg"}]),
    ("document", [{"kind": "document", "media_ref": "2003383421387256", "media_mime": "application/pdf"}]),
    ("location", [{"kind": "location"}]),
    ("interactive", [{"kind": "interactive", "text": "Change"}]),
    ("reaction", [{"kind": "reaction", "text": "\U0001f44d"}]),
    ("unsupported", [{"kind": "unsupported"}]),
    # A user with a username and no phone: stored under the business-scoped id, no phone invented.
    ("user_id_only", [{"kind": "text", "peer_kind": "whatsapp_user", "peer": "US.13491208655302741918",
                       "text": "hola, sin numero"}]),
]


@pytest.mark.parametrize(("name", "expected"), WHATSAPP_TABLE, ids=[n for n, _ in WHATSAPP_TABLE])
async def test_whatsapp_payload_is_answered_200_and_stored(mx: Mx, name: str, expected: list[dict[str, Any]]) -> None:
    channel = await mx.channel("whatsapp")
    r = await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", name))
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": True, "duplicate": False}
    stored = await mx.messages()
    assert len(stored) == len(expected)
    for message, want in zip(stored, expected, strict=True):
        assert message.direction == "in" and message.status == "received" and message.channel_id == channel["id"]
        for field, value in want.items():
            assert getattr(message, field) == value, field
    events = await mx.events()
    assert len(events) == 1 and events[0].processed_at is not None and events[0].body == fixture_bytes("whatsapp", name)


async def test_whatsapp_location_and_reply_details_are_kept(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "location"))
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "interactive"))
    location, interactive = await mx.messages()
    assert location.data["location"]["latitude"] == pytest.approx(37.483253479003906)
    assert location.data["location"]["name"] == "Main Campus"
    assert interactive.data["reply_to"] == "wamid.OUT0001"
    assert interactive.data["extra"]["reply_id"] == "change-button"


async def test_whatsapp_phone_identity_lists_both_wa_id_and_e164(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    (message,) = await mx.messages()
    assert message.data["identities"] == [{"kind": "whatsapp", "value": "16505551234"},
                                          {"kind": "phone", "value": "+16505551234"}]
    assert message.data["profile_name"] == "Sheena Nelson"


async def test_whatsapp_media_is_downloaded_into_the_media_folder(mx: Mx) -> None:
    mx.graph.media["1003383421387256"] = (b"\xff\xd8\xff fake jpeg", "image/jpeg")
    channel = await mx.channel("whatsapp")
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "image"))
    (message,) = await mx.messages()
    assert message.media_path is not None
    assert (mx.settings.var_dir / "media" / message.media_path).read_bytes() == b"\xff\xd8\xff fake jpeg"
    lookups = [q for q in mx.graph.requests if q["path"] == "/1003383421387256"]
    assert lookups and lookups[0]["headers"]["authorization"] == "Bearer EAAG-test-access-token"


@pytest.mark.parametrize(
    ("signature", "status", "code"),
    [(None, 401, "signature_missing"), ("sha256=" + "0" * 64, 403, "signature_invalid"),
     ("sha1=abc", 403, "signature_invalid"), ("garbage", 403, "signature_invalid")],
)
async def test_whatsapp_bad_signature_is_refused_and_nothing_stored(mx: Mx, signature: str | None, status: int, code: str) -> None:
    channel = await mx.channel("whatsapp")
    r = await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"), signature=signature)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code
    assert await mx.count(InboundEvent) == 0 and await mx.count(Message) == 0


async def test_whatsapp_signature_over_other_bytes_is_refused(mx: Mx) -> None:
    """The same JSON re-serialized is not what Meta signed: verification is on the raw bytes."""
    channel = await mx.channel("whatsapp")
    raw = fixture_bytes("whatsapp", "text")
    from teleplex.messaging.providers import whatsapp

    reformatted = json.dumps(json.loads(raw)).encode()
    r = await mx.client.post(f"/webhooks/whatsapp/{channel['id']}", content=reformatted,
                             headers={"x-hub-signature-256": whatsapp.sign(APP_SECRET, raw)})
    assert r.status_code == 403
    assert await mx.count(InboundEvent) == 0


async def test_whatsapp_duplicate_delivery_changes_nothing(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    body = fixture_bytes("whatsapp", "batch")
    first = await mx.whatsapp(channel["id"], body)
    before = [(m.id, m.provider_message_id, m.status) for m in await mx.messages()]
    second = await mx.whatsapp(channel["id"], body)
    assert first.status_code == second.status_code == 200
    assert second.json() == {"ok": True, "duplicate": True}
    assert [(m.id, m.provider_message_id, m.status) for m in await mx.messages()] == before
    assert await mx.count(InboundEvent) == 1


async def test_whatsapp_same_message_in_a_different_delivery_is_stored_once(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    body = fixture_bytes("whatsapp", "text")
    await mx.whatsapp(channel["id"], body)
    await mx.whatsapp(channel["id"], json.dumps(json.loads(body)).encode())  # other bytes, same wamid
    assert await mx.count(InboundEvent) == 2
    assert await mx.count(Message) == 1


async def test_whatsapp_handshake_echoes_the_challenge_only_for_our_token(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    ok = await mx.client.get(f"/webhooks/whatsapp/{channel['id']}",
                             params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = await mx.client.get(f"/webhooks/whatsapp/{channel['id']}",
                              params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1158201444"})
    assert bad.status_code == 403 and bad.json()["error"]["code"] == "signature_invalid"
    missing = await mx.client.get(f"/webhooks/whatsapp/{channel['id']}")
    assert missing.status_code == 403


async def test_batch_of_statuses_and_messages_is_processed_item_by_item(mx: Mx) -> None:
    """A batch carries two messages and two statuses for two messages we sent: all four take effect."""
    channel = await mx.channel("whatsapp")
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))  # opens the 24-hour window
    async with mx.db.session() as session:
        first = await enqueue_outgoing(session, mx.clock, channel["id"], "16505551234", OutgoingContent(text="one"))
        second = await enqueue_outgoing(session, mx.clock, channel["id"], "16505551234", OutgoingContent(text="two"))
        first.provider_message_id, second.provider_message_id = "wamid.FAKE000001", "wamid.FAKE000002"
        first.status = second.status = "sent"
    r = await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "batch"))
    assert r.status_code == 200
    by_id = {m.provider_message_id: m for m in await mx.messages()}
    assert by_id["wamid.FAKE000001"].status == "delivered"
    assert by_id["wamid.FAKE000002"].status == "read"
    assert by_id["wamid.BATCH0001"].text == "first" and by_id["wamid.BATCH0002"].text == "second"


async def test_statuses_out_of_order_only_move_forward(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    async with mx.db.session() as session:
        message = await enqueue_outgoing(session, mx.clock, channel["id"], "16505551234", OutgoingContent(text="hi"))
        message.provider_message_id = "wamid.FAKE000001"
    statuses = []
    for name in ("status_read", "status_sent", "status_delivered", "status_failed"):
        await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", name))
        statuses.append(next(m.status for m in await mx.messages() if m.provider_message_id == "wamid.FAKE000001"))
    assert statuses == ["read", "read", "read", "read"]


async def test_failed_status_keeps_the_provider_error_until_delivery_proves_otherwise(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    async with mx.db.session() as session:
        message = await enqueue_outgoing(session, mx.clock, channel["id"], "16505551234", OutgoingContent(text="hi"))
        message.provider_message_id = "wamid.FAKE000001"
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "status_sent"))
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "status_failed"))
    failed = (await mx.client.get(f"/api/v1/messages/{message.id}", headers=mx.admin)).json()
    assert failed["status"] == "failed" and failed["error_code"] == "131047"
    assert "24 hours" in failed["error_message"]
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "status_delivered"))
    later = (await mx.client.get(f"/api/v1/messages/{message.id}", headers=mx.admin)).json()
    assert later["status"] == "delivered" and later["error_code"] is None


async def test_status_for_a_message_not_recorded_yet_waits_then_applies(mx: Mx) -> None:
    """A delivery report can overtake our own commit of the provider id: the event is retried, not lost."""
    channel = await mx.channel("whatsapp")
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "status_delivered"))
    status_event = (await mx.events())[-1]
    assert status_event.processed_at is None and "unknown message" in status_event.last_error
    async with mx.db.session() as session:
        message = await enqueue_outgoing(session, mx.clock, channel["id"], "16505551234", OutgoingContent(text="hi"))
        message.provider_message_id = "wamid.FAKE000001"
    assert await mx.runtime.processor.recover() >= 1
    assert next(m for m in await mx.messages() if m.id == message.id).status == "delivered"


# --- Telegram ----------------------------------------------------------------------------------------------

TELEGRAM_TABLE: list[tuple[str, dict[str, Any]]] = [
    ("text", {"kind": "text", "peer_kind": "telegram", "peer": "111222333", "text": "Hola, necesito ayuda",
              "provider_message_id": "111222333:41"}),
    ("photo", {"kind": "image", "media_ref": "AgACAgQAAxkBAAMbig", "text": "Mira esto"}),  # the largest size
    ("voice", {"kind": "audio", "media_ref": "AwACAgQAAxkBAAMvoice", "media_mime": "audio/ogg"}),
    ("document", {"kind": "document", "media_ref": "BQACAgQAAxkBAAMdoc"}),
    ("edited_message", {"kind": "text", "text": "Hola, necesito ayuda urgente",
                        "provider_message_id": "111222333:41:edit:1767603560"}),
    ("location", {"kind": "location"}),
    ("callback_query", {"kind": "interactive", "text": "yes", "provider_message_id": "callback:4382bfdwdsb323b2d9"}),
    ("contact_own", {"kind": "contacts"}),
    ("contact_other", {"kind": "contacts"}),
    ("poll_unsupported", {"kind": "unsupported"}),
]


@pytest.mark.parametrize(("name", "expected"), TELEGRAM_TABLE, ids=[n for n, _ in TELEGRAM_TABLE])
async def test_telegram_update_is_answered_200_and_stored(mx: Mx, name: str, expected: dict[str, Any]) -> None:
    channel = await mx.channel("telegram")
    r = await mx.telegram(channel["id"], fixture_bytes("telegram", name))
    assert r.status_code == 200, r.text
    (message,) = await mx.messages()
    for field, value in expected.items():
        assert getattr(message, field) == value, field
    (event,) = await mx.events()
    assert event.provider_event_id == str(json.loads(fixture_bytes("telegram", name))["update_id"])


async def test_telegram_edit_is_marked_and_kept_beside_the_original(mx: Mx) -> None:
    channel = await mx.channel("telegram")
    await mx.telegram(channel["id"], fixture_bytes("telegram", "text"))
    await mx.telegram(channel["id"], fixture_bytes("telegram", "edited_message"))
    original, edit = await mx.messages()
    assert original.data.get("edited") is None and edit.data["edited"] is True


@pytest.mark.parametrize(("name", "trusted"), [("contact_own", True), ("contact_other", False)])
async def test_telegram_shared_contact_is_trusted_only_when_it_is_the_senders_own(mx: Mx, name: str, trusted: bool) -> None:
    channel = await mx.channel("telegram")
    await mx.telegram(channel["id"], fixture_bytes("telegram", name))
    (message,) = await mx.messages()
    (contact,) = message.data["contacts"]
    assert contact["trusted"] is trusted


async def test_telegram_photo_is_fetched_with_get_file(mx: Mx) -> None:
    mx.bot.files["AgACAgQAAxkBAAMbig"] = ("photos/file_7.jpg", b"jpeg bytes")
    channel = await mx.channel("telegram")
    await mx.telegram(channel["id"], fixture_bytes("telegram", "photo"))
    (message,) = await mx.messages()
    assert (mx.settings.var_dir / "media" / message.media_path).read_bytes() == b"jpeg bytes"
    assert any(q["body"].get("method") == "getFile" for q in mx.bot.requests if isinstance(q["body"], dict))


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("wrong-secret", 403), ("", 403)])
async def test_telegram_wrong_secret_is_refused_and_nothing_stored(mx: Mx, secret: str | None, status: int) -> None:
    channel = await mx.channel("telegram")
    r = await mx.telegram(channel["id"], fixture_bytes("telegram", "text"), secret=secret)
    assert r.status_code == status
    assert await mx.count(InboundEvent) == 0 and await mx.count(Message) == 0


async def test_telegram_duplicate_update_changes_nothing(mx: Mx) -> None:
    channel = await mx.channel("telegram")
    body = fixture_bytes("telegram", "text")
    assert (await mx.telegram(channel["id"], body)).json()["duplicate"] is False
    assert (await mx.telegram(channel["id"], body)).json()["duplicate"] is True
    assert await mx.count(InboundEvent) == 1 and await mx.count(Message) == 1


async def test_telegram_webhook_is_refused_for_a_polling_channel(mx: Mx) -> None:
    channel = await mx.channel("telegram", settings={"mode": "polling"})
    r = await mx.telegram(channel["id"], fixture_bytes("telegram", "text"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_mode"
    assert await mx.count(InboundEvent) == 0


# --- Twilio ------------------------------------------------------------------------------------------------

TWILIO_TABLE: list[tuple[str, dict[str, Any]]] = [
    ("sms_inbound", {"kind": "text", "peer_kind": "phone", "peer": "+14155550199", "text": "Hi, is my order shipped?",
                     "provider_message_id": "SM1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", "keyword": None}),
    ("mms_inbound", {"kind": "image", "media_mime": "image/jpeg", "text": "photo of the damage"}),
    ("stop", {"kind": "text", "text": "STOP", "keyword": "stop"}),
    ("start", {"kind": "text", "text": "start", "keyword": "start"}),
]


@pytest.mark.parametrize(("name", "expected"), TWILIO_TABLE, ids=[n for n, _ in TWILIO_TABLE])
async def test_twilio_inbound_is_answered_with_empty_twiml_and_stored(mx: Mx, name: str, expected: dict[str, Any]) -> None:
    channel = await mx.channel("sms_twilio")
    r = await mx.twilio_post(channel["id"], fixture_bytes("twilio", name))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml") and "<Response></Response>" in r.text
    (message,) = await mx.messages()
    for field, value in expected.items():
        assert getattr(message, field) == value, field


@pytest.mark.parametrize(("signature", "token", "status"), [(None, "", 401), ("bm90IGl0", "", 403),
                                                            ("valid", "another-accounts-token", 403)])
async def test_twilio_bad_signature_is_refused_and_nothing_stored(
    mx: Mx, signature: str | None, token: str, status: int
) -> None:
    channel = await mx.channel("sms_twilio")
    kwargs = {"token": token} if token else {}
    r = await mx.twilio_post(channel["id"], fixture_bytes("twilio", "sms_inbound"), signature=signature, **kwargs)
    assert r.status_code == status
    assert await mx.count(InboundEvent) == 0


async def test_twilio_signature_uses_the_public_url_behind_a_proxy(mx: Mx) -> None:
    from twilio.request_validator import RequestValidator
    from urllib.parse import parse_qsl

    channel = await mx.channel("sms_twilio", settings={"from_number": "+14155550100", "public_url": "https://cc.example.com"})
    body = fixture_bytes("twilio", "sms_inbound")
    path = f"/webhooks/twilio/{channel['id']}"
    signature = RequestValidator("twilio-test-auth-token").compute_signature(
        "https://cc.example.com" + path, dict(parse_qsl(body.decode(), keep_blank_values=True)))
    r = await mx.client.post(path, content=body, headers={"X-Twilio-Signature": signature,
                                                          "content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    await mx.runtime.processor.drain()
    assert await mx.count(Message) == 1


async def test_twilio_status_callbacks_move_the_message_forward(mx: Mx) -> None:
    channel = await mx.channel("sms_twilio")
    async with mx.db.session() as session:
        message = await enqueue_outgoing(session, mx.clock, channel["id"], "+14155550199", OutgoingContent(text="hi"))
        message.provider_message_id = "SM00000000000000000000000000000001"
    for name in ("status_delivered", "status_sent", "status_delivered"):
        r = await mx.twilio_post(channel["id"], fixture_bytes("twilio", name), status=True)
        assert r.status_code == 204
    assert (await mx.client.get(f"/api/v1/messages/{message.id}", headers=mx.admin)).json()["status"] == "delivered"
    assert await mx.count(InboundEvent) == 2  # the repeated "delivered" was a duplicate


async def test_twilio_undelivered_keeps_the_error_code(mx: Mx) -> None:
    channel = await mx.channel("sms_twilio")
    async with mx.db.session() as session:
        message = await enqueue_outgoing(session, mx.clock, channel["id"], "+14155550199", OutgoingContent(text="hi"))
        message.provider_message_id = "SM00000000000000000000000000000001"
    await mx.twilio_post(channel["id"], fixture_bytes("twilio", "status_undelivered"), status=True)
    body = (await mx.client.get(f"/api/v1/messages/{message.id}", headers=mx.admin)).json()
    assert body["status"] == "failed" and body["error_code"] == "30003"


# --- every provider: channels, bodies, recovery -----------------------------------------------------------


async def test_unknown_or_disabled_channel_stores_nothing(mx: Mx) -> None:
    channel = await mx.channel("whatsapp")
    body = fixture_bytes("whatsapp", "text")
    assert (await mx.whatsapp(9999, body)).status_code == 404
    assert (await mx.telegram(channel["id"], fixture_bytes("telegram", "text"))).status_code == 404  # wrong kind
    await mx.client.patch(f"/api/v1/channels/{channel['id']}", json={"enabled": False}, headers=mx.admin)
    disabled = await mx.whatsapp(channel["id"], body)
    assert disabled.status_code == 503 and disabled.json()["error"]["code"] == "unavailable"
    assert await mx.count(InboundEvent) == 0


MALFORMED_WHATSAPP = [b"", b"not json", b"[]", b"{}", b'{"object":"page","entry":[]}',
                      b'{"object":"whatsapp_business_account","entry":{}}',
                      b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text"}]}}]}]}',
                      b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"w","type":"text","text":{"body":"x"}}]}}]}]}',
                      b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"w"}]}}]}]}',
                      b'{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"id":"w","from":"1","timestamp":"x"}]}}]}]}',
                      b"\xff\xfe\x00garbage"]


@pytest.mark.parametrize("body", MALFORMED_WHATSAPP)
async def test_malformed_but_signed_whatsapp_body_is_4xx_and_stores_nothing(mx: Mx, body: bytes) -> None:
    channel = await mx.channel("whatsapp")
    r = await mx.whatsapp(channel["id"], body)
    assert r.status_code == 422, r.text
    assert set(r.json()["error"]) - {"reason"} == {"code", "message", "details"}
    assert await mx.count(InboundEvent) == 0


MALFORMED_TELEGRAM = [b"", b"null", b'{"update_id": -1}', b'{"update_id": "7"}', b'{"update_id": 1, "message": "hi"}',
                      b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1}, "from": {"id": "x"}, "text": "a"}}',
                      b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1}, "from": {"id": 5}, "text": "\\u0000"}}']


@pytest.mark.parametrize("body", MALFORMED_TELEGRAM)
async def test_malformed_telegram_update_is_4xx_and_stores_nothing(mx: Mx, body: bytes) -> None:
    channel = await mx.channel("telegram")
    r = await mx.telegram(channel["id"], body)
    assert r.status_code == 422, r.text
    assert await mx.count(InboundEvent) == 0


@pytest.mark.parametrize("body", [b"", b"MessageSid=SM1", b"From=%2B1&Body=x", b"%zz=1&&&", b"MessageSid=SM1&From=%2B1&NumMedia=x"])
async def test_malformed_twilio_form_is_4xx_and_stores_nothing(mx: Mx, body: bytes) -> None:
    channel = await mx.channel("sms_twilio")
    r = await mx.twilio_post(channel["id"], body)
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()["error"]) - {"reason"} == {"code", "message", "details"}
    assert await mx.count(InboundEvent) == 0


async def test_oversized_body_is_413(mx: Mx) -> None:
    channel = await mx.channel("telegram")
    r = await mx.telegram(channel["id"], b'{"update_id": 1, "pad": "' + b"x" * (1024 * 1024) + b'"}')
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


async def test_crash_between_persist_and_process_is_recovered_at_start(mx: Mx) -> None:
    """Stored but never processed (the process died after answering 200): the next start processes it,
    and processing it again later changes nothing."""
    channel = await mx.channel("whatsapp")
    body = fixture_bytes("whatsapp", "batch")
    event_id, created = await Inbox(mx.db, mx.clock).store(Delivery(channel["id"], "message", "sha256:crash", body))
    assert created and await mx.count(Message) == 0
    await mx.runtime.start()
    try:
        assert [m.provider_message_id for m in await mx.messages()] == ["wamid.BATCH0001", "wamid.BATCH0002"]
    finally:
        await mx.runtime.stop()
    async with mx.db.session() as session:  # as if a second worker had also picked it up
        await session.execute(update(InboundEvent).where(InboundEvent.id == event_id).values(processed_at=None))
    await mx.runtime.processor.process(event_id)
    assert await mx.count(Message) == 2


async def test_a_failing_sink_leaves_the_event_for_a_retry_and_stores_no_half(mx: Mx) -> None:
    """The sink runs in the message's transaction: when it fails, neither the message nor its effect stays."""
    calls: list[str] = []

    class Flaky:
        async def place(self, *args: object) -> None:
            return None

        async def received(self, session, channel, message, inbound):  # noqa: ANN001
            calls.append(inbound.provider_message_id)
            if len(calls) == 1:
                raise RuntimeError("router unavailable")

        async def status_changed(self, session, channel, message, update):  # noqa: ANN001
            return None

    mx.app.state.message_sink = Flaky()
    channel = await mx.channel("whatsapp")
    r = await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    assert r.status_code == 200
    assert await mx.count(Message) == 0
    (event,) = await mx.events()
    assert event.processed_at is None and event.attempts == 1 and "router unavailable" in event.last_error
    await mx.runtime.processor.recover()
    assert await mx.count(Message) == 1 and len(calls) == 2


async def test_the_sink_receives_each_message_once_with_its_normalized_form(mx: Mx) -> None:
    seen: list[tuple[int, str, str]] = []

    class Recorder:
        async def place(self, *args: object) -> None:
            return None

        async def received(self, session, channel, message, inbound):  # noqa: ANN001
            seen.append((message.id, inbound.sender.kind.value, inbound.sender.value))

        async def status_changed(self, session, channel, message, update):  # noqa: ANN001
            return None

    mx.app.state.message_sink = Recorder()
    channel = await mx.channel("whatsapp")
    for _ in range(2):
        await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "user_id_only"))
    assert [(kind, value) for _, kind, value in seen] == [("whatsapp_user", "US.13491208655302741918")]


@hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(doc=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["object", "entry", "changes", "value", "messages", "statuses", "id", "from", "type", "text",
                         "body", "timestamp", "update_id", "message", "message_id", "chat", "contact", "photo",
                         "MessageSid", "From", "Body", "NumMedia", "MediaUrl0", "MessageStatus", "ErrorCode"]),
        children, max_size=5),
    max_leaves=20))
def signed_random_json_never_gets_a_5xx(doc: Any) -> None:
    """Fuzz the webhooks with signed bodies of any shape: 200 or a 4xx in the one error shape, never a 5xx."""
    import asyncio

    from fakes.harness import BASE_URL  # noqa: F401

    raw = json.dumps(doc).encode()
    responses = asyncio.run_coroutine_threadsafe(_fuzz_once(raw), _FUZZ["loop"]).result()
    for r in responses:
        assert r.status_code < 500, (raw, r.text)
        if r.status_code >= 400:
            assert set(r.json()["error"]) - {"reason"} == {"code", "message", "details"}


_FUZZ: dict[str, Any] = {}


async def _fuzz_once(raw: bytes) -> list[Any]:
    from urllib.parse import urlencode

    mx: Mx = _FUZZ["mx"]
    wa, tg, sms = _FUZZ["channels"]
    doc = json.loads(raw)
    form = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
    form_body = urlencode({k.replace("\x00", ""): v.replace("\x00", "") for k, v in form.items()}).encode()
    return [await mx.whatsapp(wa, raw), await mx.telegram(tg, raw),
            await mx.twilio_post(sms, form_body), await mx.twilio_post(sms, form_body, status=True)]


async def test_webhooks_survive_fuzzing(mx: Mx) -> None:
    import asyncio

    _FUZZ.update(mx=mx, loop=asyncio.get_running_loop(),
                 channels=((await mx.channel("whatsapp"))["id"], (await mx.channel("telegram"))["id"],
                           (await mx.channel("sms_twilio"))["id"]))
    await asyncio.to_thread(signed_random_json_never_gets_a_5xx)


async def test_twilio_mms_media_is_fetched_from_the_twilio_api_only(mx: Mx) -> None:
    from urllib.parse import urlencode, parse_qsl

    mx.twilio.media["ME" + "d" * 32] = (b"png bytes", "image/png")
    channel = await mx.channel("sms_twilio")
    params = dict(parse_qsl(fixture_bytes("twilio", "mms_inbound").decode(), keep_blank_values=True))
    params["MediaUrl0"] = params["MediaUrl0"].replace("https://api.twilio.com", mx.twilio.base_url)
    await mx.twilio_post(channel["id"], urlencode(params).encode())
    params.update(MessageSid="MM" + "9" * 32, MediaUrl0="http://127.0.0.1:9/elsewhere.png")  # not Twilio's host
    await mx.twilio_post(channel["id"], urlencode(params).encode())
    fetched, foreign = await mx.messages()
    assert (mx.settings.var_dir / "media" / fetched.media_path).read_bytes() == b"png bytes"
    assert fetched.media_mime == "image/png"
    assert foreign.media_path is None and foreign.media_ref == "http://127.0.0.1:9/elsewhere.png"


async def test_odd_but_valid_updates_are_stored_on_every_database(mx: Mx) -> None:
    """Keys with NUL or lone surrogates in parts we do not read must not break processing (PostgreSQL's
    JSON and text refuse them): only what we understand is copied out of the raw body."""
    channel = await mx.channel("telegram")
    body = (b'{"update_id": 77, "message": {"message_id": 3, "chat": {"id": 5, "type": "private"}, '
            b'"from": {"id": 5, "first_name": "A"}, "date": 1767603500, "we\\u0000ird": 1, "\\ud800": {"x": "\\u0000"}}}')
    r = await mx.telegram(channel["id"], body)
    assert r.status_code == 200, r.text
    (event,) = await mx.events()
    assert event.processed_at is not None, event.last_error
    (message,) = await mx.messages()
    assert message.kind == "unsupported" and message.data["extra"]["keys"] == ["date", "message_id"]


async def test_a_database_outage_answers_503_and_the_providers_retry_is_stored_once(mx: Mx, monkeypatch) -> None:
    """The provider hears "come back" (503, Retry-After), never a 500; its retry lands, exactly once."""
    from sqlalchemy.exc import OperationalError

    channel = await mx.channel("whatsapp")
    body = fixture_bytes("whatsapp", "text")

    async def down(batch):  # noqa: ANN001, ANN202
        raise OperationalError("INSERT INTO inbound_events", {}, Exception("could not connect to server"))

    monkeypatch.setattr(mx.runtime.inbox, "_write", down)
    r = await mx.whatsapp(channel["id"], body)
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "database_unavailable"
    monkeypatch.undo()
    assert await mx.count(InboundEvent) == 0
    assert (await mx.whatsapp(channel["id"], body)).status_code == 200
    assert (await mx.whatsapp(channel["id"], body)).status_code == 200
    assert await mx.count(InboundEvent) == 1 and len(await mx.messages()) == 1
