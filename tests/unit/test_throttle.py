from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from teleplex.auth.throttle import ThrottlePolicy, delay_after, record_failure, retry_after

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(free_failures=3, max_delay_seconds=60, lockout_failures=10, lockout_seconds=900)


def fail_times(n: int, start: datetime = T0, gap: float = 0):
    rec, now = None, start
    for _ in range(n):
        rec = record_failure(rec, now, POLICY)
        now += timedelta(seconds=gap)
    return rec


def test_first_failures_are_free():
    rec = fail_times(2)
    assert retry_after(rec, T0, POLICY) == 0


def test_after_free_failures_each_try_must_wait_longer():
    assert [delay_after(n, POLICY) for n in range(3, 9)] == [1, 2, 4, 8, 16, 32]
    rec = fail_times(5)
    assert retry_after(rec, T0, POLICY) == 4
    assert retry_after(rec, T0 + timedelta(seconds=4), POLICY) == 0


def test_delay_never_exceeds_the_maximum():
    assert delay_after(50, POLICY) == 60


def test_lockout_refuses_for_the_lockout_period():
    rec = fail_times(10)
    assert rec.locked_until == T0 + timedelta(seconds=900)
    assert retry_after(rec, T0 + timedelta(seconds=899), POLICY) == 1
    assert retry_after(rec, T0 + timedelta(seconds=900), POLICY) == 0


def test_served_lockout_starts_counting_afresh():
    rec = fail_times(10)
    later = T0 + timedelta(seconds=901)
    rec = record_failure(rec, later, POLICY)
    assert rec.count == 1 and rec.locked_until is None


def test_quiet_period_forgets_failures():
    rec = fail_times(8)
    assert retry_after(rec, T0 + timedelta(seconds=900), POLICY) == 0
    assert record_failure(rec, T0 + timedelta(seconds=900), POLICY).count == 1


def test_address_allowance_is_wider():
    addr = POLICY.for_address()
    assert addr.free_failures == 15 and addr.lockout_failures == 50


@given(st.lists(st.floats(min_value=0, max_value=2000), min_size=1, max_size=40))
def test_retry_after_is_never_negative_and_bounded(gaps):
    rec, now = None, T0
    for gap in gaps:
        now += timedelta(seconds=gap)
        rec = record_failure(rec, now, POLICY)
        wait = retry_after(rec, now, POLICY)
        assert 0 <= wait <= max(POLICY.lockout_seconds, POLICY.max_delay_seconds)
