"""Pure retry policy and rate limiting for the outbox: backoff with jitter, and token buckets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": half the delay is fixed, half random, so a provider
    outage does not make every queued message come back at the same instant."""

    base_seconds: float = 2.0
    cap_seconds: float = 900.0
    max_attempts: int = 8

    def delay(self, attempt: int, rand: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based); `rand` returns [0, 1)."""
        raw = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        return raw / 2 + raw / 2 * rand()

    def next_delay(self, attempt: int, rand: Callable[[], float], retry_after: float | None) -> float:
        """The provider's `retry_after` is a floor: waiting less only earns another 429."""
        wait = self.delay(attempt, rand)
        return max(wait, retry_after) if retry_after is not None else wait

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


@dataclass
class TokenBucket:
    """`rate` sends per second with bursts up to `burst`; time comes from the caller (a clock's monotonic)."""

    rate: float
    burst: float
    tokens: float = field(default=-1.0)
    updated: float | None = None
    blocked_until: float = 0.0  # a provider's 429 closes the bucket for everyone until then

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def _refill(self, now: float) -> None:
        if self.updated is not None and now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now if self.updated is None else max(now, self.updated)

    def wait_time(self, now: float) -> float:
        """Seconds until a token is free (0: send now)."""
        self._refill(now)
        if now < self.blocked_until:
            return self.blocked_until - now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> bool:
        """Spend a token if one is free."""
        if self.wait_time(now) > 0:
            return False
        self.tokens -= 1
        return True

    def block(self, now: float, seconds: float) -> None:
        """The provider said "retry after": nobody on this bucket sends before then."""
        self.blocked_until = max(self.blocked_until, now + seconds)
        self.tokens = 0.0
        self.updated = now
