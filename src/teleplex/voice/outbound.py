"""Campaign calls on Asterisk: dial a lead on the trunk, detect machines, hand people to agents within 2 s.

A call is originated into our Stasis application with the id `tpx-dial-<attempt>`, so its progress (ringing,
busy, no answer) arrives as events. When the far end answers and the campaign uses answering-machine
detection, the channel continues into the dialplan context `teleplex-dialer`, where `AMD()` runs before the
call comes back to Stasis with the verdict (and where a message is left on machines when the campaign says
so). A person is then routed like an inbound caller, at the front of the campaign's queue; if no agent is
found within the grace (2 s), the campaign's abandonment message is played and the call is dropped.

What happened is told to the `DialerFeedback` (campaigns/live.py), which keeps attempts and pacing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from teleplex.campaigns.rules import Outcome as AttemptOutcome
from teleplex.core.logging import get_logger
from teleplex.interactions import service as interactions
from teleplex.interactions.states import Outcome
from teleplex.routing import ItemNotFound, WorkItem
from teleplex.voice.ari import AriError
from teleplex.voice.model import RINGING, WAITING, VoiceCall, VoiceParts

log = get_logger("teleplex.voice")

DIAL_PREFIX = "tpx-dial-"
DIALER_CONTEXT = "teleplex-dialer"  # see the sandbox's extensions.conf and docs/asterisk.md
OUTBOUND_PRIORITY = 100  # a person on the line outranks every caller still waiting in the queue

# Hangup causes (Q.850) before an answer, as attempt outcomes.
_CAUSES = {17: AttemptOutcome.BUSY, 18: AttemptOutcome.NO_ANSWER, 19: AttemptOutcome.NO_ANSWER,
           16: AttemptOutcome.NO_ANSWER, 1: AttemptOutcome.INVALID_NUMBER, 3: AttemptOutcome.INVALID_NUMBER,
           28: AttemptOutcome.INVALID_NUMBER}  # fmt: skip


@dataclass(frozen=True)
class DialRequest:
    """One call a campaign places; `agent_id` reserves the call for one agent (preview, personal callback)."""

    attempt_id: int
    campaign_id: int
    queue_id: int
    number: str
    endpoint: str  # the trunk's dial string for this number, e.g. PJSIP/+34911234567@carrier
    ring_seconds: int
    caller_id: str | None = None
    amd: bool = False
    machine_message: str | None = None  # played on machines (after the greeting) instead of hanging up
    abandon_message: str | None = None
    grace_seconds: float = 2.0
    agent_id: int | None = None
    recording: bool = False  # the campaign records its calls (besides its queue's own setting)


class DialerFeedback(Protocol):
    """What the campaign dialer hears about its calls; times are the engine clock's."""

    def ringing(self, req: DialRequest, at: datetime) -> None: ...
    def unanswered(self, req: DialRequest, outcome: AttemptOutcome, ring_s: float, at: datetime) -> None: ...
    def machine(self, req: DialRequest, amd: str, message_left: bool, ring_s: float, at: datetime) -> None: ...
    def person(self, req: DialRequest, amd: str | None, ring_s: float, interaction_id: int, at: datetime) -> None: ...
    def connected(self, req: DialRequest, agent_id: int, wait_s: float, recording: str | None, at: datetime) -> None: ...
    def abandoned(self, req: DialRequest, wait_s: float, at: datetime) -> None: ...
    def finished(self, req: DialRequest, talk_s: float, at: datetime) -> None: ...


@dataclass
class Dialing:
    """A campaign call between its origination and its hand-over to routing (or its end)."""

    req: DialRequest
    channel: str
    placed_at: datetime
    answered_at: datetime | None = None
    call: VoiceCall | None = None  # once a person is routed


