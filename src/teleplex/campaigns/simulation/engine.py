"""The event loop: agents, trunks and calls in virtual time, driving a pacer exactly as the engine would.

Each working day is one shift; between shifts the clock jumps. Every `decision_interval_seconds` the pacer
sees a `CampaignView` and the loop places the calls it asks for; each call's fate comes from the lead stream.
An answered person goes to the longest-idle ready agent, or waits; after the grace period (2 s) with no agent
the call is dropped and counts as abandoned. AMD, when on, hangs up on the machines it recognises and on the
people it mistakes for machines (those count as abandoned too, as the rules say).
"""

from __future__ import annotations

import heapq
from collections import deque
from enum import IntEnum

from teleplex.campaigns.pacing import AttemptOutcome, CampaignView, Pacer
from teleplex.campaigns.simulation.dialers import DialerKind, DialerSpec
from teleplex.campaigns.simulation.leads import Lead, LeadFate, LeadStream
from teleplex.campaigns.simulation.metrics import DAY, MONTH, DialerResult, worst_window_rate
from teleplex.campaigns.simulation.scenario import DialerScenario

WARMUP_LIVE_ANSWERS = 50


class _Event(IntEnum):
    """Event kinds; at equal times the lower value runs first (agents free before calls arrive)."""

    WRAP_END = 0
    TALK_END = 1
    RING_END = 2
    DROP = 3
    PREVIEW_DIAL = 4
    ORACLE_DIAL = 5
    DECIDE = 6


class _State(IntEnum):
    READY = 0
    TALKING = 1
    WRAP_UP = 2
    DIALING = 3  # preview: looking at the lead or waiting for its own call; oracle: waiting for its call
    OFF = 4


class _Answered:
    """An answered call looking for an agent."""

    __slots__ = ("at", "done", "lead", "machine")

    def __init__(self, lead: Lead, at: float, machine: bool) -> None:
        self.lead, self.at, self.machine, self.done = lead, at, machine, False


