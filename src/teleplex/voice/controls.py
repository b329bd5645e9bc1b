"""The agent's call controls: hold, touch tones, recording pause, blind transfers (consults: consult.py)."""

from __future__ import annotations


from teleplex.core.errors import Conflict
from teleplex.interactions import service as interactions
from teleplex.interactions.states import Outcome
from teleplex.routing import RoutingError
from teleplex.voice.ari import AriError, AriNotFound
from teleplex.voice.model import CONNECTED, HELD, WAITING, VoiceCall, VoiceParts


class CallControls(VoiceParts):
    """What an agent (or their supervisor) does to a call in progress, over the API."""

    def live_call(self, interaction_id: int) -> VoiceCall:
        """The call as it is now; a clear 409 when the interaction is not a call in progress."""
        call = self.calls.get(interaction_id)
        if call is None or call.state not in (CONNECTED, HELD):
            raise Conflict(f"interaction {interaction_id} is not a call in progress",
                           {"interaction_id": interaction_id},
                           reason="not_a_live_call")  # fmt: skip
        return call

    async def hang_up(self, interaction_id: int) -> None:
        await self._end_connected(self.live_call(interaction_id), hung_up_by="agent")

    async def hold(self, interaction_id: int) -> None:
        """The customer hears music; the agent hears nothing and can talk freely."""
        call = self.live_call(interaction_id)
        if call.state == HELD:
            return
        assert call.bridge is not None
        await self.ari.remove_channel(call.bridge, call.caller)
        await self.ari.start_moh(call.caller, call.moh_class)
        call.state = HELD
        self._record(call, lambda s, i, at: interactions.held(s, i, at))
        self._publish(call, "interaction.held")

    async def unhold(self, interaction_id: int) -> None:
        call = self.live_call(interaction_id)
        if call.state != HELD:
            return
        assert call.bridge is not None
        await self.ari.stop_moh(call.caller)
        await self.ari.add_channel(call.bridge, call.caller)
        call.state = CONNECTED
        self._record(call, lambda s, i, at: interactions.unheld(s, i, at))
        self._publish(call, "interaction.connected")

    async def send_dtmf(self, interaction_id: int, digits: str) -> None:
        call = self.live_call(interaction_id)
        await self.ari.send_dtmf(call.caller, digits)
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "dtmf", agent_id,
                                                                 digits=len(digits)))  # fmt: skip

    async def set_recording(self, interaction_id: int, paused: bool) -> None:
        """Pause recording while a customer reads out a card number (PCI), then resume."""
        call = self.live_call(interaction_id)
        if call.recording is None:
            raise Conflict(f"interaction {interaction_id} is not being recorded",
                           {"interaction_id": interaction_id},
                           reason="not_recording")  # fmt: skip
        if paused:
            await self.ari.pause_recording(call.recording)
        else:
            await self.ari.unpause_recording(call.recording)
        kind = "recording_paused" if paused else "recording_resumed"
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, kind, agent_id))

    async def _release_agent(self, call: VoiceCall) -> int | None:
        """Take the agent off a call that continues without them: their leg and the bridge go."""
        agent_id, leg = call.agent_id, call.agent_leg
        if leg:
            self.channels.pop(leg, None)
        call.agent_leg, call.agent_id = None, None
        await self._hangup(leg)
        if call.bridge:
            try:
                await self.ari.destroy_bridge(call.bridge)
            except AriError:
                pass
            call.bridge = None
        return agent_id

    async def transfer_to_queue(self, interaction_id: int, queue_id: int) -> None:
        """Blind transfer: the customer waits in another queue with music; the agent goes to wrap-up."""
        call = self.live_call(interaction_id)
        queue = await self.engine.refresh_queue(queue_id)
        if queue is None or "voice" not in queue.channels:
            raise Conflict(f"queue {queue_id} does not exist or takes no calls", {"queue_id": queue_id},
                           reason="queue_unavailable")  # fmt: skip
        agent_id = await self._release_agent(call)
        call.state, call.queue_id, call.moh_class = WAITING, queue_id, queue.moh_class
        try:
            await self.ari.start_moh(call.caller, call.moh_class)
        except AriNotFound:
            pass

        to = {"kind": "queue", "queue_id": queue_id}
        self._record(call, lambda s, i, at: interactions.transferred(s, i, at, agent_id, to))
        self._publish(call, "interaction.queued")
        await self.engine.decide(lambda: self.engine.router.transfer_to_queue(call.item, str(queue_id)))

    def _require_ready(self, agent_id: int) -> None:
        """A transfer or consult by name needs the agent ready now; a clear 409 says what they are instead."""
        target = self.engine.router.find_agent(str(agent_id), self._now())
        if target is None or str(target.state) != "ready":
            state = "logged out" if target is None else str(target.state).replace("_", " ")
            raise Conflict(f"agent {agent_id} is not available ({state})",
                           {"agent_id": agent_id, "state": state},
                           reason="agent_not_available")  # fmt: skip

    async def transfer_to_agent(self, interaction_id: int, agent_id: int) -> None:
        """Blind transfer by name: the customer hears music while the named agent's phone rings; if they do
        not answer, the call goes back to its queue."""
        call = self.live_call(interaction_id)
        self._require_ready(agent_id)
        if call.agent_id == agent_id:
            raise Conflict(f"interaction {interaction_id} is already with agent {agent_id}",
                           {"interaction_id": interaction_id, "agent_id": agent_id},
                           reason="already_with_agent")  # fmt: skip
        previous = await self._release_agent(call)
        call.state = WAITING
        try:
            await self.ari.start_moh(call.caller, call.moh_class)
        except AriNotFound:
            pass
        to = {"kind": "agent", "agent_id": agent_id}
        self._record(call, lambda s, i, at: interactions.transferred(s, i, at, previous, to))
        self._publish(call, "interaction.queued")
        await self.engine.decide(lambda: self.engine.router.transfer_to_agent(call.item, str(agent_id)))

    async def transfer_to_number(self, interaction_id: int, number: str) -> None:
        """Blind transfer out of the center: the call continues in the dialplan towards the carrier."""
        call = self.live_call(interaction_id)
        await self._release_agent(call)
        await self._finish(call, Outcome.TRANSFERRED, target={"kind": "number", "number": number})
        try:
            await self.engine.decide(lambda: self.engine.router.interaction_ended(call.item))
        except RoutingError:
            pass
        await self._leave(call.caller, {"kind": "number", "number": number})
