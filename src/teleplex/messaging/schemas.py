"""Request and response bodies of the channel configuration and message APIs (also the audit log's shape)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from teleplex.core.schemas import ApiInput, ApiOutput, Id, Name


class ChannelKind(StrEnum):
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    SMS_TWILIO = "sms_twilio"
    WEBCHAT = "webchat"


Secret = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[\x21-\x7e]+$")]
Url = Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[\x21-\x7e]+$")]
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,40}$")]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,15}$")]


class Credentials(ApiInput):
    """Secrets, per kind; write-only: the API shows which are set, never their values. Null removes one."""

    access_token: Secret | None = Field(None, description="WhatsApp: the system user's access token")
    app_secret: Secret | None = Field(None, description="WhatsApp: the app secret that signs webhooks")
    verify_token: Secret | None = Field(None, description="WhatsApp: the token of the subscription handshake")
    bot_token: Secret | None = Field(None, description="Telegram: the bot's token from @BotFather")
    secret_token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,256}$")] | None = Field(
        None, description="Telegram: the webhook secret (X-Telegram-Bot-Api-Secret-Token)"
    )
    account_sid: Annotated[str, StringConstraints(pattern=r"^AC[0-9a-fA-F]{32}$")] | None = Field(
        None, description="Twilio: the account SID"
    )
    auth_token: Secret | None = Field(None, description="Twilio: the auth token (signs webhooks too)")
    widget_secret: Secret | None = Field(None, description="Web chat: the identity-verification secret")


CREDENTIALS: dict[ChannelKind, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required, allowed)
    ChannelKind.WHATSAPP: (frozenset({"access_token", "app_secret", "verify_token"}),
                           frozenset({"access_token", "app_secret", "verify_token"})),
    ChannelKind.TELEGRAM: (frozenset({"bot_token"}), frozenset({"bot_token", "secret_token"})),
    ChannelKind.SMS_TWILIO: (frozenset({"account_sid", "auth_token"}), frozenset({"account_sid", "auth_token"})),
    ChannelKind.WEBCHAT: (frozenset(), frozenset({"widget_secret"})),
}


class ApprovedTemplate(ApiInput):
    """A WhatsApp message template Meta has approved, offered to agents when a conversation's window is closed."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] = "en_US"
    # its body as approved ("Hello {{1}}"), so the agent sees it and fills its variables when Meta's own list
    # cannot be read (see messaging/templates.py)
    body: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


class ChannelSettings(ApiInput):
    """Public settings, per kind; unset fields are left out."""

    phone_number_id: Digits | None = Field(None, description="WhatsApp: the sending phone number's id")
    business_account_id: Digits | None = Field(None, description="WhatsApp: the WABA id")
    mode: Literal["webhook", "polling"] | None = Field(
        None, description="Telegram: receive by webhook (default) or by getUpdates long polling"
    )
    webhook_url: Url | None = Field(None, description="Telegram: the public URL to register with setWebhook")
    from_number: E164 | None = Field(None, description="Twilio: the sending number")
    messaging_service_sid: Annotated[str, StringConstraints(pattern=r"^MG[0-9a-fA-F]{32}$")] | None = None
    status_callback_url: Url | None = Field(None, description="Twilio: where delivery reports are posted")
    public_url: Url | None = Field(
        None, description="The base URL providers call, when a proxy stands in front (Twilio signs that URL)"
    )
    rate_per_second: float | None = Field(None, ge=0.1, le=1000, description="sending rate limit")
    templates: Annotated[list[ApprovedTemplate], Field(max_length=200)] | None = Field(
        None, description="WhatsApp: the approved templates agents may send when the 24-hour window is closed, "
                          "used when no business_account_id is set or Meta's own list cannot be read")
    queue_id: Id | None = Field(None, description="the queue this channel's conversations wait in (default: the "
                                                  "first queue that takes this kind of channel)")


SETTINGS: dict[ChannelKind, frozenset[str]] = {
    ChannelKind.WHATSAPP: frozenset({"phone_number_id", "business_account_id", "public_url", "rate_per_second",
                                     "templates"}),
    ChannelKind.TELEGRAM: frozenset({"mode", "webhook_url", "public_url", "rate_per_second"}),
    ChannelKind.SMS_TWILIO: frozenset({"from_number", "messaging_service_sid", "status_callback_url", "public_url",
                                       "rate_per_second"}),
    ChannelKind.WEBCHAT: frozenset({"public_url"}),
}


SETTINGS = {kind: names | {"queue_id"} for kind, names in SETTINGS.items()}  # every channel routes to a queue


class ChannelCreate(ApiInput):
    kind: ChannelKind
    name: Name
    enabled: bool = True
    credentials: Credentials = Credentials()
    settings: ChannelSettings = ChannelSettings()


class ChannelUpdate(ApiInput):
    """Only the fields sent change; inside credentials and settings, too (null removes one)."""

    name: Name | None = None
    enabled: bool | None = None
    credentials: Credentials | None = None
    settings: ChannelSettings | None = None


class ChannelOut(ApiOutput):
    id: int
    kind: ChannelKind
    name: str
    enabled: bool
    credentials_set: list[str] = Field(description="the names of the credentials that are set; never their values")
    settings: dict[str, Any]
    webhook_path: str | None = Field(description="where the provider must post, under this server's public URL")
    created_at: datetime
    updated_at: datetime


class DeliveryOut(ApiOutput):
    """The outbox's view of an outgoing message."""

    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class MessageOut(ApiOutput):
    id: int
    channel_id: int
    interaction_id: int | None
    direction: Literal["in", "out"]
    provider_message_id: str | None
    peer_kind: str
    peer: str
    kind: str
    text: str | None
    media_mime: str | None
    has_media: bool
    data: dict[str, Any] | None
    keyword: str | None
    status: str
    status_at: datetime | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    delivery: DeliveryOut | None
