"""The interaction's life as an explicit state machine, shared by every channel."""

from __future__ import annotations

from enum import StrEnum


class InteractionState(StrEnum):
    ARRIVED = "arrived"
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    HELD = "held"
    ENDED = "ended"


class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"
    CALLBACK_REQUESTED = "callback_requested"  # overflowed, and the caller asked to be called back
    TRANSFERRED = "transferred"
    CLOSED = "closed_hours"
    NO_QUEUE = "no_queue"
    FAILED = "failed"


S = InteractionState
ALLOWED: dict[InteractionState, frozenset[InteractionState]] = {
    S.ARRIVED: frozenset({S.QUEUED, S.ENDED}),
    S.QUEUED: frozenset({S.OFFERED, S.ENDED}),
    S.OFFERED: frozenset({S.QUEUED, S.CONNECTED, S.ENDED}),
    S.CONNECTED: frozenset({S.HELD, S.QUEUED, S.ENDED}),  # QUEUED: transferred to a queue
    S.HELD: frozenset({S.CONNECTED, S.QUEUED, S.ENDED}),
    S.ENDED: frozenset(),
}

OPEN_STATES = frozenset(s for s in InteractionState if s is not S.ENDED)


class InvalidInteractionMove(Exception):
    pass


def check(old: str, new: InteractionState) -> None:
    if new not in ALLOWED[InteractionState(old)]:
        raise InvalidInteractionMove(f"an interaction cannot go from {old} to {new}")
