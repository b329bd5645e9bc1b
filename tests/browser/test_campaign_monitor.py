"""The supervisor's campaign monitor: only the campaigns of their queues; Start and Pause move the campaign
(and a refused start says why); attempts recorded meanwhile appear by outcome without a reload and without a
poll (the figures come with the `campaign.progress` event), and an abandonment rate above the campaign's target
is flagged; when the event socket drops the banner says so, and what happened meanwhile is on screen once it
heals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_user, ok, sign_in, watch_errors  # noqa: F401
from sqlalchemy import select

from teleplex.campaigns.models import Attempt, Campaign, Lead
from teleplex.campaigns.rules import Outcome
from teleplex.campaigns.service import begin_attempt, record_outcome

pytestmark = pytest.mark.browser

ALL_DAY = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]
CSV = "phone\n+34911234511\n+34911234512\n+34911234513\n+34911234514\n"


def campaign_with_leads(center: LiveCenter, queue_id: int, name: str, csv: str | None) -> dict[str, Any]:
    client = admin(center)
    campaign = ok(client.post("/api/v1/campaigns", json={
        "name": name, "queue_id": queue_id, "dial_mode": "progressive", "trunk": "PJSIP/{number}@carrier",
        "calling_windows": ALL_DAY, "allow_outside_legal_hours": True, "target_abandon_percent": 3.0}))
    if csv is not None:
        lst = ok(client.post(f"/api/v1/campaigns/{campaign['id']}/lists", json={"name": "spring"}))
        ok(client.post(f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone"},
                       content=csv.encode(), headers={"content-type": "text/csv"}))
    return campaign


async def record_attempts(center: LiveCenter, campaign_id: int, outcomes: list[Outcome]) -> None:
    """The dialer's records of finished calls, one lead each, through the campaigns service."""
    now = center.app.state.clock.now()
    async with center.db.session() as session:
        campaign = await session.get(Campaign, campaign_id)
        pending = select(Lead).where(Lead.campaign_id == campaign_id, Lead.status == "pending")
        leads = list((await session.execute(pending.order_by(Lead.id))).scalars())
        for lead, outcome in zip(leads, outcomes, strict=False):
            attempt = await begin_attempt(session, lead, now - timedelta(minutes=5))
            if outcome in (Outcome.ANSWERED, Outcome.ABANDONED):
                attempt.answered_at = now - timedelta(minutes=4)
            await record_outcome(session, campaign, lead, outcome, now, attempt=attempt)
        await session.commit()
        attempts = [(a.id, a.outcome) for a in (await session.execute(
            select(Attempt).where(Attempt.campaign_id == campaign_id))).scalars()]  # fmt: skip
    for attempt_id, outcome in attempts:  # and what the dialer says on the event stream as each call ends
        center.app.state.engine.publish("campaign.attempt", now, {"campaign_id": campaign_id, "attempt_id": attempt_id,
                                        "outcome": outcome}, queue_id=campaign.queue_id)  # fmt: skip


