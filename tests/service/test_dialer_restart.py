"""A restarted dialer remembers the day's abandonment, and picks up leads a stopped one left dialing."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from teleplex.campaigns.live import CampaignDialer
from teleplex.campaigns.models import Attempt, Campaign, CampaignList, Lead
from teleplex.campaigns.pacing import AttemptOutcome, CampaignView, PredictivePacer
from teleplex.core.settings import Settings

ALL_DAY = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]


class QuietVoice:
    """The voice channel as the dialer sees it, with no call in flight."""

    dialer = None
    link_up = True

    def dials_in_flight(self, campaign_id: int) -> tuple[list[float], int]:
        return [], 0

    def channels_in_use(self, campaign_id: int) -> int:
        return 0


async def running_campaign(api, clean_database, clock, **extra) -> int:
    queue = await api.create("queues", {"name": "outbound"})
    c = await api.create("campaigns", {"name": "spring", "queue_id": queue["id"], "trunk": "PJSIP/{number}@carrier",
                                       "calling_windows": ALL_DAY, "allow_outside_legal_hours": True,
                                       "abandon_message": "sorry", **extra})  # fmt: skip
    async with clean_database.session() as session:
        campaign = await session.get(Campaign, c["id"])
        campaign.state = "running"
        await session.commit()
    return c["id"]


def dialer_on(clean_database, clock) -> CampaignDialer:
    engine = SimpleNamespace(clock=clock, db=clean_database)
    return CampaignDialer(engine, QuietVoice(), Settings(database_url=clean_database.url))  # type: ignore[arg-type]


async def test_a_restarted_predictive_dialer_does_not_reopen_a_spent_abandonment_allowance(api, clean_database, clock):
    cid = await running_campaign(api, clean_database, clock, dial_mode="predictive", amd_enabled=False)
    now = clock.now()
    async with clean_database.session() as session:
        lst = CampaignList(campaign_id=cid, name="old", active=True, created_at=now, updated_at=now)
        session.add(lst)
        await session.flush()
        lead = Lead(list_id=lst.id, campaign_id=cid, phone="+34911234501", alt_phones=[], timezones="Europe/Madrid",
                    attributes={}, status="done", attempts=0, outcome_counts={}, created_at=now, updated_at=now)  # fmt: skip
        session.add(lead)
        await session.flush()
        for n in range(300):  # the last 20 hours: 300 people answered, 9 of them dropped (3 %)
            at = now - timedelta(hours=20) + timedelta(minutes=4 * n)
            session.add(Attempt(campaign_id=cid, lead_id=lead.id, number=lead.phone, dialed_at=at, answered_at=at,
                                ended_at=at, outcome="abandoned" if n % 33 == 5 else "answered"))  # fmt: skip
        await session.commit()

    dialer = dialer_on(clean_database, clock)
    await dialer._refresh()
    restarted = dialer.running[cid].pacer
    fresh = PredictivePacer(restarted.settings)  # what a dialer without memory would have
    assert isinstance(restarted, PredictivePacer)
    assert dialer.live(cid)["abandon_rate_24h"] == 0.03
    t = clock.monotonic()
    for pacer in (restarted, fresh):  # the same new facts after the restart: a fair sample, 40 people served
        for n in range(300):
            pacer.on_attempt_ended(t, AttemptOutcome.ANSWERED if n % 3 == 0 else AttemptOutcome.NO_ANSWER, 8.0)
        for _ in range(40):
            pacer.on_connected(t, 0.0, False)
    view = CampaignView(ready_agents=20, free_channels=60)
    assert fresh.risk_limit(t) > 0 and fresh.decide(t, view) > 20  # would dial ahead on a clean slate
    assert restarted.risk_limit(t) == 0.0  # the day's 3 % is spent: nothing may be risked
    assert restarted.decide(t, view) == 20  # one call per ready agent, none ahead


async def test_leads_left_dialing_by_a_stopped_process_go_back_to_pending_on_start(api, clean_database, clock):
    cid = await running_campaign(api, clean_database, clock, dial_mode="progressive")
    now = clock.now()
    async with clean_database.session() as session:
        lst = CampaignList(campaign_id=cid, name="today", active=True, created_at=now, updated_at=now)
        session.add(lst)
        await session.flush()
        session.add(Lead(list_id=lst.id, campaign_id=cid, phone="+34911234509", alt_phones=[], timezones="UTC",
                         attributes={}, status="dialing", attempts=0, outcome_counts={}, created_at=now,
                         updated_at=now, last_attempt_at=now - timedelta(seconds=5)))  # fmt: skip
        await session.commit()
    await dialer_on(clean_database, clock)._refresh()
    async with clean_database.session() as session:
        left = (await session.execute(select(Lead))).scalar_one()
    assert left.status == "pending" and left.attempts == 0  # not counted as an attempt
