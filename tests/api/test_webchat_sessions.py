"""Web chat over HTTP: widget configuration, CORS per widget, session tokens, identity verification, and
bad input answered 4xx with the one error shape."""

from __future__ import annotations

import json

import pytest
from test_webchat_support import ORIGIN, WIDGET_SECRET, Wc, recv, wc  # noqa: F401 - fixture
from websockets.exceptions import ConnectionClosed

from teleplex.messaging.webchat import tokens

# --- tokens: pure ---------------------------------------------------------------------------------------------


def test_a_token_verifies_with_its_key_until_it_expires() -> None:
    claims = tokens.Claims(widget_id=3, visitor_id=7, origin=ORIGIN, expires=1_000)
    token = tokens.sign("key-one", claims)
    assert tokens.verify("key-one", token, now=999) == claims
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify("key-one", token, now=1_000)
    with pytest.raises(tokens.TokenError, match="signature"):
        tokens.verify("key-two", token, now=999)


@pytest.mark.parametrize("token", ["", "wc1", "wc1.x.y", "wc2.e30.AAAA", "wc1.e30.AAAA", "a.b.c.d", "wc1.!!.??"])
def test_malformed_tokens_are_refused_with_a_reason(token: str) -> None:
    with pytest.raises(tokens.TokenError):
        tokens.verify("key", token, now=0)


def test_a_forged_payload_breaks_the_signature() -> None:
    token = tokens.sign("key", tokens.Claims(1, 1, "", 10_000))
    prefix, _, mac = token.split(".")
    forged_body = tokens.sign("other", tokens.Claims(1, 2, "", 10_000)).split(".")[1]
    with pytest.raises(tokens.TokenError, match="signature"):
        tokens.verify("key", f"{prefix}.{forged_body}.{mac}", now=0)


def test_identity_hash_is_hex_hmac_sha256_of_the_identifier() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"customer-42", hashlib.sha256).hexdigest()
    assert tokens.identity_hash("s3cret", "customer-42") == expected
    assert tokens.identity_valid("s3cret", "customer-42", expected.upper())
    assert not tokens.identity_valid("s3cret", "customer-43", expected)
    assert not tokens.identity_valid("", "customer-42", tokens.identity_hash("", "customer-42"))


# --- configuration -------------------------------------------------------------------------------------------


