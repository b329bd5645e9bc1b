"""Other dialers' published pacing methods, re-implemented from their descriptions to compare against.

Neither is Teleplex's pacer; they live with the simulator and plug into it through the same `Pacer`
interface. See docs/dialer.md for the descriptions they follow.
"""

from __future__ import annotations

import math
from collections import deque
from enum import Enum

from teleplex.campaigns.pacing import AttemptOutcome, CampaignView, DialMode, Pacer
from teleplex.campaigns.pacing_estimates import RateEstimate


class DropLimitVariant(Enum):
    """What VICIdial's adaptive method does once today's drop rate passes the target."""

    HARD_LIMIT = "hard_limit"  # back to level 1.0 (progressive)
    TAPERED = "tapered"  # scale the level by hours left in the shift / 10


class VicidialAdaptivePacer(Pacer):
    """VICIdial's adaptive dial level, as published.

    Every 2.5 s place round(level × (ready + talking agents)) − calls in progress (ringing, waiting, talking).
    Every 15 s, from 15 one-second samples of (ready agents − answered calls waiting), multiply the level by
    1 + (average + offset) / average agents, clamped to [1, maximum]. Drop rules: more than half of over 20
    answered calls dropped in the last minute halves the level; past 50 answered calls today, a drop rate
    since midnight above the target applies the variant.
    """

    mode = DialMode.PREDICTIVE

    def __init__(
        self,
        variant: DropLimitVariant = DropLimitVariant.HARD_LIMIT,
        *,
        max_level: float = 3.0,
        target: float = 0.03,
        idle_offset: float = 0.0,
        intensity_percent: float = 0.0,
    ) -> None:
        self.variant = variant
        self.max_level = max_level
        self.target = target
        self.idle_offset = idle_offset
        self.intensity = intensity_percent / 100.0
        self.level = 1.0
        self._next_dial = -math.inf
        self._next_sample = -math.inf
        self._next_adapt = -math.inf
        self._samples: list[tuple[float, float]] = []
        self._recent: deque[tuple[float, bool]] = deque()  # (time, dropped) of answered calls, last minute
        self._day = -1
        self._answered_today = 0
        self._dropped_today = 0

    def _today(self, now: float) -> None:
        day = int(now // 86_400)
        if day != self._day:
            self._day, self._answered_today, self._dropped_today = day, 0, 0

    def on_connected(self, now: float, wait_seconds: float, machine: bool) -> None:
        self._today(now)
        self._answered_today += 1
        self._recent.append((now, False))

    def on_abandoned(self, now: float) -> None:
        self._today(now)
        self._answered_today += 1
        self._dropped_today += 1
        self._recent.append((now, True))

    def decide(self, now: float, view: CampaignView) -> int:
        if self._next_adapt == -math.inf:
            self._next_sample = self._next_dial = now
            self._next_adapt = now + 15.0
        if now >= self._next_sample:
            self._samples.append((view.ready_agents - view.answered_waiting, view.agents))
            self._next_sample = now + 1.0
        if now >= self._next_adapt:
            self._adapt(now, view)
            self._next_adapt = now + 15.0
        if now < self._next_dial:
            return 0
        self._next_dial = now + 2.5
        working = view.ready_agents + len(view.talking)
        in_progress = view.calls_ringing + view.answered_waiting + len(view.talking)
        wanted = math.floor(self.level * working + 0.5) - in_progress
        return max(0, min(wanted, view.free_channels))

    def _adapt(self, now: float, view: CampaignView) -> None:
        if self._samples:
            idle = sum(s[0] for s in self._samples) / len(self._samples)
            agents = sum(s[1] for s in self._samples) / len(self._samples)
            self._samples.clear()
            if agents > 0:
                change = (idle + self.idle_offset) / agents
                change *= (1.0 + self.intensity) if change > 0 else (1.0 - self.intensity)
                self.level *= 1.0 + change
        while self._recent and self._recent[0][0] < now - 60.0:
            self._recent.popleft()
        if len(self._recent) > 20 and sum(1 for _, d in self._recent if d) > len(self._recent) / 2:
            self.level /= 2.0
        self._today(now)
        if self._answered_today > 50 and self._dropped_today / self._answered_today > self.target:
            if self.variant is DropLimitVariant.HARD_LIMIT:
                self.level = 1.0
            else:
                hours_left = min(10.0, max(0.0, (view.shift_end - now) / 3600.0))
                self.level *= hours_left / 10.0
        self.level = min(self.max_level, max(1.0, self.level))


class IssabelPacer(Pacer):
    """Issabel's predictor, as published: free agents plus busy agents "about to free", scaled by answer rate.

    A busy agent is about to free when 1 − exp(−(time busy + average answer time) / average call time) is at
    least 0.97. No abandonment feedback.
    """

    mode = DialMode.PREDICTIVE

    def __init__(self, threshold: float = 0.97, scale_by_answer_rate: bool = True) -> None:
        self.threshold = threshold
        self.scale = scale_by_answer_rate
        self.answers = RateEstimate(memory=500.0)
        self._ring_total = 0.0
        self._ring_count = 0
        self._call_total = 0.0
        self._call_count = 0

    def on_attempt_ended(self, now: float, outcome: AttemptOutcome, ring_seconds: float) -> None:
        answered = outcome is not AttemptOutcome.NO_ANSWER
        self.answers.record(outcome is AttemptOutcome.ANSWERED)
        if answered:
            self._ring_total += ring_seconds
            self._ring_count += 1

    def on_handling_ended(self, now: float, seconds: float) -> None:
        self._call_total += seconds
        self._call_count += 1

    def decide(self, now: float, view: CampaignView) -> int:
        about_to_free = 0
        if self._call_count:
            avg_call = self._call_total / self._call_count
            avg_answer = self._ring_total / self._ring_count if self._ring_count else 0.0
            limit = -math.log(1.0 - self.threshold) * avg_call - avg_answer  # busy time that passes 0.97
            about_to_free = sum(1 for e in view.talking if e >= limit)
            about_to_free += sum(1 for e in view.wrapping if e + avg_call >= limit)
        agents_wanted = view.ready_agents + about_to_free - view.answered_waiting
        if agents_wanted <= 0:
            return 0
        calls = agents_wanted / self.answers.mean if self.scale else agents_wanted
        wanted = math.floor(calls + 0.5) - view.calls_ringing
        return max(0, min(wanted, view.free_channels))
