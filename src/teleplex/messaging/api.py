"""HTTP routes: channel configuration and message state (admin), and the providers' webhooks.

Webhooks authenticate by the provider's signature, not a bearer token, so they are left out of the OpenAPI
document (providers do not read it; `tests/api/test_messaging_webhooks.py` fuzzes them instead).
"""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime.

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from teleplex.auth.deps import require
from teleplex.auth.principal import Principal
from teleplex.center import service as center
from teleplex.core.crud import get_or_404
from teleplex.core.deps import ClockDep, SessionDep
from teleplex.core.errors import PermissionDenied
from teleplex.core.schemas import MAX_ID, ListParams, Page
from teleplex.messaging import service
from teleplex.messaging.crypto import CredentialsUnreadable
from teleplex.messaging.errors import (
    ChannelDisabled,
    ChannelNotFound,
    PayloadRejected,
    PayloadTooLarge,
    SignatureInvalid,
    SignatureMissing,
    WrongMode,
)
from teleplex.messaging.ingest import parse_event
from teleplex.messaging.inbox import Delivery
from teleplex.messaging.models import Channel, Message
from teleplex.messaging.providers import telegram, twilio_sms, whatsapp
from teleplex.messaging.providers.base import PayloadInvalid
from teleplex.messaging.runtime import runtime_for
from teleplex.messaging.schemas import ChannelCreate, ChannelKind, ChannelOut, ChannelUpdate, MessageOut

router = APIRouter(prefix="/api/v1")
webhooks = APIRouter(prefix="/webhooks", include_in_schema=False)
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
Params = Annotated[ListParams, Depends()]
Reader = Annotated[Principal, require("channels.read")]
Writer = Annotated[Principal, require("channels.write")]
MessageReader = Annotated[Principal, require("messages.read")]
MAX_BODY = 1024 * 1024

# --- channel configuration --------------------------------------------------------------------------------


@router.get("/channels", response_model=Page[ChannelOut], tags=["channels"])
async def list_channels(params: Params, session: SessionDep, _: Reader) -> dict:
    page = await center.list_page(
        session, select(Channel), params, [Channel.name, Channel.kind],
        {"id": Channel.id, "name": Channel.name, "kind": Channel.kind, "created_at": Channel.created_at},
    )  # fmt: skip
    return {**page, "items": [service.channel_view(c) for c in page["items"]]}


@router.post("/channels", response_model=ChannelOut, status_code=201, tags=["channels"])
async def create_channel(request: Request, body: ChannelCreate, session: SessionDep, clock: ClockDep, actor: Writer) -> dict:
    box = runtime_for(request.app).box
    return service.channel_view(await service.create_channel(session, clock, box, actor, body))


@router.get("/channels/{channel_id}", response_model=ChannelOut, tags=["channels"])
async def get_channel(channel_id: IdPath, session: SessionDep, _: Reader) -> dict:
    return service.channel_view(await service.get_channel(session, channel_id))


@router.patch("/channels/{channel_id}", response_model=ChannelOut, tags=["channels"])
async def update_channel(
    request: Request, channel_id: IdPath, body: ChannelUpdate, session: SessionDep, clock: ClockDep, actor: Writer
) -> dict:
    channel = await service.get_channel(session, channel_id)
    box = runtime_for(request.app).box
    try:
        updated = await service.update_channel(session, clock, box, actor, channel, body)
    except CredentialsUnreadable as exc:
        raise PermissionDenied(f"{exc}; set every credential again to replace them") from None
    await session.commit()  # before the webhooks' cached copy is dropped, so they cannot read the old one again
    runtime_for(request.app).forget_channel(channel_id)
    return service.channel_view(updated)


@router.delete("/channels/{channel_id}", status_code=204, tags=["channels"])
async def delete_channel(request: Request, channel_id: IdPath, session: SessionDep, clock: ClockDep, actor: Writer) -> None:
    await service.delete_channel(session, clock, actor, await service.get_channel(session, channel_id))
    await session.commit()
    runtime_for(request.app).forget_channel(channel_id)


@router.get("/messages/{message_id}", response_model=MessageOut, tags=["messages"])
async def get_message(message_id: IdPath, session: SessionDep, _: MessageReader) -> dict:
    """A message and, for outgoing ones, its delivery: outbox state, attempts, the provider's error."""
    return await service.message_view(session, await get_or_404(session, Message, message_id, "message"))


# --- webhooks ------------------------------------------------------------------------------------------------


async def _channel(request: Request, channel_id: int, kind: ChannelKind) -> tuple[Channel, dict[str, str]]:
    if not 1 <= channel_id <= MAX_ID:
        raise ChannelNotFound(f"no {kind} channel {channel_id}")
    runtime = runtime_for(request.app)
    channel = await runtime.webhook_channel(channel_id)
    if channel is None or channel.kind != kind.value:
        raise ChannelNotFound(f"no {kind} channel {channel_id}", {"id": channel_id})
    if not channel.enabled:
        raise ChannelDisabled(f"channel {channel_id} is disabled")
    try:
        return channel, runtime.box.open(channel.credentials)
    except CredentialsUnreadable:
        raise SignatureInvalid("this channel's credentials cannot be read; nothing can be verified") from None


