"""The agent's disposition on a campaign call decides its lead's next step, counting the attempt once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from teleplex.campaigns import service
from teleplex.campaigns.models import Attempt, Campaign, CampaignList, DncEntry, Lead
from teleplex.campaigns.rules import Outcome
from teleplex.interactions import service as interactions


async def answered_call(api, db, clock) -> tuple[int, int]:
    """A campaign lead whose call was answered and ended: (interaction id, lead id)."""
    queue = await api.create("queues", {"name": "outbound"})
    c = await api.create("campaigns", {"name": "autumn", "queue_id": queue["id"]})
    now = clock.now()
    async with db.session() as session:
        lst = CampaignList(campaign_id=c["id"], name="l", active=True, created_at=now, updated_at=now)
        session.add(lst)
        await session.flush()
        lead = Lead(list_id=lst.id, campaign_id=c["id"], phone="+34911234501", alt_phones=[], timezones="UTC",
                    attributes={}, status="pending", attempts=0, outcome_counts={}, created_at=now, updated_at=now)  # fmt: skip
        session.add(lead)
        await session.flush()
        attempt = await service.begin_attempt(session, lead, now)
        call = await interactions.open_interaction(session, now, channel="voice", direction="outbound")
        attempt.interaction_id, attempt.answered_at = call.id, now
        await service.record_outcome(session, await session.get(Campaign, c["id"]), lead, Outcome.ANSWERED, now,
                                     attempt=attempt)  # fmt: skip
        await session.commit()
        return call.id, lead.id


async def read(db, lead_id: int) -> tuple[Lead, Attempt]:
    async with db.session() as session:
        lead = await session.get(Lead, lead_id)
        attempt = (await session.execute(select(Attempt).where(Attempt.lead_id == lead_id))).scalar_one()
        return lead, attempt


async def test_a_callback_disposition_reopens_the_lead_for_a_later_call(api, clean_database, clock):
    call_id, lead_id = await answered_call(api, clean_database, clock)
    lead, _ = await read(clean_database, lead_id)
    assert lead.status == "done"  # answered closes the lead ...
    later = await api.create("dispositions", {"code": "CB", "label": "Call back", "category": "callback"})
    r = await api.client.patch(f"/api/v1/interactions/{call_id}", json={"disposition_id": later["id"]},
                               headers=api.admin)  # fmt: skip
    assert r.status_code == 200, r.text
    lead, attempt = await read(clean_database, lead_id)
    assert lead.status == "pending" and lead.attempts == 1  # ... until the agent says "call back"
    assert lead.next_attempt_at == clock.now() + timedelta(minutes=60)  # the default callback rule
    assert attempt.outcome == "callback" and attempt.disposition_id == later["id"]
    assert lead.outcome_counts == {"callback": 1}


@pytest.mark.parametrize(("category", "outcome", "status"), [
    ("success", "success", "done"), ("not_interested", "not_interested", "done"),
    ("do_not_call", "do_not_call", "done"), ("other", "answered", "done"),
])  # fmt: skip
async def test_each_category_gives_its_outcome(api, clean_database, clock, category, outcome, status):
    call_id, lead_id = await answered_call(api, clean_database, clock)
    d = await api.create("dispositions", {"code": category.upper(), "label": category, "category": category})
    r = await api.client.patch(f"/api/v1/interactions/{call_id}", json={"disposition_id": d["id"]}, headers=api.admin)
    assert r.status_code == 200, r.text
    lead, attempt = await read(clean_database, lead_id)
    assert (attempt.outcome, lead.status, lead.attempts) == (outcome, status, 1)
    async with clean_database.session() as session:
        listed = (await session.execute(select(DncEntry.number))).scalars().all()
    assert listed == (["+34911234501"] if category == "do_not_call" else [])
