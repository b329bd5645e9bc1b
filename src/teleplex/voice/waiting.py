"""While a caller waits: place in line, closed treatment, overflow, and the callback offer."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any

from teleplex.campaigns.models import Callback
from teleplex.center.models import Queue
from teleplex.contacts.service import normalise_phone
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction
from teleplex.interactions.states import Outcome
from teleplex.routing import Overflow, WorkItem
from teleplex.voice.ari import AriError, AriNotFound
from teleplex.voice.model import OFFERING_CALLBACK, WAITING, VoiceCall, VoiceParts


class Waiting(VoiceParts):
    """A waiting caller's experience beyond music: announcements, overflow targets, callbacks."""

    def position(self, call: VoiceCall) -> int:
        """The caller's place in line, in the order the router will offer the queue's calls."""
        return self.engine.router.place_in_line(call.item, self._now())

    async def _announce_waiting(self, call: VoiceCall, interval: float, position: bool, wait: bool) -> None:
        """Every `interval` seconds of waiting, tell the caller their place in line and/or the expected wait
        (when there is a basis for one), then back to music."""
        while True:
            await asyncio.sleep(interval)
            async with self.engine.serial():
                if call.state != WAITING or call.interaction_id not in self.calls:
                    return
                place = self.position(call)
                expected = self.engine.router.expected_wait_s(call.item, self._now()) if wait else None
                sounds = []
                if position:
                    sounds += ["sound:queue-youarenext"] if place == 1 else [
                        "sound:queue-thereare", f"number:{place - 1}", "sound:queue-callswaiting"]  # fmt: skip
                if expected is not None:
                    minutes = max(1, math.ceil(expected / 60))
                    sounds += ["sound:queue-holdtime", f"number:{minutes}", "sound:queue-minutes"]
                if not sounds:
                    continue
                try:
                    await self.ari.stop_moh(call.caller)
                    playback = await self.ari.play(call.caller, ",".join(sounds))
                except AriError:
                    return
                self.announcing[playback["id"]] = call
                data: dict[str, Any] = {"position": place} if position else {}
                if expected is not None:
                    data["expected_wait_s"] = round(expected, 1)
                self._record(call, lambda s, i, at: interactions.event(s, i, at, "position_announced", **data))

    async def _closed_treatment(self, channel_id: str, queue: Queue) -> None:
        treatment = queue.closed_treatment or {"kind": "hangup"}
        await self._leave(channel_id, treatment)

    async def _leave(self, channel_id: str, target: dict[str, Any]) -> None:
        """Send a caller who will not reach an agent where the queue says: a message then hangup, or voicemail."""
        try:
            if target["kind"] == "voicemail":
                await self.ari.answer(channel_id)  # answered here, as for a message, before the mailbox greets
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
