"""`campaign.progress` on the event stream: after a campaign fact (started or paused through the API, a dial or
an attempt's end reported by the dialer) the campaign's figures are published, the same body as
GET /campaigns/{id}/progress, read after the fact is stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_client import Api

from teleplex.app import create_app
from teleplex.campaigns.models import Attempt
from teleplex.core.events import Event

ALL_DAY = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]


@pytest.fixture
async def center(settings, clock, clean_database) -> AsyncIterator[tuple[Api, Any]]:
    app = create_app(settings, clock=clock, db=clean_database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://teleplex.test") as client:
            api = Api(client)
            await api.bootstrap_admin(clean_database, clock)
            yield api, app


async def next_progress(sub: Any) -> Event:
    """The next campaign.progress event (a hang guard, not a timing assertion)."""
    async with asyncio.timeout(10):
        while True:
            event = await sub.queue.get()
            if event.type == "campaign.progress":
                return event


async def campaign_with_a_lead(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    queue = await api.create("queues", {"name": "outbound"})
    campaign = await api.create("campaigns", {"name": "spring", "queue_id": queue["id"], "calling_windows": ALL_DAY,
                                              "allow_outside_legal_hours": True, "trunk": "PJSIP/{number}@carrier"})
    lst = await api.create(f"campaigns/{campaign['id']}/lists", {"name": "april"})
    r = await api.client.post(f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone"},
                              content=b"phone\n+34911234511\n", headers={**api.admin, "content-type": "text/csv"})
    assert r.status_code == 200, r.text
    return queue, campaign


async def test_starting_and_pausing_publish_the_campaigns_progress(center):
    api, app = center
    queue, campaign = await campaign_with_a_lead(api)
    sub = app.state.bus.subscribe()
    assert (await api.post(f"campaigns/{campaign['id']}/start", None)).status_code == 200
    event = await next_progress(sub)
    assert event.queue_id == queue["id"]
    assert event.data == (await api.get(f"campaigns/{campaign['id']}/progress")).json() | {"at": event.data["at"]}
    assert (event.data["state"], event.data["leads_total"], event.data["attempts"]) == ("running", 1, 0)
    await api.post(f"campaigns/{campaign['id']}/pause", None)
    assert (await next_progress(sub)).data["state"] == "paused"


async def test_an_attempt_the_dialer_reports_is_counted_in_the_published_figures(center, clean_database, clock):
    api, app = center
    _, campaign = await campaign_with_a_lead(api)
    sub = app.state.bus.subscribe()
    async with clean_database.session() as session:
        attempt = Attempt(campaign_id=campaign["id"], number="+34911234511", dialed_at=clock.now(), outcome="busy",
                          ended_at=clock.now())  # fmt: skip
        session.add(attempt)
        await session.commit()
        attempt_id = attempt.id
    app.state.engine.publish("campaign.attempt", clock.now(), {"campaign_id": campaign["id"], "attempt_id": attempt_id,
                             "outcome": "busy"}, queue_id=campaign["queue_id"])  # fmt: skip
    event = await next_progress(sub)
    assert (event.data["attempts"], event.data["attempts_by_outcome"]) == (1, {"busy": 1})
