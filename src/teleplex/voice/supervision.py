"""Supervisors on a call: listen, whisper, barge; torn down with the call."""

from __future__ import annotations

from teleplex.interactions import service as interactions
from teleplex.voice.ari import AriError
from teleplex.voice.model import CONNECTED, HELD, VoiceCall, VoiceParts


class Supervision(VoiceParts):
    """Snoop channels and the supervisor's own leg, bridged as the mode asks."""

    async def monitor(self, interaction_id: int, mode: str, device: str) -> None:
        """A supervisor listens (hears both), whispers (the agent alone hears them) or barges (all hear all).

        Listen and whisper snoop on the agent's leg; the supervisor's device is rung and, once it answers,
        bridged with the snoop channel. Barge adds the supervisor to the call's own bridge.
        """
        call = self.live_call(interaction_id)
        assert call.agent_leg is not None
        n = self._next_leg()
        tag = f"{interaction_id}-{n}"
        if mode != "barge":
            snoop_id = f"tpx-snoop-{tag}"
            whisper = "out" if mode == "whisper" else "none"
            await self.ari.snoop(call.agent_leg, snoop_id=snoop_id, spy="both", whisper=whisper,
                                 app_args=f"snoop,{interaction_id},{tag}")  # fmt: skip
            call.monitors.append(snoop_id)
        supervisor_leg = f"tpx-monitor-{tag}"
        call.monitors.append(supervisor_leg)
        self.monitor_modes[tag] = mode
        await self.ari.originate(device, channel_id=supervisor_leg, app_args=f"monitor,{interaction_id},{tag}",
                                 caller_id=f'"Monitor {mode}" <{interaction_id}>', timeout=30)  # fmt: skip
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, f"supervisor_{mode}", agent_id,
                                                                 device=device))  # fmt: skip

    async def monitor_leg_up(self, kind: str, channel_id: str, interaction_id: int, tag: str) -> None:
        """Join the supervisor to what they asked for once their phone answers (the snoop is up at once)."""
        call = self.calls.get(interaction_id)
        if call is None or call.state not in (CONNECTED, HELD):
            await self._hangup(channel_id)
            return
        if kind == "snoop":
            return
        mode = self.monitor_modes.pop(tag, "listen")
        if mode == "barge":
            assert call.bridge is not None
            await self.ari.add_channel(call.bridge, channel_id)
            return
        bridge = f"tpx-mon-{tag}"
        await self.ari.create_bridge(bridge, "mixing", name=f"monitor {interaction_id}")
        call.monitors.append(bridge)
        await self.ari.add_channel(bridge, f"tpx-snoop-{tag}")
        await self.ari.add_channel(bridge, channel_id)

    async def _end_monitors(self, call: VoiceCall) -> None:
        for ref in call.monitors:
            if ref.startswith("tpx-mon-"):
                try:
                    await self.ari.destroy_bridge(ref)
                except AriError:
                    pass
            else:
                await self._hangup(ref)
        call.monitors.clear()
