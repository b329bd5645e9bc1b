"""Backoff with jitter, the provider's retry_after as a floor, and token buckets."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from teleplex.messaging.outbox import MOVES, OutboxState
from teleplex.messaging.retry import RetryPolicy, TokenBucket


@given(st.integers(min_value=1, max_value=40), st.floats(min_value=0, max_value=0.999999))
def test_delay_grows_and_stays_within_half_and_whole_of_the_cap(attempt: int, r: float) -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=900)
    raw = min(900, 2 * 2 ** (attempt - 1))
    assert raw / 2 <= policy.delay(attempt, lambda: r) <= raw


def test_delays_double_until_the_cap() -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=30)
    assert [policy.delay(a, lambda: 1.0) for a in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_retry_after_is_a_floor_never_shortened() -> None:
    policy = RetryPolicy(base_seconds=2)
    assert policy.next_delay(1, lambda: 0.0, retry_after=30) == 30
    assert policy.next_delay(10, lambda: 0.0, retry_after=1) == policy.delay(10, lambda: 0.0)


def test_exhausted_after_max_attempts() -> None:
    assert not RetryPolicy(max_attempts=3).exhausted(2)
    assert RetryPolicy(max_attempts=3).exhausted(3)


def test_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=2, burst=2)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert bucket.wait_time(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) and not bucket.take(0.5)


def test_block_closes_the_bucket_until_then() -> None:
    bucket = TokenBucket(rate=100, burst=100)
    bucket.block(10.0, 7)
    assert not bucket.take(16.9) and bucket.wait_time(16.9) == pytest.approx(0.1)
    assert bucket.take(17.0)


def test_outbox_states_only_move_along_the_table() -> None:
    assert MOVES[OutboxState.SENT] == frozenset() and MOVES[OutboxState.DEAD] == frozenset()
    assert OutboxState.SENDING in MOVES[OutboxState.FAILED]
    assert OutboxState.SENT not in MOVES[OutboxState.PENDING]  # every send goes through a claim
