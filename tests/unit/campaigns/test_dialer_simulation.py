"""The dialer simulator: repeatable, common random numbers across dialers, the oracle's bound, and the
predictive pacer holding the abandonment target in short simulations."""

from __future__ import annotations

from dataclasses import replace

import pytest

from teleplex.campaigns.simulation import DialerKind, DialerScenario, DialerSpec, simulate
from teleplex.campaigns.simulation.engine import _Run
from teleplex.campaigns.simulation.leads import LeadFate, LeadStream
from teleplex.campaigns.simulation.metrics import DAY, worst_window_rate

SHORT = DialerScenario(
    agents=8, human_answer_probability=0.2, machine_probability=0.05, talk_mean_seconds=90.0, shift_hours=2.0
)


def test_same_seed_gives_the_same_result() -> None:
    first = simulate(SHORT, DialerSpec(DialerKind.TELEPLEX)).summary()
    again = simulate(SHORT, DialerSpec(DialerKind.TELEPLEX)).summary()
    assert first == again


def test_another_seed_gives_another_result() -> None:
    first = simulate(SHORT, DialerSpec(DialerKind.PROGRESSIVE)).summary()
    other = simulate(SHORT.with_seed(2), DialerSpec(DialerKind.PROGRESSIVE)).summary()
    assert first != other


def test_every_dialer_walks_the_same_list_of_leads() -> None:
    """Common random numbers: the i-th lead has the same fate and durations for every dialer."""
    streams = [_Run(SHORT, DialerSpec(kind)).leads for kind in (DialerKind.PROGRESSIVE, DialerKind.TELEPLEX)]
    first = [streams[0].next() for _ in range(500)]
    second = [streams[1].next() for _ in range(500)]
    assert first == second
    assert {lead.fate for lead in first} == set(LeadFate)


def test_lead_fates_do_not_depend_on_amd_or_the_team() -> None:
    other = replace(SHORT, amd_enabled=True, agents=50, talk_mean_seconds=90.0)
    a, b = LeadStream(SHORT), LeadStream(other)
    assert [a.next() for _ in range(300)] == [b.next() for _ in range(300)]


def test_dialers_meet_the_same_people() -> None:
    """Progressive and power dial the same first leads, so the people they reach early are the same."""
    calls: dict[str, list[int]] = {}
    for kind in (DialerKind.PROGRESSIVE, DialerKind.POWER):
        run = _Run(SHORT, DialerSpec(kind, power_ratio=2.0))
        seen: list[int] = []
        original = run.leads.next

        def recording(original=original, seen=seen):  # type: ignore[no-untyped-def]
            lead = original()
            seen.append(lead.fate)
            return lead

        run.leads.next = recording  # type: ignore[method-assign]
        run.run()
        calls[kind.value] = seen
    shared = min(len(v) for v in calls.values())
    assert shared > 100
    assert calls["progressive"][:shared] == calls["power"][:shared]


@pytest.mark.parametrize("amd", [False, True])
def test_the_oracle_never_abandons_and_never_idles(amd: bool) -> None:
    scenario = replace(SHORT, amd_enabled=amd, talk_mean_seconds=120.0)
    result = simulate(scenario, DialerSpec(DialerKind.ORACLE))
    assert result.abandoned == 0
    assert result.worst_abandon_24h == 0.0
    assert result.contacts > 100
    # Agents only talk and wrap up, so talk occupancy is about talk / (talk + wrap-up).
    assert result.utilisation == pytest.approx(1.0, abs=0.02)


def test_the_oracle_bounds_every_other_dialer() -> None:
    oracle = simulate(SHORT, DialerSpec(DialerKind.ORACLE)).occupancy
    for kind in (DialerKind.PREVIEW, DialerKind.PROGRESSIVE, DialerKind.TELEPLEX, DialerKind.VICIDIAL_HARD):
        assert simulate(SHORT, DialerSpec(kind)).occupancy < oracle


def test_progressive_never_abandons_without_amd() -> None:
    result = simulate(SHORT, DialerSpec(DialerKind.PROGRESSIVE))
    assert result.abandoned == 0


def test_an_aggressive_power_ratio_abandons_far_above_the_target() -> None:
    result = simulate(SHORT, DialerSpec(DialerKind.POWER, power_ratio=8.0))
    assert result.worst_abandon_24h > 0.10


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_predictive_holds_the_abandonment_target_and_beats_progressive(seed: int) -> None:
    scenario = replace(SHORT, agents=10, shift_hours=3.0, seed=seed)
    teleplex = simulate(scenario, DialerSpec(DialerKind.TELEPLEX))
    progressive = simulate(scenario, DialerSpec(DialerKind.PROGRESSIVE))
    assert teleplex.live_answers > 200
    assert teleplex.worst_abandon_24h <= 0.03
    assert teleplex.occupancy > progressive.occupancy + 0.03


def test_worst_window_finds_the_bad_day() -> None:
    live = [float(i) for i in range(100)] + [DAY * 2 + i for i in range(100)]
    abandoned = [DAY * 2 + i for i in range(95, 100)]
    assert worst_window_rate(live, abandoned, DAY, warmup=50, until=DAY * 2 + 1000) == pytest.approx(5 / 100)
    # A window ending later, once the first of those live answers has left it, is worse still.
    assert worst_window_rate(live, abandoned, DAY, warmup=50, until=DAY * 3) == pytest.approx(5 / 99)


def test_worst_window_ignores_windows_before_the_warmup() -> None:
    live = [float(i) for i in range(200)]
    abandoned = [0.0, 1.0]  # two of the first two: 100 %, but only windows after 50 live answers count
    assert worst_window_rate(live, abandoned, DAY, warmup=50, until=DAY) == pytest.approx(2 / 50)