async def _raw_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(f"the body exceeds {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"the body exceeds {MAX_BODY} bytes")
    return body


def _validate(kind: ChannelKind, source: str, body: bytes) -> None:
    try:
        parse_event(kind, source, body)
    except PayloadInvalid as exc:
        raise PayloadRejected(str(exc)) from None


async def _store(request: Request, channel: Channel, source: str, event_id: str, body: bytes,
                 headers: dict[str, str]) -> bool:
    """Persist (deduplicated) and answer; the inbox hands what is new to the processor, which works on it
    after the provider has its answer."""
    _, created = await runtime_for(request.app).inbox.store(Delivery(channel.id, source, event_id, body, headers))
    return created


def _kept_headers(request: Request, *names: str) -> dict[str, str]:
    return {n: request.headers[n] for n in ("content-type", *names) if n in request.headers}


@webhooks.get("/whatsapp/{channel_id}")
async def whatsapp_handshake(
    request: Request,
    channel_id: int,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=100)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=500)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=500)] = None,
) -> PlainTextResponse:
    """Meta's subscription check: echo the challenge when the verify token matches."""
    _, creds = await _channel(request, channel_id, ChannelKind.WHATSAPP)
    answer = whatsapp.handshake_challenge(mode, token, challenge, creds.get("verify_token", ""))
    if answer is None:
        raise SignatureInvalid("hub.verify_token does not match this channel's verify token")
    return PlainTextResponse(answer)


@webhooks.post("/whatsapp/{channel_id}")
async def whatsapp_webhook(request: Request, channel_id: int) -> dict:
    channel, creds = await _channel(request, channel_id, ChannelKind.WHATSAPP)
    body = await _raw_body(request)
    header = request.headers.get(whatsapp.SIGNATURE_HEADER)
    if not header:
        raise SignatureMissing("X-Hub-Signature-256 is required")
    if not whatsapp.signature_valid(creds.get("app_secret", ""), body, header):
        raise SignatureInvalid("X-Hub-Signature-256 does not match the body")
    _validate(ChannelKind.WHATSAPP, "message", body)
    # Meta gives no delivery id, and redelivers the same bytes: the body's hash is the dedupe key (and each
    # message inside is deduplicated again by its wamid).
    event_id = "sha256:" + hashlib.sha256(body).hexdigest()
    created = await _store(request, channel, "message", event_id, body,
                           _kept_headers(request, whatsapp.SIGNATURE_HEADER))
    return {"ok": True, "duplicate": not created}


@webhooks.post("/telegram/{channel_id}")
async def telegram_webhook(request: Request, channel_id: int) -> dict:
    channel, creds = await _channel(request, channel_id, ChannelKind.TELEGRAM)
    header = request.headers.get(telegram.SECRET_HEADER)
    if header is None:
        raise SignatureMissing("X-Telegram-Bot-Api-Secret-Token is required")
    if not telegram.secret_valid(creds.get("secret_token", ""), header):
        raise SignatureInvalid("X-Telegram-Bot-Api-Secret-Token does not match")
    if (channel.settings or {}).get("mode") == "polling":
        raise WrongMode(f"channel {channel_id} receives by long polling, not by webhook")
    body = await _raw_body(request)
    _validate(ChannelKind.TELEGRAM, "update", body)
    created = await _store(request, channel, "update", str(telegram.update_id(body)), body,
                           _kept_headers(request))
    return {"ok": True, "duplicate": not created}


def _twilio_url(request: Request, channel: Channel) -> str:
    """The URL Twilio signed: the public one when a proxy stands in front, else the one requested."""
    public = (channel.settings or {}).get("public_url")
    if not public:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return public.rstrip("/") + request.url.path + query


async def _twilio(request: Request, channel_id: int, source: str) -> bool:
    channel, creds = await _channel(request, channel_id, ChannelKind.SMS_TWILIO)
    body = await _raw_body(request)
    header = request.headers.get(twilio_sms.SIGNATURE_HEADER)
    if not header:
        raise SignatureMissing("X-Twilio-Signature is required")
    try:
        params = twilio_sms.form(body)
    except PayloadInvalid as exc:
        raise PayloadRejected(str(exc)) from None
    if not twilio_sms.signature_valid(creds.get("auth_token", ""), _twilio_url(request, channel), params, header):
        raise SignatureInvalid("X-Twilio-Signature does not match the URL and parameters")
    _validate(ChannelKind.SMS_TWILIO, source, body)
    parsed = parse_event(ChannelKind.SMS_TWILIO, source, body)
    if source == "status":
        st = parsed.statuses[0]
        event_id = f"status:{st.provider_message_id}:{st.status}"
    else:
        event_id = f"message:{parsed.messages[0].provider_message_id}"
    return await _store(request, channel, source, event_id, body,
                        _kept_headers(request, twilio_sms.SIGNATURE_HEADER))


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@webhooks.post("/twilio/{channel_id}")
async def twilio_webhook(request: Request, channel_id: int) -> Response:
    """An incoming SMS; answered with empty TwiML (agents reply through the outbox, not inline)."""
    await _twilio(request, channel_id, "message")
    return Response(EMPTY_TWIML, media_type="text/xml")


@webhooks.post("/twilio/{channel_id}/status")
async def twilio_status(request: Request, channel_id: int) -> Response:
    await _twilio(request, channel_id, "status")
    return Response(status_code=204)
