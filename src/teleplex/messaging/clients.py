"""Builds a provider client for a channel, with its credentials, base URL and timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from teleplex.core.settings import Settings
from teleplex.messaging.crypto import CredentialBox
from teleplex.messaging.models import Channel
from teleplex.messaging.providers.base import MessageKind, OutgoingContent, PermanentSendError, new_http_client
from teleplex.messaging.providers.telegram import TelegramClient
from teleplex.messaging.providers.twilio_sms import TwilioClient
from teleplex.messaging.providers.whatsapp import WhatsAppClient
from teleplex.messaging.schemas import ChannelKind

MAX_MEDIA_BYTES = 25 * 1024 * 1024

class SendClient(Protocol):
    async def send(self, to: str, content: OutgoingContent) -> str: ...

class Providers:
    """One place that knows how each channel kind is reached; clients live for one `open` block."""

    def __init__(self, settings: Settings, box: CredentialBox, db: Any = None, clock: Any = None) -> None:
        self.settings = settings
        self.box = box
        self.db, self.clock = db, clock  # web chat "sends" by writing to the visitor's stream in our database

    def base_url(self, kind: ChannelKind) -> str:
        return {
            ChannelKind.WHATSAPP: self.settings.whatsapp_api_url,
            ChannelKind.TELEGRAM: self.settings.telegram_api_url,
            ChannelKind.SMS_TWILIO: self.settings.twilio_api_url,
        }[kind]

    @asynccontextmanager
    async def open(self, channel: Channel) -> AsyncIterator[WhatsAppClient | TelegramClient | TwilioClient]:
        kind = ChannelKind(channel.kind)
        if kind is ChannelKind.WEBCHAT:
            from teleplex.messaging.webchat.delivery import WebchatClient  # imported late: webchat imports us

            yield WebchatClient(self.db, self.clock, channel)
            return
        creds = self.box.open(channel.credentials)
        settings = channel.settings or {}
        async with new_http_client(self.base_url(kind), self.settings.provider_timeout_seconds) as http:
            if kind is ChannelKind.WHATSAPP:
                yield WhatsAppClient(http, creds.get("access_token", ""), settings.get("phone_number_id", ""))
            elif kind is ChannelKind.TELEGRAM:
                yield TelegramClient(http, creds.get("bot_token", ""))
            else:
                yield TwilioClient(http, creds.get("account_sid", ""), creds.get("auth_token", ""),
                                   settings.get("from_number"), settings.get("messaging_service_sid"),
                                   settings.get("status_callback_url"))

    async def download(self, channel: Channel, ref: str) -> tuple[bytes, str | None]:
        """A media file the customer sent, via the provider's own lookup."""
        async with self.open(channel) as client:
            if isinstance(client, TelegramClient):
                return await client.download_file(ref, MAX_MEDIA_BYTES)
            if isinstance(client, TwilioClient):
                # Only from Twilio's own API host: a URL in a form must not make us fetch anything else.
                if not ref.startswith(self.settings.twilio_api_url.rstrip("/") + "/"):
                    raise PermanentSendError("media URL is not on the Twilio API host", "foreign_url")
                return await client.download_media(ref, MAX_MEDIA_BYTES)
            return await client.download_media(ref, MAX_MEDIA_BYTES)

SENDABLE: dict[ChannelKind, frozenset[MessageKind]] = {
    ChannelKind.WHATSAPP: frozenset({MessageKind.TEXT, MessageKind.TEMPLATE, MessageKind.IMAGE, MessageKind.AUDIO,
                                     MessageKind.VIDEO, MessageKind.DOCUMENT}),
    ChannelKind.TELEGRAM: frozenset({MessageKind.TEXT, MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO,
                                     MessageKind.DOCUMENT}),
    ChannelKind.SMS_TWILIO: frozenset({MessageKind.TEXT, MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.AUDIO,
                                       MessageKind.DOCUMENT}),
    ChannelKind.WEBCHAT: frozenset({MessageKind.TEXT, MessageKind.IMAGE, MessageKind.AUDIO, MessageKind.VIDEO,
                                    MessageKind.DOCUMENT}),  # files uploaded to the center (webchat/attachments.py)
}

__all__ = ["Providers", "SENDABLE", "SendClient"]
