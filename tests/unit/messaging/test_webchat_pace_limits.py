"""The web chat's pace limits: a burst at once, then so many a minute, per visitor or address."""

from __future__ import annotations

import pytest

from teleplex.core.settings import Settings
from teleplex.messaging.webchat.limits import KeyedBuckets, Rate, RateLimited, WebchatLimits


def test_a_burst_passes_then_the_next_waits_for_its_share_of_the_minute() -> None:
    buckets = KeyedBuckets(Rate(per_minute=30, burst=3))
    assert [buckets.wait("v1", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.wait("v1", 0.0) == pytest.approx(2.0)  # 30 a minute: one every 2 s
    assert buckets.wait("v1", 1.0) == pytest.approx(1.0)  # a refused try spends nothing
    assert buckets.wait("v1", 2.0) == 0.0
    assert buckets.wait("v1", 2.0) == pytest.approx(2.0)


def test_each_key_has_its_own_bucket() -> None:
    buckets = KeyedBuckets(Rate(per_minute=60, burst=1))
    assert buckets.wait("a", 0.0) == 0.0
    assert buckets.wait("a", 0.0) > 0
    assert buckets.wait("b", 0.0) == 0.0


def test_the_buckets_kept_are_bounded_and_the_least_recently_used_goes_first() -> None:
    buckets = KeyedBuckets(Rate(per_minute=60, burst=1), max_keys=3)
    for key in ("a", "b", "c"):
        buckets.wait(key, 0.0)
    buckets.wait("a", 0.0)  # "a" used again: "b" is now the oldest
    buckets.wait("d", 0.0)
    assert len(buckets) == 3
    assert buckets.wait("a", 0.0) > 0  # still remembered: still empty
    assert buckets.wait("b", 0.0) == 0.0  # forgotten: a full bucket again


def test_a_refusal_says_how_many_whole_seconds_to_wait() -> None:
    limits = WebchatLimits(messages=Rate(per_minute=7, burst=1), sessions=Rate(per_minute=60, burst=1))
    limits.message(42, 0.0)
    with pytest.raises(RateLimited) as refused:
        limits.message(42, 0.0)
    assert refused.value.status == 429 and refused.value.reason == "rate_limited"
    assert refused.value.details == {"retry_after": 9}  # 60 / 7 = 8.57 s, rounded up
    limits.session("198.51.100.7", 0.0)
    with pytest.raises(RateLimited):
        limits.session("198.51.100.7", 0.5)
    limits.session(None, 0.5)  # no address known: nothing to count it against
    limits.session(None, 0.5)


def test_the_limits_come_from_the_settings() -> None:
    settings = Settings(webchat_messages_per_minute=12, webchat_messages_burst=2, webchat_sessions_burst=1)
    limits = WebchatLimits.from_settings(settings)
    assert limits.messages.rate == Rate(12, 2) and limits.sessions.rate == Rate(30, 1)
