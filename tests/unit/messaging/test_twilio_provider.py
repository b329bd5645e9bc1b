"""Twilio adapter: our signature matches the twilio package's RequestValidator; forms and errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import given, strategies as st
from twilio.request_validator import RequestValidator

from teleplex.messaging.keywords import Keyword
from teleplex.messaging.providers import twilio_sms
from teleplex.messaging.providers.base import MessageKind, OutgoingContent, PayloadInvalid, PermanentSendError, RateLimited

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"
URL = "https://cc.example.com/webhooks/twilio/3"


def load(name: str) -> bytes:
    return (FIXTURES / f"{name}.txt").read_bytes().strip()


def test_signature_matches_twilios_own_validator_on_a_real_payload() -> None:
    body = load("sms_inbound")
    params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    expected = RequestValidator("tok").compute_signature(URL, params)
    assert twilio_sms.compute_signature("tok", URL, twilio_sms.form(body)) == expected
    assert twilio_sms.signature_valid("tok", URL, twilio_sms.form(body), expected)
    assert not twilio_sms.signature_valid("tok", URL + "?x=1", twilio_sms.form(body), expected)
    assert not twilio_sms.signature_valid("other", URL, twilio_sms.form(body), expected)


names = st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=12)
values = st.text(max_size=30).filter(lambda v: "\x00" not in v)


@given(st.dictionaries(names, values, max_size=8), st.text(max_size=20), st.sampled_from([URL, "http://h:8080/p?a=b"]))
def test_signature_matches_twilios_validator_for_any_form(params: dict[str, str], token: str, url: str) -> None:
    expected = RequestValidator(token).compute_signature(url, params)
    assert twilio_sms.compute_signature(token, url, {k: [v] for k, v in params.items()}) == expected


def test_validator_also_accepts_the_url_with_its_default_port() -> None:
    params = {"Body": ["hi"]}
    signed_with_port = twilio_sms.compute_signature("tok", "https://cc.example.com:443/w", params)
    assert twilio_sms.signature_valid("tok", "https://cc.example.com/w", params, signed_with_port)
    assert RequestValidator("tok").validate("https://cc.example.com/w", {"Body": "hi"}, signed_with_port)


def test_inbound_sms_and_keywords() -> None:
    (msg,) = twilio_sms.parse_inbound(twilio_sms.form(load("sms_inbound"))).messages
    assert msg.sender.value == "+14155550199" and msg.kind is MessageKind.TEXT and msg.keyword is None
    (stop,) = twilio_sms.parse_inbound(twilio_sms.form(load("stop"))).messages
    assert stop.keyword is Keyword.STOP


def test_mms_carries_its_media_url() -> None:
    (msg,) = twilio_sms.parse_inbound(twilio_sms.form(load("mms_inbound"))).messages
    assert msg.kind is MessageKind.IMAGE and msg.media is not None and msg.media.ref.startswith("https://api.twilio.com/")


def test_status_callback() -> None:
    (st_,) = twilio_sms.parse_status(twilio_sms.form(load("status_undelivered"))).statuses
    assert st_.status == "undelivered" and st_.error_code == "30003"


@pytest.mark.parametrize("body", [b"MessageSid=SM1", b"From=%2B1", b"\xff\xfe", b"a=1&&=&%zz"])
def test_incomplete_forms_are_refused(body: bytes) -> None:
    with pytest.raises(PayloadInvalid):
        twilio_sms.parse_inbound(twilio_sms.form(body))


def test_errors_are_classified() -> None:
    error = twilio_sms.classify(httpx.Response(429, json={"code": 20429, "message": "Too Many Requests"},
                                               headers={"Retry-After": "3"}))
    assert isinstance(error, RateLimited) and error.retry_after == 3
    error = twilio_sms.classify(httpx.Response(400, json={"code": 21610, "message": "unsubscribed recipient"}))
    assert isinstance(error, PermanentSendError) and error.code == "21610"


async def test_send_uses_basic_auth_and_the_form_fields() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"sid": "SM123", "status": "queued"})

    async with httpx.AsyncClient(base_url="https://api.twilio.test", transport=httpx.MockTransport(handler)) as http:
        client = twilio_sms.TwilioClient(http, "AC1", "tok", "+14155550100", status_callback="https://cc/status")
        assert await client.send("+14155550199", OutgoingContent(text="hi")) == "SM123"
    (request,) = seen
    assert request.url.path == "/2010-04-01/Accounts/AC1/Messages.json"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC1:tok").decode()
    assert dict(parse_qsl(request.content.decode())) == {"To": "+14155550199", "From": "+14155550100", "Body": "hi",
                                                         "StatusCallback": "https://cc/status"}
    assert json.loads(json.dumps({"ok": 1}))
