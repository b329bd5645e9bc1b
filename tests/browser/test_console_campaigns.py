"""The agent console's campaign panel: without voice, "Next lead" says why nothing can be dialed; with the
dialer on (its voice channel recording the calls it is asked to place instead of reaching Asterisk), an agent
previews a lead with its details, history and script, skips it with a reason, previews the next and dials it;
a second dial while the first is in flight is refused with the API's reason; and callbacks scheduled from the
panel, in the agent's own time zone, are in the callbacks API."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import (  # noqa: F401 - live_center is a fixture
    LiveCenter, admin, live_center, make_agent, ok, sign_in, wait_for, watch_errors,
)

from teleplex.campaigns.live import CampaignDialer

pytestmark = pytest.mark.browser

ALL_DAY = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]
CSV = "phone,first_name,last_name,plan\n+34911234501,Ana,García,gold\n+34911234502,Bruno,Díaz,silver\n"


class RecordingVoice:
    """The voice channel as the dialer sees it, without Asterisk: it keeps the calls it is asked to place."""

    dialer = None
    link_up = True

    def __init__(self) -> None:
        self.placed: list[Any] = []

    def dials_in_flight(self, campaign_id: int) -> tuple[list[float], int]:
        return [], 0

    def channels_in_use(self, campaign_id: int) -> int:
        return 0

    def dialing_for(self, agent_id: int) -> bool:
        return any(r.agent_id == agent_id for r in self.placed)

    async def dial(self, request: Any) -> None:
        self.placed.append(request)


def preview_campaign(center: LiveCenter, queue_id: int, name: str) -> dict[str, Any]:
    """A running preview campaign on the queue with a list of two leads (Ana, then Bruno)."""
    client = admin(center)
    campaign = ok(client.post("/api/v1/campaigns", json={
        "name": name, "queue_id": queue_id, "dial_mode": "preview", "trunk": "PJSIP/{number}@carrier",
        "calling_windows": ALL_DAY, "allow_outside_legal_hours": True,
        "script": "Good morning {first_name}, about your {plan} plan"}))
    lst = ok(client.post(f"/api/v1/campaigns/{campaign['id']}/lists", json={"name": "today"}))
    ok(client.post(f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone",
                   "first_name_column": "first_name", "last_name_column": "last_name"},
                   content=CSV.encode(), headers={"content-type": "text/csv"}))
    ok(client.post(f"/api/v1/campaigns/{campaign['id']}/start"))
    return campaign


def test_an_agent_previews_skips_dials_and_schedules_a_callback(live_center: LiveCenter,
                                                                 chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Outbound", "channels": ["voice"]}))
    other = ok(client.post("/api/v1/queues", json={"name": "Elsewhere", "channels": ["voice"]}))
    campaign = preview_campaign(live_center, queue["id"], "Renewals")
    preview_campaign(live_center, other["id"], "Not mine")
    agent = make_agent(live_center, "irene", [queue["id"]], display_name="Irene", number="2301")
    ok(client.patch(f"/api/v1/users/{agent['user_id']}", json={"timezone": "America/Mexico_City"}))

    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "irene")
    page.locator("#device-input").fill("PJSIP/2301")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_text("Ready")
    panel = page.locator("#campaigns")
    item = panel.locator(f"li[data-campaign-id='{campaign['id']}']")
    expect(item).to_contain_text("Renewals")
    expect(panel).not_to_contain_text("Not mine")  # another queue's campaign

    item.get_by_role("button", name="Next lead").click()  # this center has no voice: the API says so
    expect(page.locator("#lead-card [role=alert]")).to_contain_text("voice is off on this node")

    voice = RecordingVoice()

    async def dialer_on() -> None:
        state = live_center.app.state
        state.dialer = CampaignDialer(state.engine, voice, live_center.settings)  # type: ignore[arg-type]

    live_center.call(dialer_on())
    try:
        item.get_by_role("button", name="Next lead").click()
        card = page.locator("#lead-card article.lead")
        expect(card.locator("h3")).to_have_text("Ana García")
        expect(card.locator(".lead-phone")).to_have_text("+34911234501")
        expect(card.locator("dl.attributes")).to_contain_text("gold")
        expect(card).to_contain_text("Never called before.")
        expect(card.locator(".script")).to_have_text("Good morning Ana, about your gold plan")
        expect(card.get_by_role("button", name="Dial")).to_be_focused()

        card.get_by_role("button", name="Skip").click()
        page.get_by_role("button", name="Skip this lead").click()  # no reason yet
        expect(page.locator("#skip-error")).to_have_text("Give a reason.")
        page.get_by_label("Reason for skipping").fill("asked not to be called before noon")
        page.get_by_role("button", name="Skip this lead").click()
        expect(page.locator("#dial-status")).to_have_text("Lead skipped.")
        skip = ok(client.get("/api/v1/audit-log", params={"entity_type": "lead", "limit": 1}))["items"][0]
        assert skip["action"] == "skip" and skip["after"]["reason"] == "asked not to be called before noon"

        item.get_by_role("button", name="Next lead").click()
        expect(card.locator("h3")).to_have_text("Bruno Díaz")
        card.get_by_role("button", name="Dial").click()
        expect(page.locator("#dial-status")).to_have_text(
            "Dialing +34911234502… the call comes to you when answered.")
        expect(page.locator("#lead-card article.lead")).to_have_count(0)
        placed = wait_for("the call to be placed", lambda: voice.placed)
        assert [(r.number, r.agent_id, r.campaign_id) for r in placed] == [
            ("+34911234502", agent["id"], campaign["id"])]
        attempts = ok(client.get(f"/api/v1/campaigns/{campaign['id']}/attempts"))["items"]
        assert [(a["number"], a["agent_id"]) for a in attempts] == [("+34911234502", agent["id"])]

        page.locator("#manual-number").fill("+34911234599")  # a second call while the first is in flight
        page.locator("#manual-dial-button").click()
        expect(page.locator("#dial-status [role=alert]")).to_contain_text("already dialing a number")
    finally:
        live_center.app.state.dialer = None

    page.get_by_role("button", name="Schedule callback").click()
    expect(page.locator("#cb-number")).to_have_value("+34911234502")  # the last lead: no interaction is open
    expect(page.locator("#cb-name")).to_have_value("Bruno Díaz")
    expect(page.locator(".callback-form")).to_contain_text("Times in America/Mexico_City")
    page.locator("#cb-due_at").fill("2030-05-02T10:00")
    page.locator("#cb-due_until").fill("2030-05-02T09:00")  # before the start: the API refuses
    page.get_by_role("button", name="Save callback").click()
    expect(page.locator(".callback-form [role=alert]")).to_contain_text("due_until must be later than due_at")
    page.locator("#cb-due_until").fill("2030-05-02T12:30")
    page.locator("#cb-note").fill("wants the new prices")
    page.get_by_role("button", name="Save callback").click()
    expect(page.locator("#dial-status")).to_have_text("Callback scheduled.")
    expect(page.locator(".callback-form")).to_have_count(0)
    callbacks = ok(client.get("/api/v1/callbacks", params={"campaign_id": campaign["id"]}))["items"]
    assert len(callbacks) == 1
    cb = callbacks[0]
    assert (cb["number"], cb["name"], cb["agent_id"], cb["personal"], cb["note"]) == (
        "+34911234502", "Bruno Díaz", agent["id"], True, "wants the new prices")
    # 10:00 and 12:30 in Mexico City (UTC-6 all year) are 16:00 and 18:30 UTC
    assert cb["due_at"].startswith("2030-05-02T16:00:00")
    assert cb["due_until"].startswith("2030-05-02T18:30:00")
    assert cb["lead_id"] is not None and cb["source"] == "agent"

    page.get_by_role("button", name="Schedule callback").click()  # a team callback for the queue
    page.locator("#cb-number").fill("+34911234588")
    page.locator("#cb-name").fill("")
    page.get_by_label("My team").check()
    page.locator("#cb-team").select_option(label="Queue Outbound")
    page.get_by_role("button", name="Save callback").click()
    expect(page.locator(".callback-form")).to_have_count(0)
    team = ok(client.get("/api/v1/callbacks", params={"queue_id": queue["id"]}))["items"]
    mine = [(c["personal"], c["campaign_id"], c["agent_id"]) for c in team if c["number"] == "+34911234588"]
    assert mine == [(False, None, None)]
    assert errors == []
    context.close()
