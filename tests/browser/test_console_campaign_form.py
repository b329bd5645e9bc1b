"""The campaign's form in the agent console: once the agent dials a previewed lead, the campaign's script and
form stay on screen; saving with a required answer missing shows the API's reason next to that field, and the
answers saved are kept with the call's attempt. A campaign call the dialer puts through (no preview) brings
its form up too. A reload shows the lead card being previewed again with the answers typed on it, and the
call's form with the answers typed (or prepared on the card) until they are saved; a console opened while a
campaign call is in wrap-up shows that call's form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, ok, sign_in, start_console, watch_errors  # noqa: F401
from sqlalchemy import select
from test_console_campaigns import ALL_DAY, CSV, RecordingVoice
from wrapup_calls import call_in_wrapup

from teleplex.campaigns import service
from teleplex.campaigns.live import CampaignDialer
from teleplex.campaigns.models import Lead
from teleplex.core.clock import SystemClock
from teleplex.interactions import service as interactions

pytestmark = pytest.mark.browser

FORM = [
    {"name": "plan", "label": "New plan", "type": "select", "options": ["gold", "silver"], "required": True},
    {"name": "seats", "label": "Seats", "type": "number"},
    {"name": "consent", "label": "May we call again", "type": "checkbox"},
]


@contextmanager
def preview_console(center: LiveCenter, chromium: Any, desk: str, name: str, username: str, number: str,
                    **settings: Any) -> Iterator[tuple[Any, dict[str, Any], Any, list[str]]]:  # fmt: skip
    """A running preview campaign with the form and the leads of CSV on its own queue (the dialer records the
    calls it is asked to place), and its agent signed in and ready: page, campaign, admin client, errors."""
    from playwright.sync_api import expect

    client = admin(center)
    queue = ok(client.post("/api/v1/queues", json={"name": desk, "channels": ["voice"]}))
    campaign = ok(client.post("/api/v1/campaigns", json={
        "name": name, "queue_id": queue["id"], "dial_mode": "preview", "trunk": "PJSIP/{number}@carrier",
        "calling_windows": ALL_DAY, "allow_outside_legal_hours": True, "form_fields": FORM, **settings}))
    lst = ok(client.post(f"/api/v1/campaigns/{campaign['id']}/lists", json={"name": "today"}))
    ok(client.post(f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone",
                   "first_name_column": "first_name", "last_name_column": "last_name"},
                   content=CSV.encode(), headers={"content-type": "text/csv"}))  # fmt: skip
    ok(client.post(f"/api/v1/campaigns/{campaign['id']}/start"))
    make_agent(center, username, [queue["id"]], display_name=username.capitalize(), number=number)

    async def dialer_on() -> None:
        state = center.app.state
        voice: Any = RecordingVoice()
        state.dialer = CampaignDialer(state.engine, voice, center.settings)

    center.call(dialer_on())
    try:
        context, page, errors = start_console(chromium, center, username)
        yield page, campaign, client, errors
        context.close()
    finally:
        center.app.state.dialer = None


def test_an_agent_fills_the_campaign_form_during_the_call(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Outbound", "channels": ["voice"]}))
    campaign = ok(client.post("/api/v1/campaigns", json={
        "name": "Renewals", "queue_id": queue["id"], "dial_mode": "preview", "trunk": "PJSIP/{number}@carrier",
        "calling_windows": ALL_DAY, "allow_outside_legal_hours": True, "form_fields": FORM,
        "script": "Good morning {first_name}, about your {plan} plan"}))
    lst = ok(client.post(f"/api/v1/campaigns/{campaign['id']}/lists", json={"name": "today"}))
    ok(client.post(f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone",
                   "first_name_column": "first_name", "last_name_column": "last_name"},
                   content=CSV.encode(), headers={"content-type": "text/csv"}))  # fmt: skip
    ok(client.post(f"/api/v1/campaigns/{campaign['id']}/start"))
    make_agent(live_center, "jorge", [queue["id"]], display_name="Jorge", number="2401")

    voice = RecordingVoice()

    async def dialer_on() -> None:
        state = live_center.app.state
        state.dialer = CampaignDialer(state.engine, voice, live_center.settings)  # type: ignore[arg-type]

    live_center.call(dialer_on())
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, live_center, "jorge")
        page.locator("#agent-login").click()
        expect(page.locator("#state-badge")).to_have_text("Ready")
        page.locator(f"li[data-campaign-id='{campaign['id']}']").get_by_role("button", name="Next lead").click()
        page.locator("#lead-card").get_by_role("button", name="Dial").click()

        form = page.locator("form.campaign-form")
        expect(form.locator("h3")).to_have_text("Form: Renewals")
        expect(form.locator(".script")).to_have_text("Good morning Ana, about your gold plan")
        form.get_by_label("Seats").fill("12")
        form.get_by_role("button", name="Save answers").click()  # no plan chosen yet
        expect(form.locator("[data-field=plan] .field-error")).to_have_text("is required")
        expect(form.get_by_label("New plan (required)")).to_have_attribute("aria-invalid", "true")
        expect(form.get_by_label("New plan (required)")).to_be_focused()

        form.get_by_label("New plan (required)").select_option("silver")
        form.get_by_label("May we call again").check()
        form.get_by_role("button", name="Save answers").click()
        expect(page.locator("#dial-status")).to_have_text("Answers saved.")
        expect(form.locator("[data-field=plan] .field-error")).to_be_hidden()
        attempts = ok(client.get(f"/api/v1/campaigns/{campaign['id']}/attempts"))["items"]
        assert [a["form_answers"] for a in attempts] == [{"plan": "silver", "seats": 12, "consent": True}]
        assert errors == []
        context.close()
    finally:
        live_center.app.state.dialer = None


def test_a_campaign_call_put_through_brings_up_its_form(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Winback desk", "channels": ["voice"]}))
    campaign = ok(client.post("/api/v1/campaigns", json={
        "name": "Winback", "queue_id": queue["id"], "dial_mode": "progressive", "trunk": "PJSIP/{number}@carrier",
        "calling_windows": ALL_DAY, "allow_outside_legal_hours": True, "form_fields": FORM,
        "script": "Hello {first_name}, we miss you"}))
    lst = ok(client.post(f"/api/v1/campaigns/{campaign['id']}/lists", json={"name": "today"}))
    ok(client.post(f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone",
                   "first_name_column": "first_name", "last_name_column": "last_name"},
                   content=CSV.encode(), headers={"content-type": "text/csv"}))  # fmt: skip
    agent = make_agent(live_center, "karla", [queue["id"]], display_name="Karla", number="2402")

    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "karla")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_text("Ready")
    expect(page.locator("#campaign-form-box")).to_be_empty()

    async def call_put_through() -> None:
        """What the dialer stores and announces when a lead answers and is bridged to the agent."""
        app = live_center.app
        now = SystemClock().now()
        async with app.state.db.session() as session:
            first = select(Lead).where(Lead.campaign_id == campaign["id"]).order_by(Lead.id).limit(1)
            lead = (await session.execute(first)).scalar_one()
            attempt = await service.begin_attempt(session, lead, now)
            call = await interactions.open_interaction(session, now, channel="voice", direction="outbound")
            attempt.interaction_id, attempt.agent_id = call.id, agent["id"]
            await session.commit()
            call_id = call.id
        app.state.engine.publish("interaction.connected", now, {"interaction_id": call_id, "channel": "voice",
                                 "queue_id": queue["id"], "agent_id": agent["id"]},
                                 queue_id=queue["id"], agent_id=agent["id"])  # fmt: skip

    live_center.call(call_put_through())
    form = page.locator("form.campaign-form")
    expect(form.locator("h3")).to_have_text("Form: Winback")
    expect(form.locator(".script")).to_have_text("Hello Ana, we miss you")
    expect(form.get_by_label("New plan (required)")).to_be_visible()
    assert errors == []
    context.close()


def test_the_lead_card_shows_the_campaign_form_to_prepare_before_dialing(live_center: LiveCenter,
                                                                        chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    with preview_console(live_center, chromium, "Upgrades desk", "Upgrades", "lola", "2403",
                         script="Hi {first_name}, about your {plan} plan") as opened:
        page, campaign, client, errors = opened
        page.locator(f"li[data-campaign-id='{campaign['id']}']").get_by_role("button", name="Next lead").click()

        # Before dialing, the card shows the campaign's form beside the lead, its script and history.
        card = page.locator("#lead-card")
        expect(card.locator("#lead-name")).not_to_be_empty()
        first_name, plan = {"Ana García": ("Ana", "gold"), "Bruno Díaz": ("Bruno", "silver")}[
            card.locator("#lead-name").inner_text()]
        expect(card.locator(".script")).to_have_text(f"Hi {first_name}, about your {plan} plan")
        form = card.locator(".lead-form")
        expect(form.locator("h4")).to_have_text("Form: Upgrades")
        expect(form).to_contain_text("they fill the call's form when you dial")
        expect(form.get_by_label("New plan (required)")).to_be_visible()
        form.get_by_label("New plan (required)").select_option("gold")
        form.get_by_label("Seats").fill("3")
        form.get_by_label("May we call again").check()
        assert page.locator("form.campaign-form").count() == 0  # nothing dialled yet
        card.get_by_role("button", name="Dial").click()

        # The call's form comes up with what was prepared, and it is saved from there.
        call_form = page.locator("form.campaign-form")
        expect(call_form.locator("h3")).to_have_text("Form: Upgrades")
        expect(call_form.get_by_label("New plan (required)")).to_have_value("gold")
        expect(call_form.get_by_label("Seats")).to_have_value("3")
        expect(call_form.get_by_label("May we call again")).to_be_checked()
        call_form.get_by_role("button", name="Save answers").click()
        expect(page.locator("#dial-status")).to_have_text("Answers saved.")
        attempts = ok(client.get(f"/api/v1/campaigns/{campaign['id']}/attempts"))["items"]
        assert [a["form_answers"] for a in attempts] == [{"plan": "gold", "seats": 3, "consent": True}]
        assert errors == []


def test_the_lead_card_and_its_answers_survive_a_reload(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    drafts = "Object.keys(sessionStorage).filter((k) => k.startsWith('tpx-draft:'))"
    with preview_console(live_center, chromium, "Loyalty desk", "Loyalty", "marta", "2404") as opened:
        page, campaign, client, errors = opened
        item = page.locator(f"li[data-campaign-id='{campaign['id']}']")
        next_lead = item.get_by_role("button", name="Next lead")
        next_lead.click()
        card = page.locator("#lead-card")
        expect(card.locator("#lead-name")).not_to_be_empty()
        first = card.locator("#lead-name").inner_text()
        form = card.locator(".lead-form")
        form.get_by_label("New plan (required)").select_option("silver")
        form.get_by_label("Seats").fill("7")
        form.get_by_label("May we call again").check()

        page.reload()  # an accidental reload: the same lead comes back with what was typed on its card
        expect(card.locator("#lead-name")).to_have_text(first)
        expect(form.get_by_label("New plan (required)")).to_have_value("silver")
        expect(form.get_by_label("Seats")).to_have_value("7")
        expect(form.get_by_label("May we call again")).to_be_checked()

        # Skipped, the lead's answers are gone; the next lead's card starts empty.
        card.get_by_role("button", name="Skip").click()
        page.get_by_label("Reason for skipping").fill("wrong person")
        page.get_by_role("button", name="Skip this lead").click()
        expect(page.locator("#dial-status")).to_have_text("Lead skipped.")
        assert page.evaluate(drafts) == []
        next_lead.click()
        expect(card.locator("#lead-name")).not_to_have_text(first)
        expect(form.get_by_label("Seats")).to_have_value("")
        form.get_by_label("Seats").fill("2")

        # Dialed and its answers saved with the call, nothing is left in the page's storage.
        card.get_by_role("button", name="Dial").click()
        call_form = page.locator("form.campaign-form")
        expect(call_form.get_by_label("Seats")).to_have_value("2")
        call_form.get_by_label("New plan (required)").select_option("gold")
        call_form.get_by_role("button", name="Save answers").click()
        expect(page.locator("#dial-status")).to_have_text("Answers saved.")
        assert page.evaluate(drafts) == []
        assert page.evaluate("sessionStorage.getItem('tpx-lead-card')") is None  # no card to bring back
        page.reload()
        expect(page.locator("#campaign-list li")).to_have_count(1)
        expect(card.locator("article.lead")).to_have_count(0)
        assert errors == []


def test_the_call_form_and_its_answers_survive_a_reload(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    drafts = "Object.keys(sessionStorage).filter((k) => k.startsWith('tpx-draft:'))"
    with preview_console(live_center, chromium, "Renewals desk", "Second year", "nora", "2405") as opened:
        page, campaign, client, errors = opened
        page.locator(f"li[data-campaign-id='{campaign['id']}']").get_by_role("button", name="Next lead").click()
        card = page.locator("#lead-card")
        card.locator(".lead-form").get_by_label("Seats").fill("4")  # prepared before dialing
        card.get_by_role("button", name="Dial").click()

        call_form = page.locator("form.campaign-form")
        expect(call_form.get_by_label("Seats")).to_have_value("4")
        call_form.get_by_label("New plan (required)").select_option("silver")  # typed during the call

        page.reload()  # before saving: the call's form comes back with everything typed in it
        expect(call_form.locator("h3")).to_have_text("Form: Second year")
        expect(call_form.get_by_label("New plan (required)")).to_have_value("silver")
        expect(call_form.get_by_label("Seats")).to_have_value("4")
        expect(call_form.get_by_label("May we call again")).not_to_be_checked()
        expect(card.locator("article.lead")).to_have_count(0)  # the lead was dialed: no card to show again

        call_form.get_by_label("May we call again").check()
        call_form.get_by_role("button", name="Save answers").click()
        expect(page.locator("#dial-status")).to_have_text("Answers saved.")
        attempts = ok(client.get(f"/api/v1/campaigns/{campaign['id']}/attempts"))["items"]
        assert [a["form_answers"] for a in attempts] == [{"plan": "silver", "seats": 4, "consent": True}]
        assert page.evaluate(drafts) == []

        page.reload()  # saved: nothing left to bring back
        expect(page.locator("#state-badge")).not_to_be_empty()  # shown once the campaigns panel has loaded
        expect(call_form).to_have_count(0)
        assert errors == []


def test_a_console_opened_during_a_campaign_calls_wrapup_shows_its_form(live_center: LiveCenter,
                                                                        chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Comeback desk", "channels": ["voice"],
                                                   "wrapup_seconds": 600, "wrapup_requires": []}))  # fmt: skip
    campaign = ok(client.post("/api/v1/campaigns", json={"name": "Comeback", "queue_id": queue["id"],
                                                         "form_fields": FORM}))  # fmt: skip
    agent = make_agent(live_center, "olga", [queue["id"]], display_name="Olga", number="2406")
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "olga")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_text("Ready")

    live_center.call(call_in_wrapup(live_center.app.state.engine, queue["id"], agent["id"],
                                    campaign_id=campaign["id"]))  # fmt: skip
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    expect(page.locator("form.campaign-form h3")).to_have_text("Form: Comeback")

    # A second tab keeps nothing of the first (sessionStorage is per tab): the call comes from the presence.
    other = context.new_page()
    other_errors = watch_errors(other)
    other.goto(live_center.url + "/console")
    form = other.locator("form.campaign-form")
    expect(form.locator("h3")).to_have_text("Form: Comeback")
    form.get_by_label("New plan (required)").select_option("gold")
    form.get_by_role("button", name="Save answers").click()
    expect(other.locator("#dial-status")).to_have_text("Answers saved.")
    attempts = ok(client.get(f"/api/v1/campaigns/{campaign['id']}/attempts"))["items"]
    assert [a["form_answers"] for a in attempts] == [{"plan": "gold", "consent": False}]
    assert errors == other_errors == []
    context.close()
