"""The predictive pacer's drop setpoint: a small team keeps the mean of a window's drops a couple of Poisson
standard deviations under the gate (else it hits the gate often and falls back to progressive for a day);
a large team, whose window holds thousands of live answers, steers to `aim` × the gate as before."""

from __future__ import annotations

import math

import pytest

from teleplex.campaigns.pacing import PredictivePacer, PredictiveSettings


def _with_live(live: int, settings: PredictiveSettings | None = None) -> PredictivePacer:
    pacer = PredictivePacer(settings)
    for i in range(live):
        pacer.on_connected(float(i), 0.0, machine=False)
    return pacer


def test_a_small_team_keeps_its_mean_drops_two_deviations_under_the_gate() -> None:
    pacer = _with_live(350)  # a 5-agent team's day
    room = 0.03 * 0.97 * 350  # 10.2 abandons
    drops = pacer._setpoint() * 350
    assert drops + 2.0 * math.sqrt(drops) == pytest.approx(room)
    assert drops < 0.9 * room - 2.0  # well under the old aim: 5.5 abandons against 9.2


def test_a_large_team_still_steers_to_the_aim() -> None:
    pacer = _with_live(20_000)
    assert pacer._setpoint() == pytest.approx(0.9 * 0.03 * 0.97)


def test_no_margin_is_the_old_setpoint() -> None:
    pacer = _with_live(350, PredictiveSettings(drop_margin_z=0.0))
    assert pacer._setpoint() == pytest.approx(0.9 * 0.03 * 0.97)
