"""What a simulated run measured, by the regulation's windows and the trade's ratios."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

DAY = 86_400.0
MONTH = 30 * DAY


@dataclass(slots=True)
class Histogram:
    """Fixed-width bins: percentiles of millions of waits without keeping them."""

    width: float
    bins: list[int] = field(default_factory=list)
    count: int = 0
    total: float = 0.0

    def add(self, value: float) -> None:
        index = int(value / self.width)
        if index >= len(self.bins):
            self.bins.extend([0] * (index + 1 - len(self.bins)))
        self.bins[index] += 1
        self.count += 1
        self.total += value

    def percentile(self, q: float) -> float:
        if not self.count:
            return 0.0
        rank = q * self.count
        seen = 0
        for index, n in enumerate(self.bins):
            seen += n
            if seen >= rank and n:
                return index * self.width
        return (len(self.bins) - 1) * self.width

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


def worst_window_rate(
    live: list[float], abandoned: list[float], length: float, warmup: int, until: float
) -> float:
    """The highest abandoned ÷ live ratio over every window (τ − length, τ] ending after the warm-up.

    The ratio only rises at an abandon or when a live answer leaves the window, so those instants are the
    candidates. Windows must end by `until` (the end of the simulated period).
    """
    if len(live) < warmup or not abandoned:
        return 0.0
    live = sorted(live)
    abandoned = sorted(abandoned)
    first = live[warmup - 1] if warmup > 0 else live[0]
    candidates = [first] + [a for a in abandoned if a >= first]
    candidates += [t + length for t in live if first <= t + length <= until]
    worst = 0.0
    for end in candidates:
        start = end - length
        n_live = bisect.bisect_right(live, end) - bisect.bisect_right(live, start)
        if n_live <= 0:
            continue
        n_ab = bisect.bisect_right(abandoned, end) - bisect.bisect_right(abandoned, start)
        if n_ab:
            worst = max(worst, n_ab / n_live)
    return worst


@dataclass(slots=True)
class DialerResult:
    """One dialer on one scenario and seed."""

    dialer: str
    agents: int
    logged_in_seconds: float = 0.0
    talk_seconds: float = 0.0
    wrapup_seconds: float = 0.0
    machine_seconds: float = 0.0
    dials: int = 0
    live_answers: int = 0
    abandoned: int = 0
    amd_false_positives: int = 0
    contacts: int = 0
    worst_abandon_24h: float = 0.0
    worst_abandon_30d: float = 0.0
    customer_wait: Histogram = field(default_factory=lambda: Histogram(0.05))
    agent_idle: Histogram = field(default_factory=lambda: Histogram(1.0))

    @property
    def occupancy(self) -> float:
        """Talk time ÷ logged-in time."""
        return self.talk_seconds / self.logged_in_seconds if self.logged_in_seconds else 0.0

    @property
    def utilisation(self) -> float:
        """Talk, wrap-up and machine handling ÷ logged-in time."""
        busy = self.talk_seconds + self.wrapup_seconds + self.machine_seconds
        return busy / self.logged_in_seconds if self.logged_in_seconds else 0.0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0

    @property
    def contacts_per_agent_hour(self) -> float:
        return self.contacts / (self.logged_in_seconds / 3600.0) if self.logged_in_seconds else 0.0

    def summary(self) -> dict[str, float | int | str]:
        """The figures the CLI and the benchmark print."""
        return {
            "dialer": self.dialer,
            "occupancy": round(self.occupancy, 4),
            "utilisation": round(self.utilisation, 4),
            "abandon_overall": round(self.abandon_rate, 4),
            "abandon_worst_24h": round(self.worst_abandon_24h, 4),
            "abandon_worst_30d": round(self.worst_abandon_30d, 4),
            "contacts_per_agent_hour": round(self.contacts_per_agent_hour, 2),
            "agent_idle_mean_s": round(self.agent_idle.mean, 1),
            "agent_idle_p50_s": round(self.agent_idle.percentile(0.5), 1),
            "agent_idle_p95_s": round(self.agent_idle.percentile(0.95), 1),
            "answer_to_agent_p50_s": round(self.customer_wait.percentile(0.5), 2),
            "answer_to_agent_p95_s": round(self.customer_wait.percentile(0.95), 2),
            "dials": self.dials,
            "live_answers": self.live_answers,
            "abandoned": self.abandoned,
        }
