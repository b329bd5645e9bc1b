"""The interaction as the API, the console and webhooks see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from teleplex.core.schemas import ApiInput, ApiOutput, Id, Text


class InteractionEventOut(ApiOutput):
    at: datetime
    kind: str
    agent_id: int | None
    data: dict[str, Any] | None


class InteractionOut(ApiOutput):
    id: int
    channel: str
    direction: str
    state: str
    outcome: str | None
    queue_id: int | None
    agent_id: int | None
    contact_id: int | None
    did: str | None
    caller_id: str | None
    caller_name: str | None
    arrived_at: datetime
    queued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    hold_seconds: float
    wrapup_seconds: float | None
    disposition_id: int | None
    notes: str | None
    recording_path: str | None


class InteractionDetail(InteractionOut):
    timeline: list[InteractionEventOut]


class InteractionUpdate(ApiInput):
    """What the agent records about an interaction: its disposition and notes."""

    disposition_id: Id | None = None
    notes: Text | None = None