async def test_widget_configuration_gives_the_embed_snippet(wc: Wc) -> None:
    r = await wc.http.get(f"/api/v1/channels/{wc.channel_id}/webchat", headers=wc.admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["allowed_origins"] == [ORIGIN] and body["identity_verification"] is True
    assert f'data-channel="{wc.public_key}"' in body["snippet"] and "/widget.js" in body["snippet"]
    assert WIDGET_SECRET not in r.text


async def test_only_webchat_channels_have_a_widget(wc: Wc) -> None:
    r = await wc.http.post("/api/v1/channels", headers=wc.admin, json={
        "kind": "telegram", "name": "Bot", "credentials": {"bot_token": "123:abc"}})
    assert r.status_code == 201, r.text
    r = await wc.http.put(f"/api/v1/channels/{r.json()['id']}/webchat", headers=wc.admin, json={})
    assert r.status_code == 404 and r.json()["error"]["code"] == "widget_not_found"
    r = await wc.http.post("/api/v1/channels", headers=wc.admin, json={"kind": "webchat", "name": "Second"})
    r = await wc.http.get(f"/api/v1/channels/{r.json()['id']}/webchat", headers=wc.admin)
    assert r.status_code == 404 and "PUT its configuration" in r.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    {"allowed_origins": ["shop.example"]}, {"allowed_origins": ["https://shop.example/path"]},
    {"allowed_origins": "https://shop.example"}, {"title": ""}, {"prechat": "yes"}, {"unknown": 1},
    {"allowed_origins": ["https://\x00.example"]},
])
async def test_bad_widget_configuration_is_refused(wc: Wc, body: dict) -> None:
    r = await wc.http.put(f"/api/v1/channels/{wc.channel_id}/webchat", headers=wc.admin, json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"


async def test_widget_configuration_needs_permission(wc: Wc) -> None:
    r = await wc.http.put(f"/api/v1/channels/{wc.channel_id}/webchat", json={})
    assert r.status_code == 401


async def test_widget_js_is_served_to_any_site(wc: Wc) -> None:
    r = await wc.http.get("/widget.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "data-channel" in r.text and "/webchat/v1/ws" in r.text


# --- CORS ------------------------------------------------------------------------------------------------------


async def _preflight(wc: Wc, origin: str, ref: str | None = None):
    return await wc.http.options(f"/webchat/v1/widgets/{ref or wc.public_key}/session", headers={
        "origin": origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type"})


async def test_preflight_from_an_allowed_origin_echoes_it_without_credentials(wc: Wc) -> None:
    r = await _preflight(wc, ORIGIN)
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in r.headers
    assert "Origin" in r.headers["vary"]


@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", "https://shop.example:8443", "null"])
async def test_preflight_from_another_origin_gets_no_cors_headers(wc: Wc, origin: str) -> None:
    r = await _preflight(wc, origin)
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in r.headers


async def test_session_from_a_disallowed_origin_is_refused(wc: Wc) -> None:
    r = await wc.session({}, origin="https://evil.example")
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in r.headers


async def test_session_answers_carry_cors_headers_and_set_no_cookie(wc: Wc) -> None:
    r = await wc.session({"name": "Ada", "email": "ada@example.org"})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "set-cookie" not in r.headers
    body = r.json()
    assert body["visitor_id"].startswith("v_") and body["visitor_key"] and body["verified"] is False
    assert body["name"] == "Ada" and body["websocket_path"] == "/webchat/v1/ws" and body["title"] == "Shop help"
    bad = await wc.session({"email": "not-an-email"})  # an error the widget can read too
    assert bad.status_code == 422 and bad.headers["access-control-allow-origin"] == ORIGIN


async def test_the_widget_answers_to_its_channel_id_too(wc: Wc) -> None:
    r = await wc.session({}, ref=str(wc.channel_id))
    assert r.status_code == 200, r.text
    for ref in ("999999", "wk_nope", "x" * 40, "%00"):
        r = await wc.session({}, ref=ref)
        assert r.status_code == 404 and r.json()["error"]["code"] == "widget_not_found"


async def test_a_disabled_channel_refuses_sessions(wc: Wc) -> None:
    await wc.http.patch(f"/api/v1/channels/{wc.channel_id}", headers=wc.admin, json={"enabled": False})
    r = await wc.session({})
    assert r.status_code == 503 and r.json()["error"]["code"] == "widget_disabled"


# --- visitors -----------------------------------------------------------------------------------------------


async def test_a_visitor_resumes_with_its_key_only(wc: Wc) -> None:
    first = await wc.visitor({})
    again = await wc.visitor({"visitor_id": first["visitor_id"], "visitor_key": first["visitor_key"], "name": "Bo"})
    assert again["visitor_id"] == first["visitor_id"] and again["visitor_key"] is None and again["name"] == "Bo"
    r = await wc.session({"visitor_id": first["visitor_id"], "visitor_key": "x" * 32})
    assert r.status_code == 403 and r.json()["error"]["code"] == "visitor_key_invalid"
    r = await wc.session({"visitor_id": first["visitor_id"]})
    assert r.status_code == 403


async def test_a_valid_identity_hash_links_the_identifier_across_browsers(wc: Wc) -> None:
    proof = {"identifier": "customer-42", "identifier_hash": tokens.identity_hash(WIDGET_SECRET, "customer-42")}
    one = await wc.visitor(proof)
    two = await wc.visitor(proof)
    assert one["verified"] is True and one["visitor_id"] == two["visitor_id"]
    assert WIDGET_SECRET not in json.dumps(one)


@pytest.mark.parametrize("proof", [
    {"identifier": "customer-42", "identifier_hash": "0" * 64},
    {"identifier": "customer-43", "identifier_hash": tokens.identity_hash(WIDGET_SECRET, "customer-42")},
    {"identifier": "customer-42", "identifier_hash": tokens.identity_hash("another secret", "customer-42")},
])
async def test_an_invalid_identity_hash_is_refused(wc: Wc, proof: dict) -> None:
    r = await wc.session(proof)
    assert r.status_code == 403 and r.json()["error"]["code"] == "identity_invalid"


async def test_identity_without_a_configured_secret_is_refused(wc: Wc) -> None:
    await wc.http.patch(f"/api/v1/channels/{wc.channel_id}", headers=wc.admin,
                        json={"credentials": {"widget_secret": None}})
    r = await wc.session({"identifier": "c", "identifier_hash": tokens.identity_hash(WIDGET_SECRET, "c")})
    assert r.status_code == 403 and "not configured" in r.json()["error"]["message"]


@pytest.mark.parametrize("raw", [
    b"not json", b"[]", b"null", b'{"unknown": 1}', b'{"name": ""}', b'{"name": "a\\u0000b"}',
    b'{"identifier": "only-half"}', b'{"identifier_hash": "zz"}', b'{"visitor_id": "v_short"}',
    b'{"email": 5}', b'{"name": "' + b"x" * 5000 + b'"}', b'{"name": "\\ud800"}',
])
async def test_malformed_session_bodies_are_4xx_with_the_error_shape(wc: Wc, raw: bytes) -> None:
    r = await wc.http.post(f"/webchat/v1/widgets/{wc.public_key}/session", content=raw,
                           headers={"origin": ORIGIN, "content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()["error"]) - {"reason"} == {"code", "message", "details"}


# --- tokens on the socket ---------------------------------------------------------------------------------


async def test_the_socket_accepts_a_fresh_token_and_refuses_an_expired_one(wc: Wc) -> None:
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"]) as ws:
        assert (await recv(ws))["type"] == "ready"
    wc.clock.advance(tokens.TOKEN_TTL_SECONDS)
    async with wc.socket(visitor["token"]) as ws:
        error = await recv(ws)
        assert error["code"] == "token_invalid" and "expired" in error["message"]
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_token_is_bound_to_its_origin(wc: Wc) -> None:
    visitor = await wc.visitor({})
    async with wc.socket(visitor["token"], origin="https://evil.example") as ws:
        assert (await recv(ws))["code"] == "origin_not_allowed"
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_tampered_token_is_refused(wc: Wc) -> None:
    visitor = await wc.visitor({})
    prefix, body, mac = visitor["token"].split(".")
    async with wc.socket(f"{prefix}.{body}.{mac[:-2]}AA") as ws:
        assert (await recv(ws))["code"] == "token_invalid"
