"""The wrap-up's requirements in the agent console: a queue that asks for a disposition and notes refuses the
end of the wrap-up while they are missing (the server says what, the console brings the call's tab to the
front with the missing fields marked), and lets it end once both are saved."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, ok, sign_in, watch_errors  # noqa: F401
from wrapup_calls import call_in_wrapup

pytestmark = pytest.mark.browser


def test_the_console_refuses_to_end_the_wrapup_until_disposition_and_notes_are_saved(
    live_center: LiveCenter, chromium: Any
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    ok(client.post("/api/v1/dispositions", json={"code": "sale", "label": "Sale made", "category": "success"}))
    queue = ok(client.post("/api/v1/queues", json={"name": "Sales", "channels": ["voice"], "wrapup_seconds": 600,
                                                   "wrapup_requires": ["disposition", "notes"]}))  # fmt: skip
    agent = make_agent(live_center, "lucia", [queue["id"]], display_name="Lucía", number="2501")

    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "lucia")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")

    call_id = live_center.call(call_in_wrapup(live_center.app.state.engine, queue["id"], agent["id"]))
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    tab = page.locator(f"#tab-{call_id}")
    expect(tab).to_be_visible()

    page.locator("#btn-wrapup-end").click()
    expect(page.locator("#tpx-toast")).to_have_text("Before ending the wrap-up, save: a disposition, notes.")
    panel = page.locator(f"#panel-{call_id}")
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(panel.locator(".wrapup-missing")).to_have_text("Before ending the wrap-up, save: a disposition, notes.")
    expect(panel.get_by_label("Disposition")).to_have_attribute("aria-invalid", "true")
    expect(panel.get_by_label("Notes")).to_have_attribute("aria-invalid", "true")
    expect(panel.get_by_label("Disposition")).to_be_focused()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")

    panel.get_by_label("Disposition").select_option(label="Sale made")
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator("form.wrapup")).to_contain_text("Saved")
    page.locator("#btn-wrapup-end").click()  # the notes are still missing
    expect(panel.locator(".wrapup-missing")).to_have_text("Before ending the wrap-up, save: notes.")

    panel.get_by_label("Notes").fill("Wants the gold plan from May")
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator(".wrapup-missing")).to_be_hidden()
    page.locator("#btn-wrapup-end").click()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")
    stored = ok(client.get(f"/api/v1/interactions/{call_id}"))
    assert (stored["notes"], stored["disposition_id"] is not None) == ("Wants the gold plan from May", True)
    assert errors == []
    context.close()


def test_an_admin_sets_what_the_wrapup_requires_on_the_queue_screen(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Retention"}))
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "admin", "admin-password")
    page.goto(live_center.url + "/admin/queues")
    row = page.locator("table.grid tbody tr", has_text="Retention")

    row.get_by_role("button", name="Edit").click()
    field = page.locator("[data-field=wrapup_requires]")
    expect(field.locator("label").first).to_have_text("Required before the wrap-up ends")
    expect(field.get_by_label("disposition")).to_be_checked()  # the default: today's behaviour
    field.get_by_label("notes").check()
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator(".resource-form")).to_have_count(0)  # saved: back to the list
    assert ok(client.get(f"/api/v1/queues/{queue['id']}"))["wrapup_requires"] == ["disposition", "notes"]

    row.get_by_role("button", name="Edit").click()  # nothing required: the empty choice is sent as such
    field.get_by_label("disposition").uncheck()
    field.get_by_label("notes").uncheck()
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator(".resource-form")).to_have_count(0)  # saved: back to the list
    assert ok(client.get(f"/api/v1/queues/{queue['id']}"))["wrapup_requires"] == []
    assert errors == []
    context.close()


def test_a_campaign_call_cannot_leave_wrapup_before_its_forms_required_answer(live_center: LiveCenter,
                                                                               chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Winback desk", "channels": ["voice"],
                                                   "wrapup_seconds": 600, "wrapup_requires": []}))  # fmt: skip
    campaign = ok(client.post("/api/v1/campaigns", json={
        "name": "Winback", "queue_id": queue["id"], "wrapup_requires": ["form"],
        "form_fields": [{"name": "plan", "label": "New plan", "type": "select", "options": ["gold", "silver"],
                         "required": True}]}))  # fmt: skip
    agent = make_agent(live_center, "mateo", [queue["id"]], display_name="Mateo", number="2502")
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "mateo")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")

    live_center.call(call_in_wrapup(live_center.app.state.engine, queue["id"], agent["id"],
                                    campaign_id=campaign["id"]))  # fmt: skip
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    form = page.locator("form.campaign-form")
    expect(form.locator("h3")).to_have_text("Form: Winback")

    page.locator("#btn-wrapup-end").click()
    expect(page.locator("#tpx-toast")).to_have_text("Before ending the wrap-up, save: the campaign form (plan).")
    plan = form.get_by_label("New plan (required)")
    expect(plan).to_have_attribute("aria-invalid", "true")
    expect(plan).to_be_focused()

    plan.select_option("gold")
    form.get_by_role("button", name="Save answers").click()
    expect(page.locator("#dial-status")).to_have_text("Answers saved.")
    page.locator("#btn-wrapup-end").click()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")
    assert errors == []
    context.close()
