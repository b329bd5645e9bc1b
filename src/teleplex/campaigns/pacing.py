"""Dialer pacing: how many outbound calls a campaign should place now. Pure: no I/O, time is passed in.

The engine (or the simulator) builds a `CampaignView` of the agents and calls, asks `decide(now, view)`, places
that many calls, and reports what happened through the `on_*` facts. Four modes:

- preview: the agent chooses when to dial; the pacer never places a call on its own;
- progressive: one call per free agent, so no answered call ever waits;
- power: a fixed number of calls per free agent;
- predictive: calls placed ahead of agents becoming free, with the abandonment risk of each call estimated
  from live statistics and kept under a budget that tightens as the 24-hour window's allowance runs out.

Several campaigns sharing agents are paced together with `pace_jointly`, which gives each agent to one
campaign for the decision so no agent is counted twice.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from teleplex.campaigns.abandonment import AbandonLedger, false_positive_reserve
from teleplex.campaigns.pacing_estimates import DurationSample, RateEstimate
from teleplex.campaigns.pacing_risk import CompetingAnswers, freed_agents_pmf, risk_over_answer_times
from teleplex.campaigns.states import DialMode  # one vocabulary with the campaign's settings


class AgentActivity(Enum):
    """What a logged-in, unpaused agent is doing, as pacing sees it."""

    READY = "ready"
    TALKING = "talking"
    WRAP_UP = "wrap_up"


class AttemptOutcome(Enum):
    """How the ringing phase of a placed call ended."""

    NO_ANSWER = "no_answer"  # busy, invalid, no answer before the dial timeout
    MACHINE_HANGUP = "machine_hangup"  # answering-machine detection said machine; no agent needed
    ANSWERED = "answered"  # answered and handed to the agents (a person, or a machine AMD let through)


@dataclass(frozen=True, slots=True)
class CampaignView:
    """What the pacer may know at one instant; the engine builds it from its own state.

    `talking` and `wrapping` hold, per busy agent, the seconds spent so far in that state; `ringing`, when
    the engine knows it, the seconds each ringing call has rung (a call unanswered for long is less likely to
    need an agent).
    """

    ready_agents: int
    talking: Sequence[float] = ()
    wrapping: Sequence[float] = ()
    calls_ringing: int = 0
    answered_waiting: int = 0
    free_channels: int = 0
    ringing: Sequence[float] = ()
    shift_start: float = 0.0
    shift_end: float = math.inf

    @property
    def agents(self) -> int:
        return self.ready_agents + len(self.talking) + len(self.wrapping)


class Pacer:
    """The interface every pacer implements; the facts default to being ignored."""

    mode: DialMode = DialMode.PREVIEW

    def decide(self, now: float, view: CampaignView) -> int:
        """How many calls to place now (never more than `view.free_channels`)."""
        return 0

    def on_attempt_ended(self, now: float, outcome: AttemptOutcome, ring_seconds: float) -> None:
        """A placed call stopped ringing."""

    def on_connected(self, now: float, wait_seconds: float, machine: bool) -> None:
        """An answered call reached an agent after waiting; the agent tells at once whether it is a machine."""

    def on_abandoned(self, now: float) -> None:
        """An answered call found no agent within the allowed time and was dropped (with the message)."""

    def on_handling_ended(self, now: float, seconds: float) -> None:
        """An agent finished a call that lasted `seconds` from connection."""

    def on_wrapup_ended(self, now: float, seconds: float) -> None:
        """An agent finished wrap-up after `seconds`."""


class PreviewPacer(Pacer):
    """Agents dial themselves after looking at the lead; nothing is placed on the pacer's initiative."""

    mode = DialMode.PREVIEW


class ProgressivePacer(Pacer):
    """One call per free agent: each ringing call has an agent reserved, so answered calls never wait."""

    mode = DialMode.PROGRESSIVE

    def decide(self, now: float, view: CampaignView) -> int:
        wanted = view.ready_agents - view.answered_waiting - view.calls_ringing
        return max(0, min(wanted, view.free_channels))


@dataclass
class PowerPacer(Pacer):
    """A fixed number of calls in flight per free agent (ratio 1.0 is progressive)."""

    ratio: float = 1.5
    mode: DialMode = field(default=DialMode.POWER, init=False)

    def decide(self, now: float, view: CampaignView) -> int:
        free = view.ready_agents - view.answered_waiting
        wanted = math.floor(self.ratio * max(0, free) + 0.5) - view.calls_ringing
        return max(0, min(wanted, view.free_channels))


