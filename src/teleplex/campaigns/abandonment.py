"""The abandonment ledger: live answers and abandoned calls of one campaign, in the regulation's windows.

The rules cap abandoned ÷ live-answered calls per 24 hours (UK) and per rolling 30 days (US). Every 24-hour
window ends at some instant, so keeping the trailing window under the cap at every instant keeps every window
under it; the ledger answers "how many more abandons can this window take" including the live answers that
are about to leave it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

DAY = 86_400.0
MONTH = 30 * DAY
_BUCKET = 10.0  # seconds; events are kept per bucket so 30 days of a large campaign stay small


@dataclass(slots=True)
class _Window:
    length: float
    buckets: deque[tuple[float, float, float]] = field(default_factory=deque)  # (start, live, abandoned)
    live: float = 0.0
    abandoned: float = 0.0

    def add(self, start: float, live: float, abandoned: float) -> None:
        if self.buckets and self.buckets[-1][0] == start:
            _, old_live, old_ab = self.buckets[-1]
            self.buckets[-1] = (start, old_live + live, old_ab + abandoned)
        else:
            self.buckets.append((start, live, abandoned))
        self.live += live
        self.abandoned += abandoned

    def expire(self, now: float) -> None:
        limit = now - self.length
        while self.buckets and self.buckets[0][0] + _BUCKET <= limit:
            _, live, abandoned = self.buckets.popleft()
            self.live -= live
            self.abandoned -= abandoned

    def live_still_in(self, at: float) -> float:
        """Live answers that will still be inside the window at `at` (a little ahead of now)."""
        limit = at - self.length
        leaving = 0.0
        for start, live, _ in self.buckets:
            if start >= limit:
                break
            leaving += live
        return max(0.0, self.live - leaving)


@dataclass(slots=True)
class AbandonLedger:
    """Counts per 24 hours and per rolling 30 days; amounts may be fractional (expected AMD false positives)."""

    target: float = 0.03
    day: _Window = field(default_factory=lambda: _Window(DAY))
    month: _Window = field(default_factory=lambda: _Window(MONTH))
    total_live: float = 0.0

    def record(self, now: float, *, live: float = 0.0, abandoned: float = 0.0) -> None:
        start = math.floor(now / _BUCKET) * _BUCKET
        for window in (self.day, self.month):
            window.expire(now)
            window.add(start, live, abandoned)
        self.total_live += live

    def rate_24h(self, now: float) -> float:
        self.day.expire(now)
        return self.day.abandoned / self.day.live if self.day.live > 0 else 0.0

    def rate_30d(self, now: float) -> float:
        self.month.expire(now)
        return self.month.abandoned / self.month.live if self.month.live > 0 else 0.0

    def allowance(self, now: float, lookahead: float = 60.0) -> float:
        """How many more abandons both windows can take, now and `lookahead` seconds from now.

        Live answers about to leave the window are not counted (they will not be there to dilute the next
        abandon); abandons about to leave still are (cautious).
        """
        best = math.inf
        for window in (self.day, self.month):
            window.expire(now)
            live = window.live_still_in(now + lookahead)
            best = min(best, self.target * live - window.abandoned)
        return best


@lru_cache(maxsize=1024)  # asked every second with the same figures until a call connects or one leaves
def false_positive_reserve(expected: float, room: float, risk: float) -> int:
    """How many AMD false positives to keep room for, so that the pacer's own drops rarely tip a window over.

    A window with `room` abandons left before the cap (after real drops) will also hold an unseen number F of
    people AMD hung up on, Poisson with mean `expected`. If F > room the window is over whatever the pacer
    does: that part is not pacing's to control. Pacing only decides how much of the room its drops use:
    filling it down to `q` tips the window over exactly when q < F <= room. The reserve is the smallest q for
    which that has probability at most `risk`; with a large room it is about the (1 - risk) quantile of F,
    with a small one (a small team) it stops counting the tail beyond the room, which no pacing avoids.
    """
    if expected <= 0.0:
        return 0
    top = math.floor(room)
    if top <= 0:
        return max(0, top)
    log_mean = math.log(expected)
    above = 0.0  # P(q < F <= top), growing as q walks down from the top of the room
    q = min(top, math.ceil(expected + 12.0 * math.sqrt(expected) + 20.0))  # nothing above here weighs
    while q > 0:
        p_q = math.exp(q * log_mean - expected - math.lgamma(q + 1))
        if above + p_q > risk:
            break
        above += p_q
        q -= 1
    return q
