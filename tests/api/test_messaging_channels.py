"""Channel configuration: admin only, audited, credentials write-only and encrypted at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from fakes.harness import (  # noqa: F401 - fixtures
    APP_SECRET, CHANNELS, Mx, bot, bot_server, fixture_bytes, graph, graph_server, mx, twilio, twilio_server,
)
from fakes.bot_api import TOKEN as BOT_TOKEN
from fakes.graph_api import TOKEN as GRAPH_TOKEN
from fakes.twilio_api import AUTH_TOKEN
from teleplex.messaging.crypto import CredentialBox
from teleplex.messaging.models import Channel

SECRETS = [GRAPH_TOKEN, APP_SECRET, "whatsapp-verify-token", BOT_TOKEN, "telegram-webhook-secret", AUTH_TOKEN]


async def test_create_shows_which_credentials_are_set_never_their_values(mx: Mx) -> None:
    created = await mx.channel("whatsapp")
    assert created["credentials_set"] == ["access_token", "app_secret", "verify_token"]
    assert created["settings"] == {"phone_number_id": "106540352242922"}
    assert created["webhook_path"] == f"/webhooks/whatsapp/{created['id']}"
    assert created["kind"] == "whatsapp" and created["enabled"] is True
    fetched = await mx.client.get(f"/api/v1/channels/{created['id']}", headers=mx.admin)
    listed = await mx.client.get("/api/v1/channels", headers=mx.admin)
    assert fetched.json() == created and listed.json()["items"] == [created]
    for r in (fetched, listed):
        assert not any(secret in r.text for secret in SECRETS)


async def test_credentials_are_encrypted_in_the_database(mx: Mx) -> None:
    created = await mx.channel("telegram")
    async with mx.db.engine.connect() as conn:
        raw = (await conn.execute(text("SELECT credentials FROM channels WHERE id = :id"), {"id": created["id"]})).scalar_one()
        whole_row = " ".join(str(v) for v in (await conn.execute(text("SELECT * FROM channels"))).one())
    assert BOT_TOKEN not in raw and BOT_TOKEN not in whole_row and "bot_token" not in raw
    assert CredentialBox.from_settings(mx.settings).open(raw) == {"bot_token": BOT_TOKEN,
                                                                 "secret_token": "telegram-webhook-secret"}
    other_key = CredentialBox(b"another key")
    with pytest.raises(Exception, match="cannot be decrypted"):
        other_key.open(raw)


async def test_update_rotates_and_removes_credentials_and_merges_settings(mx: Mx) -> None:
    created = await mx.channel("telegram")
    r = await mx.client.patch(f"/api/v1/channels/{created['id']}", headers=mx.admin, json={
        "credentials": {"secret_token": None, "bot_token": "999:NEW"}, "settings": {"mode": "polling"}})
    assert r.status_code == 200, r.text
    assert r.json()["credentials_set"] == ["bot_token"] and r.json()["settings"] == {"mode": "polling"}
    async with mx.db.session() as session:
        row = await session.get(Channel, created["id"])
    assert CredentialBox.from_settings(mx.settings).open(row.credentials) == {"bot_token": "999:NEW"}
    r = await mx.client.patch(f"/api/v1/channels/{created['id']}", headers=mx.admin, json={"settings": {"mode": None}})
    assert r.json()["settings"] == {}


async def test_changes_are_audited_without_secrets(mx: Mx) -> None:
    created = await mx.channel("sms_twilio")
    await mx.client.patch(f"/api/v1/channels/{created['id']}", headers=mx.admin,
                          json={"credentials": {"auth_token": "rotated-token-value"}})
    await mx.client.delete(f"/api/v1/channels/{created['id']}", headers=mx.admin)
    r = await mx.client.get("/api/v1/audit-log", headers=mx.admin, params={"entity_type": "channel"})
    entries = r.json()["items"]
    assert [e["action"] for e in entries] == ["delete", "update", "create"]
    assert entries[1]["after"]["credentials_changed"] == ["auth_token"]
    assert AUTH_TOKEN not in r.text and "rotated-token-value" not in r.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CHANNELS["whatsapp"], "credentials": {"access_token": "a", "app_secret": "b"}}, "credentials.verify_token"),
        ({**CHANNELS["whatsapp"], "settings": {}}, "settings.phone_number_id"),
        ({**CHANNELS["telegram"], "credentials": {"bot_token": "t", "auth_token": "x"}}, "credentials.auth_token"),
        ({**CHANNELS["telegram"], "settings": {"from_number": "+14155550100"}}, "settings.from_number"),
        ({**CHANNELS["sms_twilio"], "settings": {}}, "settings.from_number"),
        ({**CHANNELS["sms_twilio"], "credentials": {"account_sid": "nope", "auth_token": "x"}}, "credentials.account_sid"),
        ({**CHANNELS["telegram"], "kind": "fax"}, "kind"),
        ({**CHANNELS["telegram"], "name": ""}, "name"),
        ({**CHANNELS["telegram"], "colour": "red"}, "colour"),
        ({**CHANNELS["telegram"], "credentials": {"bot_token": "has space"}}, "credentials.bot_token"),
        ({**CHANNELS["telegram"], "settings": {"mode": "carrier-pigeon"}}, "settings.mode"),
        ({**CHANNELS["telegram"], "settings": {"rate_per_second": 10**30}}, "settings.rate_per_second"),
    ],
)
async def test_invalid_channel_is_422_naming_the_field(mx: Mx, body: dict, field: str) -> None:
    r = await mx.client.post("/api/v1/channels", json=body, headers=mx.admin)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith(field), r.json()


async def test_duplicate_name_is_409(mx: Mx) -> None:
    await mx.channel("telegram")
    r = await mx.client.post("/api/v1/channels", json=CHANNELS["telegram"], headers=mx.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


async def test_a_channel_with_history_cannot_be_deleted_but_can_be_disabled(mx: Mx) -> None:
    created = await mx.channel("telegram")
    await mx.telegram(created["id"], fixture_bytes("telegram", "text"))
    r = await mx.client.delete(f"/api/v1/channels/{created['id']}", headers=mx.admin)
    assert r.status_code == 409 and "disable it" in r.json()["error"]["message"]
    r = await mx.client.patch(f"/api/v1/channels/{created['id']}", json={"enabled": False}, headers=mx.admin)
    assert r.status_code == 200 and r.json()["enabled"] is False


async def test_delete_then_404(mx: Mx) -> None:
    created = await mx.channel("whatsapp")
    assert (await mx.client.delete(f"/api/v1/channels/{created['id']}", headers=mx.admin)).status_code == 204
    assert (await mx.client.get(f"/api/v1/channels/{created['id']}", headers=mx.admin)).status_code == 404
    async with mx.db.session() as session:
        assert (await session.execute(select(Channel))).first() is None


async def test_only_admins_configure_channels_and_read_messages(mx: Mx) -> None:
    created = await mx.channel("telegram")
    for role in ("agent", "supervisor"):
        r = await mx.client.post("/api/v1/users", headers=mx.admin,
                                 json={"username": f"u-{role}", "password": "password-123", "roles": [role]})
        assert r.status_code == 201, r.text
        login = await mx.client.post("/api/v1/auth/token", json={"username": f"u-{role}", "password": "password-123"})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for method, path in (("GET", "/api/v1/channels"), ("GET", f"/api/v1/channels/{created['id']}"),
                             ("PATCH", f"/api/v1/channels/{created['id']}"), ("DELETE", f"/api/v1/channels/{created['id']}"),
                             ("GET", "/api/v1/messages/1")):
            r = await mx.client.request(method, path, headers=headers, json={} if method == "PATCH" else None)
            assert r.status_code == 403, (role, method, path, r.text)
    assert (await mx.client.get("/api/v1/channels")).status_code == 401


async def test_unknown_message_is_404(mx: Mx) -> None:
    r = await mx.client.get("/api/v1/messages/12345", headers=mx.admin)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


async def test_inbound_message_is_readable_through_the_api(mx: Mx) -> None:
    created = await mx.channel("whatsapp")
    await mx.whatsapp(created["id"], fixture_bytes("whatsapp", "text"))
    (message,) = await mx.messages()
    body = (await mx.client.get(f"/api/v1/messages/{message.id}", headers=mx.admin)).json()
    assert body["direction"] == "in" and body["text"] == "Does it come in another color?"
    assert body["delivery"] is None and body["peer"] == "16505551234" and body["status"] == "received"
