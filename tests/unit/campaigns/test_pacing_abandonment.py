"""The abandonment ledger and the predictive pacer's allowance: windows, expiry, and the hard stop."""

from __future__ import annotations

import pytest

from teleplex.campaigns.abandonment import DAY, AbandonLedger
from teleplex.campaigns.pacing import AttemptOutcome, CampaignView, PredictivePacer, PredictiveSettings


def test_ledger_measures_24h_and_30d_rates() -> None:
    ledger = AbandonLedger(target=0.03)
    for i in range(100):
        ledger.record(float(i), live=1.0)
    ledger.record(100.0, live=1.0, abandoned=1.0)
    assert ledger.rate_24h(200.0) == pytest.approx(1 / 101)
    assert ledger.rate_30d(200.0) == pytest.approx(1 / 101)


def test_ledger_forgets_the_24h_window_but_not_the_30d_one() -> None:
    ledger = AbandonLedger()
    ledger.record(0.0, live=50.0, abandoned=2.0)
    ledger.record(DAY + 100.0, live=50.0)
    assert ledger.rate_24h(DAY + 200.0) == 0.0
    assert ledger.rate_30d(DAY + 200.0) == pytest.approx(2 / 100)


def test_allowance_ignores_live_answers_about_to_leave_the_window() -> None:
    ledger = AbandonLedger(target=0.03)
    ledger.record(0.0, live=100.0)
    ledger.record(DAY - 500.0, live=100.0)
    assert ledger.allowance(DAY - 100.0, lookahead=0.0) == pytest.approx(6.0)
    assert ledger.allowance(DAY - 100.0, lookahead=200.0) == pytest.approx(3.0)


def _pacer_with_history(live: int, abandoned: int) -> PredictivePacer:
    pacer = PredictivePacer(PredictiveSettings())
    for i in range(2000):
        answered = i % 4 == 0
        pacer.on_attempt_ended(
            float(i), AttemptOutcome.ANSWERED if answered else AttemptOutcome.NO_ANSWER, 9.0
        )
        pacer.on_handling_ended(float(i), 100.0 + i % 100)
        pacer.on_wrapup_ended(float(i), 25.0 + i % 10)
    for i in range(live):
        pacer.on_connected(2000.0 + i, 0.0, machine=False)
    for i in range(abandoned):
        pacer.on_abandoned(2000.0 + live + i)
    return pacer


def test_no_calls_beyond_free_agents_when_the_allowance_is_exhausted() -> None:
    pacer = _pacer_with_history(live=300, abandoned=9)  # 9 / 309 = 2.9 %: less than one abandon left
    assert pacer.allowance(2400.0) < 1.0
    busy_only = CampaignView(
        ready_agents=0, wrapping=[39.0, 39.9, 38.0], talking=[300.0] * 5, free_channels=50
    )
    assert pacer.decide(2400.0, busy_only) == 0
    two_free = CampaignView(ready_agents=2, wrapping=[39.0], free_channels=50)
    assert pacer.decide(2400.0, two_free) == 2


def test_calls_ahead_of_agents_when_the_allowance_is_ample() -> None:
    pacer = _pacer_with_history(live=300, abandoned=0)
    view = CampaignView(ready_agents=2, wrapping=[39.0], free_channels=50)
    assert pacer.decide(2400.0, view) > 2


def test_expected_amd_false_positives_are_charged_to_the_allowance() -> None:
    plain = _pacer_with_history(live=300, abandoned=0)
    with_amd = PredictivePacer(PredictiveSettings(amd_false_positive_rate=0.01))
    for i in range(300):
        with_amd.on_connected(2000.0 + i, 0.0, machine=False)
    assert with_amd.allowance(2400.0) < plain.allowance(2400.0) - 3.0


def test_abandons_tighten_the_risk_budget() -> None:
    pacer = _pacer_with_history(live=0, abandoned=0)
    before = pacer.risk_budget
    pacer.on_abandoned(3000.0)
    assert pacer.risk_budget < before