@dataclass(frozen=True, slots=True)
class PredictiveSettings:
    """One configuration for every campaign; everything else is learned online.

    `aim` is the share of the legal target the controller steers to on average; the hard gate keeps the
    24-hour and 30-day windows under `gate_share` of the target (a little room for calls already ringing
    when the gate closes). `amd_false_positive_rate` is the operator's measured rate of people hung up on as
    machines (0 when AMD is off): they count as abandoned but the dialer cannot see them, so their expected
    number is charged to the ledger, and room is kept for more of them (`abandonment.false_positive_reserve`)
    so that the pacer's own drops tip a window over with probability at most `false_positive_risk`.
    `drop_margin_z` keeps the steered mean of a window's own drops that many Poisson standard deviations under
    the gate, which only binds for small teams (see `_setpoint`).
    `answer_strata`: the answer time of a new call is split into that many equally likely slices (quantiles of
    the answer ring times) and the risk is averaged over them, instead of taken at the median answer time;
    only for teams of at most `strata_max_agents`.

    There is no separate warm-up setting: with no live answers there is no allowance, so the pacer starts
    progressive and may dial ahead only once the window can take an abandon (about 34 live answers at 3 %).
    """

    abandon_target: float = 0.03
    aim: float = 0.9
    gate_share: float = 0.97
    controller_gain: float = 0.3
    drop_margin_z: float = 2.0
    initial_risk: float = 0.08
    min_risk: float = 0.0005
    max_risk: float = 0.9
    answer_rate_z: float = 1.0
    amd_false_positive_rate: float = 0.0
    false_positive_risk: float = 0.01
    lookahead_seconds: float = 60.0
    soft_allowance: float = 3.0
    soft_allowance_share: float = 0.2
    grace_seconds: float = 2.0
    default_ring_seconds: float = 8.0
    min_duration_samples: int = 100
    answer_strata: int = 3
    strata_max_agents: int = 40


def strata_quantiles(strata: int) -> list[float]:
    """The midpoints of `strata` equally likely slices of a distribution, as quantile levels."""
    return [(i + 0.5) / strata for i in range(strata)]


