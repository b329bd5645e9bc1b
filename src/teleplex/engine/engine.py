"""The engine: the one loop that feeds facts to the router and turns its decisions into I/O.

Everything that changes routing state goes through `serial()`, so the pure router sees one fact at a time
in a well-defined order, whether it came from Asterisk, an agent's click or a timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select

from teleplex.center import wrapup_rules
from teleplex.center.models import Agent, PauseReason, Queue
from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.events import Event, EventBus
from teleplex.core.ids import IdBlock
from teleplex.core.logging import get_logger
from teleplex.engine.journal import Journal
from teleplex.engine.models import AgentSession
from teleplex.engine.specs import agent_spec, queue_spec
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.routing import (
    AgentStateChanged,
    Decision,
    Offer,
    OfferRescinded,
    OfferTimedOut,
    Overflow,
    PauseExceeded,
    Presence,
    Router,
    WrapUpEnded,
)

log = get_logger("teleplex.engine")

QUEUE_CONFIG_TTL_S = 5.0


def interaction_of(item_id: str) -> int:
    """The interaction a router item stands for: its own id, or the call a consult item belongs to
    (`consult-<interaction>-<n>`)."""
    return int(item_id) if item_id.isdigit() else int(item_id.split("-")[1])


class ChannelHandler(Protocol):
    """What a channel (voice, chat) does with the router's decisions about its items."""

    async def offer(self, decision: Offer) -> None: ...
    async def offer_withdrawn(self, item_id: str, agent_id: str, reason: str) -> None: ...
    async def overflow(self, decision: Overflow) -> None: ...


class Timer(Protocol):
    """A channel's own timers, fired by the engine's timer loop beside the router's (e.g. chat's first-response
    service level): when the next one is due, and what to do when it comes (called inside `serial()`)."""

    def next_deadline(self) -> datetime | None: ...
    async def fire(self, now: datetime) -> None: ...


