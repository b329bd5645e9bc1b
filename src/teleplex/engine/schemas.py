"""Bodies of the agent-presence and live-state API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from teleplex.center.schemas import Device
from teleplex.core.schemas import ApiInput, ApiOutput

ReasonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class LoginBody(ApiInput):
    device: Device | None = None  # default: the device in the agent's profile
    pause_reason: ReasonName | None = None  # log in paused instead of ready


class PauseBody(ApiInput):
    reason: ReasonName
    after_current: bool = False  # finish what you are handling first


class AgentLive(ApiOutput):
    agent_id: int
    state: str
    since: datetime
    time_in_state_s: float
    pause_reason: str | None
    device: str | None
    offers: list[int]
    interactions: list[int]
    wrapups: list[int]


class QueueLive(ApiOutput):
    queue_id: int
    waiting: int
    offered: int
    connected: int
    longest_wait_s: float
    first_response_overdue: int  # conversations waiting past the queue's service level for an agent's first answer
    answered_today: int  # since midnight UTC
    abandoned_today: int
    service_level_today: float | None  # share answered within the queue's service level; None before any call
    average_handle_s_today: float | None  # talk + hold + wrap-up of the calls and conversations answered


class LiveState(ApiOutput):
    at: datetime
    voice_link: bool | None
    queues: list[QueueLive]
    agents: list[AgentLive]
