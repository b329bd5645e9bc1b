"""Voice on the engine: ARI events become router facts, router decisions become ARI calls.

A caller waits in the Stasis application with music on hold; an offer originates a call to the agent's
device into the same application; when the agent answers, both channels go into a mixing bridge.
Channel ids carry their meaning (`tpx-offer-<interaction>-<agent>-<n>`), so a restarted Teleplex can tell
what each channel Asterisk still has is.

This module is the call's main path (arrival, offer, answer, end). The rest is in parts mixed into VoiceChannel:
reconcile.py (after a restart), controls.py (hold, transfers, consult), supervision.py (listen, whisper, barge)
and waiting.py (announcements, overflow, callbacks); model.py holds the in-memory call they share.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from teleplex.center.hours import is_open
from teleplex.center.models import BusinessHours, Queue, QueueDid
from teleplex.contacts.service import resolve_phone
from teleplex.core.errors import Conflict
from teleplex.core.logging import get_logger
from teleplex.core.settings import Settings
from teleplex.engine.engine import QUEUE_CONFIG_TTL_S, Engine
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.interactions.states import Outcome
from teleplex.routing import ItemNotFound, Offer, OfferNotFound, RoutingError, WorkItem
from teleplex.voice.ari import LINK_DOWN, LINK_UP, Ari, AriConfig, AriError, AriEventReader, AriNotFound
from teleplex.voice.consult import Consults
from teleplex.voice.controls import CallControls
from teleplex.voice.model import (
    CONNECTED,
    ENDED,
    OFFERING_CALLBACK,
    RINGING,
    WAITING,
    VoiceCall,
)
from teleplex.voice.outbound import DIAL_PREFIX, DialerFeedback, Dialing, OutboundCalls
from teleplex.voice.reconcile import Reconciliation
from teleplex.voice.supervision import Supervision
from teleplex.voice.waiting import Waiting
from teleplex.voice.webrtc import BrowserPhones

log = get_logger("teleplex.voice")

# SIP headers that make a phone pick up by itself (the agent already answered in the console); phones read one
# or the other (Polycom/Yealink/Grandstream: Alert-Info; Snom and most softphones: Call-Info answer-after).
AUTO_ANSWER = {"PJSIP_HEADER(add,Call-Info)": "<sip:teleplex>;answer-after=0",
               "PJSIP_HEADER(add,Alert-Info)": "<http://teleplex/>;info=alert-autoanswer"}  # fmt: skip

def ari_config(settings: Settings) -> AriConfig:
    assert settings.ari_url
    url = settings.ari_url.rstrip("/").removesuffix("/ari")
    return AriConfig(url, settings.ari_user, settings.ari_password.get_secret_value(), settings.ari_app)


class VoiceChannel(Reconciliation, CallControls, Consults, Supervision, Waiting, OutboundCalls):
    """The voice channel handler of the engine."""

    def __init__(self, engine: Engine, settings: Settings, ari: Ari | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.ari = ari or Ari(ari_config(settings))
        self.calls: dict[int, VoiceCall] = {}
        self.channels: dict[str, VoiceCall] = {}  # caller and agent-leg channel ids -> call
        self.playbacks: dict[str, str] = {}  # playback id -> channel to hang up when it finishes
        self.monitor_modes: dict[str, str] = {}  # monitor tag -> listen | whisper | barge
        self._waits: set[asyncio.Task[None]] = set()  # short timers (callback key press, announcements)
        self.announcing: dict[str, VoiceCall] = {}  # playback id -> call to put back on music after it
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = AriEventReader(self.ari.config, self.events.put_nowait)
        self._legs = itertools.count(1)
        self.consults: dict[str, VoiceCall] = {}  # consult router item -> the call it belongs to
        self._dids: dict[str, tuple[float, int | None, BusinessHours | None]] = {}  # did -> (read at, queue, hours)
        self.dialing: dict[str, Dialing] = {}  # campaign calls not yet routed (or routed, until they end)
        self.dialer: DialerFeedback | None = None  # set by the campaign dialer (campaigns/live.py)
        self.phones = BrowserPhones(self.ari, self.ari.config.url)  # agents' browser-phone credentials
        engine.handlers["voice"] = self

    @property
    def link_up(self) -> bool:
        return self.reader.connected.is_set()

    async def start(self) -> None:
        self.engine.spawn(self.reader.run(), "ari-reader")
        self.engine.spawn(self._work(), "voice-events")

    async def close(self) -> None:
        await self.ari.close()

    async def _work(self) -> None:
        """Apply events one at a time, in Asterisk's order, each under the engine's lock."""
        while True:
            event = await self.events.get()
            try:
                async with self.engine.serial():
                    await self.handle(event)
            except Exception:  # a bad event must not stop the loop; the log says which
                log.exception("handling an ARI event failed", type=event.get("type"))

    def _now(self) -> datetime:
        return self.engine.clock.now()

    def _next_leg(self) -> int:
        return next(self._legs)

    # --- events ------------------------------------------------------------------------------------------

    async def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel = event.get("channel") or {}
        if kind == "StasisStart":
            args = event.get("args") or []
            if args[:1] == ["inbound"] and len(args) >= 2:
                await self.inbound(channel, args[1])
            elif args[:1] == ["offer"] and len(args) == 3:
                await self.agent_answered(channel["id"], int(args[1]), int(args[2]))
            elif args[:1] == ["consult"] and len(args) == 2:
                await self.consult_answered(channel["id"], int(args[1]))
            elif args[:1] == ["dialer"] and len(args) == 2:
                await self.dial_answered(channel["id"])
            elif args[:1] == ["dialer-amd"] and len(args) >= 3:
                await self.dial_detected(channel["id"], args[2], args[3] if len(args) > 3 else "")
            elif args[:1] in (["snoop"], ["monitor"]) and len(args) == 3:
                await self.monitor_leg_up(args[0], channel["id"], int(args[1]), args[2])
            else:
                await self._hangup(channel.get("id"))
        elif kind == "ChannelStateChange" and channel.get("state") == "Ringing":
            self.dial_ringing(channel.get("id", ""))
        elif kind in ("StasisEnd", "ChannelDestroyed"):
            channel_id = channel.get("id", "")
            if kind == "ChannelDestroyed" and channel_id.startswith(DIAL_PREFIX):
                if await self.dial_gone(channel_id, event.get("cause")):
                    return
            await self.gone(channel_id, event.get("cause_txt"))
        elif kind == "ChannelDtmfReceived":
            await self.dtmf_received(channel.get("id", ""), event.get("digit", ""))
        elif kind == "PlaybackFinished":
            playback_id = event.get("playback", {}).get("id", "")
            target = self.playbacks.pop(playback_id, None)
            if target:
                await self._hangup(target)
            announced = self.announcing.pop(playback_id, None)
            if announced is not None and announced.state == WAITING:
                try:
                    await self.ari.start_moh(announced.caller, announced.moh_class)  # back to music
                except AriError:
                    pass
        elif kind == LINK_UP:
            log.info("voice link up")
            await self.reconcile()
            await self.phones.restore()  # browser phones live in Asterisk's memory: a restarted one lost them
        elif kind == LINK_DOWN:
            log.warning("voice link down", error=event.get("error"))

    # --- after a restart of either side ----------------------------------------------------------------------

    async def inbound(self, channel: dict[str, Any], did: str) -> None:
        """A customer's call enters and is routed at once; its record is stored behind (see engine/journal.py)."""
        now = self._now()
        caller = channel.get("caller") or {}
        number, name = caller.get("number") or None, caller.get("name") or None
        queue, hours = await self._queue_for(did)
        closed = queue is not None and hours is not None and not is_open(hours.timezone, hours.weekly,
                                                                          hours.holidays, now)  # fmt: skip
        iid = await self.engine.interaction_ids.take()
        outcome = Outcome.NO_QUEUE if queue is None else Outcome.CLOSED if closed else None
        self._open_record(iid, now, channel["id"], did, number, name, queue.id if queue else None, outcome)
        self._link_contact(iid, now, number, name)
        if queue is None:
            log.warning("no queue for the dialled number", did=did)
            await self._hangup(channel["id"], "unallocated")
            return
        if closed:
            await self._closed_treatment(channel["id"], queue)
            return
        call = VoiceCall(iid, channel["id"], queue.id, number, name, moh_class=queue.moh_class, arrived_at=now)
        self.calls[iid] = call
        self.channels[call.caller] = call
        self.engine.item_channel[call.item] = "voice"
        await self.engine.refresh_queue(queue.id)
        self._publish(call, "interaction.queued")
        # Route first, so a free agent's phone rings without waiting for our answer and music to be set up.
        await self.engine.decide(
            lambda: self.engine.router.enqueue(WorkItem(call.item, str(queue.id), "voice", arrived_at=now))
        )
        if call.state in (WAITING, RINGING):
            try:
                await self.ari.answer(call.caller)
                if call.state in (WAITING, RINGING):
                    await self.ari.start_moh(call.caller, call.moh_class)
            except AriNotFound:
                await self.gone(call.caller, "hung up while arriving")
                return
        announcements = queue.announcements or {}
        interval = announcements.get("periodic_interval_seconds") or 0
        position, wait = bool(announcements.get("announce_position")), bool(announcements.get("announce_expected_wait"))
        if interval and (position or wait):
            task = asyncio.create_task(self._announce_waiting(call, float(interval), position, wait))
            self._waits.add(task)
            task.add_done_callback(self._waits.discard)

    async def _queue_for(self, did: str) -> tuple[Queue | None, BusinessHours | None]:
        """The queue a dialled number goes to and its business hours, read at most every few seconds."""
        cached = self._dids.get(did)
        if cached is None or self.engine.clock.monotonic() - cached[0] >= QUEUE_CONFIG_TTL_S:
            async with self.engine.db.session() as session:
                row = (await session.execute(select(Queue).join(QueueDid).where(QueueDid.did == did))).scalar()
                hours = await session.get(BusinessHours, row.business_hours_id) if row and row.business_hours_id else None
            cached = (self.engine.clock.monotonic(), row.id if row else None, hours)
            self._dids[did] = cached
        queue = await self.engine.refresh_queue(cached[1]) if cached[1] is not None else None
        return queue, cached[2] if queue is not None else None

    def _open_record(self, iid: int, at: datetime, channel_id: str, did: str, number: str | None,
                     name: str | None, queue_id: int | None, outcome: Outcome | None) -> None:  # fmt: skip
        async def open_(session: Any) -> None:
            interaction = await interactions.open_interaction(
                session, at, channel="voice", media_ref=channel_id, did=did, caller_id=number, caller_name=name,
                interaction_id=iid,
            )  # fmt: skip
            if queue_id is None:
                await interactions.ended(session, interaction, at, Outcome.NO_QUEUE)
                return
            if outcome is None:
                await interactions.queued(session, interaction, at, queue_id)
                return
            interaction.queue_id = queue_id
            await interactions.ended(session, interaction, at, outcome)

        self.engine.journal.write(open_)

    def _link_contact(self, interaction_id: int, at: datetime, number: str | None, name: str | None) -> None:
        """Find or create the caller's profile by their number, behind the call (nothing waits for it)."""
        if not number:
            return
        region = self.settings.phone_region

        async def link(session: Any) -> None:
            contact = await resolve_phone(session, at, number, region, name)
            interaction = await session.get(Interaction, interaction_id)
            if contact is not None and interaction is not None:
                interaction.contact_id = contact.id

        self.engine.journal.write(link)

    async def offer(self, d: Offer) -> None:
        if d.item_id in self.consults:
            await self.offer_consult(d)
            return
        call = self.calls[int(d.item_id)]
        agent_id = int(d.agent_id)
        if self.engine.answer_modes.get(d.agent_id) == "console":
            # the offer waits in the agent's console; their answer there rings the device to pick up by itself
            call.state, call.agent_id, call.agent_leg = RINGING, agent_id, None
            self._record(call, lambda s, i, at: interactions.offered(s, i, d.at, agent_id))
            self._publish(call, "interaction.offered", timeout_s=d.timeout_s, answer="console")
            return
        await self._ring(call, agent_id, d.timeout_s, d.at)

    async def answer(self, interaction_id: int, agent_id: int) -> None:
        """The agent answers in the console: their device is called with auto-answer and joins the caller."""
        call = self.calls.get(interaction_id)
        if call is None or call.state != RINGING or call.agent_id != agent_id or call.agent_leg is not None:
            raise Conflict(f"interaction {interaction_id} is not waiting for agent {agent_id} to answer",
                           {"interaction_id": interaction_id, "agent_id": agent_id},
                           reason="not_waiting_for_agent")  # fmt: skip
        await self._ring(call, agent_id, 30.0, None, auto_answer=True)

    async def _ring(self, call: VoiceCall, agent_id: int, timeout_s: float, offered_at: datetime | None,
                    auto_answer: bool = False) -> None:  # fmt: skip
        """Originate the call to the agent's device into our application; its answer bridges the caller."""
        d_at = offered_at
        device = self.engine.devices.get(str(agent_id))
        leg = f"tpx-offer-{call.interaction_id}-{agent_id}-{next(self._legs)}"
        call.state, call.agent_id, call.agent_leg = RINGING, agent_id, leg
        self.channels[leg] = call
        caller_id = f'"{call.caller_name or call.caller_number or ""}" <{call.caller_number or ""}>'
        try:
            if not device:
                raise AriError(0, "the agent has no device")
            # ring first, write after: the record's offered_at is the router's decision time either way
            await self.ari.originate(
                device, channel_id=leg, app_args=f"offer,{call.interaction_id},{agent_id}",
                caller_id=caller_id, timeout=int(timeout_s) + 5, variables=AUTO_ANSWER if auto_answer else None,
            )  # fmt: skip
        except AriError as exc:
            log.warning("could not ring the agent", agent_id=agent_id, device=device, error=exc.message)
            if d_at is not None:
                self._record(call, lambda s, i, at: interactions.offered(s, i, d_at, agent_id))
            await self._offer_failed(call, leg, "unreachable")
            return
        if d_at is not None:
            self._record(call, lambda s, i, at: interactions.offered(s, i, d_at, agent_id))
            self._publish(call, "interaction.offered")

    async def _offer_failed(self, call: VoiceCall, leg: str, reason: str) -> None:
        """The agent's phone did not take the call: tell the router, which offers it to the next agent."""
        if call.agent_leg != leg or call.state != RINGING:
            return
        agent_id = call.agent_id
        assert agent_id is not None
        call.state, call.agent_leg, call.agent_id = WAITING, None, None
        self.channels.pop(leg, None)
        self._record(call, lambda s, i, at: interactions.offer_failed(s, i, at, agent_id, reason))
        try:
            await self.engine.decide(lambda: self.engine.router.offer_declined(call.item, str(agent_id)))
        except (OfferNotFound, ItemNotFound):
            pass  # the router had already timed the offer out or forgotten the item
        self.drop_if_late(call)

    async def offer_withdrawn(self, item_id: str, agent_id: str, reason: str) -> None:
        """The router took an offer back (ring timeout, caller gone, agent paused): stop ringing."""
        if item_id in self.consults:
            await self.consult_withdrawn(item_id, agent_id, reason)
            return
        call = self.calls.get(int(item_id)) if item_id.isdigit() else None
        if call is not None and call.state == RINGING and call.agent_leg is None:  # a console offer, not answered
            call.state, call.agent_id = WAITING, None
            if reason != "abandoned":
                self._record(call, lambda s, i, at: interactions.offer_failed(s, i, at, int(agent_id), reason))
            self._publish(call, "interaction.offer_withdrawn", reason=reason)
            self.drop_if_late(call)
            return
        if call is None or call.agent_leg is None or call.state != RINGING:
            return
        leg = call.agent_leg
        call.state, call.agent_leg, call.agent_id = WAITING, None, None
        self.channels.pop(leg, None)
        await self._hangup(leg)
        self.drop_if_late(call)
        if reason != "abandoned":
            self._record(call, lambda s, i, at: interactions.offer_failed(s, i, at, int(agent_id), reason))

    async def agent_answered(self, leg: str, interaction_id: int, agent_id: int) -> None:
        call = self.calls.get(interaction_id)
        if call is None or call.agent_leg != leg or call.state != RINGING:
            await self._hangup(leg)  # too late: timed out, or the caller left
            return
        try:
            await self.engine.decide(lambda: self.engine.router.offer_accepted(call.item, str(agent_id)))
        except RoutingError:
            await self._offer_failed(call, leg, "too_late")
            await self._hangup(leg)
            return
        call.state = CONNECTED
        call.connected_at = self._now()
        # unique per connection: interaction ids can repeat across databases while Asterisk keeps bridges
        call.bridge = f"tpx-call-{interaction_id}-{uuid.uuid4().hex[:8]}"
        now = self._now()
        try:
            await self.ari.create_bridge(call.bridge, "mixing", name=f"interaction {interaction_id}")
            try:
                await self.ari.stop_moh(call.caller)
            except AriNotFound:
                raise
            except AriError:
                pass  # no music was playing: the agent answered before it started
            await self.ari.add_channel(call.bridge, call.caller, leg)
        except AriNotFound:
            await self.gone(call.caller, "left while being connected")
            return
        recording_path = await self._start_recording(call)
        if call.dialing is not None:
            self.outbound_connected(call, agent_id, recording_path)
        bridge = call.bridge
        self._record(call, lambda s, i, at: self._connected(s, i, now, agent_id, recording_path, bridge))
        self._publish(call, "interaction.connected")

    async def _connected(
        self, session: Any, i: Interaction, now: datetime, agent_id: int, path: str | None, bridge: str | None
    ) -> None:
        await interactions.connected(session, i, now, agent_id)
        i.bridge_ref = bridge
        if path:
            i.recording_path = path
            await interactions.event(session, i, now, "recording_started", agent_id, path=path)

    async def _start_recording(self, call: VoiceCall) -> str | None:
        queue = await self.engine.refresh_queue(call.queue_id)  # cached: no database read per call
        wanted = queue is not None and queue.recording or call.dialing is not None and call.dialing.req.recording
        if not wanted or call.bridge is None:
            return None
        name = f"teleplex-{call.interaction_id}"
        try:
            await self.ari.record_bridge(call.bridge, name)
        except AriError as exc:
            log.warning("recording did not start", interaction_id=call.interaction_id, error=exc.message)
            return None
        call.recording = name
        return f"{name}.wav"

    # --- the agent's call controls ----------------------------------------------------------------------------

    async def gone(self, channel_id: str, cause: str | None) -> None:
        """A channel hung up (or left the application): end what it was part of."""
        call = self.channels.get(channel_id)
        if call is None or call.state == ENDED:
            return
        if channel_id == call.caller:
            if call.state == OFFERING_CALLBACK:
                await self._finish(call, Outcome.OVERFLOWED, callback="hung_up", cause=cause)
            elif call.state in (WAITING, RINGING):
                ringing_leg = call.agent_leg
                await self._finish(call, Outcome.ABANDONED, cause=cause)
                await self._hangup(ringing_leg)  # the router's rescind finds the call already closed
                try:
                    await self.engine.decide(lambda: self.engine.router.withdraw(call.item, "abandoned"))
                except ItemNotFound:
                    pass
            else:
                await self._end_connected(call, hung_up_by="customer", gone=channel_id)
        elif channel_id == call.agent_leg:
            if call.state == RINGING:
                await self._offer_failed(call, channel_id, cause or "declined")
            else:
                await self._end_connected(call, hung_up_by="agent", gone=channel_id)
        elif channel_id == call.consult:
            if call.handed_over:
                await self._end_connected(call, hung_up_by="transfer target", gone=channel_id)
            else:
                await self.consult_leg_gone(call, channel_id, cause)

    async def _end_connected(self, call: VoiceCall, hung_up_by: str, gone: str | None = None) -> None:
        outcome = Outcome.TRANSFERRED if call.handed_over else Outcome.ANSWERED
        await self._finish(call, outcome, hung_up_by=hung_up_by)
        for channel in (call.caller, call.agent_leg, call.consult):
            if channel != gone:  # the one that hung up needs no hangup request
                await self._hangup(channel)
        if call.bridge:
            try:
                await self.ari.destroy_bridge(call.bridge)
            except AriError:
                pass
        if call.handed_over:
            return  # the agent was released when the consult was completed
        try:
            await self.engine.decide(lambda: self.engine.router.interaction_ended(call.item))
        except RoutingError as exc:
            log.warning("router did not know the ended call", interaction_id=call.interaction_id, error=str(exc))

    async def _finish(self, call: VoiceCall, outcome: Outcome, **data: Any) -> None:
        call.state = ENDED
        self.outbound_ended(call)
        await self._end_monitors(call)
        await self._drop_consult_item(call)  # a consulted agent still ringing or talking is released
        for channel in (call.caller, call.agent_leg, call.consult):
            if channel:
                self.channels.pop(channel, None)
        self.calls.pop(call.interaction_id, None)
        self._record(call, lambda s, i, at: interactions.ended(s, i, at, outcome, **data))
        self._publish(call, "interaction.ended", outcome=str(outcome))

    # --- helpers -------------------------------------------------------------------------------------------

    def _record(self, call: VoiceCall, change: Any) -> None:
        """Queue a change to the call's record, stamped now; the engine's journal stores it behind the call."""
        interaction_id, at = call.interaction_id, self._now()

        async def store(session: Any) -> None:
            interaction = await session.get(Interaction, interaction_id)
            if interaction is not None:
                await change(session, interaction, at)

        self.engine.journal.write(store)

    async def _hangup(self, channel_id: str | None, reason: str = "normal") -> None:
        if not channel_id:
            return
        try:
            await self.ari.hangup(channel_id, reason)
        except AriNotFound:
            pass
        except AriError as exc:
            log.warning("hangup failed", channel=channel_id, error=exc.message)

    def _publish(self, call: VoiceCall, kind: str, **extra: Any) -> None:
        data = {
            "interaction_id": call.interaction_id, "channel": "voice", "queue_id": call.queue_id,
            "agent_id": call.agent_id, "state": call.state, "caller_id": call.caller_number, **extra,
        }  # fmt: skip
        self.engine.publish(kind, self._now(), data, queue_id=call.queue_id, agent_id=call.agent_id)