class PredictivePacer(Pacer):
    """Places calls ahead of agents so that each new call's risk of finding no agent stays under a budget.

    For each candidate call: agents available when it would be answered = ready agents + busy agents that
    free within the ring time (each from the empirical talk/wrap-up distribution given how long they have
    been busy); competing answers = calls already ringing + the other new calls, each needing an agent with
    the learned probability (cautious upper estimate). The call is placed while P(no agent | answered) is
    under the budget. The budget follows an integral controller on the measured abandonment (steering to
    what the gate can sustain, times `aim`) and shrinks to zero as the 24-hour / 30-day allowance runs out, leaving only calls with
    an agent certain to be free.
    """

    mode = DialMode.PREDICTIVE

    def __init__(self, settings: PredictiveSettings | None = None) -> None:
        self.settings = settings or PredictiveSettings()
        s = self.settings
        self.ledger = AbandonLedger(target=s.abandon_target * s.gate_share)
        self.needs_agent = RateEstimate()
        self.answer_ring = DurationSample()
        self.other_ring = DurationSample()  # calls that ended without needing an agent
        self.handling = DurationSample()
        self.wrapup = DurationSample()
        self.risk_budget = s.initial_risk
        self._inflight: deque[tuple[float, float]] = deque()  # (placed at, expected abandons)
        self._inflight_total = 0.0
        self._fp_per_person = s.amd_false_positive_rate / max(1e-9, 1.0 - s.amd_false_positive_rate)

    # --- facts -------------------------------------------------------------------------------------------

    def on_attempt_ended(self, now: float, outcome: AttemptOutcome, ring_seconds: float) -> None:
        answered = outcome is AttemptOutcome.ANSWERED
        self.needs_agent.record(answered)
        (self.answer_ring if answered else self.other_ring).record(ring_seconds)

    def on_connected(self, now: float, wait_seconds: float, machine: bool) -> None:
        if machine:
            return
        fp = self._fp_per_person
        self.ledger.record(now, live=1.0 + fp, abandoned=fp)
        self._steer(abandoned=False)

    def on_abandoned(self, now: float) -> None:
        # The dialer cannot tell a dropped person from a dropped machine: count it as a person (cautious).
        self.ledger.record(now, live=1.0, abandoned=1.0)
        self._steer(abandoned=True)

    def on_handling_ended(self, now: float, seconds: float) -> None:
        self.handling.record(seconds)

    def on_wrapup_ended(self, now: float, seconds: float) -> None:
        self.wrapup.record(seconds)

    def _steer(self, *, abandoned: bool) -> None:
        s = self.settings
        error = self._setpoint() - (1.0 if abandoned else 0.0)
        self.risk_budget = min(
            s.max_risk, max(s.min_risk, self.risk_budget * math.exp(s.controller_gain * error))
        )

    def _setpoint(self) -> float:
        """The drop rate to steer to: what the gate can sustain in a window like the current one (at least
        100 live answers), after the AMD false positives it must keep room for, times `aim`.

        A window's drops are random (about Poisson): steering their mean to just under the gate makes a small
        team hit it often, and each time the pacer falls back to progressive until the drop leaves the window
        a day later. So the mean also stays `drop_margin_z` standard deviations under the room: d + z·√d ≤
        room. With many live answers per window (large teams) `aim` binds; with few, the margin does.
        """
        s = self.settings
        live = max(self.ledger.day.live, 100.0)
        room = s.abandon_target * s.gate_share * live
        reserve = false_positive_reserve(live * self._fp_per_person, room, s.false_positive_risk)
        usable = max(0.0, room - reserve)
        half_z = s.drop_margin_z / 2.0
        with_margin = (math.sqrt(half_z * half_z + usable) - half_z) ** 2
        return min(s.aim * usable, with_margin) / live

    # --- decision ----------------------------------------------------------------------------------------

    def allowance(self, now: float) -> float:
        """Abandons the windows can still take, after the expected AMD false positives and calls in flight."""
        s = self.settings
        while self._inflight and self._inflight[0][0] < now - 30.0:
            self._inflight_total -= self._inflight.popleft()[1]
        left = self.ledger.allowance(now, s.lookahead_seconds)  # the expected false positives already charged
        expected_fp = self.ledger.day.live * self._fp_per_person
        if expected_fp > 0.0:
            room = left + expected_fp  # before any false positive
            left = room - false_positive_reserve(expected_fp, room, s.false_positive_risk)
        return left - max(0.0, self._inflight_total)

    def risk_limit(self, now: float) -> float:
        """The largest acceptable P(no agent | answered) for the next call right now."""
        s = self.settings
        if not self.has_fair_sample():
            return 0.0
        soft = max(s.soft_allowance, s.soft_allowance_share * s.abandon_target * self.ledger.day.live)
        room = (self.allowance(now) - 1.0) / soft
        return self.risk_budget * min(1.0, max(0.0, room))

    def has_fair_sample(self) -> bool:
        """Whether enough calls have ended to trust the estimates.

        Outcomes arrive in order of duration (busy lines after 3 s, answers after ~9 s, no-answers after the
        25 s timeout), so the first ones mislead: an answer rate learned from busy signals alone looks tiny.
        """
        n = self.settings.min_duration_samples
        return len(self.answer_ring) >= n and len(self.other_ring) >= 2 * n

    def availability(self, view: CampaignView) -> list[float]:
        """The distribution of busy agents freed by the time a call placed now would be answered (at the
        median answer time); `availability_by_answer_time` gives it for each stratum of the answer time."""
        s = self.settings
        if len(self.answer_ring) >= s.min_duration_samples:
            horizon = self.answer_ring.quantile(0.5) + s.grace_seconds
        else:
            horizon = s.default_ring_seconds + s.grace_seconds
        return self._freed_within(view, horizon)

    def availability_by_answer_time(self, view: CampaignView) -> list[list[float]]:
        """The freed-agents distribution at each of `answer_strata` equally likely answer times.

        A call answered early finds fewer agents freed than one answered late; neither the chance that an
        agent frees by then (capped at 1) nor the risk (in the agents freed) is linear, so with few agents one
        horizon at the median answer time understates the risk of the early answers (see
        `strata_quantiles`). Teams over `strata_max_agents` keep the one median horizon: their freed count is
        wide and the controller absorbs the difference, and the slices triple the risk arithmetic where the
        simulation is already slowest.
        """
        s = self.settings
        if (
            len(self.answer_ring) < s.min_duration_samples
            or s.answer_strata <= 1
            or view.agents > s.strata_max_agents
        ):
            return [self.availability(view)]
        return [
            self._freed_within(view, self.answer_ring.quantile(q) + s.grace_seconds)
            for q in strata_quantiles(s.answer_strata)
        ]

    def _freed_within(self, view: CampaignView, horizon: float) -> list[float]:
        s = self.settings
        chances: list[float] = []
        if view.wrapping and len(self.wrapup) >= s.min_duration_samples:
            chances.extend(self.wrapup.ends_within_each(view.wrapping, horizon))
        if view.talking and len(self.handling) >= s.min_duration_samples:
            talk_horizon = horizon - self.wrapup.mean
            if talk_horizon > 0:
                chances.extend(self.handling.ends_within_each(view.talking, talk_horizon))
        return freed_agents_pmf(chances)

    def still_needs_agent(self, p: float, rung: float) -> float:
        """P(a call ringing for `rung` seconds will need an agent), by Bayes on the two ring-time samples."""
        # Past the longest ring ever seen nothing is known: keep p.
        answered = p * self.answer_ring.survival(rung)
        other = (1.0 - p) * self.other_ring.survival(rung)
        return answered / (answered + other) if answered + other > 0 else p

    def decide(self, now: float, view: CampaignView) -> int:
        if view.free_channels <= 0:
            return 0
        limit = self.risk_limit(now)
        ready = view.ready_agents - view.answered_waiting
        if limit <= 0.0:
            # No risk allowed: exactly the calls that have a free agent each (progressive).
            return max(0, min(ready - view.calls_ringing, view.free_channels))
        p = self.needs_agent.upper(self.settings.answer_rate_z)
        pmfs = self.availability_by_answer_time(view)
        widest = max(len(pmf) for pmf in pmfs)
        if len(view.ringing) == view.calls_ringing:
            # Calls placed in the same decision have rung equally long: one estimate per distinct age.
            still = self.still_needs_agent
            by_age = {rung: still(p, rung) for rung in dict.fromkeys(view.ringing)}
            ringing = [by_age[rung] for rung in view.ringing]
        else:
            ringing = [p] * view.calls_ringing
        competing = CompetingAnswers(ringing, max(1, ready + widest + 1))
        placed = 0
        while placed < view.free_channels:
            risk = risk_over_answer_times(ready, pmfs, competing)
            if risk > limit:
                break
            placed += 1
            competing.add(p)
            if risk > 0.0:
                self._inflight.append((now, p * risk))
                self._inflight_total += p * risk
        return placed