class OutboundCalls(VoiceParts):
    """The dialing part of the voice channel."""

    dialer: DialerFeedback | None
    dialing: dict[str, Dialing]

    def dials_in_flight(self, campaign_id: int) -> tuple[list[float], int]:
        """(seconds each unanswered call has rung, answered calls waiting for an agent) of a campaign."""
        now = self._now()
        ringing, waiting = [], 0
        for d in self.dialing.values():
            if d.req.campaign_id != campaign_id:
                continue
            if d.answered_at is None:
                ringing.append((now - d.placed_at).total_seconds())
            elif d.call is None or d.call.state in (WAITING, RINGING):
                waiting += 1
        return ringing, waiting

    def dialing_for(self, agent_id: int) -> bool:
        """Whether a call reserved for this agent is ringing or waiting for them."""
        return any(d.req.agent_id == agent_id for d in self.dialing.values())

    def channels_in_use(self, campaign_id: int) -> int:
        return sum(1 for d in self.dialing.values() if d.req.campaign_id == campaign_id)

    async def dial(self, req: DialRequest) -> bool:
        """Place the call; False (and the attempt ended as failed) when Asterisk refuses it."""
        channel = f"{DIAL_PREFIX}{req.attempt_id}"
        d = Dialing(req, channel, self._now())
        self.dialing[channel] = d
        variables = {"TELEPLEX_ATTEMPT": str(req.attempt_id)}
        if req.machine_message:
            variables["TELEPLEX_MACHINE_MESSAGE"] = req.machine_message
        try:
            await self.ari.originate(
                req.endpoint, channel_id=channel, app_args=f"dialer,{req.attempt_id}", caller_id=req.caller_id,
                timeout=req.ring_seconds, variables=variables,
            )  # fmt: skip
        except AriError as exc:
            log.warning("campaign call refused", attempt_id=req.attempt_id, endpoint=req.endpoint, error=exc.message)
            self.dialing.pop(channel, None)
            if self.dialer:
                self.dialer.unanswered(req, AttemptOutcome.FAILED, 0.0, self._now())
            return False
        return True

    # --- events ------------------------------------------------------------------------------------------------

    def dial_ringing(self, channel_id: str) -> None:
        d = self.dialing.get(channel_id)
        if d is not None and d.answered_at is None and self.dialer:
            self.dialer.ringing(d.req, self._now())

    async def dial_answered(self, channel_id: str) -> None:
        """The far end picked up: detect a machine in the dialplan first, or route the person now."""
        d = self.dialing.get(channel_id)
        if d is None:
            await self._hangup(channel_id)  # a call from before a restart: its attempt was released
            return
        d.answered_at = self._now()
        if d.req.amd:
            try:
                await self.ari.continue_in_dialplan(channel_id, DIALER_CONTEXT, "amd")
                return
            except AriError as exc:
                log.warning("answering-machine detection unavailable", channel=channel_id, error=exc.message)
        await self._route_person(d, None)

    async def dial_detected(self, channel_id: str, status: str, cause: str) -> None:
        """Back from `AMD()`: hang up on machines (after the message, when one was left), route the rest."""
        d = self.dialing.get(channel_id)
        if d is None:
            await self._hangup(channel_id)
            return
        if status == "MACHINE":
            self.dialing.pop(channel_id, None)
            await self._hangup(channel_id)
            if self.dialer:
                self.dialer.machine(d.req, status, cause == "message_left", self._ring_s(d), self._now())
            return
        await self._route_person(d, status or "NOTSURE")

    async def dial_gone(self, channel_id: str, cause: int | None) -> bool:
        """A campaign call's channel ended before it was routed; True if it was one of ours."""
        d = self.dialing.pop(channel_id, None)
        if d is None:
            return False
        if d.call is not None:
            return False  # routed: the call's own path (gone) ends it
        if self.dialer:
            if d.answered_at is None:
                outcome = _CAUSES.get(cause or 0, AttemptOutcome.FAILED)
                self.dialer.unanswered(d.req, outcome, self._ring_s(d), self._now())
            else:  # hung up during detection: a person who did not wait (counted like an abandon)
                self.dialer.abandoned(d.req, 0.0, self._now())
        return True

    # --- a person on the line ------------------------------------------------------------------------------------

    async def _route_person(self, d: Dialing, amd: str | None) -> None:
        req, now = d.req, self._now()
        iid = await self.engine.interaction_ids.take()
        call = VoiceCall(iid, d.channel, req.queue_id, req.number, None, arrived_at=now)
        call.dialing = d
        d.call = call
        self.calls[iid] = call
        self.channels[call.caller] = call
        self.engine.item_channel[call.item] = "voice"
        number, channel, queue_id = req.number, d.channel, req.queue_id

        async def open_(session: Any) -> None:
            i = await interactions.open_interaction(session, now, channel="voice", direction="outbound",
                                                    media_ref=channel, caller_id=number, interaction_id=iid)  # fmt: skip
            await interactions.queued(session, i, now, queue_id)

        self.engine.journal.write(open_)
        self._link_contact(iid, now, number, None)
        if self.dialer:
            self.dialer.person(req, amd, self._ring_s(d), iid, now)
        await self.engine.refresh_queue(req.queue_id)
        self._publish(call, "interaction.queued", direction="outbound", campaign_id=req.campaign_id)
        target = str(req.agent_id) if req.agent_id is not None else None
        await self.engine.decide(lambda: self.engine.router.enqueue(WorkItem(
            call.item, str(req.queue_id), "voice", arrived_at=now, priority_bump=OUTBOUND_PRIORITY,
            target_agent=target, target_only=target is not None,
        )))  # fmt: skip
        if call.state == WAITING:
            task = asyncio.create_task(self._abandon_after_grace(call, req.grace_seconds))
            self._waits.add(task)
            task.add_done_callback(self._waits.discard)

    async def _abandon_after_grace(self, call: VoiceCall, grace: float) -> None:
        await asyncio.sleep(grace)
        async with self.engine.serial():
            if call.state == WAITING and call.interaction_id in self.calls:
                await self.abandon_outbound(call)

    async def abandon_outbound(self, call: VoiceCall) -> None:
        """No agent took the person in time: the campaign's message, then hang up; the attempt is abandoned."""
        d: Dialing = call.dialing
        call.dialing = None  # reported here, not again when the call is finished
        try:
            await self.engine.decide(lambda: self.engine.router.withdraw(call.item, "abandoned"))
        except ItemNotFound:
            pass
        wait_s = (self._now() - (d.answered_at or d.placed_at)).total_seconds()
        message = d.req.abandon_message
        if message:
            self._record(call, lambda s, i, at: interactions.event(s, i, at, "abandon_message", sound=message))
        await self._finish(call, Outcome.ABANDONED, dropped_by="dialer", wait_s=round(wait_s, 3))
        self.dialing.pop(d.channel, None)
        played = False
        if message:
            try:
                playback = await self.ari.play(d.channel, f"sound:{message}")
                self.playbacks[playback["id"]] = d.channel  # hung up when the message ends
                played = True
            except AriError as exc:
                log.warning("abandonment message not played", channel=d.channel, error=exc.message)
        if not played:
            await self._hangup(d.channel)
        if self.dialer:
            self.dialer.abandoned(d.req, wait_s, self._now())

    def outbound_connected(self, call: VoiceCall, agent_id: int, recording: str | None) -> None:
        d: Dialing | None = call.dialing
        if d is not None and self.dialer:
            wait_s = ((call.connected_at or self._now()) - (d.answered_at or d.placed_at)).total_seconds()
            self.dialer.connected(d.req, agent_id, wait_s, recording, self._now())

    def outbound_ended(self, call: VoiceCall) -> None:
        """The routed call ended: talk time to the pacer, or an abandon if the person left before an agent."""
        d: Dialing | None = call.dialing
        if d is None:
            return
        self.dialing.pop(d.channel, None)
        if self.dialer is None:
            return
        now = self._now()
        if call.connected_at is not None:
            self.dialer.finished(d.req, (now - call.connected_at).total_seconds(), now)
        else:
            self.dialer.abandoned(d.req, (now - (d.answered_at or d.placed_at)).total_seconds(), now)

    def drop_if_late(self, call: VoiceCall) -> None:
        """An agent missed a campaign call (it waits again): past the grace, nobody else may take it.

        Runs as its own step, since this is called while the engine applies the router's decisions."""
        if call.dialing is None or call.state != WAITING:
            return

        async def drop() -> None:
            async with self.engine.serial():
                d: Dialing | None = call.dialing
                if d is None or call.state != WAITING or call.interaction_id not in self.calls:
                    return
                if (self._now() - (d.answered_at or d.placed_at)).total_seconds() >= d.req.grace_seconds:
                    await self.abandon_outbound(call)

        task = asyncio.create_task(drop())
        self._waits.add(task)
        task.add_done_callback(self._waits.discard)

    def _ring_s(self, d: Dialing) -> float:
        return ((d.answered_at or self._now()) - d.placed_at).total_seconds()
