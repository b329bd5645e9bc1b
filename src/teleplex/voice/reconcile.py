"""Voice after a restart of either side: memory, the records and Asterisk are made to agree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from teleplex.core.logging import get_logger
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.interactions.states import Outcome
from teleplex.routing import RoutingError, WorkItem
from teleplex.voice.ari import AriError
from teleplex.voice.model import CONNECTED, VoiceCall, VoiceParts

log = get_logger("teleplex.voice")


class Reconciliation(VoiceParts):
    """Run when the ARI link comes up: take back what Asterisk still has, close what died."""

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
        for channel_id in [c for c, d in self.dialing.items() if d.call is None and c not in channels]:
            await self.dial_gone(channel_id, None)  # a campaign call lost with Asterisk: failed, retried by its rules
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
            elif channel_id.startswith("tpx-dial-") and channel_id not in known and channel_id not in self.dialing:
                await self._hangup(channel_id)  # a campaign call still ringing from before: its lead was released

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
