"""What the voice channel holds in memory about a call, and what its parts share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from teleplex.core.settings import Settings
    from teleplex.engine.engine import Engine
    from teleplex.interactions.states import Outcome
    from teleplex.voice.ari import Ari

WAITING, RINGING, CONNECTED, HELD, ENDED = "waiting", "ringing", "connected", "held", "ended"
OFFERING_CALLBACK = "offering_callback"  # overflowed; the caller hears "press 1 to be called back"


@dataclass
class VoiceCall:
    """What the engine holds in memory about one call; the database holds the record."""

    interaction_id: int
    caller: str  # the customer's channel id
    queue_id: int
    caller_number: str | None
    caller_name: str | None
    state: str = WAITING
    agent_id: int | None = None
    agent_leg: str | None = None
    bridge: str | None = None
    recording: str | None = None
    moh_class: str = "default"
    arrived_at: datetime | None = None
    monitors: list[str] = field(default_factory=list)  # supervisors' channels (and snoops) to end with the call
    consult: str | None = None  # the leg to a party the agent is consulting (the customer on hold)
    handed_over: bool = False  # a consult was completed: the agent left, the customer talks to `consult`
    consult_item: str | None = None  # the router item of a consult to an agent or a queue
    consult_to: dict[str, Any] | None = None
    consult_agent: int | None = None  # the agent being rung or talked to in that consult
    consult_shown_to: int | None = None  # the consulted agent whose console shows the consult (consult.py)
    router_item: str | None = None  # after a consulted agent took the call over: the item they hold
    dialing: Any = None  # a campaign call (voice/outbound.py Dialing): its attempt and feedback to the dialer
    connected_at: datetime | None = None

    @property
    def item(self) -> str:
        return self.router_item or str(self.interaction_id)


class VoiceParts:
    """The state and helpers every part of the voice channel uses (calls.py defines them; the parts,
    reconcile.py, controls.py, supervision.py and waiting.py, are mixed into its VoiceChannel)."""

    if TYPE_CHECKING:
        engine: Engine
        settings: Settings
        ari: Ari
        calls: dict[int, VoiceCall]
        channels: dict[str, VoiceCall]
        playbacks: dict[str, str]
        monitor_modes: dict[str, str]
        announcing: dict[str, VoiceCall]
        _waits: set[asyncio.Task[None]]
        consults: dict[str, VoiceCall]
        dialing: dict[str, Any]  # voice/outbound.py: campaign calls by channel id

        def _now(self) -> datetime: ...
        def _next_leg(self) -> int: ...
        def _record(self, call: VoiceCall, change: Any) -> None: ...
        def _publish(self, call: VoiceCall, kind: str, **extra: Any) -> None: ...
        async def _hangup(self, channel_id: str | None, reason: str = "normal") -> None: ...
        async def _finish(self, call: VoiceCall, outcome: Outcome, **data: Any) -> None: ...
        async def _end_connected(self, call: VoiceCall, hung_up_by: str, gone: str | None = None) -> None: ...
        async def _end_monitors(self, call: VoiceCall) -> None: ...
        async def _offer_failed(self, call: VoiceCall, leg: str, reason: str) -> None: ...
        async def _closed_treatment(self, channel_id: str, queue: Any) -> None: ...
        async def _leave(self, channel_id: str, target: dict[str, Any]) -> None: ...
        async def unhold(self, interaction_id: int) -> None: ...
        async def hold(self, interaction_id: int) -> None: ...
        async def inbound(self, channel: dict[str, Any], did: str) -> None: ...
        async def gone(self, channel_id: str, cause: str | None) -> None: ...
        async def dial_gone(self, channel_id: str, cause: int | None) -> bool: ...
        async def _drop_consult_item(self, call: VoiceCall) -> None: ...
        def _require_ready(self, agent_id: int) -> None: ...
