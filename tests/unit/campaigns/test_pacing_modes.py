"""The pacer's modes: preview places nothing, progressive one call per free agent, power a fixed ratio,
and no mode ever asks for more calls than free channels allow."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from teleplex.campaigns.pacing import (
    AttemptOutcome,
    CampaignView,
    DialMode,
    PowerPacer,
    PredictivePacer,
    PreviewPacer,
    ProgressivePacer,
    make_pacer,
)

durations = st.lists(st.floats(min_value=0.0, max_value=900.0), max_size=30)


@st.composite
def views(draw: st.DrawFn) -> CampaignView:
    return CampaignView(
        ready_agents=draw(st.integers(0, 40)),
        talking=draw(durations),
        wrapping=draw(durations),
        calls_ringing=draw(st.integers(0, 80)),
        answered_waiting=draw(st.integers(0, 5)),
        free_channels=draw(st.integers(-3, 60)),
    )


def seasoned_predictive() -> PredictivePacer:
    """A predictive pacer that has seen a day of traffic: estimates learned and an allowance to spend."""
    pacer = PredictivePacer()
    for i in range(3000):
        now = float(i)
        answered = i % 5 == 0
        outcome = AttemptOutcome.ANSWERED if answered else AttemptOutcome.NO_ANSWER
        pacer.on_attempt_ended(now, outcome, 9.0 if answered else 25.0)
        if answered:
            pacer.on_connected(now, 0.0, machine=False)
            pacer.on_handling_ended(now, 60.0 + (i % 240))
            pacer.on_wrapup_ended(now, 20.0 + (i % 20))
    return pacer


@given(views(), st.sampled_from(list(DialMode)), st.floats(min_value=1.0, max_value=10.0))
@settings(max_examples=300, deadline=None)
def test_no_mode_places_more_calls_than_free_channels(
    view: CampaignView, mode: DialMode, ratio: float
) -> None:
    pacer = make_pacer(mode, power_ratio=ratio)
    placed = pacer.decide(3000.0, view)
    assert 0 <= placed <= max(0, view.free_channels)


@given(views())
@settings(max_examples=200, deadline=None)
def test_seasoned_predictive_never_exceeds_free_channels(view: CampaignView) -> None:
    placed = seasoned_predictive_pacer.decide(3000.0, view)
    assert 0 <= placed <= max(0, view.free_channels)


seasoned_predictive_pacer = seasoned_predictive()


@given(views())
def test_preview_never_places_calls(view: CampaignView) -> None:
    assert PreviewPacer().decide(0.0, view) == 0


@given(views())
def test_progressive_places_one_call_per_free_agent(view: CampaignView) -> None:
    expected = max(0, min(view.ready_agents - view.answered_waiting - view.calls_ringing, view.free_channels))
    assert ProgressivePacer().decide(0.0, view) == expected


def test_progressive_counts_ringing_calls_against_free_agents() -> None:
    view = CampaignView(ready_agents=5, calls_ringing=2, free_channels=10)
    assert ProgressivePacer().decide(0.0, view) == 3


def test_progressive_is_bounded_by_trunks() -> None:
    assert ProgressivePacer().decide(0.0, CampaignView(ready_agents=8, free_channels=3)) == 3


def test_power_places_ratio_times_free_agents() -> None:
    assert PowerPacer(ratio=2.0).decide(0.0, CampaignView(ready_agents=4, free_channels=100)) == 8
    assert (
        PowerPacer(ratio=2.5).decide(0.0, CampaignView(ready_agents=4, calls_ringing=3, free_channels=100))
        == 7
    )


@given(st.integers(0, 30), st.integers(0, 60), st.floats(min_value=1.0, max_value=6.0))
def test_power_keeps_ratio_calls_in_flight(ready: int, ringing: int, ratio: float) -> None:
    view = CampaignView(ready_agents=ready, calls_ringing=ringing, free_channels=1000)
    placed = PowerPacer(ratio=ratio).decide(0.0, view)
    assert placed == max(0, math.floor(ratio * ready + 0.5) - ringing)


def test_power_ratio_one_is_progressive() -> None:
    view = CampaignView(ready_agents=6, calls_ringing=2, free_channels=50)
    assert PowerPacer(ratio=1.0).decide(0.0, view) == ProgressivePacer().decide(0.0, view)


def test_fresh_predictive_pacer_dials_only_for_free_agents() -> None:
    """With no live answers yet the allowance is zero: only calls with an agent certain to be free."""
    pacer = PredictivePacer()
    view = CampaignView(ready_agents=5, wrapping=[39.0, 39.5], free_channels=100)
    assert pacer.decide(0.0, view) == 5


def test_seasoned_predictive_dials_ahead_of_free_agents() -> None:
    pacer = seasoned_predictive()
    view = CampaignView(ready_agents=5, wrapping=[35.0, 38.0], talking=[30.0] * 10, free_channels=100)
    assert pacer.decide(3000.0, view) > 5