def make_pacer(
    mode: DialMode, *, power_ratio: float = 1.5, settings: PredictiveSettings | None = None
) -> Pacer:
    """The pacer for a campaign's mode."""
    if mode is DialMode.PREVIEW:
        return PreviewPacer()
    if mode is DialMode.PROGRESSIVE:
        return ProgressivePacer()
    if mode is DialMode.POWER:
        return PowerPacer(ratio=power_ratio)
    return PredictivePacer(settings)


# --- several campaigns sharing agents ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SharedAgent:
    """An agent who may take calls of several campaigns."""

    activity: AgentActivity
    seconds_in_state: float
    campaigns: frozenset[str]


@dataclass(frozen=True, slots=True)
class CampaignLoad:
    """One campaign's own calls, for a joint decision."""

    pacer: Pacer
    calls_ringing: int = 0
    answered_waiting: int = 0
    free_channels: int = 0


def pace_jointly(
    now: float, agents: Sequence[SharedAgent], campaigns: Mapping[str, CampaignLoad], free_trunks: int
) -> dict[str, int]:
    """Decide for several campaigns at once without counting a shared agent twice.

    Each agent is lent to exactly one of its campaigns for this decision: ready agents first cover each
    campaign's calls already ringing or waiting (so a progressive campaign keeps its reserved agents), then
    the rest go, one at a time, to the eligible campaign holding the fewest. Each pacer then decides on its
    share, and the shared trunks are handed out in order.
    """
    ids = list(campaigns)
    lent: dict[str, list[SharedAgent]] = {cid: [] for cid in ids}
    pending = {cid: campaigns[cid].calls_ringing + campaigns[cid].answered_waiting for cid in ids}
    rest: list[SharedAgent] = []
    for agent in sorted(agents, key=lambda a: (len(a.campaigns), a.activity is not AgentActivity.READY)):
        if agent.activity is AgentActivity.READY:
            needing = [cid for cid in ids if cid in agent.campaigns and pending[cid] > len(lent[cid])]
            if needing:
                lent[max(needing, key=lambda c: pending[c] - len(lent[c]))].append(agent)
                continue
        rest.append(agent)
    for agent in rest:
        eligible = [cid for cid in ids if cid in agent.campaigns]
        if eligible:
            lent[min(eligible, key=lambda c: len(lent[c]))].append(agent)
    decisions: dict[str, int] = {}
    trunks = max(0, free_trunks)
    for cid in ids:
        load = campaigns[cid]
        mine = lent[cid]
        view = CampaignView(
            ready_agents=sum(1 for a in mine if a.activity is AgentActivity.READY),
            talking=[a.seconds_in_state for a in mine if a.activity is AgentActivity.TALKING],
            wrapping=[a.seconds_in_state for a in mine if a.activity is AgentActivity.WRAP_UP],
            calls_ringing=load.calls_ringing,
            answered_waiting=load.answered_waiting,
            free_channels=min(load.free_channels, trunks),
        )
        decisions[cid] = load.pacer.decide(now, view)
        trunks -= decisions[cid]
    return decisions
