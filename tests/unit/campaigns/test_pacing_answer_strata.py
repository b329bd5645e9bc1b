"""The predictive pacer's risk over the answer time: a call answered early finds fewer busy agents freed than
one answered late, so the risk is taken at several equally likely answer times and averaged, not at the
median answer time alone (which understates it for a small team)."""

from __future__ import annotations

import pytest

from teleplex.campaigns.pacing import (
    AttemptOutcome,
    CampaignView,
    PredictivePacer,
    PredictiveSettings,
    strata_quantiles,
)
from teleplex.campaigns.pacing_risk import CompetingAnswers, risk_over_answer_times


def _trained(settings: PredictiveSettings | None = None) -> PredictivePacer:
    """Answers after 3, 9 or 15 s (40 each); wrap-ups of 20, 21 … 39 s (5 each)."""
    pacer = PredictivePacer(settings)
    for ring in (3.0, 9.0, 15.0):
        for _ in range(40):
            pacer.on_attempt_ended(0.0, AttemptOutcome.ANSWERED, ring)
    for _ in range(200):
        pacer.on_attempt_ended(0.0, AttemptOutcome.NO_ANSWER, 25.0)
    for seconds in range(20, 40):
        for _ in range(5):
            pacer.on_wrapup_ended(0.0, float(seconds))
    return pacer


def test_strata_are_the_midpoints_of_equal_slices() -> None:
    assert strata_quantiles(1) == [0.5]
    assert strata_quantiles(3) == pytest.approx([1 / 6, 1 / 2, 5 / 6])
    assert strata_quantiles(4) == pytest.approx([0.125, 0.375, 0.625, 0.875])


def test_an_agent_in_wrap_up_is_less_likely_freed_for_an_early_answer() -> None:
    pacer = _trained()
    view = CampaignView(ready_agents=0, wrapping=[25.0], free_channels=4)
    # Answer times 3, 9, 15 s (+ 2 s grace): of the wrap-ups longer than 25 s (26 … 39, 14 values), those
    # ending by 30, 36, 42 s: 5, 11, 14 of them.
    early, median, late = pacer.availability_by_answer_time(view)
    assert early == pytest.approx([9 / 14, 5 / 14])
    assert median == pytest.approx([3 / 14, 11 / 14])
    assert late == pytest.approx([0.0, 1.0])
    assert pacer.availability(view) == pytest.approx(median)  # the one-horizon view: the median answer


def test_the_risk_is_the_mean_over_answer_times_not_the_risk_at_the_median() -> None:
    pacer = _trained()
    view = CampaignView(ready_agents=0, wrapping=[25.0], free_channels=4)
    pmfs = pacer.availability_by_answer_time(view)
    nothing_ringing = CompetingAnswers([], 3)
    risk = risk_over_answer_times(0, pmfs, nothing_ringing)
    assert risk == pytest.approx((9 / 14 + 3 / 14 + 0.0) / 3)  # 0.286; at the median alone: 3/14 = 0.214
    # One ready agent and a call already ringing that will surely need one: the new call needs the
    # wrap-up agent, so the same risk.
    assert risk_over_answer_times(1, pmfs, CompetingAnswers([1.0], 3)) == pytest.approx(risk)
    # A second sure competitor: no agent is left in any slice.
    assert risk_over_answer_times(1, pmfs, CompetingAnswers([1.0, 1.0], 3)) == pytest.approx(1.0)


def test_one_stratum_is_the_median_horizon() -> None:
    pacer = _trained(PredictiveSettings(answer_strata=1))
    view = CampaignView(ready_agents=0, wrapping=[25.0], free_channels=4)
    assert pacer.availability_by_answer_time(view) == [pacer.availability(view)]


def test_before_a_fair_sample_there_is_one_default_horizon() -> None:
    pacer = PredictivePacer()
    for seconds in range(20, 40):
        for _ in range(5):
            pacer.on_wrapup_ended(0.0, float(seconds))
    view = CampaignView(ready_agents=0, wrapping=[25.0], free_channels=4)
    # default ring 8 s + 2 s grace: wrap-ups ending by 35 s, 10 of the 14 longer than 25 s
    assert pacer.availability_by_answer_time(view) == [pytest.approx([4 / 14, 10 / 14])]


def test_a_large_team_keeps_the_median_horizon() -> None:
    pacer = _trained(PredictiveSettings(strata_max_agents=40))
    small = CampaignView(ready_agents=39, wrapping=[25.0], free_channels=4)
    large = CampaignView(ready_agents=40, wrapping=[25.0], free_channels=4)
    assert len(pacer.availability_by_answer_time(small)) == 3
    assert pacer.availability_by_answer_time(large) == [pacer.availability(large)]
