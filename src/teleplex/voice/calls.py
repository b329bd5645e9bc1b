"""Voice on the engine: ARI events become router facts, router decisions become ARI calls.

A caller waits in the Stasis application with music on hold; an offer originates a call to the agent's
device into the same application; when the agent answers, both channels go into a mixing bridge.
Channel ids carry their meaning (`tpx-offer-<interaction>-<agent>-<n>`), so a restarted Teleplex can tell
what each channel Asterisk still has is.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from teleplex.center.hours import is_open
from teleplex.center.models import BusinessHours, Queue, QueueDid
from teleplex.campaigns.models import Callback
from teleplex.contacts.service import normalise_phone, resolve_phone
from teleplex.core.errors import Conflict
from teleplex.core.logging import get_logger
from teleplex.core.settings import Settings
from teleplex.engine.engine import QUEUE_CONFIG_TTL_S, Engine
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.interactions.states import Outcome
from teleplex.routing import ItemNotFound, Offer, OfferNotFound, Overflow, RoutingError, WorkItem
from teleplex.voice.ari import LINK_DOWN, LINK_UP, Ari, AriConfig, AriError, AriEventReader, AriNotFound

log = get_logger("teleplex.voice")

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

    @property
    def item(self) -> str:
        return str(self.interaction_id)


def ari_config(settings: Settings) -> AriConfig:
    assert settings.ari_url
    url = settings.ari_url.rstrip("/").removesuffix("/ari")
    return AriConfig(url, settings.ari_user, settings.ari_password.get_secret_value(), settings.ari_app)


class VoiceChannel:
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
        self._dids: dict[str, tuple[float, int | None, BusinessHours | None]] = {}  # did -> (read at, queue, hours)
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
            elif args[:1] in (["snoop"], ["monitor"]) and len(args) == 3:
                await self.monitor_leg_up(args[0], channel["id"], int(args[1]), args[2])
            else:
                await self._hangup(channel.get("id"))
        elif kind in ("StasisEnd", "ChannelDestroyed"):
            await self.gone(channel.get("id", ""), event.get("cause_txt"))
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
        elif kind == LINK_DOWN:
            log.warning("voice link down", error=event.get("error"))

    # --- after a restart of either side ----------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Make memory, the records and Asterisk agree after the link (re)connects.

        Asterisk restarted: calls we hold whose channels are gone are ended with their right outcome.
        Teleplex restarted: calls Asterisk still has are taken back, waiting ones re-queued with their
        original arrival time, connected ones resumed on their agent; records whose channels are gone are
        closed.
        """
        await self.engine.settle()  # what memory holds is on record before comparing it with Asterisk
        channels = {c["id"]: c for c in await self.ari.channels()}
        bridges = {b["id"]: b for b in await self.ari.bridges()}
        for call in list(self.calls.values()):
            for channel in (call.caller, call.agent_leg):
                if channel and channel not in channels:
                    await self.gone(channel, "lost while the link was down")
        async with self.engine.db.session() as session:
            records = [r for r in await interactions.open_interactions(session, "voice") if r.id not in self.calls]
        for record in records:
            if record.media_ref in channels:
                await self._take_back(record, channels, bridges)
            else:
                outcome = Outcome.ANSWERED if record.answered_at else Outcome.ABANDONED
                async with self.engine.db.session() as session:
                    stored = await session.get(Interaction, record.id)
                    if stored is not None:
                        await interactions.ended(session, stored, self._now(), outcome, reconciled=True)
        await self._adopt_unrecorded(channels)
        known = set(self.channels)
        for channel_id in channels:
            # a Local channel's second half is "<id>;2": judge it by the leg it belongs to
            if channel_id.startswith("tpx-offer-") and channel_id.split(";")[0] not in known:
                await self._hangup(channel_id)  # an offer from before the restart: the call is re-offered

    async def _adopt_unrecorded(self, channels: dict[str, Any]) -> None:
        """Callers in our application that have no record (Teleplex stopped before its journal wrote it) are
        handled as if they had just arrived."""
        prefix = f"{self.ari.config.app},inbound,"
        candidates = {
            cid: (c.get("dialplan") or {}).get("app_data", "").removeprefix(prefix)
            for cid, c in channels.items()
            if not cid.startswith("tpx-") and cid not in self.channels
            and (c.get("dialplan") or {}).get("app_name") == "Stasis"
            and (c.get("dialplan") or {}).get("app_data", "").startswith(prefix)
        }  # fmt: skip
        if not candidates:
            return
        async with self.engine.db.session() as session:
            recorded = set((await session.execute(
                select(Interaction.media_ref).where(Interaction.media_ref.in_(list(candidates)))
            )).scalars())  # fmt: skip
        for cid, did in candidates.items():
            if cid not in recorded and did:
                log.info("adopting a caller without a record", channel=cid, did=did)
                await self.inbound(channels[cid], did)

    async def _take_back(self, record: Interaction, channels: dict[str, Any], bridges: dict[str, Any]) -> None:
        assert record.media_ref is not None and record.queue_id is not None
        caller = channels[record.media_ref].get("caller") or {}
        call = VoiceCall(record.id, record.media_ref, record.queue_id, caller.get("number"), caller.get("name"),
                         arrived_at=record.arrived_at)  # fmt: skip
        bridge = bridges.get(record.bridge_ref or "")
        others = [c for c in (bridge or {}).get("channels", []) if c != record.media_ref]
        if record.state in ("connected", "held") and not others:  # the agent hung up while we were away
            async with self.engine.db.session() as session:
                stored = await session.get(Interaction, record.id)
                if stored is not None:
                    await interactions.ended(session, stored, self._now(), Outcome.ANSWERED, hung_up_by="agent",
                                             reconciled=True)  # fmt: skip
            await self._hangup(record.media_ref)
            return
        self.calls[call.interaction_id] = call
        self.channels[call.caller] = call
        self.engine.item_channel[call.item] = "voice"
        await self.engine.refresh_queue(record.queue_id)
        item = WorkItem(call.item, str(record.queue_id), "voice", arrived_at=record.arrived_at)
        if record.state in ("connected", "held") and bridge is not None and record.agent_id:
            call.state, call.agent_id, call.agent_leg, call.bridge = CONNECTED, record.agent_id, others[0], bridge["id"]
            self.channels[others[0]] = call
            try:
                await self.engine.decide(lambda: self.engine.router.resume_connected(item, str(record.agent_id)))
            except RoutingError as exc:
                log.warning("resumed call's agent is not logged in", interaction_id=record.id, error=str(exc))
            log.info("resumed a connected call", interaction_id=record.id)
            return
        if channels[record.media_ref].get("state") != "Up":
            # the engine stopped between queueing the call and answering it: answer it now
            try:
                await self.ari.answer(call.caller)
            except AriError:
                pass
        async with self.engine.db.session() as session:
            stored = await session.get(Interaction, record.id)
            if stored is not None and stored.state == "offered":
                await interactions.offer_failed(session, stored, self._now(), None, "restart")
            elif stored is not None and stored.state == "arrived":
                await interactions.queued(session, stored, self._now(), record.queue_id)
        try:
            await self.ari.start_moh(call.caller, call.moh_class)
        except AriError:
            pass
        await self.engine.decide(lambda: self.engine.router.enqueue(item))
        log.info("re-queued a waiting call", interaction_id=record.id)

    # --- a call arrives ------------------------------------------------------------------------------------

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
        interval = (queue.announcements or {}).get("periodic_interval_seconds") or 0
        if interval and (queue.announcements or {}).get("announce_position"):
            task = asyncio.create_task(self._announce_position(call, float(interval)))
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

    def position(self, call: VoiceCall) -> int:
        """The caller's place among those waiting in the same queue, first come first."""
        waiting = [
            i for i in self.engine.router.snapshot(self._now()).items
            if i.queue_id == str(call.queue_id) and str(i.state) in ("waiting", "offered")
        ]  # fmt: skip
        ahead = [i for i in waiting if i.arrived_at < next((w.arrived_at for w in waiting if w.item_id == call.item),
                                                           self._now())]  # fmt: skip
        return len(ahead) + 1

    async def _announce_position(self, call: VoiceCall, interval: float) -> None:
        """Every `interval` seconds of waiting, tell the caller their place in line, then back to music."""
        while True:
            await asyncio.sleep(interval)
            async with self.engine.serial():
                if call.state != WAITING or call.interaction_id not in self.calls:
                    return
                place = self.position(call)
                media = "sound:queue-youarenext" if place == 1 else f"sound:queue-thereare,number:{place - 1},sound:queue-callswaiting"
                try:
                    await self.ari.stop_moh(call.caller)
                    playback = await self.ari.play(call.caller, media)
                except AriError:
                    return
                self.announcing[playback["id"]] = call
                self._record(call, lambda s, i, at: interactions.event(s, i, at, "position_announced",
                                                                         position=place))  # fmt: skip

    async def _closed_treatment(self, channel_id: str, queue: Queue) -> None:
        treatment = queue.closed_treatment or {"kind": "hangup"}
        await self._leave(channel_id, treatment)

    async def _leave(self, channel_id: str, target: dict[str, Any]) -> None:
        """Send a caller who will not reach an agent where the queue says: a message then hangup, or voicemail."""
        try:
            if target["kind"] == "voicemail":
                await self.ari.continue_in_dialplan(channel_id, "teleplex-voicemail", target["mailbox"])
            elif target["kind"] == "number":
                await self.ari.continue_in_dialplan(channel_id, "teleplex-outbound", target["number"].lstrip("+"))
            elif target.get("message"):
                await self.ari.answer(channel_id)
                playback = await self.ari.play(channel_id, f"sound:{target['message']}")
                self.playbacks[playback["id"]] = channel_id
            else:
                await self._hangup(channel_id)
        except AriNotFound:
            pass

    # --- offers --------------------------------------------------------------------------------------------

    async def offer(self, d: Offer) -> None:
        call = self.calls[int(d.item_id)]
        agent_id = int(d.agent_id)
        device = self.engine.devices.get(d.agent_id)
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
                caller_id=caller_id, timeout=int(d.timeout_s) + 5,
            )  # fmt: skip
        except AriError as exc:
            log.warning("could not ring the agent", agent_id=agent_id, device=device, error=exc.message)
            self._record(call, lambda s, i, at: interactions.offered(s, i, d.at, agent_id))
            await self._offer_failed(call, leg, "unreachable")
            return
        self._record(call, lambda s, i, at: interactions.offered(s, i, d.at, agent_id))
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

    async def offer_withdrawn(self, item_id: str, agent_id: str, reason: str) -> None:
        """The router took an offer back (ring timeout, caller gone, agent paused): stop ringing."""
        call = self.calls.get(int(item_id))
        if call is None or call.agent_leg is None or call.state != RINGING:
            return
        leg = call.agent_leg
        call.state, call.agent_leg, call.agent_id = WAITING, None, None
        self.channels.pop(leg, None)
        await self._hangup(leg)
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
            await self.ari.add_channel(call.bridge, call.caller)
            await self.ari.add_channel(call.bridge, leg)
        except AriNotFound:
            await self.gone(call.caller, "left while being connected")
            return
        recording_path = await self._start_recording(call)
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
        if queue is None or not queue.recording or call.bridge is None:
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

    def live_call(self, interaction_id: int) -> VoiceCall:
        """The call as it is now; a clear 409 when the interaction is not a call in progress."""
        call = self.calls.get(interaction_id)
        if call is None or call.state not in (CONNECTED, HELD):
            raise Conflict(f"interaction {interaction_id} is not a call in progress", {"interaction_id": interaction_id})
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
            raise Conflict(f"interaction {interaction_id} is not being recorded")
        if paused:
            await self.ari.pause_recording(call.recording)
        else:
            await self.ari.unpause_recording(call.recording)
        kind = "recording_paused" if paused else "recording_resumed"
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, kind, agent_id))

    async def monitor(self, interaction_id: int, mode: str, device: str) -> None:
        """A supervisor listens (hears both), whispers (the agent alone hears them) or barges (all hear all).

        Listen and whisper snoop on the agent's leg; the supervisor's device is rung and, once it answers,
        bridged with the snoop channel. Barge adds the supervisor to the call's own bridge.
        """
        call = self.live_call(interaction_id)
        assert call.agent_leg is not None
        n = next(self._legs)
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

    async def consult(self, interaction_id: int, number: str) -> None:
        """Attended transfer, first step: the customer waits on hold while the agent calls a third party."""
        call = self.live_call(interaction_id)
        if call.consult is not None or call.handed_over:
            raise Conflict(f"interaction {interaction_id} is already consulting")
        await self.hold(interaction_id)
        leg = f"tpx-consult-{interaction_id}-{next(self._legs)}"
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
            raise Conflict(f"could not call {number}: {exc.message}") from None
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_started", agent_id,
                                                                 number=number))  # fmt: skip
        self._publish(call, "interaction.consulting")

    async def consult_answered(self, leg: str, interaction_id: int) -> None:
        """The third party answered: they and the agent talk in the call's bridge, the customer still on hold."""
        call = self.calls.get(interaction_id)
        if call is None or call.consult != leg or call.bridge is None:
            await self._hangup(leg)
            return
        await self.ari.add_channel(call.bridge, leg)
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_answered", agent_id))

    async def complete_consult(self, interaction_id: int) -> None:
        """Attended transfer, last step: the customer joins the third party and the agent leaves (to wrap-up)."""
        call = self.live_call(interaction_id)
        if call.consult is None:
            raise Conflict(f"interaction {interaction_id} is not consulting anyone")
        bridge = call.bridge
        assert bridge is not None
        await self.ari.stop_moh(call.caller)
        await self.ari.add_channel(bridge, call.caller)
        call.state = CONNECTED
        agent_id, leg = call.agent_id, call.agent_leg
        call.handed_over, call.agent_leg = True, None
        if leg:
            self.channels.pop(leg, None)
            await self._hangup(leg)
        self._record(call, lambda s, i, at: self._handed_over(s, i, at, agent_id))
        self._publish(call, "interaction.transferred")
        try:
            await self.engine.decide(lambda: self.engine.router.interaction_ended(call.item))
        except RoutingError:
            pass

    async def _handed_over(self, session: Any, i: Interaction, at: datetime, agent_id: int | None) -> None:
        if i.state == "held":
            await interactions.unheld(session, i, at)
        await interactions.event(session, i, at, "transferred", agent_id, to={"kind": "consult"})

    async def cancel_consult(self, interaction_id: int) -> None:
        """Back to the customer: the third party is hung up and the customer taken off hold."""
        call = self.live_call(interaction_id)
        if call.consult is None or call.handed_over:
            raise Conflict(f"interaction {interaction_id} is not consulting anyone")
        leg, call.consult = call.consult, None
        self.channels.pop(leg, None)
        await self._hangup(leg)
        agent_id = call.agent_id
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_cancelled", agent_id))
        await self.unhold(interaction_id)

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
            raise Conflict(f"queue {queue_id} does not exist or takes no calls", {"queue_id": queue_id})
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

    async def transfer_to_agent(self, interaction_id: int, agent_id: int) -> None:
        """Blind transfer by name: the customer hears music while the named agent's phone rings; if they do
        not answer, the call goes back to its queue."""
        call = self.live_call(interaction_id)
        target = next((a for a in self.engine.router.snapshot(self._now()).agents if a.agent_id == str(agent_id)), None)
        if target is None or str(target.state) != "ready":
            state = "logged out" if target is None else str(target.state).replace("_", " ")
            raise Conflict(f"agent {agent_id} is not available ({state})", {"agent_id": agent_id})
        if call.agent_id == agent_id:
            raise Conflict(f"interaction {interaction_id} is already with agent {agent_id}")
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

    # --- overflow --------------------------------------------------------------------------------------------

    async def overflow(self, d: Overflow) -> None:
        call = self.calls.get(int(d.item_id))
        if call is None:
            return
        target = d.target if isinstance(d.target, dict) else {"kind": "hangup"}
        now = self._now()
        if target["kind"] == "queue":
            new_queue = int(target["queue_id"])

            async def move(session: Any, i: Interaction, at: datetime) -> None:
                await interactions.event(session, i, at, "overflowed", target=target)
                i.queue_id = new_queue

            self._record(call, move)
            call.queue_id = new_queue
            queue = await self.engine.refresh_queue(new_queue)
            if queue is not None:
                arrived = call.arrived_at or now
                await self.engine.decide(
                    lambda: self.engine.router.enqueue(WorkItem(call.item, str(new_queue), "voice", arrived_at=arrived))
                )
                return
        if target["kind"] == "callback":
            await self._offer_callback(call, target)
            return
        await self._finish(call, Outcome.OVERFLOWED, target=target)
        await self._leave(call.caller, target)

    async def _offer_callback(self, call: VoiceCall, target: dict[str, Any]) -> None:
        """Ask the caller to press 1 to be called back; without a key press in time, let them go."""
        call.state = OFFERING_CALLBACK
        self._record(call, lambda s, i, at: interactions.event(s, i, at, "overflowed", target=target))
        try:
            await self.ari.stop_moh(call.caller)
        except AriError:
            pass
        prompt = target.get("prompt") or ["vm-tocallback", "vm-press", "digits/1"]
        try:
            await self.ari.play(call.caller, ",".join(f"sound:{p}" for p in prompt))
        except AriNotFound:
            return
        task = asyncio.create_task(self._callback_not_chosen(call, float(target.get("wait_seconds", 10))))
        self._waits.add(task)
        task.add_done_callback(self._waits.discard)

    async def _callback_not_chosen(self, call: VoiceCall, seconds: float) -> None:
        await asyncio.sleep(seconds)
        async with self.engine.serial():
            if call.state == OFFERING_CALLBACK:
                await self._finish(call, Outcome.OVERFLOWED, callback="declined")
                await self._hangup(call.caller)

    async def dtmf_received(self, channel_id: str, digit: str) -> None:
        call = self.channels.get(channel_id)
        if call is None or call.state != OFFERING_CALLBACK or channel_id != call.caller or digit != "1":
            return
        now = self._now()
        await self.engine.settle()  # the record's contact may still be on its way
        async with self.engine.db.session() as session:
            interaction = await session.get(Interaction, call.interaction_id)
            number = normalise_phone(call.caller_number or "", self.settings.phone_region) or call.caller_number
            callback = Callback(
                number=number or "", queue_id=call.queue_id, interaction_id=call.interaction_id,
                contact_id=interaction.contact_id if interaction else None, source="inbound_overflow",
                status="pending", requested_at=now,
            )  # fmt: skip
            session.add(callback)
            await session.flush()
            callback_id = callback.id
        await self._finish(call, Outcome.CALLBACK_REQUESTED, callback_id=callback_id)
        self.engine.publish("callback.requested", now, {"callback_id": callback_id, "queue_id": call.queue_id,
                                                         "number": number}, queue_id=call.queue_id)  # fmt: skip
        try:
            playback = await self.ari.play(call.caller, "sound:auth-thankyou")
            self.playbacks[playback["id"]] = call.caller
        except AriError:
            await self._hangup(call.caller)

    # --- the end of a call ---------------------------------------------------------------------------------

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
                call.consult = None
                self.channels.pop(channel_id, None)
                agent_id = call.agent_id
                self._record(call, lambda s, i, at: interactions.event(s, i, at, "consult_ended", agent_id,
                                                                         cause=cause))  # fmt: skip
                self._publish(call, "interaction.consult_ended")

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
        await self._end_monitors(call)
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
