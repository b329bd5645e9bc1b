"""Channel configuration use cases: validated per kind, credentials sealed, every change audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.audit import service as audit
from teleplex.audit.service import Actor
from teleplex.core.clock import Clock
from teleplex.core.crud import flush_or_conflict, get_or_404
from teleplex.core.errors import Conflict, InvalidInput
from teleplex.messaging.crypto import CredentialBox
from teleplex.messaging.models import Channel, Message, OutboxItem
from teleplex.messaging.schemas import (
    CREDENTIALS,
    SETTINGS,
    ChannelCreate,
    ChannelKind,
    ChannelOut,
    ChannelUpdate,
    MessageOut,
)

WEBHOOK_PREFIX = {ChannelKind.WHATSAPP: "whatsapp", ChannelKind.TELEGRAM: "telegram", ChannelKind.SMS_TWILIO: "twilio"}


def channel_view(channel: Channel) -> dict[str, Any]:
    """The channel as the API shows it: credential names, never values."""
    kind = ChannelKind(channel.kind)
    prefix = WEBHOOK_PREFIX.get(kind)
    return {
        "id": channel.id,
        "kind": kind,
        "name": channel.name,
        "enabled": channel.enabled,
        "credentials_set": sorted(channel.credential_names or []),
        "settings": dict(channel.settings or {}),
        "webhook_path": f"/webhooks/{prefix}/{channel.id}" if prefix else None,
        "created_at": channel.created_at,
        "updated_at": channel.updated_at,
    }


def snapshot(channel: Channel) -> dict[str, Any]:
    return ChannelOut.model_validate(channel_view(channel)).model_dump(mode="json")


def _check(kind: ChannelKind, credentials: dict[str, str], settings: dict[str, Any]) -> None:
    """Each kind takes its own credentials and settings; the ones it needs must be there."""
    required, allowed = CREDENTIALS[kind]
    for name in sorted(set(credentials) - allowed):
        raise InvalidInput(f"credentials.{name}: not used by a {kind} channel",
                           {"field": f"credentials.{name}", "kind": kind},
                           reason="not_used_by_channel")  # fmt: skip
    for name in sorted(required - set(credentials)):
        raise InvalidInput(f"credentials.{name}: required for a {kind} channel",
                           {"field": f"credentials.{name}", "kind": kind},
                           reason="required_for_channel")  # fmt: skip
    for name in sorted(set(settings) - SETTINGS[kind]):
        raise InvalidInput(f"settings.{name}: not used by a {kind} channel",
                           {"field": f"settings.{name}", "kind": kind},
                           reason="not_used_by_channel")  # fmt: skip
    if kind is ChannelKind.WHATSAPP and not settings.get("phone_number_id"):
        raise InvalidInput("settings.phone_number_id: required for a whatsapp channel",
                           {"field": "settings.phone_number_id", "kind": "whatsapp"},
                           reason="required_for_channel")  # fmt: skip
    if kind is ChannelKind.SMS_TWILIO and not (settings.get("from_number") or settings.get("messaging_service_sid")):
        raise InvalidInput("settings.from_number: a twilio channel needs from_number or messaging_service_sid",
                           {"field": "settings.from_number"}, reason="twilio_needs_sender")
    if kind is ChannelKind.TELEGRAM and settings.get("mode", "webhook") == "webhook" and settings.get("webhook_url") \
            and not credentials.get("secret_token"):
        raise InvalidInput("credentials.secret_token: required to register a Telegram webhook",
                           {"field": "credentials.secret_token"}, reason="telegram_needs_secret")


async def _ensure_unique_name(session: AsyncSession, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Channel.id).where(Channel.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Channel.id != exclude_id)
    if (await session.execute(stmt)).first():
        raise Conflict(f"a channel with name '{name}' exists",
                       {"field": "name", "value": name}, reason="name_taken")  # fmt: skip


async def get_channel(session: AsyncSession, channel_id: int) -> Channel:
    return await get_or_404(session, Channel, channel_id, "channel")


async def create_channel(
    session: AsyncSession, clock: Clock, box: CredentialBox, actor: Actor, body: ChannelCreate
) -> Channel:
    credentials = body.credentials.model_dump(exclude_none=True)
    settings = body.settings.model_dump(exclude_none=True)
    _check(body.kind, credentials, settings)
    await _ensure_unique_name(session, body.name)
    now = clock.now()
    channel = Channel(
        kind=body.kind.value, name=body.name, enabled=body.enabled, credentials=box.seal(credentials),
        credential_names=sorted(credentials), settings=settings, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(channel)
    await flush_or_conflict(session, f"a channel with name '{body.name}' exists", reason="name_in_use")
    await audit.record(session, clock, actor, "create", "channel", channel.id, None, snapshot(channel))
    return channel


async def update_channel(
    session: AsyncSession, clock: Clock, box: CredentialBox, actor: Actor, channel: Channel, body: ChannelUpdate
) -> Channel:
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "enabled", "credentials", "settings"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name}: may not be null", {"field": name}, reason="not_nullable")
    before = snapshot(channel)
    kind = ChannelKind(channel.kind)
    credentials = box.open(channel.credentials)
    settings = dict(channel.settings or {})
    if body.credentials is not None:
        for key, value in body.credentials.model_dump(exclude_unset=True).items():
            credentials.pop(key, None) if value is None else credentials.__setitem__(key, value)
    if body.settings is not None:
        for key, value in body.settings.model_dump(exclude_unset=True).items():
            settings.pop(key, None) if value is None else settings.__setitem__(key, value)
    _check(kind, credentials, settings)
    if body.name is not None:
        await _ensure_unique_name(session, body.name, channel.id)
        channel.name = body.name
    if body.enabled is not None:
        channel.enabled = body.enabled
    channel.credentials = box.seal(credentials)
    channel.credential_names = sorted(credentials)
    channel.settings = settings
    channel.updated_at = clock.now()
    await flush_or_conflict(session, "a channel with that name exists", reason="name_in_use")
    after = snapshot(channel)
    if after != before or body.credentials is not None:
        # A credential rotation changes nothing visible, but who rotated a token must still be on record.
        await audit.record(session, clock, actor, "update", "channel", channel.id, before,
                           after | ({"credentials_changed": sorted(body.credentials.model_fields_set)}
                                    if body.credentials is not None else {}))
    return channel


async def delete_channel(session: AsyncSession, clock: Clock, actor: Actor, channel: Channel) -> None:
    """Refused while messages refer to it: the history must keep meaning something; disable it instead."""
    count = (await session.execute(select(func.count(Message.id)).where(Message.channel_id == channel.id))).scalar_one()
    if count:
        raise Conflict(f"channel {channel.id} has {count} messages in its history and cannot be deleted; disable it",
                       {"messages": count}, reason="channel_has_messages")
    before = snapshot(channel)
    await session.delete(channel)
    await flush_or_conflict(session, "this channel is still referenced by other records",
                            reason="still_referenced")  # fmt: skip
    await audit.record(session, clock, actor, "delete", "channel", before["id"], before, None)


async def message_view(session: AsyncSession, message: Message) -> dict[str, Any]:
    item = (await session.execute(select(OutboxItem).where(OutboxItem.message_id == message.id))).scalar()
    view = MessageOut.model_validate({
        **{c: getattr(message, c) for c in (
            "id", "channel_id", "interaction_id", "direction", "provider_message_id", "peer_kind", "peer", "kind",
            "text", "media_mime", "data", "keyword", "status", "status_at", "error_code", "error_message",
            "created_at")},
        "has_media": bool(message.media_path or message.media_ref),
        "delivery": None if item is None else {
            "state": item.state, "attempts": item.attempts, "next_attempt_at": item.next_attempt_at,
            "last_error": item.last_error,
        },
    })  # fmt: skip
    return view.model_dump()