class _Run:
    """One dialer on one scenario: mutable state and the event handlers."""

    def __init__(self, scenario: DialerScenario, spec: DialerSpec) -> None:
        self.s = scenario
        self.kind = spec.kind
        self.pacer: Pacer | None = spec.build(scenario)
        self.leads = LeadStream(scenario)
        self.result = DialerResult(dialer=spec.label, agents=scenario.agents)
        n = scenario.agents
        self.state = [_State.OFF] * n
        self.since = [0.0] * n
        self.ready_since = [0.0] * n
        self.last_end = [0.0] * n
        self.talking: dict[int, float] = {}
        self.wrapping: dict[int, float] = {}
        self.ready: deque[int] = deque()
        self.waiting: deque[_Answered] = deque()
        self.reserved: dict[int, _Answered] = {}  # oracle: a call answered before its agent was free
        self.ringing = 0
        self.ring_started: dict[int, float] = {}  # lead index -> when its call was placed
        self.channels_busy = 0
        self.heap: list[tuple[float, int, int, object, object]] = []
        self.seq = 0
        self.live_times: list[float] = []
        self.abandon_times: list[float] = []
        self.shift_end = 0.0
        self.amd = scenario.amd_enabled and spec.kind is not DialerKind.ORACLE

    # --- plumbing ----------------------------------------------------------------------------------------

    def push(self, at: float, kind: _Event, a: object = None, b: object = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, kind, self.seq, a, b))

    def run(self) -> DialerResult:
        s = self.s
        for day in range(s.days):
            start = day * DAY
            self.shift_end = start + s.shift_seconds
            self.start_shift(start)
            heap = self.heap
            while heap:
                now, kind, _, a, b = heapq.heappop(heap)
                if kind == _Event.DECIDE:
                    self.decide(now)
                elif kind == _Event.RING_END:
                    self.ring_end(now, a, b)  # type: ignore[arg-type]
                elif kind == _Event.TALK_END:
                    self.talk_end(now, a, b)  # type: ignore[arg-type]
                elif kind == _Event.WRAP_END:
                    self.wrap_end(now, a, b)  # type: ignore[arg-type]
                elif kind == _Event.DROP:
                    self.drop(now, a)  # type: ignore[arg-type]
                elif kind == _Event.PREVIEW_DIAL:
                    self.preview_dial(now, a)  # type: ignore[arg-type]
                else:
                    self.oracle_dial(now, a, b)  # type: ignore[arg-type]
            for agent in range(s.agents):
                self.result.logged_in_seconds += max(self.shift_end, self.last_end[agent]) - start
        self.finish()
        return self.result

    def finish(self) -> None:
        s, r = self.s, self.result
        until = (s.days - 1) * DAY + s.shift_seconds + 60.0
        r.worst_abandon_24h = worst_window_rate(
            self.live_times, self.abandon_times, DAY, WARMUP_LIVE_ANSWERS, until
        )
        r.worst_abandon_30d = worst_window_rate(
            self.live_times, self.abandon_times, MONTH, WARMUP_LIVE_ANSWERS, until
        )
        r.live_answers = len(self.live_times)
        r.abandoned = len(self.abandon_times)
        r.dials = self.leads.dialed

    def start_shift(self, start: float) -> None:
        self.ready.clear()
        for agent in range(self.s.agents):
            self.state[agent] = _State.OFF
            self.last_end[agent] = start
        if self.kind is DialerKind.ORACLE:
            for agent in range(self.s.agents):
                self.state[agent] = _State.DIALING
                self.ready_since[agent] = start
                lead = self.next_human()
                self.push(start - lead.ring_seconds, _Event.ORACLE_DIAL, agent, lead)
            return
        for agent in range(self.s.agents):
            self.agent_free(start, agent)
        if self.kind is not DialerKind.PREVIEW:
            self.push(start, _Event.DECIDE)

    # --- the pacer's turn ----------------------------------------------------------------------------------

    def decide(self, now: float) -> None:
        if now >= self.shift_end or self.pacer is None:
            return
        s = self.s
        view = CampaignView(
            ready_agents=len(self.ready),
            talking=[now - t for t in self.talking.values()],
            wrapping=[now - t for t in self.wrapping.values()],
            calls_ringing=self.ringing,
            ringing=[now - t for t in self.ring_started.values()],
            answered_waiting=len(self.waiting),
            free_channels=s.channels - self.channels_busy,
            shift_start=self.shift_end - s.shift_seconds,
            shift_end=self.shift_end,
        )
        for _ in range(min(self.pacer.decide(now, view), view.free_channels)):
            self.place(now, self.leads.next(), -1)
        self.push(now + s.decision_interval_seconds, _Event.DECIDE)

    def place(self, now: float, lead: Lead, agent: int) -> None:
        self.ringing += 1
        self.ring_started[lead.index] = now
        self.channels_busy += 1
        self.push(now + lead.ring_seconds, _Event.RING_END, lead, agent)

    # --- calls ------------------------------------------------------------------------------------------

    def ring_end(self, now: float, lead: Lead, agent: int) -> None:
        self.ringing -= 1
        del self.ring_started[lead.index]
        pacer, fate = self.pacer, lead.fate
        if fate is LeadFate.HUMAN and self.amd and lead.amd_draw < self.s.amd_false_positive_rate:
            self.live_times.append(now)  # a person, hung up on as a machine: abandoned by the rules
            self.abandon_times.append(now)
            self.result.amd_false_positives += 1
            self.end_unconnected(now, lead, agent, AttemptOutcome.MACHINE_HANGUP)
            return
        if fate is LeadFate.MACHINE and self.amd and lead.amd_draw < self.s.amd_machine_detection:
            self.end_unconnected(now, lead, agent, AttemptOutcome.MACHINE_HANGUP)
            return
        if fate is LeadFate.NO_ANSWER or fate is LeadFate.BUSY:
            self.end_unconnected(now, lead, agent, AttemptOutcome.NO_ANSWER)
            return
        machine = fate is LeadFate.MACHINE
        if not machine:
            self.live_times.append(now)
        if pacer is not None:
            pacer.on_attempt_ended(now, AttemptOutcome.ANSWERED, lead.ring_seconds)
        call = _Answered(lead, now, machine)
        if agent >= 0:
            if self.state[agent] is _State.DIALING:
                self.connect(now, agent, call)
            else:
                self.reserved[agent] = call
        elif self.ready:
            self.connect(now, self.ready.popleft(), call)
        else:
            self.waiting.append(call)
            self.push(now + self.s.abandon_grace_seconds, _Event.DROP, call)

    def end_unconnected(self, now: float, lead: Lead, agent: int, outcome: AttemptOutcome) -> None:
        self.channels_busy -= 1
        if self.pacer is not None:
            self.pacer.on_attempt_ended(now, outcome, lead.ring_seconds)
        if agent >= 0:
            self.agent_free(now, agent, after_call=False)

    def drop(self, now: float, call: _Answered) -> None:
        if call.done:
            return
        call.done = True
        self.waiting.remove(call)
        self.channels_busy -= 1
        if not call.machine:
            self.abandon_times.append(call.at)
        if self.pacer is not None:
            self.pacer.on_abandoned(now)

    def connect(self, now: float, agent: int, call: _Answered) -> None:
        call.done = True
        lead, r = call.lead, self.result
        r.agent_idle.add(now - self.ready_since[agent])
        self.state[agent] = _State.TALKING
        self.talking[agent] = now
        duration = self.s.machine_handling_seconds if call.machine else lead.talk_seconds
        if not call.machine:
            r.contacts += 1
            r.customer_wait.add(now - call.at)
        if self.pacer is not None:
            self.pacer.on_connected(now, now - call.at, call.machine)
        self.push(now + duration, _Event.TALK_END, agent, call)
        if self.kind is DialerKind.ORACLE:
            self.oracle_plan(now, now + duration + lead.wrapup_seconds, agent)

    # --- agents -----------------------------------------------------------------------------------------

    def talk_end(self, now: float, agent: int, call: _Answered) -> None:
        self.channels_busy -= 1
        del self.talking[agent]
        r = self.result
        duration = self.s.machine_handling_seconds if call.machine else call.lead.talk_seconds
        if call.machine:
            r.machine_seconds += duration
        else:
            r.talk_seconds += duration
        if self.pacer is not None:
            self.pacer.on_handling_ended(now, duration)
        if call.machine:
            self.agent_free(now, agent)
            return
        self.state[agent] = _State.WRAP_UP
        self.wrapping[agent] = now
        self.push(now + call.lead.wrapup_seconds, _Event.WRAP_END, agent, call)

    def wrap_end(self, now: float, agent: int, call: _Answered) -> None:
        del self.wrapping[agent]
        self.result.wrapup_seconds += call.lead.wrapup_seconds
        if self.pacer is not None:
            self.pacer.on_wrapup_ended(now, call.lead.wrapup_seconds)
        self.agent_free(now, agent)

    def agent_free(self, now: float, agent: int, *, after_call: bool = True) -> None:
        """An agent is ready: serve a waiting customer, or dial (preview), or wait for the pacer's calls.

        A preview agent whose own dial failed is still between calls: the idle time keeps running.
        """
        self.last_end[agent] = now
        if after_call:
            self.ready_since[agent] = now
        if self.kind is DialerKind.ORACLE:
            call = self.reserved.pop(agent, None)
            self.state[agent] = _State.DIALING
            if call is not None:
                self.connect(now, agent, call)
            return
        while self.waiting:
            call = self.waiting.popleft()
            if not call.done:
                self.connect(now, agent, call)
                return
        if now >= self.shift_end:
            self.state[agent] = _State.OFF
            return
        if self.kind is DialerKind.PREVIEW:
            self.state[agent] = _State.DIALING
            self.push(now + self.s.preview_seconds, _Event.PREVIEW_DIAL, agent)
            return
        self.state[agent] = _State.READY
        self.ready.append(agent)

    def preview_dial(self, now: float, agent: int) -> None:
        if now >= self.shift_end:
            self.state[agent] = _State.OFF
            return
        self.place(now, self.leads.next(), agent)

    # --- the clairvoyant oracle ---------------------------------------------------------------------------

    def next_human(self) -> Lead:
        while True:
            lead = self.leads.next()
            if lead.fate is LeadFate.HUMAN:
                return lead

    def oracle_plan(self, now: float, free_at: float, agent: int) -> None:
        """Dial the next person so that they answer the moment this agent is free."""
        if free_at >= self.shift_end:
            return
        lead = self.next_human()
        self.push(max(free_at - lead.ring_seconds, now), _Event.ORACLE_DIAL, agent, lead)

    def oracle_dial(self, now: float, agent: int, lead: Lead) -> None:
        self.place(now, lead, agent)


def simulate(scenario: DialerScenario, spec: DialerSpec) -> DialerResult:
    """Run one dialer through the scenario's days; the same scenario and seed give the same result."""
    run = _Run(scenario, spec)
    return run.run()
