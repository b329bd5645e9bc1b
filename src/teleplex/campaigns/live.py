"""The live campaign dialer: every tick, pace the running campaigns together and dial their leads and callbacks.

The decisions are the pure pacers' (pacing.py, `pace_jointly` for agents shared by campaigns); this module
feeds them the engine's facts (the router's agents, the voice channel's calls in flight), takes the leads and
due callbacks from the database, has the voice channel place the calls (voice/outbound.py), and writes every
attempt's progress and outcome (retries per the campaign's rules) as the voice channel reports it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from teleplex.campaigns import dnc_service
from teleplex.campaigns.callback_service import due_now
from teleplex.campaigns.dispositions import outcome_of
from teleplex.campaigns.models import Attempt, Callback, Campaign, Lead
from teleplex.campaigns.pacing import (
    AgentActivity, AttemptOutcome, CampaignLoad, Pacer, PredictivePacer, PredictiveSettings, SharedAgent,
    make_pacer, pace_jointly,
)  # fmt: skip
from teleplex.campaigns.rules import DEFAULT_RULES, Outcome
from teleplex.campaigns.service import begin_attempt, next_leads, record_outcome, release_stale
from teleplex.campaigns.states import CampaignState, DialMode
from teleplex.center.models import Disposition
from teleplex.core.logging import get_logger
from teleplex.routing.model import VOICE, AgentSnapshot, Presence
from teleplex.voice.outbound import DialRequest

if TYPE_CHECKING:
    from teleplex.core.settings import Settings
    from teleplex.engine.engine import Engine
    from teleplex.voice.calls import VoiceChannel

log = get_logger("teleplex.campaigns")

CAMPAIGNS_TTL_S = 3.0  # how stale the running campaigns' settings may be
DIALING, DONE = "dialing", "done"  # callback states besides pending/cancelled


def activity_of(agent: AgentSnapshot) -> tuple[AgentActivity, float] | None:
    """What pacing sees of an agent: free for a call, talking, or wrapping up (and for how long); else None."""
    if agent.state is Presence.READY and not agent.load.get(VOICE):
        return AgentActivity.READY, 0.0
    if agent.state in (Presence.ON_CALL, Presence.RINGING):
        return AgentActivity.TALKING, agent.time_in_state_s
    if agent.state is Presence.WRAP_UP:
        return AgentActivity.WRAP_UP, agent.time_in_state_s
    return None


@dataclass
class Running:
    """A running campaign as the dialer holds it: settings read from the database, and its pacer."""

    campaign_id: int
    queue_id: int
    settings: dict[str, Any]
    pacer: Pacer
    mode_key: tuple[Any, ...]
    wrapping: dict[str, float] = field(default_factory=dict)  # agent -> seconds in wrap-up when last seen


class CampaignDialer:
    """Owns the pacers of the running campaigns; the voice channel reports its calls' progress here."""

    def __init__(self, engine: Engine, voice: VoiceChannel, settings: Settings) -> None:
        self.engine = engine
        self.voice = voice
        self.settings = settings
        self.running: dict[int, Running] = {}
        self.previews: dict[tuple[int, int], int] = {}  # (agent, campaign) -> the lead held for their preview
        self._read_at = -CAMPAIGNS_TTL_S
        self._released = False
        voice.dialer = self

    def _mono(self) -> float:
        return self.engine.clock.monotonic()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.dialer_tick_seconds)
            try:
                await self.tick()
            except Exception:  # a bad tick (database blip) must not stop dialing; the next one retries
                log.exception("dialer tick failed")

    async def tick(self) -> None:
        if not self.voice.link_up:
            return
        await self._refresh()
        if not self.running:
            return
        async with self.engine.serial():
            wants, ready = self._decide()
        for cid, count in wants.items():
            requests = await self._take(cid, count, ready)
            if requests:
                async with self.engine.serial():
                    for req in requests:
                        await self.voice.dial(req)
                        self._publish(req, "campaign.dialing", self.engine.clock.now())

    # --- campaigns ------------------------------------------------------------------------------------------

    async def _refresh(self) -> None:
        if self._mono() - self._read_at < CAMPAIGNS_TTL_S:
            return
        self._read_at = self._mono()
        now = self.engine.clock.now()
        async with self.engine.db.session() as session:
            if not self._released:  # leads left "dialing" by a previous process go back to pending
                for cid in (await session.execute(select(Campaign.id))).scalars():
                    await release_stale(session, cid, now, now)
                await session.commit()
                self._released = True
            rows = list((await session.execute(select(Campaign).where(
                Campaign.state == CampaignState.RUNNING.value, Campaign.queue_id.is_not(None),
            ))).scalars())  # fmt: skip
            for c in rows:
                key = (c.dial_mode, c.power_ratio, c.target_abandon_percent, c.amd_enabled)
                known = self.running.get(c.id)
                if known is None or known.mode_key != key:
                    pacer = self._pacer(c)
                    await self._seed(session, c.id, pacer, now)
                    known = self.running[c.id] = Running(c.id, c.queue_id or 0, {}, pacer, key)
                known.queue_id = c.queue_id or 0
                known.settings = {
                    "trunk": c.trunk or self.settings.outbound_endpoint, "caller_id": c.caller_id, "max_channels": c.max_channels,
                    "ring_seconds": c.ring_seconds, "amd": c.amd_enabled,
                    "machine_message": c.machine_message if c.machine_action == "leave_message" else None,
                    "abandon_message": c.abandon_message, "mode": c.dial_mode, "recording": c.recording,
                }  # fmt: skip
        for cid in set(self.running) - {c.id for c in rows}:
            del self.running[cid]

    def _pacer(self, c: Campaign) -> Pacer:
        mode = DialMode(c.dial_mode)
        fp = self.settings.dialer_amd_false_positive_rate if c.amd_enabled else 0.0
        settings = PredictiveSettings(abandon_target=c.target_abandon_percent / 100.0, amd_false_positive_rate=fp)
        return make_pacer(mode, power_ratio=c.power_ratio, settings=settings)

    async def _seed(self, session: Any, campaign_id: int, pacer: Pacer, now: datetime) -> None:
        """A predictive pacer starts from the last 30 days' live answers and abandons, so a restart does not
        reopen an abandonment allowance already spent."""
        if not isinstance(pacer, PredictivePacer):
            return
        rows = await session.execute(select(Attempt.answered_at, Attempt.outcome).where(
            Attempt.campaign_id == campaign_id, Attempt.answered_at >= now - timedelta(days=30),
            Attempt.outcome.in_([Outcome.ABANDONED.value, Outcome.ANSWERED.value]),
        ).order_by(Attempt.answered_at))  # fmt: skip
        mono = self._mono()
        for answered_at, outcome in rows.all():
            at = mono - (now - answered_at).total_seconds()
            pacer.ledger.record(at, live=1.0, abandoned=1.0 if outcome == Outcome.ABANDONED.value else 0.0)

    # --- deciding ---------------------------------------------------------------------------------------------

    def _decide(self) -> tuple[dict[int, int], set[int]]:
        """How many calls each campaign places now, and which agents are ready (for personal callbacks)."""
        now = self.engine.clock.now()
        agents: dict[str, tuple[AgentActivity, float, set[str]]] = {}
        loads: dict[str, CampaignLoad] = {}
        for cid, run in self.running.items():
            for member in self.engine.router.members(str(run.queue_id), now):
                seen = activity_of(member)
                if seen is not None:
                    agents.setdefault(member.agent_id, (*seen, set()))[2].add(str(cid))
                self._learn_wrapup(run, member, seen)
            ringing, waiting = self.voice.dials_in_flight(cid)
            free = run.settings["max_channels"] - self.voice.channels_in_use(cid)
            loads[str(cid)] = CampaignLoad(run.pacer, len(ringing), waiting, max(0, free))
        shared = [SharedAgent(a, s, frozenset(c)) for a, s, c in agents.values()]
        decided = pace_jointly(self._mono(), shared, loads, sum(load.free_channels for load in loads.values()))
        ready = {int(aid) for aid, (act, _, _) in agents.items() if act is AgentActivity.READY}
        return {int(cid): n for cid, n in decided.items()}, ready

    def _learn_wrapup(self, run: Running, agent: AgentSnapshot, seen: tuple[AgentActivity, float] | None) -> None:
        """Wrap-up lengths, learned by watching agents leave wrap-up between ticks (to within one tick)."""
        if seen is not None and seen[0] is AgentActivity.WRAP_UP:
            run.wrapping[agent.agent_id] = seen[1]
        elif agent.agent_id in run.wrapping:
            run.pacer.on_wrapup_ended(self._mono(), run.wrapping.pop(agent.agent_id))

    # --- taking work from the database ----------------------------------------------------------------------

    async def _take(self, campaign_id: int, count: int, ready: set[int]) -> list[DialRequest]:
        """Due callbacks first (personal ones only while their agent is ready), then leads; marked as dialing."""
        run = self.running.get(campaign_id)
        if run is None:
            return []
        now = self.engine.clock.now()
        out: list[DialRequest] = []
        async with self.engine.db.session() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None or campaign.state != CampaignState.RUNNING.value:
                return []
            mine = select(Callback).where(or_(Callback.campaign_id == campaign_id, (
                Callback.campaign_id.is_(None) & (Callback.queue_id == campaign.queue_id))))  # fmt: skip
            for cb, due in await due_now(session, mine, now):
                personal = due.agent_id is not None
                if personal and due.agent_id not in ready:
                    continue
                if not personal and count <= 0:
                    continue
                if await dnc_service.is_blocked(session, cb.number, campaign_id):
                    continue
                attempt = Attempt(campaign_id=campaign_id, lead_id=cb.lead_id, callback_id=cb.id, number=cb.number,
                                  dialed_at=now)  # fmt: skip
                session.add(attempt)
                cb.status, cb.updated_at = DIALING, now
                await session.flush()
                out.append(self._request(run, attempt, due.agent_id))
                if personal:
                    ready.discard(due.agent_id or 0)
                else:
                    count -= 1
            if count > 0 and DialMode(campaign.dial_mode) is not DialMode.PREVIEW:
                for lead in await next_leads(session, campaign, now, count):
                    attempt = await begin_attempt(session, lead, now)
                    out.append(self._request(run, attempt, None))
            await session.commit()
        return out

    def _request(self, run: Running, attempt: Attempt, agent_id: int | None) -> DialRequest:
        s = run.settings
        return DialRequest(
            attempt_id=attempt.id, campaign_id=run.campaign_id, queue_id=run.queue_id, number=attempt.number,
            endpoint=s["trunk"].replace("{number}", attempt.number), ring_seconds=s["ring_seconds"],
            caller_id=s["caller_id"], amd=s["amd"], machine_message=s["machine_message"],
            abandon_message=s["abandon_message"], agent_id=agent_id, recording=s["recording"],
        )  # fmt: skip

    async def dial_now(self, campaign_id: int, attempt: Attempt, agent_id: int) -> None:
        """Place one call for one agent now (preview and manual dialing)."""
        if campaign_id not in self.running:
            await self._refresh_now()
        run = self.running.get(campaign_id)
        if run is None:  # stopped between the caller's check and now: the attempt ends as failed
            self.unanswered(DialRequest(attempt.id, campaign_id, 0, attempt.number, "", 0), Outcome.FAILED, 0.0,
                            self.engine.clock.now())  # fmt: skip
            return
        async with self.engine.serial():
            req = self._request(run, attempt, agent_id)
            await self.voice.dial(req)
            self._publish(req, "campaign.dialing", self.engine.clock.now())

    # --- leads held for preview ---------------------------------------------------------------------------------

    def previews_of(self, agent_id: int, campaign_id: int) -> int | None:
        return self.previews.get((agent_id, campaign_id))

    def hold_preview(self, agent_id: int, campaign_id: int, lead_id: int) -> None:
        self.previews[(agent_id, campaign_id)] = lead_id

    def release_preview(self, agent_id: int, campaign_id: int) -> None:
        self.previews.pop((agent_id, campaign_id), None)

    async def _refresh_now(self) -> None:
        self._read_at = -CAMPAIGNS_TTL_S
        await self._refresh()

    # --- what the voice channel reports (DialerFeedback) ---------------------------------------------------------

    def ringing(self, req: DialRequest, at: datetime) -> None:
        self._attempt(req, at, lambda a: setattr(a, "ringing_at", a.ringing_at or at))

    def unanswered(self, req: DialRequest, outcome: Outcome, ring_s: float, at: datetime) -> None:
        self._pace(req, lambda p: p.on_attempt_ended(self._mono(), AttemptOutcome.NO_ANSWER, ring_s))
        self._close(req, outcome, at)

    def machine(self, req: DialRequest, amd: str, message_left: bool, ring_s: float, at: datetime) -> None:
        self._pace(req, lambda p: p.on_attempt_ended(self._mono(), AttemptOutcome.MACHINE_HANGUP, ring_s))

        def note(a: Attempt) -> None:
            a.answered_at, a.amd_result = a.answered_at or at, "MACHINE_MESSAGE_LEFT" if message_left else amd

        self._attempt(req, at, note)
        self._close(req, Outcome.MACHINE, at)

    def person(self, req: DialRequest, amd: str | None, ring_s: float, interaction_id: int, at: datetime) -> None:
        self._pace(req, lambda p: p.on_attempt_ended(self._mono(), AttemptOutcome.ANSWERED, ring_s))

        def note(a: Attempt) -> None:
            a.answered_at, a.amd_result, a.interaction_id = at, amd, interaction_id

        self._attempt(req, at, note)

    def connected(self, req: DialRequest, agent_id: int, wait_s: float, recording: str | None, at: datetime) -> None:
        self._pace(req, lambda p: p.on_connected(self._mono(), wait_s, False))

        def note(a: Attempt) -> None:
            a.agent_id, a.recording_path = agent_id, recording

        self._attempt(req, at, note)
        self._publish(req, "campaign.connected", at, agent_id=agent_id, wait_s=round(wait_s, 3))

    def abandoned(self, req: DialRequest, wait_s: float, at: datetime) -> None:
        self._pace(req, lambda p: p.on_abandoned(self._mono()))
        self._close(req, Outcome.ABANDONED, at)

    def finished(self, req: DialRequest, talk_s: float, at: datetime) -> None:
        self._pace(req, lambda p: p.on_handling_ended(self._mono(), talk_s))
        self._close(req, Outcome.ANSWERED, at)

    def _pace(self, req: DialRequest, fact: Any) -> None:
        run = self.running.get(req.campaign_id)
        if run is not None:
            fact(run.pacer)

    def _attempt(self, req: DialRequest, at: datetime, change: Any) -> None:
        async def store(session: Any) -> None:
            attempt = await session.get(Attempt, req.attempt_id)
            if attempt is not None:
                change(attempt)

        self.engine.journal.write(store)

    def _close(self, req: DialRequest, outcome: Outcome, at: datetime) -> None:
        """The attempt's outcome, and the lead's or callback's next step by the campaign's retry rules."""

        async def store(session: Any) -> None:
            attempt = await session.get(Attempt, req.attempt_id)
            if attempt is None or attempt.outcome is not None:
                return  # written already (a duplicate report changes nothing)
            campaign = await session.get(Campaign, req.campaign_id)
            lead = await session.get(Lead, attempt.lead_id) if attempt.lead_id else None
            final = outcome
            if attempt.disposition_id is not None:  # set by the agent during the call
                final = outcome_of(await session.get(Disposition, attempt.disposition_id), outcome)
            if lead is not None and campaign is not None:
                await record_outcome(session, campaign, lead, final, at, attempt=attempt)
            else:
                attempt.outcome, attempt.ended_at = final.value, at
            if attempt.callback_id is not None and campaign is not None:
                await _callback_after(session, campaign, attempt, outcome, at)

        self.engine.journal.write(store)
        self._publish(req, "campaign.attempt", at, outcome=outcome.value)

    def _publish(self, req: DialRequest, kind: str, at: datetime, **data: Any) -> None:
        self.engine.publish(kind, at, {"campaign_id": req.campaign_id, "attempt_id": req.attempt_id,
                                       "number": req.number, **data}, queue_id=req.queue_id)  # fmt: skip

    def live(self, campaign_id: int) -> dict[str, Any] | None:
        """The dialer's own view of a campaign now, for its progress page."""
        run = self.running.get(campaign_id)
        if run is None:
            return None
        ringing, waiting = self.voice.dials_in_flight(campaign_id)
        out: dict[str, Any] = {"calls_ringing": len(ringing), "answered_waiting": waiting,
                               "channels_in_use": self.voice.channels_in_use(campaign_id)}  # fmt: skip
        if isinstance(run.pacer, PredictivePacer):
            now = self._mono()
            out |= {"abandon_rate_24h": round(run.pacer.ledger.rate_24h(now), 5),
                    "abandon_rate_30d": round(run.pacer.ledger.rate_30d(now), 5),
                    "risk_limit": round(run.pacer.risk_limit(now), 5)}  # fmt: skip
        return out


async def _callback_after(session: Any, campaign: Campaign, attempt: Attempt, outcome: Outcome, at: datetime) -> None:
    """A callback reached a person: done. Otherwise it is due again after the outcome's retry delay, until the
    campaign's maximum attempts."""
    cb = await session.get(Callback, attempt.callback_id)
    if cb is None or cb.status != DIALING:
        return
    cb.updated_at = at
    tries = len((await session.execute(select(Attempt.id).where(Attempt.callback_id == cb.id))).all())
    if outcome is Outcome.ANSWERED or tries >= campaign.max_attempts:
        cb.status = DONE
        return
    rule = (campaign.retry_rules or DEFAULT_RULES).get(outcome.value) or DEFAULT_RULES.get(outcome.value) or {}
    cb.status, cb.due_at = "pending", at + timedelta(minutes=rule.get("delay_minutes", 15))
