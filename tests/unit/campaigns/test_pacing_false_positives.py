"""AMD false positives in the predictive pacer's allowance: keep room for them, but only for the part of the
window that pacing can still tip over (people hung up on as machines are not the pacer's to prevent)."""

from __future__ import annotations

import math

import pytest

from teleplex.campaigns.abandonment import false_positive_reserve
from teleplex.campaigns.pacing import AttemptOutcome, CampaignView, PredictivePacer, PredictiveSettings


def _poisson(k: int, mean: float) -> float:
    return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))


def _tipped_by_pacing(reserve: int, mean: float, room: float) -> float:
    """P(reserve < F <= room): false positives that drops filling the room down to `reserve` push over."""
    return sum(_poisson(k, mean) for k in range(reserve + 1, math.floor(room) + 1))


@pytest.mark.parametrize(("mean", "room"), [(0.6, 1.75), (3.0, 8.7), (4.85, 14.0), (50.0, 145.0)])
def test_the_reserve_is_the_smallest_keeping_pacings_share_under_the_risk(mean: float, room: float) -> None:
    reserve = false_positive_reserve(mean, room, 0.01)
    assert _tipped_by_pacing(reserve, mean, room) <= 0.01
    assert reserve == 0 or _tipped_by_pacing(reserve - 1, mean, room) > 0.01


def test_a_small_window_does_not_reserve_for_false_positives_that_exceed_it_anyway() -> None:
    # 300 people at 1 %: F ≥ 9 would be over 3 % whatever the pacer does; the reserve stops below that tail,
    # under the 99 % quantile of F (8) and far under mean + 3 sd (8.2 → 9 abandons).
    assert false_positive_reserve(3.0, 8.7, 0.01) == 7
    assert false_positive_reserve(300.0 * 0.01, 1e9, 0.01) == 8


def test_no_false_positives_need_no_reserve() -> None:
    assert false_positive_reserve(0.0, 10.0, 0.01) == 0


def _seasoned(settings: PredictiveSettings, live: int) -> PredictivePacer:
    pacer = PredictivePacer(settings)
    for i in range(2000):
        answered = i % 4 == 0
        outcome = AttemptOutcome.ANSWERED if answered else AttemptOutcome.NO_ANSWER
        pacer.on_attempt_ended(float(i), outcome, 9.0)
        pacer.on_handling_ended(float(i), 100.0 + i % 100)
        pacer.on_wrapup_ended(float(i), 25.0 + i % 10)
    for i in range(live):
        pacer.on_connected(2000.0 + i, 0.0, machine=False)
    return pacer


def test_a_five_agent_team_with_amd_dials_ahead_after_300_people() -> None:
    # 3 % of 300 leaves 8.7 abandons; the expected 3 false positives and 3 sd of them (5.2) left 0.5:
    # progressive all day. Reserving only what pacing can tip over leaves at least one whole abandon.
    pacer = _seasoned(PredictiveSettings(amd_false_positive_rate=0.01), live=300)
    assert pacer.allowance(2400.0) >= 1.0
    assert pacer.risk_limit(2400.0) > 0.0
    view = CampaignView(ready_agents=3, wrapping=[39.0, 39.5], talking=[300.0], free_channels=20)
    assert pacer.decide(2400.0, view) > 3


def test_false_positives_still_cost_allowance() -> None:
    plain = _seasoned(PredictiveSettings(), live=300)
    with_amd = _seasoned(PredictiveSettings(amd_false_positive_rate=0.01), live=300)
    assert with_amd.allowance(2400.0) < plain.allowance(2400.0) - 6.0
