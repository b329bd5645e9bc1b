"""The ACD router: facts in, decisions out, so one pure piece of code serves engine, tests and simulator.

Every public method is a fact. It validates first (raising a `RoutingError` before
changing anything), applies the fact, then offers waiting items to free agents, and
returns the decisions in the order the engine should apply them. Timers (offer
timeouts, wrap-up ends, max-wait overflow, pause limits) fire only in `tick`;
`next_deadline` tells the engine when to call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from teleplex.core.clock import Clock
from teleplex.routing.model import (
    DEFAULT_CAPACITY_CLASSES,
    VOICE,
    AgentBusy,
    AgentNotFound,
    AgentSnapshot,
    AgentSpec,
    AgentStateChanged,
    ChannelNotAccepted,
    Decision,
    DuplicateItem,
    InvalidSpec,
    InvalidTransition,
    ItemNotConnected,
    ItemNotFound,
    ItemSnapshot,
    ItemState,
    Offer,
    OfferNotFound,
    OfferRescinded,
    OfferTimedOut,
    Overflow,
    PauseExceeded,
    Presence,
    QueueNotEmpty,
    QueueNotFound,
    QueueSnapshot,
    QueueSpec,
    RouterSnapshot,
    UnknownChannel,
    WorkItem,
    WrapUpEnded,
)
from teleplex.routing.estimates import HandleTimes, expected_wait_s
from teleplex.routing.presence import check_move, derive_presence
from teleplex.routing.strategies import Candidate, item_rank_key, meets, rank_agents, skill_score

MISSED = "missed"

# Timer kinds, in the order they are handled when due at the same instant.
_OFFER_TIMEOUT, _WRAPUP_END, _OVERFLOW, _PAUSE_LIMIT = range(4)


def _wait_s(item: _Item, now: datetime) -> float:
    return max(0.0, (now - item.arrived_at).total_seconds())


def _seconds(s: float) -> timedelta:
    return timedelta(seconds=s)


@dataclass
class _Decline:
    count: int
    not_before: datetime


@dataclass
class _Item:
    id: str
    queue_id: str
    channel: str
    cls: str
    arrived_at: datetime
    queued_at: datetime
    priority_bump: int
    required_skills: Mapping[str, int] | None
    seq: int
    state: ItemState = ItemState.WAITING
    agent_id: str | None = None
    offer_deadline: datetime | None = None
    wrapup_s: float = 0.0
    declines: dict[str, _Decline] = field(default_factory=dict)
    target_agent: str | None = None  # a transfer to one agent: only they are offered it, once
    target_only: bool = False  # the target keeps it after a miss (a consult: never another agent)
    connected_at: datetime | None = None


@dataclass
class _Agent:
    spec: AgentSpec
    logged_in_at: datetime
    state: Presence = Presence.LOGGED_OUT
    since: datetime | None = None
    pause_reason: str | None = None
    pause_limit_s: float | None = None
    paused_at: datetime | None = None
    pause_alerted: bool = False
    offers: dict[str, str] = field(default_factory=dict)  # item id -> capacity class
    interactions: dict[str, str] = field(default_factory=dict)
    wrapups: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # item id -> (class, deadline)
    idle_since: dict[str, datetime] = field(default_factory=dict)
    handled: dict[str, int] = field(default_factory=dict)  # queue id -> accepted since login

    @property
    def id(self) -> str:
        return self.spec.id

    def load(self, cls: str) -> int:
        return (
            sum(1 for c in self.offers.values() if c == cls)
            + sum(1 for c in self.interactions.values() if c == cls)
            + sum(1 for c, _ in self.wrapups.values() if c == cls)
        )

    def voice_offers(self) -> int:
        return sum(1 for c in self.offers.values() if c == VOICE)

    def has_voice_work(self) -> bool:
        return self.load(VOICE) > 0

    def idle_in(self, cls: str) -> datetime:
        return self.idle_since.get(cls, self.logged_in_at)

    def pause_deadline(self) -> datetime | None:
        if self.state is not Presence.PAUSED or self.pause_alerted or self.pause_limit_s is None:
            return None
        assert self.paused_at is not None
        return self.paused_at + _seconds(self.pause_limit_s)


class Router:
    """Automatic call (and chat) distribution over queues, skills, presence and capacity.

    `capacity_classes` maps channel kind to capacity class (voice is special: it rings).
    `missed_pause` pauses an agent with reason "missed" when a voice offer times out or is
    declined (a queue may override it). `pause_limits` maps pause reason to seconds before
    `PauseExceeded`. `reoffer_delay_s` is how long an item is kept from an agent who
    declined or missed it.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        capacity_classes: Mapping[str, str] = DEFAULT_CAPACITY_CLASSES,
        missed_pause: bool = True,
        pause_limits: Mapping[str, float] | None = None,
        reoffer_delay_s: float = 5.0,
    ) -> None:
        if reoffer_delay_s < 0:
            raise InvalidSpec("reoffer_delay_s cannot be negative")
        self._clock = clock
        self._classes: Mapping[str, str] = MappingProxyType(dict(capacity_classes))
        self._missed_pause = missed_pause
        self._pause_limits: Mapping[str, float] = MappingProxyType(dict(pause_limits or {}))
        self._reoffer_delay = _seconds(reoffer_delay_s)
        self._queues: dict[str, QueueSpec] = {}
        self._agents: dict[str, _Agent] = {}
        self._items: dict[str, _Item] = {}
        self._rr_last: dict[str, str] = {}
        self._handle_times = HandleTimes()  # for callers' expected wait
        self._seq = 0
        self._last: datetime | None = None

    # --- configuration facts ------------------------------------------------------------------

    def configure_queue(self, spec: QueueSpec) -> list[Decision]:
        """Add or replace a queue; waiting items stay and are routed by the new rules."""
        now = self._time()
        for channel in sorted(spec.channels):
            self._class_of(channel)
        self._queues[spec.id] = spec
        return self._dispatch(now)

    def remove_queue(self, queue_id: str) -> list[Decision]:
        """Drop a queue that no longer holds waiting or offered items; memberships naming it go inert."""
        self._time()
        self._queue(queue_id)
        busy = sorted(
            i.id
            for i in self._items.values()
            if i.queue_id == queue_id and i.state is not ItemState.CONNECTED
        )
        if busy:
            raise QueueNotEmpty(f"queue {queue_id!r} still holds {', '.join(busy)}")
        del self._queues[queue_id]
        self._rr_last.pop(queue_id, None)
        return []

    # --- agent facts --------------------------------------------------------------------------

    def agent_login(
        self, spec: AgentSpec, *, pause_reason: str | None = None, max_pause_s: float | None = None
    ) -> list[Decision]:
        """Bring an agent in, ready or (with `pause_reason`) paused."""
        now = self._time()
        if spec.id in self._agents:
            raise InvalidTransition(f"agent {spec.id!r} is already logged in")
        agent = _Agent(spec=spec, logged_in_at=now, since=now)
        if pause_reason is not None:
            self._want_pause(agent, pause_reason, max_pause_s)
        self._agents[spec.id] = agent
        out: list[Decision] = []
        self._refresh(agent, now, "login", out)
        return out + self._dispatch(now)

    def update_agent(self, spec: AgentSpec) -> list[Decision]:
        """Change a logged-in agent's skills, capacity or queues; held work is untouched."""
        now = self._time()
        self._agent(spec.id).spec = spec
        return self._dispatch(now)

    def agent_logout(self, agent_id: str) -> list[Decision]:
        """Take an agent out; pending offers are rescinded and wrap-ups end. Refused while handling work."""
        now = self._time()
        agent = self._agent(agent_id)
        if agent.interactions:
            raise AgentBusy(f"agent {agent_id!r} still handles {', '.join(sorted(agent.interactions))}")
        out: list[Decision] = []
        for item_id in sorted(agent.offers):
            self._rescind(self._items[item_id], agent, now, "logout", out, refresh=False)
        for item_id in sorted(agent.wrapups):
            out.append(WrapUpEnded(agent_id, item_id, early=True, at=now))
        agent.wrapups.clear()
        old = agent.state
        check_move(old, Presence.LOGGED_OUT)
        out.append(AgentStateChanged(agent_id, old, Presence.LOGGED_OUT, "logout", now))
        del self._agents[agent_id]
        return out + self._dispatch(now)

    def agent_ready(self, agent_id: str) -> list[Decision]:
        """Clear any pause (now or pending); the agent takes offers again."""
        now = self._time()
        agent = self._agent(agent_id)
        if agent.pause_reason is None:
            return []
        agent.pause_reason = None
        agent.pause_limit_s = None
        out: list[Decision] = []
        self._refresh(agent, now, "ready", out)
        return out + self._dispatch(now)

    def agent_pause(self, agent_id: str, reason: str, max_seconds: float | None = None) -> list[Decision]:
        """Pause now: pending offers are rescinded, accepted work continues, no new offers.

        `max_seconds` (or the router's limit for `reason`) arms `PauseExceeded`; the clock
        starts when the agent actually shows as paused.
        """
        now = self._time()
        agent = self._agent(agent_id)
        out: list[Decision] = []
        for item_id in sorted(agent.offers):
            self._rescind(self._items[item_id], agent, now, "pause", out, refresh=False)
        self._want_pause(agent, reason, max_seconds)
        self._refresh(agent, now, "pause", out, force=True)
        return out + self._dispatch(now)

    def pause_after_current(
        self, agent_id: str, reason: str, max_seconds: float | None = None
    ) -> list[Decision]:
        """Pause once current work (pending offers included) and wrap-up are done; no new offers meanwhile."""
        now = self._time()
        agent = self._agent(agent_id)
        self._want_pause(agent, reason, max_seconds)
        out: list[Decision] = []
        self._refresh(agent, now, "pause", out, force=True)
        return out

    def end_wrapup(self, agent_id: str, item_id: str | None = None) -> list[Decision]:
        """End wrap-up early: for one item, or (item_id None) all of the agent's wrap-ups."""
        now = self._time()
        agent = self._agent(agent_id)
        if item_id is not None and item_id not in agent.wrapups:
            raise ItemNotFound(f"agent {agent_id!r} has no wrap-up for {item_id!r}")
        targets = [item_id] if item_id is not None else sorted(agent.wrapups)
        if not targets:
            return []
        out: list[Decision] = []
        for target in targets:
            self._end_wrapup(agent, target, now, early=True, out=out)
        return out + self._dispatch(now)

    # --- item facts ---------------------------------------------------------------------------

    def enqueue(self, item: WorkItem) -> list[Decision]:
        """Start routing an item in its queue; max wait counts from now, ordering from `arrived_at`."""
        now = self._time()
        queue = self._queue(item.queue_id)
        cls = self._class_of(item.channel)
        if item.channel not in queue.channels:
            raise ChannelNotAccepted(f"queue {queue.id!r} does not take {item.channel!r}")
        if item.id in self._items:
            raise DuplicateItem(f"item {item.id!r} is already being routed")
        if item.target_agent is not None:
            self._agent(item.target_agent)
        self._add_item(item, cls, now)
        return self._dispatch(now)

    def _add_item(self, item: WorkItem, cls: str, now: datetime) -> _Item:
        self._seq += 1
        added = _Item(
            id=item.id,
            queue_id=item.queue_id,
            channel=item.channel,
            cls=cls,
            arrived_at=item.arrived_at,
            queued_at=now,
            priority_bump=item.priority_bump,
            required_skills=item.required_skills,
            seq=self._seq,
            target_agent=item.target_agent,
            target_only=item.target_only,
        )
        self._items[item.id] = added
        return added

    def resume_connected(self, item: WorkItem, agent_id: str) -> list[Decision]:
        """Take back an item that is already connected to an agent, as after an engine restart: the call
        went on in Asterisk while nobody routed, and must count against the agent's capacity again."""
        now = self._time()
        queue = self._queue(item.queue_id)
        cls = self._class_of(item.channel)
        if item.channel not in queue.channels:
            raise ChannelNotAccepted(f"queue {queue.id!r} does not take {item.channel!r}")
        if item.id in self._items:
            raise DuplicateItem(f"item {item.id!r} is already being routed")
        agent = self._agent(agent_id)
        resumed = self._add_item(item, cls, now)
        resumed.state, resumed.agent_id, resumed.wrapup_s = ItemState.CONNECTED, agent_id, queue.wrapup_s
        agent.interactions[item.id] = cls
        out: list[Decision] = []
        self._refresh(agent, now, "resumed", out)
        return out + self._dispatch(now)

    def withdraw(self, item_id: str, reason: str = "abandoned") -> list[Decision]:
        """Forget an item the customer left (or that was resolved elsewhere), wherever it is."""
        now = self._time()
        item = self._item(item_id)
        out: list[Decision] = []
        if item.state is ItemState.OFFERED:
            assert item.agent_id is not None
            self._rescind(item, self._agents[item.agent_id], now, reason, out)
        elif item.state is ItemState.CONNECTED:
            self._finish(item, now, "ended", out)
        del self._items[item_id]
        return out + self._dispatch(now)

    def offer_accepted(self, item_id: str, agent_id: str) -> list[Decision]:
        """The agent took the item: it is connected and counts against their capacity until wrap-up ends."""
        now = self._time()
        item, agent = self._offer(item_id, agent_id)
        del agent.offers[item_id]
        agent.interactions[item_id] = item.cls
        agent.handled[item.queue_id] = agent.handled.get(item.queue_id, 0) + 1
        item.state = ItemState.CONNECTED
        item.offer_deadline = None
        item.connected_at = now
        item.wrapup_s = self._queues[item.queue_id].wrapup_s
        out: list[Decision] = []
        self._refresh(agent, now, "accepted", out)
        return out + self._dispatch(now)

    def offer_declined(self, item_id: str, agent_id: str) -> list[Decision]:
        """The agent refused: the item waits again and goes to another free agent first."""
        now = self._time()
        item, agent = self._offer(item_id, agent_id)
        out: list[Decision] = []
        self._miss(item, agent, now, "declined", out)
        return out + self._dispatch(now)

    def interaction_ended(self, item_id: str) -> list[Decision]:
        """The call hung up or the chat was resolved: the agent enters the queue's wrap-up."""
        now = self._time()
        item = self._item(item_id)
        if item.state is not ItemState.CONNECTED:
            raise ItemNotConnected(f"item {item_id!r} is {item.state}, not connected")
        if item.connected_at is not None:
            self._handle_times.observe(item.queue_id, (now - item.connected_at).total_seconds() + item.wrapup_s)
        out: list[Decision] = []
        self._finish(item, now, "ended", out)
        del self._items[item_id]
        return out + self._dispatch(now)

    def transfer_to_queue(self, item_id: str, queue_id: str) -> list[Decision]:
        """Move an item to another queue; an agent holding it is released (into wrap-up if connected)."""
        now = self._time()
        item = self._item(item_id)
        queue = self._queue(queue_id)
        if item.channel not in queue.channels:
            raise ChannelNotAccepted(f"queue {queue_id!r} does not take {item.channel!r}")
        out: list[Decision] = []
        if item.state is ItemState.OFFERED:
            assert item.agent_id is not None
            self._rescind(item, self._agents[item.agent_id], now, "transferred", out)
        elif item.state is ItemState.CONNECTED:
            self._finish(item, now, "transferred", out)
        item.queue_id = queue_id
        item.queued_at = now
        item.state = ItemState.WAITING
        item.agent_id = None
        item.declines.clear()
        item.target_agent = None
        return out + self._dispatch(now)

    def transfer_to_agent(self, item_id: str, agent_id: str) -> list[Decision]:
        """Offer an item to one agent (a transfer by name), whatever their queues; the agent who held it is
        released. If the target does not take it, the item goes back to its queue's normal routing."""
        now = self._time()
        item = self._item(item_id)
        self._agent(agent_id)
        if item.agent_id == agent_id:
            raise InvalidTransition(f"item {item_id!r} is already with agent {agent_id!r}")
        out: list[Decision] = []
        if item.state is ItemState.OFFERED:
            assert item.agent_id is not None
            self._rescind(item, self._agents[item.agent_id], now, "transferred", out)
        elif item.state is ItemState.CONNECTED:
            self._finish(item, now, "transferred", out)
        item.state = ItemState.WAITING
        item.agent_id = None
        item.queued_at = now
        item.declines.clear()
        item.target_agent = agent_id
        return out + self._dispatch(now)

    # --- time ---------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[Decision]:
        """Fire every timer due at `now` (default: the clock), earliest first, then route."""
        now = self._time(now)
        out: list[Decision] = []
        while due := self._due(now):
            for _, kind, key in due:
                self._fire(kind, key, now, out)
        return out + self._dispatch(now)

    def next_deadline(self) -> datetime | None:
        """When `tick` next has work to do; None when no timer is armed. May be in the past: tick now."""
        times: list[datetime] = []
        for item in self._items.values():
            if item.state is ItemState.OFFERED and item.offer_deadline is not None:
                times.append(item.offer_deadline)
            elif item.state is ItemState.WAITING:
                overflow = self._overflow_at(item)
                if overflow is not None:
                    times.append(overflow)
                if self._last is not None:
                    times.extend(d.not_before for d in item.declines.values() if d.not_before > self._last)
        for agent in self._agents.values():
            times.extend(deadline for _, deadline in agent.wrapups.values())
            pause = agent.pause_deadline()
            if pause is not None:
                times.append(pause)
        return min(times, default=None)

    # --- supervision --------------------------------------------------------------------------

    def snapshot(self, now: datetime | None = None) -> RouterSnapshot:
        """Queues, agents and items as plain data, for wallboards, tests and the simulator's reports.

        Reading is not a fact: the snapshot does not move the router's time.
        """
        now = self._read_time(now)
        items = sorted(self._items.values(), key=lambda i: i.seq)
        queues = []
        for queue_id in sorted(self._queues):
            mine = [i for i in items if i.queue_id == queue_id]
            pending = [i for i in mine if i.state is not ItemState.CONNECTED]
            queues.append(
                QueueSnapshot(
                    queue_id=queue_id,
                    waiting=sum(1 for i in mine if i.state is ItemState.WAITING),
                    offered=sum(1 for i in mine if i.state is ItemState.OFFERED),
                    connected=sum(1 for i in mine if i.state is ItemState.CONNECTED),
                    longest_wait_s=max((_wait_s(i, now) for i in pending), default=0.0),
                )
            )
        agents = tuple(self._agent_snapshot(self._agents[a], now) for a in sorted(self._agents))
        snap_items = tuple(self._item_snapshot(i, now) for i in items)
        return RouterSnapshot(at=now, queues=tuple(queues), agents=agents, items=snap_items)

    def find_item(self, item_id: str, now: datetime | None = None) -> ItemSnapshot | None:
        """One item as plain data (None when the router does not have it), without a whole snapshot."""
        item = self._items.get(item_id)
        return None if item is None else self._item_snapshot(item, self._read_time(now))

    def find_agent(self, agent_id: str, now: datetime | None = None) -> AgentSnapshot | None:
        """One logged-in agent as plain data (None when logged out), without a whole snapshot."""
        agent = self._agents.get(agent_id)
        return None if agent is None else self._agent_snapshot(agent, self._read_time(now))

    def members(self, queue_id: str, now: datetime | None = None) -> list[AgentSnapshot]:
        """The logged-in agents who serve a queue (what an outbound dialer paces for), as plain data."""
        at = self._read_time(now)
        return [self._agent_snapshot(a, at) for a in self._agents.values() if queue_id in a.spec.queues]

    def _read_time(self, now: datetime | None) -> datetime:
        """The time a read is made at; unlike a fact's, it does not move the router's time."""
        now = now if now is not None else self._clock.now()
        return self._last if self._last is not None and now < self._last else now

    @staticmethod
    def _agent_snapshot(a: _Agent, now: datetime) -> AgentSnapshot:
        assert a.since is not None
        classes = sorted(
            set(a.spec.capacity) | set(a.offers.values()) | set(a.interactions.values())
            | {c for c, _ in a.wrapups.values()}
        )  # fmt: skip
        return AgentSnapshot(
            agent_id=a.id,
            state=a.state,
            since=a.since,
            time_in_state_s=max(0.0, (now - a.since).total_seconds()),
            pause_reason=a.pause_reason,
            pause_wanted=a.pause_reason is not None,
            offers=tuple(sorted(a.offers)),
            interactions=tuple(sorted(a.interactions)),
            wrapups=tuple(sorted(a.wrapups)),
            load=MappingProxyType({c: a.load(c) for c in classes}),
            idle_since=MappingProxyType({c: a.idle_in(c) for c in classes}),
            handled=MappingProxyType(dict(sorted(a.handled.items()))),
            device=a.spec.device,
        )

    @staticmethod
    def _item_snapshot(i: _Item, now: datetime) -> ItemSnapshot:
        return ItemSnapshot(
            item_id=i.id,
            queue_id=i.queue_id,
            channel=i.channel,
            state=i.state,
            arrived_at=i.arrived_at,
            queued_at=i.queued_at,
            wait_s=_wait_s(i, now),
            agent_id=i.agent_id,
            declined_by=tuple((aid, d.count, d.not_before) for aid, d in sorted(i.declines.items())),
            target_agent=i.target_agent,
        )

    def place_in_line(self, item_id: str, now: datetime | None = None) -> int:
        """The item's place among its queue's pending items, in the order the router will offer them
        (priority and aging included), counting those already being offered as ahead. Reading is not a fact."""
        now = self._read_time(now)
        item = self._item(item_id)
        pending = [i for i in self._items.values()
                   if i.queue_id == item.queue_id and i.state in (ItemState.WAITING, ItemState.OFFERED)]  # fmt: skip
        pending.sort(key=lambda i: (i.state is not ItemState.OFFERED, *self._rank(i, now)))
        return next((n for n, i in enumerate(pending, 1) if i.id == item_id), len(pending) + 1)

    def expected_wait_s(self, item_id: str, now: datetime | None = None) -> float | None:
        """About how long until an agent takes the item (see estimates.py); None when unknown."""
        item = self._item(item_id)
        serving = sum(1 for a in self._agents.values()
                      if item.queue_id in a.spec.queues and a.pause_reason is None)  # fmt: skip
        return expected_wait_s(self.place_in_line(item_id, now), serving, self._handle_times.average(item.queue_id))

    def _rank(self, i: _Item, now: datetime) -> tuple[int, datetime, int]:
        q = self._queues[i.queue_id]
        return item_rank_key(queue_priority=q.priority, priority_bump=i.priority_bump, aging_s=q.aging_s,
                             arrived_at=i.arrived_at, seq=i.seq, now=now)  # fmt: skip

    def capacity_class(self, channel: str) -> str:
        """The capacity class a channel draws from (raises `UnknownChannel`)."""
        return self._class_of(channel)

    # --- lookups ------------------------------------------------------------------------------

    def _time(self, at: datetime | None = None) -> datetime:
        # Time never runs backwards inside the router, whatever the wall clock does.
        t = at if at is not None else self._clock.now()
        if self._last is not None and t < self._last:
            t = self._last
        self._last = t
        return t

    def _class_of(self, channel: str) -> str:
        try:
            return self._classes[channel]
        except KeyError:
            raise UnknownChannel(f"channel {channel!r} has no capacity class") from None

    def _queue(self, queue_id: str) -> QueueSpec:
        try:
            return self._queues[queue_id]
        except KeyError:
            raise QueueNotFound(f"no queue {queue_id!r}") from None

    def _agent(self, agent_id: str) -> _Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise AgentNotFound(f"agent {agent_id!r} is not logged in") from None

    def _item(self, item_id: str) -> _Item:
        try:
            return self._items[item_id]
        except KeyError:
            raise ItemNotFound(f"no item {item_id!r}") from None

    def _offer(self, item_id: str, agent_id: str) -> tuple[_Item, _Agent]:
        item = self._items.get(item_id)
        agent = self._agents.get(agent_id)
        if item is None or agent is None or item.state is not ItemState.OFFERED or item.agent_id != agent_id:
            raise OfferNotFound(f"item {item_id!r} is not offered to agent {agent_id!r}")
        return item, agent

    # --- state changes ------------------------------------------------------------------------

    def _want_pause(self, agent: _Agent, reason: str, max_seconds: float | None) -> None:
        agent.pause_reason = reason
        agent.pause_limit_s = max_seconds if max_seconds is not None else self._pause_limits.get(reason)

    def _refresh(
        self, agent: _Agent, now: datetime, cause: str, out: list[Decision], force: bool = False
    ) -> None:
        """Re-derive the agent's presence and announce the move, checked against the table."""
        new = derive_presence(
            logged_in=True,
            voice_offers=agent.voice_offers(),
            calls=sum(1 for c in agent.interactions.values() if c == VOICE),
            other_work=sum(1 for c in agent.offers.values() if c != VOICE)
            + sum(1 for c in agent.interactions.values() if c != VOICE),
            wrapups=len(agent.wrapups),
            pause_wanted=agent.pause_reason is not None,
        )
        old = agent.state
        if new is old and not (force and new is Presence.PAUSED):
            return
        check_move(old, new)
        agent.state = new
        agent.since = now
        if new is Presence.PAUSED:
            agent.paused_at = now
            agent.pause_alerted = False
        else:
            agent.paused_at = None
        out.append(
            AgentStateChanged(
                agent.id,
                old,
                new,
                cause,
                now,
                pause_reason=agent.pause_reason if new is Presence.PAUSED else None,
            )
        )

    def _rescind(
        self,
        item: _Item,
        agent: _Agent,
        now: datetime,
        reason: str,
        out: list[Decision],
        refresh: bool = True,
    ) -> None:
        del agent.offers[item.id]
        item.state = ItemState.WAITING
        item.agent_id = None
        item.offer_deadline = None
        out.append(OfferRescinded(item.id, agent.id, reason, now))
        if refresh:
            self._refresh(agent, now, "rescinded", out)

    def _miss(self, item: _Item, agent: _Agent, now: datetime, cause: str, out: list[Decision]) -> None:
        """An offer ended without the agent taking it: hold the item back from them, maybe pause them."""
        del agent.offers[item.id]
        item.state = ItemState.WAITING
        item.agent_id = None
        item.offer_deadline = None
        if item.target_agent == agent.id and not item.target_only:
            item.target_agent = None  # the named agent did not take it: back to the queue's routing
        previous = item.declines.get(agent.id)
        item.declines[agent.id] = _Decline((previous.count if previous else 0) + 1, now + self._reoffer_delay)
        queue = self._queues[item.queue_id]
        missed_pause = queue.missed_pause if queue.missed_pause is not None else self._missed_pause
        if item.cls == VOICE and missed_pause and agent.pause_reason is None:
            self._want_pause(agent, MISSED, None)
        self._refresh(agent, now, cause, out)

    def _finish(self, item: _Item, now: datetime, cause: str, out: list[Decision]) -> None:
        """Release a connected item from its agent, into wrap-up when the queue asks for one."""
        assert item.agent_id is not None
        agent = self._agents[item.agent_id]
        del agent.interactions[item.id]
        if item.wrapup_s > 0:
            agent.wrapups[item.id] = (item.cls, now + _seconds(item.wrapup_s))
        else:
            self._work_done(agent, item.cls, now)
        self._refresh(agent, now, cause, out)

    def _end_wrapup(
        self, agent: _Agent, item_id: str, now: datetime, early: bool, out: list[Decision]
    ) -> None:
        cls, _ = agent.wrapups.pop(item_id)
        out.append(WrapUpEnded(agent.id, item_id, early=early, at=now))
        self._work_done(agent, cls, now)
        self._refresh(agent, now, "wrapup_ended", out)

    @staticmethod
    def _work_done(agent: _Agent, cls: str, now: datetime) -> None:
        # Idle time in a class restarts when the agent's last piece of work in it is done.
        if agent.load(cls) == 0:
            agent.idle_since[cls] = now

    # --- timers -------------------------------------------------------------------------------

    def _overflow_at(self, item: _Item) -> datetime | None:
        queue = self._queues[item.queue_id]
        if queue.max_wait_s is None:
            return None
        return item.queued_at + _seconds(queue.max_wait_s)

    def _overdue(self, item: _Item, now: datetime) -> bool:
        overflow = self._overflow_at(item)
        return overflow is not None and overflow <= now

    def _due(self, now: datetime) -> list[tuple[datetime, int, tuple[str, ...]]]:
        due: list[tuple[datetime, int, tuple[str, ...]]] = []
        for item in self._items.values():
            if (
                item.state is ItemState.OFFERED
                and item.offer_deadline is not None
                and item.offer_deadline <= now
            ):
                due.append((item.offer_deadline, _OFFER_TIMEOUT, (item.id,)))
            elif item.state is ItemState.WAITING:
                overflow = self._overflow_at(item)
                if overflow is not None and overflow <= now:
                    due.append((overflow, _OVERFLOW, (item.id,)))
        for agent in self._agents.values():
            for item_id, (_, deadline) in agent.wrapups.items():
                if deadline <= now:
                    due.append((deadline, _WRAPUP_END, (agent.id, item_id)))
            pause = agent.pause_deadline()
            if pause is not None and pause <= now:
                due.append((pause, _PAUSE_LIMIT, (agent.id,)))
        return sorted(due)

    def _fire(self, kind: int, key: tuple[str, ...], now: datetime, out: list[Decision]) -> None:
        # Each timer is re-checked: an earlier one in the same batch may have changed its owner.
        if kind == _OFFER_TIMEOUT:
            item = self._items.get(key[0])
            if item is None or item.state is not ItemState.OFFERED or item.agent_id is None:
                return
            out.append(OfferTimedOut(item.id, item.agent_id, item.queue_id, now))
            self._miss(item, self._agents[item.agent_id], now, "timed_out", out)
        elif kind == _WRAPUP_END:
            agent = self._agents.get(key[0])
            if agent is not None and key[1] in agent.wrapups:
                self._end_wrapup(agent, key[1], now, early=False, out=out)
        elif kind == _OVERFLOW:
            item = self._items.get(key[0])
            if item is None or item.state is not ItemState.WAITING or not self._overdue(item, now):
                return
            del self._items[item.id]
            out.append(Overflow(item.id, item.queue_id, self._queues[item.queue_id].overflow_target, now))
        elif kind == _PAUSE_LIMIT:
            agent = self._agents.get(key[0])
            if agent is None or agent.pause_deadline() is None:
                return
            assert agent.pause_reason is not None and agent.pause_limit_s is not None
            agent.pause_alerted = True
            out.append(PauseExceeded(agent.id, agent.pause_reason, agent.pause_limit_s, now))

    # --- routing ------------------------------------------------------------------------------

    def _dispatch(self, now: datetime) -> list[Decision]:
        """Offer waiting items, best first, each to its best free matching agent."""
        waiting = [
            i for i in self._items.values() if i.state is ItemState.WAITING and not self._overdue(i, now)
        ]
        if not waiting:
            return []
        agents = [self._agents[a] for a in sorted(self._agents) if self._agents[a].pause_reason is None]
        if not agents:
            return []

        out: list[Decision] = []
        for item in sorted(waiting, key=lambda i: self._rank(i, now)):
            queue = self._queues[item.queue_id]
            candidates = [c for a in agents if (c := self._candidate(a, item, queue, now)) is not None]
            if candidates:
                best = rank_agents(queue.strategy, candidates, self._rr_last.get(queue.id))[0]
                self._make_offer(item, self._agents[best.agent_id], queue, now, out)
        return out

    def _candidate(self, agent: _Agent, item: _Item, queue: QueueSpec, now: datetime) -> Candidate | None:
        """The agent's routing facts for this item, or None when they may not be offered it now."""
        if item.target_agent is not None:
            if agent.id != item.target_agent:
                return None
            penalty: int | None = 0  # transferred by name: queue membership and skills do not apply
        else:
            penalty = agent.spec.queues.get(queue.id)
        if penalty is None or agent.pause_reason is not None:
            return None
        cls = item.cls
        load = agent.load(cls)
        if load >= agent.spec.capacity.get(cls, 0):
            return None
        if cls == VOICE and agent.voice_offers():
            return None
        if cls != VOICE and not queue.offer_chats_during_call and agent.has_voice_work():
            return None
        required = item.required_skills if item.required_skills is not None else queue.required_skills
        if item.target_agent is None and not meets(agent.spec.skills, required):
            return None
        decline = item.declines.get(agent.id)
        if decline is not None and decline.not_before > now:
            return None
        return Candidate(
            agent_id=agent.id,
            penalty=penalty,
            declines=decline.count if decline else 0,
            load=load,
            idle_since=agent.idle_in(cls),
            handled=agent.handled.get(queue.id, 0),
            skill_score=skill_score(agent.spec.skills, required),
        )

    def _make_offer(
        self, item: _Item, agent: _Agent, queue: QueueSpec, now: datetime, out: list[Decision]
    ) -> None:
        deadline = now + _seconds(queue.offer_timeout_s)
        item.state = ItemState.OFFERED
        item.agent_id = agent.id
        item.offer_deadline = deadline
        agent.offers[item.id] = item.cls
        self._rr_last[queue.id] = agent.id
        out.append(Offer(item.id, agent.id, queue.id, item.channel, queue.offer_timeout_s, deadline, now))
        self._refresh(agent, now, "offer", out)
