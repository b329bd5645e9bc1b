"""How fast anonymous web chat visitors may go: a flood is refused early, with how long to wait.

The widget's endpoints are public: anyone who loads the customer's page can open sessions and send. A
person never types faster than these limits; a script that does is told `rate_limited` with
`retry_after` seconds, and what it sent is not stored (the widget keeps the text in the box). Pure
bookkeeping on token buckets; time comes from the caller's clock. Per process: each node of a cluster
counts its own visitors.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from teleplex.core.errors import TooManyAttempts
from teleplex.core.settings import Settings
from teleplex.messaging.retry import TokenBucket

MAX_KEYS = 50_000  # buckets kept per limit; the least recently used goes first (a full bucket is no bucket)


class RateLimited(TooManyAttempts):
    """A visitor (or an address opening sessions) went faster than a person does."""

    reason = "rate_limited"


@dataclass(frozen=True)
class Rate:
    """`per_minute` sustained, after a first `burst` at once."""

    per_minute: float
    burst: int


# "Typing…" shown to agents: the widget says so at most every 3 s while keys are pressed; more is dropped
TYPING = Rate(per_minute=30, burst=10)


class KeyedBuckets:
    """One token bucket per key (a visitor, an address), created full on first use."""

    def __init__(self, rate: Rate, max_keys: int = MAX_KEYS) -> None:
        self.rate, self.max_keys = rate, max_keys
        self._buckets: OrderedDict[Hashable, TokenBucket] = OrderedDict()

    def wait(self, key: Hashable, now: float) -> float:
        """Spend one token of `key`'s bucket and answer 0, or answer the seconds until one is free."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate.per_minute / 60.0, self.rate.burst)
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        if bucket.take(now):
            return 0.0
        return bucket.wait_time(now)

    def __len__(self) -> int:
        return len(self._buckets)


class WebchatLimits:
    """The web chat's limits: messages and files per visitor, typing per visitor, sessions per client address."""

    def __init__(self, messages: Rate, sessions: Rate) -> None:
        self.messages = KeyedBuckets(messages)
        self.sessions = KeyedBuckets(sessions)
        self.typing = KeyedBuckets(TYPING)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebchatLimits:
        return cls(
            Rate(settings.webchat_messages_per_minute, settings.webchat_messages_burst),
            Rate(settings.webchat_sessions_per_minute, settings.webchat_sessions_burst),
        )

    def message(self, visitor_id: int, now: float) -> None:
        """A message or a file from this visitor, or RateLimited."""
        _check(self.messages.wait(visitor_id, now), "messages are coming too fast")

    def typing_shown(self, visitor_id: int, now: float) -> bool:
        """Whether this visitor's "typing" may reach the agents now (past the pace it is dropped, unsaid)."""
        return self.typing.wait(visitor_id, now) == 0.0

    def session(self, address: str | None, now: float) -> None:
        """A session opened from this address, or RateLimited. No address (a test transport): not counted."""
        if address is not None:
            _check(self.sessions.wait(address, now), "too many chat sessions from this address")


def _check(wait: float, what: str) -> None:
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(f"{what}; try again in {seconds} s", retry_after=seconds)
