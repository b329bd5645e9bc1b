"""Retry rules: what an attempt's outcome does to its lead. Pure; the service applies the decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from teleplex.campaigns.states import LeadStatus


class Outcome(StrEnum):
    """How an attempt ended. The first six may be retried (per the campaign's rules); the rest close the lead."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # congestion, unreachable, carrier error
    MACHINE = "machine"  # answering machine detected
    ABANDONED = "abandoned"  # a person answered and no agent was free
    CALLBACK = "callback"  # the agent's disposition asks for a later call
    ANSWERED = "answered"  # talked to an agent; the disposition decides the rest
    SUCCESS = "success"
    NOT_INTERESTED = "not_interested"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"
    INVALID_NUMBER = "invalid_number"


RETRYABLE = (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED, Outcome.MACHINE, Outcome.ABANDONED, Outcome.CALLBACK)
DEFAULT_RULES: dict[str, dict[str, int]] = {
    "busy": {"delay_minutes": 15, "max_attempts": 3},
    "no_answer": {"delay_minutes": 120, "max_attempts": 3},
    "failed": {"delay_minutes": 60, "max_attempts": 2},
    "machine": {"delay_minutes": 1440, "max_attempts": 2},  # 24 h: the UK rule after an AMD-ended call
    "abandoned": {"delay_minutes": 4320, "max_attempts": 2},  # 72 h: the UK rule, also the default setting
    "callback": {"delay_minutes": 60, "max_attempts": 3},
}


@dataclass(frozen=True)
class Decision:
    status: LeadStatus
    next_attempt_at: datetime | None
    reason: str


def decide(
    outcome: Outcome,
    now: datetime,
    rules: Mapping[str, Mapping[str, Any]],
    outcome_counts: Mapping[str, int],
    attempts: int,
    max_attempts: int,
    callback_at: datetime | None = None,
) -> Decision:
    """Apply the campaign's rules after an attempt; `outcome_counts` and `attempts` already include it.

    A retryable outcome is dialed again after its delay until its own count reaches its `max_attempts`;
    the campaign-wide `max_attempts` caps all outcomes together. An outcome without a rule closes the lead.
    """
    rule = rules.get(outcome.value) if outcome in RETRYABLE else None
    if rule is None:
        return Decision(LeadStatus.DONE, None, f"{outcome.value} closes the lead")
    if outcome_counts.get(outcome.value, 0) >= rule["max_attempts"]:
        return Decision(LeadStatus.EXHAUSTED, None, f"{outcome.value} reached its limit of {rule['max_attempts']}")
    if attempts >= max_attempts:
        return Decision(LeadStatus.EXHAUSTED, None, f"the campaign's limit of {max_attempts} attempts is reached")
    at = now + timedelta(minutes=rule["delay_minutes"])
    if outcome is Outcome.CALLBACK and callback_at is not None:
        at = max(callback_at, now)
    return Decision(LeadStatus.PENDING, at, f"{outcome.value}: retry after {rule['delay_minutes']} minutes")
