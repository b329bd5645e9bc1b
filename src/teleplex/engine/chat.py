"""Conversations on the engine: the text channels' handler, the counterpart of voice/calls.py.

A conversation is a router item like a call. An offer is shown to the agent over the event stream (the
console accepts it within the queue's ring timeout, or the queue assigns chats without an accept); the agent
replies through the outbox; resolving it ends the item and starts the agent's wrap-up for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from teleplex.core.errors import Conflict
from teleplex.core.logging import get_logger
from teleplex.engine.engine import Engine
from teleplex.engine.first_response import FirstResponseWatch
from teleplex.interactions import conversations
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction, InteractionEvent
from teleplex.interactions.states import InteractionState
from teleplex.routing import ItemNotFound, Offer, Overflow, RoutingError, WorkItem

log = get_logger("teleplex.chat")

TEXT_CHANNELS = ("webchat", "whatsapp", "telegram", "sms")
OVERDUE = "first_response_overdue"  # the timeline event, and (prefixed) the stream's


class ChatChannel:
    """The engine's handler for every text channel."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.first_response = FirstResponseWatch()
        for kind in TEXT_CHANNELS:
            engine.handlers[kind] = self
        engine.timers.append(self)

    def _now(self) -> Any:
        return self.engine.clock.now()

    # --- arrival and restart ---------------------------------------------------------------------------------

    async def arrived(self, interaction_id: int, queue_id: int, channel: str, arrived_at: Any,
                      awaiting_first_response: bool = True) -> None:  # fmt: skip
        """A conversation was opened or reopened (its record is committed): route it, and watch its first
        response against the queue's service level while no agent has answered it yet."""
        async with self.engine.serial():
            await self._enqueue(interaction_id, queue_id, channel, arrived_at)
            if awaiting_first_response:
                await self._watch(interaction_id, queue_id, arrived_at)

    async def _enqueue(self, interaction_id: int, queue_id: int, channel: str, arrived_at: Any) -> None:
        queue = await self.engine.refresh_queue(queue_id)
        if queue is None:
            log.warning("conversation's queue is gone", interaction_id=interaction_id, queue_id=queue_id)
            return
        item = str(interaction_id)
        self.engine.item_channel[item] = channel
        self.publish("interaction.queued", interaction_id, queue_id, None, channel)
        try:
            await self.engine.decide(
                lambda: self.engine.router.enqueue(WorkItem(item, str(queue_id), channel, arrived_at=arrived_at))
            )
        except RoutingError as exc:  # already routed (a duplicate arrival): nothing to do
            log.info("conversation already in the router", interaction_id=interaction_id, error=str(exc))

    async def restore(self) -> None:
        """After a restart: conversations still open are routed again; assigned ones go back to their agent
        when the agent is logged in, else to their queue."""
        async with self.engine.db.session() as session:
            rows = await conversations.open_conversations(session)
        for row in rows:
            if row.queue_id is None:
                continue
            async with self.engine.serial():
                item = WorkItem(str(row.id), str(row.queue_id), row.channel, arrived_at=row.arrived_at)
                if row.state == InteractionState.CONNECTED and row.agent_id is not None:
                    self.engine.item_channel[item.id] = row.channel
                    await self.engine.refresh_queue(row.queue_id)
                    try:
                        await self.engine.decide(lambda: self.engine.router.resume_connected(item, str(row.agent_id)))
                        continue
                    except RoutingError:
                        pass  # the agent is not back: the conversation waits in its queue again
                    self._record(row.id, lambda s, i, at: interactions.transferred(
                        s, i, at, i.agent_id, {"kind": "queue", "queue_id": i.queue_id, "reason": "restart"}))
                elif row.state == InteractionState.OFFERED:
                    self._record(row.id, lambda s, i, at: interactions.offer_failed(s, i, at, None, "restart"))
                await self._enqueue(row.id, row.queue_id, row.channel, row.arrived_at)
        await self._restore_watch([r for r in rows if r.queue_id is not None and r.first_response_at is None])

    # --- the router's decisions ------------------------------------------------------------------------------

    async def offer(self, d: Offer) -> None:
        interaction_id, agent_id = int(d.item_id), int(d.agent_id)
        self._record(interaction_id, lambda s, i, at: interactions.offered(s, i, d.at, agent_id))
        queue_id = int(d.queue_id)
        queue = await self.engine.refresh_queue(queue_id)
        if queue is not None and queue.chat_auto_assign:
            await self._accept(interaction_id, agent_id)
            return
        self.publish("interaction.offered", interaction_id, queue_id, agent_id, d.channel,
                     timeout_s=d.timeout_s)  # fmt: skip

    async def offer_withdrawn(self, item_id: str, agent_id: str, reason: str) -> None:
        interaction_id = int(item_id)
        self._record(interaction_id, lambda s, i, at: interactions.offer_failed(s, i, at, int(agent_id), reason))
        self.publish("interaction.offer_withdrawn", interaction_id, await self._queue_of(item_id), int(agent_id),
                     self.engine.item_channel.get(item_id, "chat"), reason=reason)  # fmt: skip

    async def overflow(self, d: Overflow) -> None:
        """Past the queue's maximum wait: a queue target takes the conversation over; targets that only mean
        something for calls (a number, voicemail, a callback) leave it waiting where it is."""
        target = d.target if isinstance(d.target, dict) else {}
        channel = self.engine.item_channel.get(d.item_id, "webchat")
        interaction_id = int(d.item_id)
        queue_id = int(target["queue_id"]) if target.get("kind") == "queue" else int(d.queue_id)

        async def move(session: Any, i: Interaction, at: Any) -> None:
            await interactions.event(session, i, at, "overflowed", target=target)
            i.queue_id = queue_id

        self._record(interaction_id, move)
        self.first_response.move(interaction_id, queue_id)
        keep_arrival = target.get("kind") == "queue"
        async with self.engine.db.session() as session:
            row = await session.get(Interaction, interaction_id)
            arrived = row.arrived_at if row is not None and keep_arrival else self._now()
        await self._enqueue(interaction_id, queue_id, channel, arrived)

    # --- the agent's actions ---------------------------------------------------------------------------------

    async def accept(self, interaction_id: int, agent_id: int) -> None:
        async with self.engine.serial():
            await self._accept(interaction_id, agent_id)
        await self.engine.settle()

    async def _accept(self, interaction_id: int, agent_id: int) -> None:
        try:
            await self.engine.decide(lambda: self.engine.router.offer_accepted(str(interaction_id), str(agent_id)))
        except RoutingError as exc:
            raise Conflict(f"conversation {interaction_id} is not offered to agent {agent_id}: {exc}",
                           {"interaction_id": interaction_id, "agent_id": agent_id},
                           reason="not_offered") from None  # fmt: skip
        self._record(interaction_id, lambda s, i, at: interactions.connected(s, i, at, agent_id))
        self.publish("interaction.connected", interaction_id, await self._queue_of(str(interaction_id)), agent_id,
                     self.engine.item_channel.get(str(interaction_id), "chat"))  # fmt: skip

    async def resolve(self, interaction_id: int, agent_id: int | None, disposition_id: int | None) -> None:
        async with self.engine.serial():
            queue_id = await self._queue_of(str(interaction_id))
            try:
                await self.engine.decide(lambda: self.engine.router.interaction_ended(str(interaction_id)))
            except ItemNotFound:
                pass  # not in the router (e.g. resolved by a supervisor while waiting): the record still closes
            except RoutingError:
                await self._withdraw(interaction_id)
            self._record(interaction_id, lambda s, i, at: conversations.resolved(s, i, at, agent_id, disposition_id))
            channel = self.engine.item_channel.pop(str(interaction_id), "chat")
            self.publish("interaction.resolved", interaction_id, queue_id, agent_id, channel)
            self._stop_watch(interaction_id, agent_id, channel, "resolved")
        await self.engine.settle()

    async def _withdraw(self, interaction_id: int) -> None:
        try:
            await self.engine.decide(lambda: self.engine.router.withdraw(str(interaction_id), "resolved"))
        except ItemNotFound:
            pass

    async def transfer(self, interaction_id: int, by_agent: int | None, queue_id: int | None,
                       agent_id: int | None) -> None:  # fmt: skip
        """Hand the conversation to a queue or a named agent; the agent who had it goes to wrap-up."""
        async with self.engine.serial():
            item = str(interaction_id)
            if queue_id is not None:
                queue = await self.engine.refresh_queue(queue_id)
                if queue is None:
                    raise Conflict(f"queue {queue_id} does not exist", {"queue_id": queue_id},
                                   reason="queue_unavailable")  # fmt: skip
                fact = lambda: self.engine.router.transfer_to_queue(item, str(queue_id))  # noqa: E731
                to: dict[str, Any] = {"kind": "queue", "queue_id": queue_id}
            else:
                fact = lambda: self.engine.router.transfer_to_agent(item, str(agent_id))  # noqa: E731
                to = {"kind": "agent", "agent_id": agent_id}
            self._record(interaction_id, lambda s, i, at: interactions.transferred(s, i, at, by_agent, to))
            try:
                await self.engine.decide(fact)
            except RoutingError as exc:
                raise Conflict(f"conversation {interaction_id} cannot be transferred: {exc}",
                               {"interaction_id": interaction_id},
                               reason="transfer_refused") from None  # fmt: skip
            if queue_id is not None:
                self.first_response.move(interaction_id, queue_id)
            self.publish("interaction.transferred", interaction_id, queue_id, by_agent,
                         self.engine.item_channel.get(item, "chat"), to=to)  # fmt: skip
        await self.engine.settle()

    async def return_agents_chats(self, agent_id: int) -> None:
        """The agent is leaving (logout): their conversations go back to their queues. They are paused first,
        so the router does not hand the conversations straight back to them. Nothing moves while they are
        still on a call (the logout is refused then)."""
        snapshot = self.engine.router.snapshot(self._now())
        held = [i for i in snapshot.items if i.agent_id == str(agent_id) and str(i.state) == "connected"]
        if not held or any(self.engine.item_channel.get(i.item_id) not in TEXT_CHANNELS for i in held):
            return
        await self.engine.decide(lambda: self.engine.router.agent_pause(str(agent_id), "logging out"))
        for item in held:
            to = {"kind": "queue", "queue_id": int(item.queue_id), "reason": "agent_logout"}
            self._record(int(item.item_id), lambda s, i, at, to=to: interactions.transferred(s, i, at, agent_id, to))
            await self.engine.decide(lambda i=item: self.engine.router.transfer_to_queue(i.item_id, i.queue_id))
            self.publish("interaction.transferred", int(item.item_id), int(item.queue_id), agent_id,
                         self.engine.item_channel.get(item.item_id, "chat"), to=to)  # fmt: skip

    # --- the first-response service level ------------------------------------------------------------------

    async def _watch(self, interaction_id: int, queue_id: int, arrived_at: datetime) -> None:
        queue = await self.engine.refresh_queue(queue_id)
        if queue is not None:
            self.first_response.arm(interaction_id, queue_id,
                                    arrived_at + timedelta(seconds=queue.service_level_seconds))  # fmt: skip

    async def _restore_watch(self, rows: list[Interaction]) -> None:
        """After a restart: conversations still unanswered are watched again; those already reported overdue
        (their timeline says so) count as overdue without a second alarm."""
        if not rows:
            return
        async with self.engine.db.session() as session:
            stmt = select(InteractionEvent.interaction_id).where(
                InteractionEvent.interaction_id.in_([r.id for r in rows]), InteractionEvent.kind == OVERDUE)
            reported = set((await session.execute(stmt)).scalars())
        async with self.engine.serial():
            for row in rows:
                assert row.queue_id is not None
                if row.id in reported:
                    self.first_response.mark_overdue(row.id, row.queue_id)
                else:
                    await self._watch(row.id, row.queue_id, row.arrived_at)

    def next_deadline(self) -> datetime | None:
        return self.first_response.next_deadline()

    async def fire(self, now: datetime) -> None:
        """Conversations whose first response is overdue: on the timeline and the stream, once each, in the
        queue's scope (its supervisors) and the assigned agent's."""
        for overdue in self.first_response.due(now):
            item = self.engine.router.find_item(str(overdue.interaction_id), now)
            agent_id = int(item.agent_id) if item is not None and item.agent_id is not None else None
            queue = await self.engine.refresh_queue(overdue.queue_id)
            target_s = queue.service_level_seconds if queue is not None else None
            data = {"target_s": target_s, "overdue_s": round((now - overdue.deadline).total_seconds(), 3)}
            self._record(overdue.interaction_id,
                         lambda s, i, at, a=agent_id, d=data: interactions.event(s, i, at, OVERDUE, a, **d))
            self.publish("conversation." + OVERDUE, overdue.interaction_id, overdue.queue_id, agent_id,
                         self.engine.item_channel.get(str(overdue.interaction_id), "chat"), **data)  # fmt: skip

    def first_responded(self, interaction_id: int, agent_id: int | None) -> None:
        """An agent answered: the clock stops (and an overdue conversation stops counting)."""
        self._stop_watch(interaction_id, agent_id, self.engine.item_channel.get(str(interaction_id), "chat"),
                         "replied")  # fmt: skip

    def _stop_watch(self, interaction_id: int, agent_id: int | None, channel: str, reason: str) -> None:
        queue_id = self.first_response.clear(interaction_id)
        if queue_id is not None:
            self.publish("conversation.first_response_overdue_cleared", interaction_id, queue_id, agent_id, channel,
                         reason=reason)  # fmt: skip

    # --- helpers ---------------------------------------------------------------------------------------------

    async def _queue_of(self, item_id: str) -> int | None:
        found = self.engine.router.find_item(item_id, self._now())
        return None if found is None else int(found.queue_id)

    def _record(self, interaction_id: int, change: Any) -> None:
        at = self._now()

        async def store(session: Any) -> None:
            interaction = await session.get(Interaction, interaction_id)
            if interaction is not None:
                await change(session, interaction, at)

        self.engine.journal.write(store)

    def publish(self, kind: str, interaction_id: int, queue_id: int | None, agent_id: int | None, channel: str,
                **extra: Any) -> None:  # fmt: skip
        data = {"interaction_id": interaction_id, "channel": channel, "queue_id": queue_id, "agent_id": agent_id,
                **extra}  # fmt: skip
        self.engine.publish(kind, self._now(), data, queue_id=queue_id, agent_id=agent_id)


async def queue_for_channel(session: Any, channel_settings: dict[str, Any] | None, kind: str) -> int | None:
    """The queue a channel's conversations wait in: the channel's `queue_id` setting, else the first queue
    (lowest id) that takes this kind of channel."""
    from teleplex.center.models import Queue

    wanted = (channel_settings or {}).get("queue_id")
    if isinstance(wanted, int):  # ids and channel lists only: this runs for every message that comes in
        found = (await session.execute(select(Queue.id).where(Queue.id == wanted))).scalar()
        if found is not None:
            return int(found)
    for queue_id, channels in await session.execute(select(Queue.id, Queue.channels).order_by(Queue.id)):
        if kind in (channels or []):
            return int(queue_id)
    return None
