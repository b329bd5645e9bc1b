"""Bodies of the widget configuration API (admin) and of the public session call (the widget)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from teleplex.core.schemas import ApiInput, ApiOutput

Origin = Annotated[str, StringConstraints(max_length=200, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class WidgetConfig(ApiInput):
    """The sites allowed to embed the widget (exact origins: scheme, host, port) and what it shows."""

    allowed_origins: list[Origin] = Field(default_factory=list, max_length=50)
    title: Title = "Chat with us"
    prechat: StrictBool = Field(True, description="ask the visitor's name and email before the first message")


class WidgetOut(ApiOutput):
    channel_id: int
    public_key: str = Field(description="the value for data-channel in the embed snippet")
    allowed_origins: list[str]
    title: str
    prechat: bool
    identity_verification: bool = Field(description="whether the channel has a widget_secret")
    snippet: str = Field(description="the tag to paste into the site, with this server's URL")
    updated_at: datetime


VisitorId = Annotated[str, StringConstraints(pattern=r"^v_[A-Za-z0-9_-]{16,32}$")]


class SessionIn(ApiInput):
    """All optional: nothing starts a new anonymous visitor; visitor_id + visitor_key resume one;
    identifier + identifier_hash (from the site's backend) link a verified one."""

    visitor_id: VisitorId | None = None
    visitor_key: Annotated[str, StringConstraints(min_length=16, max_length=100)] | None = None
    identifier: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    identifier_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None


class SessionOut(ApiOutput):
    token: str
    expires_at: datetime
    visitor_id: str
    visitor_key: str | None = Field(description="only when a visitor was created: keep it to resume later")
    verified: bool
    name: str | None
    email: str | None
    title: str
    prechat: bool
    websocket_path: str
