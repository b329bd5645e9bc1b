"""Random sequences of facts against the router's promises: safety, strategy order and liveness."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from routing_harness import T0

from teleplex.core.clock import FakeClock
from teleplex.routing import (
    DEFAULT_CAPACITY_CLASSES,
    VOICE,
    AgentBusy,
    AgentNotFound,
    AgentSnapshot,
    AgentSpec,
    AgentStateChanged,
    ChannelNotAccepted,
    Decision,
    InvalidTransition,
    ItemSnapshot,
    ItemState,
    Offer,
    OfferRescinded,
    OfferTimedOut,
    Overflow,
    Presence,
    QueueSpec,
    Router,
    RouterSnapshot,
    Strategy,
    WorkItem,
    check_move,
)

AGENTS = ["a0", "a1", "a2", "a3", "a4"]
QUEUES = ["q0", "q1", "q2"]
CHANNELS = {
    "q0": frozenset({"voice"}),
    "q1": frozenset({"whatsapp", "webchat", "sms"}),
    "q2": frozenset({"voice", "telegram", "chat"}),
}
SKILLS = ["en", "es"]

skills_st = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=2)
requirement_st = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 6), max_size=1)


def cls_of(channel: str) -> str:
    return DEFAULT_CAPACITY_CLASSES[channel]


class RouterMachine(RuleBasedStateMachine):
    """Drives one router with random facts and checks every decision and snapshot."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(T0)
        self.router: Router
        self.queues: dict[str, QueueSpec] = {}
        self.specs: dict[str, AgentSpec] = {}
        self.channel: dict[str, str] = {}  # item id -> channel, for every item ever enqueued
        self.offered: dict[str, str] = {}  # item -> agent, per the decisions seen
        self.connected: dict[str, str] = {}
        self.presence: dict[str, Presence] = {}
        self.rr_last: dict[str, str] = {}
        self.overrides: dict[str, dict[str, int] | None] = {}  # item id -> required skills override
        self.n = 0

    # --- set-up ---------------------------------------------------------------------------------

    @initialize(
        data=st.data(),
        missed_pause=st.booleans(),
        reoffer=st.sampled_from([0.0, 5.0]),
    )
    def setup(self, data: st.DataObject, missed_pause: bool, reoffer: float) -> None:
        self.router = Router(
            self.clock, missed_pause=missed_pause, reoffer_delay_s=reoffer, pause_limits={"break": 40}
        )
        for qid in QUEUES:
            spec = QueueSpec(
                id=qid,
                channels=CHANNELS[qid],
                strategy=data.draw(st.sampled_from(list(Strategy))),
                required_skills=data.draw(requirement_st),
                priority=data.draw(st.integers(0, 2)),
                offer_timeout_s=data.draw(st.sampled_from([5.0, 15.0])),
                wrapup_s=data.draw(st.sampled_from([0.0, 10.0])),
                max_wait_s=data.draw(st.sampled_from([None, 30.0, 90.0])),
                overflow_target=f"after-{qid}",
                offer_chats_during_call=data.draw(st.booleans()),
                aging_s=data.draw(st.sampled_from([None, 20.0])),
            )
            self.queues[qid] = spec
            self.apply(self.router.configure_queue(spec))

    # --- facts ----------------------------------------------------------------------------------

    @rule(
        agent=st.sampled_from(AGENTS),
        skills=skills_st,
        voice=st.integers(0, 1),
        chat=st.integers(0, 3),
        queues=st.dictionaries(st.sampled_from(QUEUES), st.integers(0, 2), min_size=1),
        paused=st.booleans(),
    )
    def login(
        self, agent: str, skills: dict[str, int], voice: int, chat: int, queues: dict[str, int], paused: bool
    ) -> None:
        if agent in self.specs:
            return
        spec = AgentSpec(id=agent, skills=skills, capacity={"voice": voice, "chat": chat}, queues=queues)
        self.specs[agent] = spec
        self.presence[agent] = Presence.LOGGED_OUT
        self.apply(self.router.agent_login(spec, pause_reason="break" if paused else None))

    @rule(agent=st.sampled_from(AGENTS))
    def logout(self, agent: str) -> None:
        if agent not in self.specs:
            return
        try:
            out = self.router.agent_logout(agent)
        except AgentBusy:
            assert agent in self.connected.values()
            return
        del self.specs[agent]
        self.apply(out)

    @rule(agent=st.sampled_from(AGENTS))
    def ready(self, agent: str) -> None:
        if agent in self.specs:
            self.apply(self.router.agent_ready(agent))

    @rule(agent=st.sampled_from(AGENTS), later=st.booleans())
    def pause(self, agent: str, later: bool) -> None:
        if agent in self.specs:
            fact = self.router.pause_after_current if later else self.router.agent_pause
            self.apply(fact(agent, "break"))

    @rule(data=st.data(), queue=st.sampled_from(QUEUES), bump=st.integers(0, 1), back=st.integers(0, 60))
    def enqueue(self, data: st.DataObject, queue: str, bump: int, back: int) -> None:
        channel = data.draw(st.sampled_from(sorted(CHANNELS[queue])))
        override = data.draw(st.none() | requirement_st)
        self.n += 1
        item = WorkItem(
            id=f"i{self.n}",
            queue_id=queue,
            channel=channel,
            arrived_at=self.clock.now() - timedelta(seconds=back),
            priority_bump=bump,
            required_skills=override,
        )
        self.channel[item.id] = channel
        self.overrides[item.id] = override
        before = self.router.snapshot()
        nobody_waits = all(i.state is not ItemState.WAITING for i in before.items)
        expected = self.oracle_best(before, item) if nobody_waits else None
        out = self.router.enqueue(item)
        self.apply(out)
        if nobody_waits:
            # The only item that can be routed is the new one: it must go to the documented best agent.
            assert [(d.item_id, d.agent_id) for d in out if isinstance(d, Offer)] == (
                [(item.id, expected)] if expected else []
            )

    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        live = sorted(i.item_id for i in self.router.snapshot().items)
        if live:
            item = data.draw(st.sampled_from(live))
            self.connected.pop(item, None)
            self.apply(self.router.withdraw(item))

    @precondition(lambda self: bool(self.offered))
    @rule(data=st.data(), accept=st.booleans())
    def answer(self, data: st.DataObject, accept: bool) -> None:
        item = data.draw(st.sampled_from(sorted(self.offered)))
        agent = self.offered.pop(item)
        if accept:
            self.connected[item] = agent
            self.apply(self.router.offer_accepted(item, agent))
        else:
            self.apply(self.router.offer_declined(item, agent))

    @precondition(lambda self: bool(self.connected))
    @rule(data=st.data())
    def end(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(sorted(self.connected)))
        del self.connected[item]
        self.apply(self.router.interaction_ended(item))

    @rule(agent=st.sampled_from(AGENTS))
    def end_wrapup(self, agent: str) -> None:
        if agent in self.specs:
            self.apply(self.router.end_wrapup(agent))

    @rule(data=st.data(), queue=st.sampled_from(QUEUES))
    def transfer(self, data: st.DataObject, queue: str) -> None:
        live = sorted(i.item_id for i in self.router.snapshot().items)
        if not live:
            return
        item = data.draw(st.sampled_from(live))
        try:
            out = self.router.transfer_to_queue(item, queue)
        except ChannelNotAccepted:
            assert self.channel[item] not in CHANNELS[queue]
            return
        self.connected.pop(item, None)  # an offer ends through OfferRescinded
        self.apply(out)

    @rule(data=st.data(), agent=st.sampled_from(AGENTS))
    def transfer_by_name(self, data: st.DataObject, agent: str) -> None:
        live = sorted(i.item_id for i in self.router.snapshot().items)
        if not live:
            return
        item = data.draw(st.sampled_from(live))
        try:
            out = self.router.transfer_to_agent(item, agent)
        except AgentNotFound:
            assert agent not in self.specs
            return
        except InvalidTransition:
            return  # already with that agent
        self.connected.pop(item, None)
        self.apply(out)

    @rule(seconds=st.sampled_from([0.5, 3.0, 10.0, 25.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.apply(self.router.tick())

    @rule()
    def tick_at_next_deadline(self) -> None:
        deadline = self.router.next_deadline()
        if deadline is None:
            return
        if deadline > self.clock.now():
            self.clock.advance((deadline - self.clock.now()).total_seconds())
        self.apply(self.router.tick())
        after = self.router.next_deadline()
        assert after is None or after > self.clock.now(), "a timer due now was not consumed by tick"

    # --- bookkeeping ------------------------------------------------------------------------------

    def apply(self, decisions: list[Decision]) -> None:
        """Record decisions as the engine would, checking each against what came before."""
        for d in decisions:
            if isinstance(d, Offer):
                assert d.item_id not in self.offered, "item offered to two agents at once"
                assert d.item_id not in self.connected, "connected item offered again"
                assert d.deadline == d.at + timedelta(seconds=d.timeout_s)
                self.offered[d.item_id] = d.agent_id
                self.rr_last[d.queue_id] = d.agent_id
            elif isinstance(d, OfferTimedOut | OfferRescinded):
                assert self.offered.pop(d.item_id) == d.agent_id
            elif isinstance(d, Overflow):
                assert d.item_id not in self.offered and d.item_id not in self.connected
                assert d.target == f"after-{d.queue_id}"
            elif isinstance(d, AgentStateChanged):
                assert self.presence[d.agent_id] == d.old, "state change does not start where the last ended"
                check_move(d.old, d.new)
                self.presence[d.agent_id] = d.new
                if d.new is Presence.LOGGED_OUT:
                    del self.presence[d.agent_id]

    # --- invariants -------------------------------------------------------------------------------

    @invariant()
    def holdings_are_consistent_and_within_capacity(self) -> None:
        if not hasattr(self, "router"):
            return
        snap = self.router.snapshot()
        holders: dict[str, str] = {}
        for a in snap.agents:
            spec = self.specs[a.agent_id]
            assert self.presence[a.agent_id] == a.state
            for item in a.offers + a.interactions:
                assert item not in holders, f"{item} held by {holders.get(item)} and {a.agent_id}"
                holders[item] = a.agent_id
            for cls, load in a.load.items():
                assert load <= spec.capacity.get(cls, 0), f"{a.agent_id} over capacity in {cls}"
            assert sum(1 for i in a.offers if cls_of(self.channel[i]) == VOICE) <= 1, "rung twice at once"
        for i in snap.items:
            if i.state is ItemState.OFFERED:
                assert self.offered.get(i.item_id) == i.agent_id == holders.get(i.item_id)
            elif i.state is ItemState.CONNECTED:
                assert self.connected.get(i.item_id) == i.agent_id == holders.get(i.item_id)
            else:
                assert i.agent_id is None and i.item_id not in holders
        assert set(self.offered) | set(self.connected) == set(holders)

    @invariant()
    def no_waiting_item_beside_a_free_matching_agent(self) -> None:
        if not hasattr(self, "router"):
            return
        snap = self.router.snapshot()
        now = snap.at
        for item in snap.items:
            if item.state is not ItemState.WAITING or self.overdue(item, now):
                continue
            free = [a.agent_id for a in snap.agents if self.eligible(a, item.queue_id, item, now)]
            assert not free, f"{item.item_id} waits while {free} could take it"

    # --- the oracle: docs/routing.md rewritten independently -------------------------------------

    def overdue(self, item: ItemSnapshot, now: datetime) -> bool:
        limit = self.queues[item.queue_id].max_wait_s
        return limit is not None and item.queued_at + timedelta(seconds=limit) <= now

    def eligible(self, a: AgentSnapshot, queue_id: str, item: ItemSnapshot | WorkItem, now: datetime) -> bool:
        spec = self.specs[a.agent_id]
        queue = self.queues[queue_id]
        target = item.target_agent if isinstance(item, ItemSnapshot) else None
        if target is not None and a.agent_id != target:
            return False  # a transfer by name waits for its one agent
        if (target is None and queue_id not in spec.queues) or a.pause_wanted:
            return False
        item_id = item.item_id if isinstance(item, ItemSnapshot) else item.id
        cls = cls_of(item.channel)
        if a.load.get(cls, 0) >= spec.capacity.get(cls, 0):
            return False
        if cls == VOICE and any(cls_of(self.channel[i]) == VOICE for i in a.offers):
            return False
        if cls != VOICE and not queue.offer_chats_during_call and a.load.get(VOICE, 0) > 0:
            return False
        required = {} if target is not None else self.required(item_id, queue)
        if any(spec.skills.get(s, 0) < level for s, level in required.items()):
            return False
        if isinstance(item, ItemSnapshot):
            return all(
                not (aid == a.agent_id and not_before > now) for aid, _, not_before in item.declined_by
            )
        return True

    def required(self, item_id: str, queue: QueueSpec) -> dict[str, int]:
        override = self.overrides.get(item_id)
        return dict(override) if override is not None else dict(queue.required_skills)

    def oracle_best(self, snap: RouterSnapshot, item: WorkItem) -> str | None:
        queue = self.queues[item.queue_id]
        cls = cls_of(item.channel)
        required = self.required(item.id, queue)
        rr = self.rr_last.get(queue.id)

        def key(a: AgentSnapshot) -> tuple[object, ...]:
            load = a.load.get(cls, 0)
            idle = a.idle_since.get(cls)
            handled = a.handled.get(queue.id, 0)
            score = sum(self.specs[a.agent_id].skills.get(s, 0) for s in required)
            by_strategy: dict[Strategy, tuple[object, ...]] = {
                Strategy.LONGEST_IDLE: (load, idle),
                Strategy.ROUND_ROBIN: (0 if rr is None or a.agent_id > rr else 1,),
                Strategy.FEWEST_INTERACTIONS: (load, handled, idle),
                Strategy.SKILLS_WEIGHTED: (-score, load, idle),
            }
            return (self.specs[a.agent_id].queues[queue.id], *by_strategy[queue.strategy], a.agent_id)

        free = [a for a in snap.agents if self.eligible(a, item.queue_id, item, snap.at)]
        return min(free, key=key).agent_id if free else None


RouterMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_router_keeps_its_promises = RouterMachine.TestCase
