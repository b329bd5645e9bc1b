"""Each lead's fate, drawn in advance from its own random stream: common random numbers for every dialer.

Lead i always gets the same outcome, ring time, talk and wrap-up times and AMD verdict, whichever dialer
calls it, because every lead consumes exactly the same number of draws from a stream seeded by the scenario.
"""

from __future__ import annotations

import math
import random
from enum import IntEnum
from typing import NamedTuple

from teleplex.campaigns.simulation.scenario import DialerScenario


class LeadFate(IntEnum):
    """What happens when the lead is dialed."""

    NO_ANSWER = 0
    BUSY = 1
    HUMAN = 2
    MACHINE = 3


class Lead(NamedTuple):
    """One lead's pre-drawn future. `amd_draw` decides AMD's verdict against the scenario's rates."""

    index: int
    fate: LeadFate
    ring_seconds: float
    talk_seconds: float
    wrapup_seconds: float
    amd_draw: float


class LeadStream:
    """The campaign's list, in dialing order; every dialer walks it from the start."""

    def __init__(self, scenario: DialerScenario) -> None:
        s = scenario
        self._rng = random.Random(f"leads:{s.seed}")
        self._random = self._rng.random
        self._gauss = self._rng.gauss
        self._next = 0
        long_share = 1.0 - s.short_call_share
        short_mean = s.short_call_max_seconds / 2.0 + 1.5
        long_mean = max(1.0, (s.talk_mean_seconds - s.short_call_share * short_mean) / long_share)
        self._talk_mu = math.log(long_mean) - s.talk_sigma**2 / 2.0
        self._p_human = s.human_answer_probability
        self._p_machine = s.human_answer_probability + s.machine_probability
        self._p_busy = self._p_machine + s.busy_probability
        # The scenario's numbers, read once (this runs for every dial): the same floats as written in `next`.
        self._human_ring = s.human_ring_median_seconds
        self._machine_ring = s.machine_ring_median_seconds
        self._busy_ring = s.busy_ring_seconds
        self._timeout = s.dial_timeout_seconds
        self._longest_answer = s.dial_timeout_seconds - 0.5
        self._short_share = s.short_call_share
        self._short_span = s.short_call_max_seconds - 3.0
        self._talk_sigma = s.talk_sigma
        self._wrap_min = s.wrapup_min_seconds
        self._wrap_span = s.wrapup_max_seconds - s.wrapup_min_seconds

    def next(self) -> Lead:
        """The next lead; always seven draws, in this order, whatever its fate."""
        rand, gauss = self._random, self._gauss
        u_fate = rand()
        z_ring = gauss(0.0, 1.0)
        u_short = rand()
        u_short_len = rand()
        z_talk = gauss(0.0, 1.0)
        u_wrap = rand()
        u_amd = rand()
        if u_fate < self._p_human:
            fate = LeadFate.HUMAN
            ring = min(self._human_ring * math.exp(0.35 * z_ring), self._longest_answer)
        elif u_fate < self._p_machine:
            fate = LeadFate.MACHINE
            ring = min(self._machine_ring * math.exp(0.25 * z_ring), self._longest_answer)
        elif u_fate < self._p_busy:
            fate = LeadFate.BUSY
            ring = self._busy_ring
        else:
            fate = LeadFate.NO_ANSWER
            ring = self._timeout
        if u_short < self._short_share:
            talk = 3.0 + u_short_len * self._short_span
        else:
            talk = math.exp(self._talk_mu + self._talk_sigma * z_talk)
        wrap = self._wrap_min + u_wrap * self._wrap_span
        lead = Lead(self._next, fate, ring, talk, wrap, u_amd)
        self._next += 1
        return lead

    @property
    def dialed(self) -> int:
        return self._next