class Engine:
    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.router = Router(clock)
        self.journal = Journal(db)  # records are written behind the routing, in order
        self.interaction_ids = IdBlock(db, "interactions")  # ids for records the journal has yet to write
        self.handlers: dict[str, ChannelHandler] = {}
        self.timers: list[Timer] = []  # channels' timers beside the router's
        self.item_channel: dict[str, str] = {}  # router item id -> channel kind
        self.devices: dict[str, str | None] = {}  # logged-in agent id -> the device to ring
        self.answer_modes: dict[str, str] = {}  # logged-in agent id -> "device" | "console"
        self._queues: dict[int, tuple[float, Queue]] = {}  # queue id -> (read at, row)
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()  # running only: a task leaves when it ends
        self.started = False

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.journal.start()
        async with self.db.session() as session:
            for queue in (await session.execute(select(Queue))).scalars():
                self.router.configure_queue(queue_spec(queue))
        await self._restore_sessions()
        self.spawn(self._timers(), "engine-timers")
        self.started = True

    async def stop(self) -> None:
        """Cancel every task, including any that one being cancelled starts, then store the journal's backlog."""
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # shutting down: their errors are not news
            self._tasks.difference_update(tasks)
        await self.journal.stop()
        self.started = False

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- serial access to the router -------------------------------------------------------------------------

    @asynccontextmanager
    async def serial(self) -> AsyncIterator[None]:
        """Hold the engine: one fact and the application of its decisions at a time."""
        async with self._lock:
            yield
        self._wake.set()

    async def decide(self, fact: Callable[[], list[Decision]]) -> list[Decision]:
        """Give the router one fact and apply what it decides; call inside `serial()`."""
        assert self._lock.locked(), "decide() outside serial()"
        decisions = fact()
        await self.apply(decisions)
        return decisions

    async def apply(self, decisions: list[Decision]) -> None:
        """Queue what the decisions record (stored behind, in order), then carry them out in order."""
        records = [d for d in decisions if isinstance(d, AgentStateChanged | WrapUpEnded)]
        if records:
            devices = {d.agent_id: self.devices.get(d.agent_id) for d in records if isinstance(d, AgentStateChanged)}

            async def store(session: Any) -> None:
                for d in records:
                    if isinstance(d, AgentStateChanged):
                        await self._store_state(session, d, devices[d.agent_id])
                    else:
                        await self._store_wrapup(session, d)

            self.journal.write(store)
        for d in decisions:
            try:
                await self._apply_one(d)
            except Exception:  # one failed decision must not stop the others; the log says which
                log.exception("applying a routing decision failed", decision=repr(d))

    async def settle(self) -> None:
        """Wait until every record queued so far is stored, so an API answer reads what it just did."""
        await self.journal.settle()

    async def _apply_one(self, d: Decision) -> None:
        match d:
            case Offer():
                await self.handlers[d.channel].offer(d)
            case OfferTimedOut():
                await self._handler_of(d.item_id).offer_withdrawn(d.item_id, d.agent_id, "no_answer")
            case OfferRescinded():
                await self._handler_of(d.item_id).offer_withdrawn(d.item_id, d.agent_id, d.reason)
            case Overflow():
                await self._handler_of(d.item_id).overflow(d)
            case AgentStateChanged():
                await self._agent_state_changed(d)
            case WrapUpEnded():
                await self._wrapup_ended(d)
            case PauseExceeded():
                self.publish("agent.pause_exceeded", d.at, agent_id=int(d.agent_id),
                             data={"agent_id": int(d.agent_id), "reason": d.reason, "limit_s": d.limit_s})  # fmt: skip

    def _handler_of(self, item_id: str) -> ChannelHandler:
        return self.handlers[self.item_channel[item_id]]

    async def _store_state(self, session: Any, d: AgentStateChanged, device: str | None) -> None:
        agent_id = int(d.agent_id)
        await interactions.agent_state(
            session, agent_id, d.at, str(d.new), d.pause_reason or (d.reason if d.new == "paused" else None)
        )
        await self._remember_session(session, agent_id, d, device)

    async def _agent_state_changed(self, d: AgentStateChanged) -> None:
        self.publish(
            "agent.state",
            d.at,
            agent_id=int(d.agent_id),
            data={"agent_id": int(d.agent_id), "state": str(d.new), "previous": str(d.old), "reason": d.reason,
                  "pause_reason": d.pause_reason},
        )  # fmt: skip

    async def _remember_session(self, session: Any, agent_id: int, d: AgentStateChanged, device: str | None) -> None:
        """Keep the login row in step with presence, so a restarted engine logs the agent back in as they were."""
        row = await session.get(AgentSession, agent_id)
        if d.new == Presence.LOGGED_OUT:
            if row is not None:
                await session.delete(row)
            return
        if row is None:
            row = AgentSession(agent_id=agent_id, device=device, logged_in_at=d.at)
            session.add(row)
        if d.new == Presence.PAUSED:
            row.pause_reason = d.pause_reason or d.reason
        elif d.new == Presence.READY:
            row.pause_reason = None

    async def _restore_sessions(self) -> None:
        """Log back in the agents who were logged in when the engine stopped."""
        async with self.db.session() as session:
            rows = list((await session.execute(select(AgentSession))).scalars())
        for row in rows:
            try:
                async with self.serial():
                    await self.agent_login(row.agent_id, row.device, row.pause_reason)
            except Exception:  # an agent deleted meanwhile, or a queue gone: log and carry on with the others
                log.exception("could not restore an agent's login", agent_id=row.agent_id)

    async def _store_wrapup(self, session: Any, d: WrapUpEnded) -> None:
        interaction = await session.get(Interaction, interaction_of(d.item_id))
        if interaction is not None:
            await interactions.wrapup_done(session, interaction, d.at)
            if d.item_id.isdigit():  # ended by the timer, a logout or a forced pause: flag what it lacks
                await wrapup_rules.flag_if_incomplete(session, interaction, int(d.agent_id), d.at)

    async def _wrapup_ended(self, d: WrapUpEnded) -> None:
        self.item_channel.pop(d.item_id, None)

    def publish(self, kind: str, at: datetime, data: dict[str, Any], queue_id: int | None = None,
                agent_id: int | None = None, private: bool = False) -> None:  # fmt: skip
        self.bus.publish(Event(kind, at, data, queue_id=queue_id, agent_id=agent_id, private=private))

    # --- timers --------------------------------------------------------------------------------------------

    async def _timers(self) -> None:
        """Call the router's tick when its next deadline comes, or sooner when a fact may have moved it."""
        while True:
            deadline = min((d for d in (self.router.next_deadline(), *(t.next_deadline() for t in self.timers))
                            if d is not None), default=None)
            timeout = None if deadline is None else max(0.0, (deadline - self.clock.now()).total_seconds())
            self._wake.clear()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that races the wake-up
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
                continue  # something changed: recompute the deadline
            except TimeoutError:
                pass
            async with self._lock:
                await self.tick()

    async def tick(self) -> None:
        """Fire every timer due now, the router's and the channels'; call inside `serial()`."""
        now = self.clock.now()
        await self.decide(lambda: self.router.tick(now))
        for timer in self.timers:
            try:
                await timer.fire(now)
            except Exception:  # one channel's timer must not stop the loop; the log says which
                log.exception("a channel timer failed", timer=type(timer).__name__)

    # --- agents --------------------------------------------------------------------------------------------

    async def refresh_queue(self, queue_id: int) -> Queue | None:
        """Load a queue's configuration into the router; read from the database at most every few seconds,
        so an edit applies within QUEUE_CONFIG_TTL_S without a read on every call."""
        cached = self._queues.get(queue_id)
        now = self.clock.monotonic()
        if cached is not None and now - cached[0] < QUEUE_CONFIG_TTL_S:
            return cached[1]
        async with self.db.session() as session:
            queue = await session.get(Queue, queue_id)
        if queue is None:
            self._queues.pop(queue_id, None)
            return None
        spec = queue_spec(queue)
        if cached is None or queue_spec(cached[1]) != spec:
            await self.decide(lambda: self.router.configure_queue(spec))
        self._queues[queue_id] = (now, queue)
        return queue

    async def agent_login(self, agent_id: int, device: str | None, pause_reason: str | None = None) -> None:
        """Log an agent in with the device they will be rung on; ready unless a pause reason is given."""
        async with self.db.session() as session:
            agent = await session.get(Agent, agent_id)
            assert agent is not None
            queues = [await session.get(Queue, m.queue_id) for m in agent.memberships]
        for queue in queues:
            if queue is not None:
                await self.decide(lambda q=queue: self.router.configure_queue(queue_spec(q)))
        limit = await self.pause_limit(pause_reason) if pause_reason else None
        spec = agent_spec(agent, device)
        self.devices[str(agent_id)] = spec.device
        self.answer_modes[str(agent_id)] = agent.answer_mode
        await self.decide(lambda: self.router.agent_login(spec, pause_reason=pause_reason, max_pause_s=limit))

    async def pause_limit(self, reason: str) -> float | None:
        async with self.db.session() as session:
            row = (await session.execute(select(PauseReason).where(PauseReason.name == reason))).scalar()
        return float(row.max_duration_seconds) if row and row.max_duration_seconds else None
