"""The interaction's life as an explicit state machine, shared by every channel."""

from __future__ import annotations

from enum import StrEnum


class InteractionState(StrEnum):
    ARRIVED = "arrived"
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    HELD = "held"
    BOT = "bot"  # reserved for the chatbot: a conversation it handles before (or instead of) an agent
    RESOLVED = "resolved"  # a conversation done with; it reopens if the customer writes again soon
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
    RESOLVED = "resolved"  # a conversation resolved by its agent


S = InteractionState
# Calls end in ENDED. Conversations (text channels) are RESOLVED by their agent, and go back to QUEUED when the
# customer writes again within the reopening window; a later message opens a new conversation.
ALLOWED: dict[InteractionState, frozenset[InteractionState]] = {
    S.ARRIVED: frozenset({S.QUEUED, S.BOT, S.ENDED}),
    S.BOT: frozenset({S.QUEUED, S.RESOLVED, S.ENDED}),
    S.QUEUED: frozenset({S.OFFERED, S.CONNECTED, S.RESOLVED, S.ENDED}),  # CONNECTED: a chat assigned directly
    S.OFFERED: frozenset({S.QUEUED, S.CONNECTED, S.RESOLVED, S.ENDED}),
    S.CONNECTED: frozenset({S.HELD, S.QUEUED, S.RESOLVED, S.ENDED}),  # QUEUED: transferred to a queue
    S.HELD: frozenset({S.CONNECTED, S.QUEUED, S.ENDED}),
    S.RESOLVED: frozenset({S.QUEUED}),  # reopened
    S.ENDED: frozenset(),
}

OPEN_STATES = frozenset(s for s in InteractionState if s not in (S.ENDED, S.RESOLVED))


class InvalidInteractionMove(Exception):
    pass


def check(old: str, new: InteractionState) -> None:
    if new not in ALLOWED[InteractionState(old)]:
        raise InvalidInteractionMove(f"an interaction cannot go from {old} to {new}")
