"""The pacer's risk arithmetic was made faster for the benchmark (skipping slots that stay zero, running sums
kept once per state, comprehensions instead of indexed loops). A benchmark figure must not move because of
that: these tests hold the fast code to the plain textbook computation, float for float (==, not approx)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teleplex.campaigns.pacing_risk import CompetingAnswers, freed_agents_pmf


def _plain_freed_pmf(probabilities: list[float]) -> list[float]:
    """Poisson-binomial by the indexed double loop, exactly as first written."""
    certain = sum(1 for q in probabilities if q >= 0.9999)
    uncertain = [q for q in probabilities if 1e-4 < q < 0.9999]
    pmf = [1.0]
    for q in uncertain:
        nxt = [0.0] * (len(pmf) + 1)
        for i, w in enumerate(pmf):
            nxt[i] += w * (1.0 - q)
            nxt[i + 1] += w * q
        pmf = nxt
    return [0.0] * certain + pmf


def _plain_at_least(probabilities: list[float], upto: int) -> list[float]:
    """P(D >= j) for j = 1..upto from a truncated pmf updated over every slot, summed afresh for each j."""
    pmf = [1.0] + [0.0] * upto
    for p in probabilities:
        tail = pmf[upto] + pmf[upto - 1] * p
        for j in range(upto - 1, 0, -1):
            pmf[j] = pmf[j] * (1.0 - p) + pmf[j - 1] * p
        pmf[0] *= 1.0 - p
        pmf[upto] = tail
    return [max(0.0, 1.0 - sum(pmf[:j])) if j <= len(probabilities) else 0.0 for j in range(1, upto + 1)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=40))
def test_freed_agents_pmf_is_the_plain_computation(probabilities: list[float]) -> None:
    assert freed_agents_pmf(probabilities) == _plain_freed_pmf(probabilities)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=0.3), max_size=60), st.integers(1, 30))
def test_competing_answers_are_the_plain_computation_while_exact(probabilities: list[float], upto: int) -> None:
    competing = CompetingAnswers(probabilities, upto)
    if sum(p * (1.0 - p) for p in probabilities) >= 9.0:
        return  # past this the normal approximation takes over, by design
    plain = _plain_at_least(probabilities, upto)
    assert [competing.at_least(j) for j in range(1, upto + 1)] == plain


def test_adding_calls_one_by_one_matches_building_at_once() -> None:
    probabilities = [0.05 + 0.01 * (i % 7) for i in range(25)]
    at_once = CompetingAnswers(probabilities, 12)
    stepwise = CompetingAnswers(probabilities[:10], 12)
    stepwise.at_least(3)  # a cached running sum must not survive the next call
    for p in probabilities[10:]:
        stepwise.add(p)
    assert [stepwise.at_least(j) for j in range(13)] == [at_once.at_least(j) for j in range(13)]


def _plain_risk(ready: int, freed_pmf: list[float], probabilities: list[float], upto: int) -> float:
    """The risk summed over every freed count, with P(D >= j) from the plain computations above."""
    var = mean = 0.0  # summed in the same order as CompetingAnswers
    for p in probabilities:
        mean += p
        var += p * (1.0 - p)
    exact = _plain_at_least(probabilities, upto) if var < 9.0 else None

    def at_least(j: int) -> float:
        if j <= 0:
            return 1.0
        if j > len(probabilities):
            return 0.0
        if exact is None:
            return 1.0 - 0.5 * (1.0 + math.erf((j - 0.5 - mean) / math.sqrt(var) / math.sqrt(2.0)))
        return exact[j - 1] if j <= upto else 0.0

    risk = 0.0
    for freed, weight in enumerate(freed_pmf):
        if weight:
            risk += weight * at_least(ready + freed)
    return min(1.0, risk)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, 0.0, 0.02, 0.1, 0.3, 0.5]) | st.floats(0.0, 0.6), max_size=120),
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30),
    st.integers(-3, 12),
    st.integers(1, 40),
)
def test_the_risk_loop_is_the_plain_weighted_sum(
    probabilities: list[float], freed_pmf: list[float], ready: int, upto: int
) -> None:
    """Calls that can no longer be answered (p = 0), the normal approximation taken at once when the calls
    ringing are already wide, and the loop stopping where no call is left to compete: none moves a float."""
    competing = CompetingAnswers(probabilities, upto)
    assert competing.risk(ready, freed_pmf) == _plain_risk(ready, freed_pmf, probabilities, upto)


def test_calls_added_one_by_one_past_the_normal_switch_match_building_at_once() -> None:
    probabilities = [0.0, 0.3, 0.0, 0.45] * 15  # variance passes 9 after about 40 calls
    at_once = CompetingAnswers(probabilities, 30)
    stepwise = CompetingAnswers(probabilities[:20], 30)
    for p in probabilities[20:]:
        stepwise.add(p)
    assert (at_once.mean, at_once.var, at_once.calls) == (stepwise.mean, stepwise.var, stepwise.calls)
    assert [stepwise.at_least(j) for j in range(62)] == [at_once.at_least(j) for j in range(62)]


@pytest.mark.parametrize(
    ("probabilities", "upto"),
    [([0.5] * 50, 60), ([0.3, 0.0] * 10, 30), ([0.3] * 20, 12)],
    ids=["normal", "exact", "exact-truncated"],
)
def test_the_risk_loop_counts_every_agent_count_up_to_the_last_call(
    probabilities: list[float], upto: int
) -> None:
    """Agents freed from none to more than there are calls, each equally likely: every term up to as many
    agents as calls counts, and none past it."""
    freed_pmf = [1.0 / 70] * 70
    for ready in (-2, 0, 5):
        assert CompetingAnswers(probabilities, upto).risk(ready, freed_pmf) == _plain_risk(
            ready, freed_pmf, probabilities, upto
        )
