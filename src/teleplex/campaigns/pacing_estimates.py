"""Online estimates the predictive pacer learns from live traffic: a rate with its uncertainty, and durations.

Both forget slowly, so a list whose answer rate drifts during the day is followed without retuning.
"""

from __future__ import annotations

import bisect
import math
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(slots=True)
class RateEstimate:
    """A Beta posterior over a success probability (e.g. "this dial will need an agent"), with forgetting.

    The prior is weak on purpose: after a few hundred dials the data speak. `memory` is the effective number of
    recent trials remembered; older ones fade geometrically.
    """

    successes: float = 1.0
    failures: float = 4.0
    memory: float = 3000.0

    def record(self, success: bool) -> None:
        keep = 1.0 - 1.0 / self.memory
        self.successes = self.successes * keep + (1.0 if success else 0.0)
        self.failures = self.failures * keep + (0.0 if success else 1.0)

    @property
    def trials(self) -> float:
        return self.successes + self.failures

    @property
    def mean(self) -> float:
        return self.successes / self.trials

    def upper(self, z: float = 1.0) -> float:
        """The mean plus z posterior standard deviations: a cautious value while the sample is small."""
        n = self.trials
        m = self.mean
        sd = math.sqrt(m * (1.0 - m) / (n + 1.0))
        return min(1.0, m + z * sd)


@dataclass(slots=True)
class DurationSample:
    """The most recent durations of one kind (talk, wrap-up, ring before answer), kept sorted for quantiles."""

    capacity: int = 2000
    _recent: deque[float] = field(default_factory=deque)
    _sorted: list[float] = field(default_factory=list)
    _total: float = 0.0

    def record(self, seconds: float) -> None:
        if len(self._recent) >= self.capacity:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
            self._total -= old
        self._recent.append(seconds)
        bisect.insort(self._sorted, seconds)
        self._total += seconds

    def __len__(self) -> int:
        return len(self._sorted)

    @property
    def mean(self) -> float:
        return self._total / len(self._sorted) if self._sorted else 0.0

    def quantile(self, q: float) -> float:
        if not self._sorted:
            return 0.0
        index = min(len(self._sorted) - 1, max(0, int(q * len(self._sorted))))
        return self._sorted[index]

    def survival(self, elapsed: float) -> float:
        """The share of durations longer than `elapsed`."""
        n = len(self._sorted)
        return (n - bisect.bisect_right(self._sorted, elapsed)) / n if n else 1.0

    def ends_within(self, elapsed: float, horizon: float) -> float:
        """P(duration <= elapsed + horizon | duration > elapsed), from the empirical distribution.

        Beyond the longest duration seen, the tail is unknown: assume it does not end soon (cautious).
        """
        s = self._sorted
        n = len(s)
        if n == 0 or horizon <= 0.0:
            return 0.0
        longer = n - bisect.bisect_right(s, elapsed)
        if longer == 0:
            return 0.0
        still_longer = n - bisect.bisect_right(s, elapsed + horizon)
        return (longer - still_longer) / longer

    def ends_within_each(self, elapsed: Sequence[float], horizon: float) -> list[float]:
        """`ends_within(e, horizon)` for each e, in one pass (the pacer asks it for every busy agent, every
        second)."""
        s = self._sorted
        n = len(s)
        if n == 0 or horizon <= 0.0:
            return [0.0] * len(elapsed)
        out: list[float] = []
        for e in elapsed:
            longer = n - bisect_right(s, e)
            out.append((longer - (n - bisect_right(s, e + horizon))) / longer if longer else 0.0)
        return out