def test_supervisor_starts_and_pauses_a_campaign_and_watches_its_attempts(live_center: LiveCenter,
                                                                          chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Sales", "channels": ["voice"]}))
    other = ok(client.post("/api/v1/queues", json={"name": "Not mine", "channels": ["voice"]}))
    spring = campaign_with_leads(live_center, queue["id"], "Spring offer", CSV)
    empty = campaign_with_leads(live_center, queue["id"], "Empty one", None)
    hidden = campaign_with_leads(live_center, other["id"], "Someone else's", CSV)
    make_user(live_center, "sara", ["supervisor"], supervised_queue_ids=[queue["id"]])

    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 720})
    context.add_init_script("window.tpxMonitorResyncMs = 3600000")  # the safety resync stays out of the way
    page = context.new_page()
    errors = watch_errors(page)
    blocked = {"on": False}
    sockets: list[Any] = []

    def events_route(ws: Any) -> None:
        """The browser's event socket passes through, unless the test has cut the network."""
        if blocked["on"]:
            ws.close()
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket("**/api/v1/events*", events_route)
    sign_in(page, live_center, "sara")
    page.get_by_role("link", name="Campaigns").click()
    expect(page).to_have_url(live_center.url + "/campaigns")
    card = page.locator(f"article.campaign[data-campaign-id='{spring['id']}']")
    expect(card.locator("h2")).to_have_text("Spring offer")
    expect(page.locator(f"article.campaign[data-campaign-id='{hidden['id']}']")).to_have_count(0)
    expect(card.locator(".badge")).to_have_text("draft")
    expect(card.locator("[data-figure=leads] .value")).to_have_text("4")
    expect(card.locator("[data-figure=remaining] .value")).to_have_text("4")
    expect(card.locator(".outcomes")).to_have_text("No attempts yet.")
    expect(card.get_by_role("button", name="Pause")).to_be_disabled()

    empty_card = page.locator(f"article.campaign[data-campaign-id='{empty['id']}']")
    empty_card.get_by_role("button", name="Start").click()  # nothing to dial: refused, and the card says why
    expect(empty_card.locator("[role=alert]")).to_contain_text("cannot start: nothing to dial")
    expect(empty_card.locator(".badge")).to_have_text("draft")

    card.get_by_role("button", name="Start").click()
    expect(card.locator(".badge")).to_have_text("running")
    expect(card.get_by_role("button", name="Start")).to_be_disabled()
    assert ok(client.get(f"/api/v1/campaigns/{spring['id']}"))["state"] == "running"

    expect(card.locator("[data-figure=remaining] .value")).to_have_text("4")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/progress" in r.url else None)
    outcomes = [Outcome.BUSY, Outcome.ANSWERED, Outcome.ABANDONED]
    live_center.call(record_attempts(live_center, spring["id"], outcomes))
    expect(card.locator("[data-figure=attempts] .value")).to_have_text("3")  # no reload, no poll: the event
    for outcome, label in (("busy", "busy"), ("answered", "answered"), ("abandoned", "abandoned")):
        expect(card.locator(f".outcomes li[data-outcome={outcome}]")).to_have_text(f"{label} 1")
    by_status = ok(client.get(f"/api/v1/campaigns/{spring['id']}/progress"))["by_status"]
    done = by_status.get("done", 0) + by_status.get("exhausted", 0)
    assert done >= 1  # the abandoned lead is closed (no redial after an abandon)
    expect(card.locator("[data-figure=done] .value")).to_have_text(str(done))
    expect(card.locator("[data-figure=remaining] .value")).to_have_text(str(4 - done))
    abandon = card.locator("[data-figure=abandon_24h]")
    expect(abandon.locator(".value")).to_have_text("50 %")  # 1 abandoned of 2 people who answered
    expect(abandon).to_have_class("figure alert")
    expect(abandon).to_contain_text("target 3 % · above target")
    expect(card.locator("[data-figure=abandon_30d]")).to_have_class("figure alert")
    assert polls == []  # every figure above came with the campaign.progress events

    blocked["on"] = True
    sockets[-1].close()  # the network drops the live connection
    banner = page.locator("#tpx-banner")
    expect(banner).to_contain_text("Connection lost")
    live_center.call(record_attempts(live_center, spring["id"], [Outcome.NO_ANSWER]))  # while offline
    expect(banner).to_be_visible()
    expect(card.locator("[data-figure=attempts] .value")).to_have_text("3")
    blocked["on"] = False  # the network comes back: the socket reconnects and the figures catch up
    expect(banner).to_be_hidden()
    expect(card.locator("[data-figure=attempts] .value")).to_have_text("4")

    card.get_by_role("button", name="Pause").click()
    expect(card.locator(".badge")).to_have_text("paused")
    expect(card.get_by_role("button", name="Start")).to_be_enabled()
    assert ok(client.get(f"/api/v1/campaigns/{spring['id']}"))["state"] == "paused"
    assert errors == []
    context.close()
