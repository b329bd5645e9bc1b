"""Retry rules: what each outcome does to a lead, and the campaign state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from teleplex.campaigns.rules import DEFAULT_RULES, RETRYABLE, Outcome, decide
from teleplex.campaigns.states import CampaignState, LeadStatus, move

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_busy_is_retried_after_its_delay_until_its_limit():
    d = decide(Outcome.BUSY, NOW, DEFAULT_RULES, {"busy": 1}, attempts=1, max_attempts=5)
    assert d.status is LeadStatus.PENDING and d.next_attempt_at == NOW + timedelta(minutes=15)
    d = decide(Outcome.BUSY, NOW, DEFAULT_RULES, {"busy": 3}, attempts=3, max_attempts=5)
    assert d.status is LeadStatus.EXHAUSTED and d.next_attempt_at is None


def test_the_campaign_limit_caps_all_outcomes_together():
    d = decide(Outcome.NO_ANSWER, NOW, DEFAULT_RULES, {"no_answer": 1, "busy": 2}, attempts=3, max_attempts=3)
    assert d.status is LeadStatus.EXHAUSTED


@pytest.mark.parametrize("outcome", [Outcome.SUCCESS, Outcome.NOT_INTERESTED, Outcome.WRONG_NUMBER,
                                     Outcome.DO_NOT_CALL, Outcome.ANSWERED, Outcome.INVALID_NUMBER])
def test_final_outcomes_close_the_lead(outcome):
    assert decide(outcome, NOW, DEFAULT_RULES, {outcome.value: 1}, 1, 5).status is LeadStatus.DONE


def test_an_outcome_without_a_rule_closes_the_lead():
    rules = {**DEFAULT_RULES, "machine": None}
    assert decide(Outcome.MACHINE, NOW, rules, {"machine": 1}, 1, 5).status is LeadStatus.DONE


def test_a_callback_disposition_uses_the_agreed_time():
    later = NOW + timedelta(days=1)
    d = decide(Outcome.CALLBACK, NOW, DEFAULT_RULES, {"callback": 1}, 1, 5, callback_at=later)
    assert d.next_attempt_at == later


def test_abandoned_calls_wait_72_hours_by_default():
    d = decide(Outcome.ABANDONED, NOW, DEFAULT_RULES, {"abandoned": 1}, 1, 5)
    assert d.next_attempt_at == NOW + timedelta(hours=72)


@given(st.sampled_from(RETRYABLE), st.integers(1, 10), st.integers(1, 10), st.integers(1, 10))
def test_never_scheduled_beyond_either_limit(outcome, count, attempts, max_attempts):
    d = decide(outcome, NOW, DEFAULT_RULES, {outcome.value: count}, attempts, max_attempts)
    if d.status is LeadStatus.PENDING:
        assert count < DEFAULT_RULES[outcome.value]["max_attempts"] and attempts < max_attempts
        assert d.next_attempt_at is not None and d.next_attempt_at > NOW


def test_state_machine_moves():
    assert move(CampaignState.DRAFT, "start") is CampaignState.RUNNING
    assert move(CampaignState.RUNNING, "pause") is CampaignState.PAUSED
    assert move(CampaignState.PAUSED, "start") is CampaignState.RUNNING
    assert move(CampaignState.PAUSED, "stop") is CampaignState.STOPPED
    assert move(CampaignState.DRAFT, "pause") is None
    assert move(CampaignState.DRAFT, "stop") is None
    assert all(move(CampaignState.STOPPED, a) is None for a in ("start", "pause", "stop"))
