"""Attended (consult) transfers: the customer waits on hold while the agent talks to someone else first, then
either hands the customer over (complete) or goes back to them (cancel).

The call's own events go to the agent who has it; the consulted agent's console hears of the consult through
events addressed to them: `interaction.consult_ringing`, `interaction.consult_answered` and, when it is over
without a hand-over (cancelled, not answered, hung up, the call ended), `interaction.consult_released`.

The someone else is an outside number, a named agent, or whoever a queue offers. Agents are reached through
the router, as a consult item (`consult-<interaction>-<n>`) offered to the named agent only, or to the queue's
agents in its order; so the consulted agent is busy for the router from the first ring and nobody is rung
twice at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from teleplex.core.errors import Conflict
from teleplex.core.logging import get_logger
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.routing import ItemNotFound, Offer, RoutingError, WorkItem
from teleplex.voice.ari import AriError
from teleplex.voice.model import CONNECTED, VoiceCall, VoiceParts

log = get_logger("teleplex.voice")


class Consults(VoiceParts):
    """The consult flows, over the call's own bridge (the agent and the consulted party talk there)."""

    consults: dict[str, VoiceCall]

    async def consult(self, interaction_id: int, number: str) -> None:
        """Consult an outside number: the customer is held, the number is dialled."""
        call = self._may_consult(interaction_id)
        await self.hold(interaction_id)
        leg = f"tpx-consult-{interaction_id}-{self._next_leg()}"
        call.consult = leg
        self.channels[leg] = call
        endpoint = self.settings.outbound_endpoint.format(number=number.lstrip("+"))
        try:
            await self.ari.originate(endpoint, channel_id=leg, app_args=f"consult,{interaction_id}",
                                     caller_id=f'"{call.caller_number or ""}" <{call.caller_number or ""}>',
                                     timeout=60)  # fmt: skip
        except AriError as exc:
            call.consult = None
            self.channels.pop(leg, None)
            await self.unhold(interaction_id)
            raise Conflict(f"could not call {number}: {exc.message}", {"number": number},
                           reason="consult_call_failed") from None  # fmt: skip
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_started", agent_id,
                                                                 number=number))  # fmt: skip
        self._publish(call, "interaction.consulting")

    async def consult_agent(self, interaction_id: int, agent_id: int) -> None:
        """Consult a named colleague: only they are rung (their device, through the router)."""
        call = self._may_consult(interaction_id)
        if agent_id == call.agent_id:
            raise Conflict(f"agent {agent_id} is already on interaction {interaction_id}",
                           {"agent_id": agent_id, "interaction_id": interaction_id},
                           reason="agent_busy_elsewhere")  # fmt: skip
        self._require_ready(agent_id)
        await self._consult_item(call, str(call.queue_id), {"kind": "agent", "agent_id": agent_id}, str(agent_id))

    async def consult_queue(self, interaction_id: int, queue_id: int) -> None:
        """Consult whoever a queue offers: its agents are rung in the queue's order until one answers."""
        call = self._may_consult(interaction_id)
        queue = await self.engine.refresh_queue(queue_id)
        if queue is None or "voice" not in queue.channels:
            raise Conflict(f"queue {queue_id} does not exist or takes no calls", {"queue_id": queue_id},
                           reason="queue_unavailable")  # fmt: skip
        await self._consult_item(call, str(queue_id), {"kind": "queue", "queue_id": queue_id}, None)

    def _may_consult(self, interaction_id: int) -> VoiceCall:
        call = self.live_call(interaction_id)
        if call.consult is not None or call.consult_item is not None or call.handed_over:
            raise Conflict(f"interaction {interaction_id} is already consulting",
                           {"interaction_id": interaction_id},
                           reason="already_consulting")  # fmt: skip
        return call

    async def _consult_item(self, call: VoiceCall, queue_id: str, to: dict[str, Any], agent: str | None) -> None:
        await self.hold(call.interaction_id)
        item = f"consult-{call.interaction_id}-{self._next_leg()}"
        call.consult_item, call.consult_to = item, to
        self.consults[item] = call
        self.engine.item_channel[item] = "voice"
        by = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_started", by, to=to))
        self._publish(call, "interaction.consulting", to=to)
        work = WorkItem(item, queue_id, "voice", arrived_at=self._now(), target_agent=agent, target_only=agent is not None)
        try:
            await self.engine.decide(lambda: self.engine.router.enqueue(work))
        except RoutingError as exc:
            self._forget_consult(call)
            await self.unhold(call.interaction_id)
            raise Conflict(f"cannot consult: {exc}", reason="consult_refused") from None

    async def offer_consult(self, d: Offer) -> None:
        """The router chose the agent to consult: ring their device; it joins the call's bridge on answer."""
        call = self.consults.get(d.item_id)
        if call is None or call.consult_item != d.item_id:
            return
        device = self.engine.devices.get(d.agent_id)
        leg = f"tpx-consult-{call.interaction_id}-{self._next_leg()}"
        call.consult, call.consult_agent = leg, int(d.agent_id)
        self.channels[leg] = call
        try:
            if not device:
                raise AriError(0, "the agent has no device")
            await self.ari.originate(device, channel_id=leg, app_args=f"consult,{call.interaction_id}",
                                     caller_id=f'"Consult {call.interaction_id}" <{call.caller_number or ""}>',
                                     timeout=int(d.timeout_s) + 5)  # fmt: skip
        except AriError as exc:
            log.warning("could not ring the consulted agent", agent_id=d.agent_id, error=exc.message)
            await self._consult_leg_failed(call, leg, "unreachable")
            return
        call.consult_shown_to = int(d.agent_id)
        self._tell_consulted(call, int(d.agent_id), "interaction.consult_ringing")

    def _tell_consulted(self, call: VoiceCall, agent_id: int, kind: str, **extra: Any) -> None:
        """An event for the consulted agent's own stream: the call, who asks (`agent_id`) and who is asked."""
        data = {"interaction_id": call.interaction_id, "channel": "voice", "queue_id": call.queue_id,
                "agent_id": call.agent_id, "consulted_agent_id": agent_id, "caller_id": call.caller_number, **extra}
        self.engine.publish(kind, self._now(), data, agent_id=agent_id)

    def _release_consulted(self, call: VoiceCall, reason: str) -> None:
        """The consult is over for the agent it was shown to (not handed over to them)."""
        agent_id, call.consult_shown_to = call.consult_shown_to, None
        if agent_id is not None:
            self._tell_consulted(call, agent_id, "interaction.consult_released", reason=reason)

    async def consult_withdrawn(self, item_id: str, agent_id: str, reason: str) -> None:
        """The consulted agent's phone rang out (or the offer was taken back): stop ringing. A named agent is
        not replaced; a queue goes on to its next agent."""
        call = self.consults.get(item_id)
        if call is None or call.consult is None:
            return
        leg = call.consult
        call.consult, call.consult_agent = None, None
        self.channels.pop(leg, None)
        await self._hangup(leg)
        self._release_consulted(call, "not_answered")
        by = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_not_answered", by,
                                                                 consulted_agent_id=int(agent_id), reason=reason))  # fmt: skip
        if (call.consult_to or {}).get("kind") == "agent":
            await self._drop_consult_item(call)
            self._publish(call, "interaction.consult_ended", reason="not_answered")

    async def _consult_leg_failed(self, call: VoiceCall, leg: str, reason: str) -> None:
        """The consulted agent's phone refused or failed: the router hears it as a decline."""
        item, agent = call.consult_item, call.consult_agent
        call.consult, call.consult_agent = None, None
        self.channels.pop(leg, None)
        self._release_consulted(call, reason)
        if item is None or agent is None:
            return
        try:
            await self.engine.decide(lambda: self.engine.router.offer_declined(item, str(agent)))
        except RoutingError:
            pass
        if (call.consult_to or {}).get("kind") == "agent":
            await self._drop_consult_item(call)
            self._publish(call, "interaction.consult_ended", reason=reason)

    async def consult_answered(self, leg: str, interaction_id: int) -> None:
        """The consulted party answered: they and the agent talk in the call's bridge, the customer on hold."""
        call = self.calls.get(interaction_id)
        if call is None or call.consult != leg or call.bridge is None:
            await self._hangup(leg)
            return
        if call.consult_item is not None and call.consult_agent is not None:
            item, agent = call.consult_item, call.consult_agent
            try:
                await self.engine.decide(lambda: self.engine.router.offer_accepted(item, str(agent)))
            except RoutingError:
                await self._hangup(leg)  # too late: the offer timed out meanwhile
                return
        await self.ari.add_channel(call.bridge, leg)
        by, consulted = call.agent_id, call.consult_agent
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_answered", by,
                                                                 consulted_agent_id=consulted))  # fmt: skip
        if consulted is not None:
            self._tell_consulted(call, consulted, "interaction.consult_answered")

    async def consult_leg_gone(self, call: VoiceCall, leg: str, cause: str | None) -> None:
        """The consulted party hung up (or their phone never answered)."""
        if call.consult_item is not None and call.consult_agent is not None and not await self._consult_connected(call):
            await self._consult_leg_failed(call, leg, cause or "declined")
            return
        call.consult = None
        self.channels.pop(leg, None)
        await self._drop_consult_item(call)
        by = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_ended", by, cause=cause))
        self._publish(call, "interaction.consult_ended")

    async def _consult_connected(self, call: VoiceCall) -> bool:
        found = self.engine.router.find_item(call.consult_item, self._now()) if call.consult_item else None
        return found is not None and str(found.state) == "connected"

    async def complete_consult(self, interaction_id: int) -> None:
        """Hand the customer over: they join the consulted party and the agent leaves (to wrap-up). A consulted
        agent then owns the call, to its end."""
        call = self.live_call(interaction_id)
        if call.consult is None:
            raise Conflict(f"interaction {interaction_id} is not consulting anyone",
                           {"interaction_id": interaction_id},
                           reason="not_consulting")  # fmt: skip
        if call.consult_item is not None and not await self._consult_connected(call):
            raise Conflict(f"the consulted agent has not answered interaction {interaction_id} yet",
                           {"interaction_id": interaction_id},
                           reason="consult_not_answered")  # fmt: skip
        bridge = call.bridge
        assert bridge is not None
        await self.ari.stop_moh(call.caller)
        await self.ari.add_channel(bridge, call.caller)
        call.state = CONNECTED
        agent_id, leg, old_item = call.agent_id, call.agent_leg, call.item
        if leg:
            self.channels.pop(leg, None)
            await self._hangup(leg)
        try:
            await self.engine.decide(lambda: self.engine.router.interaction_ended(old_item))
        except RoutingError:
            pass
        call.consult_shown_to = None  # handed over: the consulted agent hears `interaction.transferred`
        if call.consult_item is not None:  # an agent takes the call over
            new_agent = call.consult_agent
            self.consults.pop(call.consult_item, None)
            call.router_item, call.consult_item = call.consult_item, None
            call.agent_id, call.agent_leg, call.consult, call.consult_agent = new_agent, call.consult, None, None
            to = {"kind": "agent", "agent_id": new_agent, "consult": True}
            self._record(call, lambda s, i, at: self._taken_over(s, i, at, agent_id, new_agent, to))
        else:
            call.handed_over, call.agent_leg = True, None
            self._record(call, lambda s, i, at: self._handed_over(s, i, at, agent_id))
        self._publish(call, "interaction.transferred")

    async def _handed_over(self, session: Any, i: Interaction, at: datetime, agent_id: int | None) -> None:
        if i.state == "held":
            await interactions.unheld(session, i, at)
        await interactions.event(session, i, at, "transferred", agent_id, to={"kind": "consult"})

    async def _taken_over(self, session: Any, i: Interaction, at: datetime, old: int | None, new: int | None,
                          to: dict[str, Any]) -> None:  # fmt: skip
        if i.state == "held":
            await interactions.unheld(session, i, at)
        i.agent_id = new
        await interactions.event(session, i, at, "transferred", old, to=to)

    async def cancel_consult(self, interaction_id: int) -> None:
        """Back to the customer: the consulted party is hung up (or stops ringing) and the customer unheld."""
        call = self.live_call(interaction_id)
        if (call.consult is None and call.consult_item is None) or call.handed_over:
            raise Conflict(f"interaction {interaction_id} is not consulting anyone",
                           {"interaction_id": interaction_id},
                           reason="not_consulting")  # fmt: skip
        leg, call.consult, call.consult_agent = call.consult, None, None
        if leg:
            self.channels.pop(leg, None)
            await self._hangup(leg)
        self._release_consulted(call, "cancelled")
        await self._drop_consult_item(call)
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_cancelled", agent_id))
        await self.unhold(interaction_id)

    async def _drop_consult_item(self, call: VoiceCall) -> None:
        """Take the consult out of the router: a consulted agent who answered goes to wrap-up."""
        item = call.consult_item
        self._forget_consult(call)
        if item is None:
            return
        try:
            await self.engine.decide(lambda: self.engine.router.withdraw(item, "consult_ended"))
        except ItemNotFound:
            pass

    def _forget_consult(self, call: VoiceCall) -> None:
        self._release_consulted(call, "ended")
        if call.consult_item is not None:
            self.consults.pop(call.consult_item, None)
        call.consult_item, call.consult_to = None, None
