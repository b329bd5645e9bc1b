"""Administration through the screens: an admin creates a queue (first meeting the API's validation error
next to the field), a user and their agent profile, edits the queue, and finds the changes in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, ok, sign_in, watch_errors  # noqa: F401

pytestmark = pytest.mark.browser


def test_admin_creates_a_queue_and_an_agent_and_finds_them_in_the_audit_log(live_center: LiveCenter,
                                                                            chromium: Any) -> None:
    from playwright.sync_api import expect

    admin(live_center)  # the first administrator exists
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "admin", "admin-password")
    expect(page).to_have_url(live_center.url + "/admin/queues")

    page.locator("#admin-new").click()
    page.locator("#f-name").fill("x" * 101)  # longer than the API takes
    page.locator("[data-field=channels] input[value=webchat]").check()
    page.locator(".resource-form button[type=submit]").click()
    error = page.locator("#err-name")
    expect(error).to_be_visible()
    expect(error).to_contain_text("at most 100 characters")
    expect(page.locator("#f-name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-name")).to_be_focused()

    page.locator("#f-name").fill("Support")
    page.locator("#f-service_level_seconds").fill("30")
    page.locator(".resource-form button[type=submit]").click()
    row = page.locator("table.grid tbody tr", has_text="Support")
    expect(row).to_be_visible()
    queue = next(q for q in ok(admin(live_center).get("/api/v1/queues"))["items"] if q["name"] == "Support")
    assert queue["channels"] == ["voice", "webchat"] and queue["service_level_seconds"] == 30

    page.get_by_role("link", name="Users and roles").click()
    page.locator("#admin-new").click()
    page.locator("#f-username").fill("carmen")
    page.locator("#f-password").fill("short")
    page.locator("[data-field=roles] input[value=agent]").check()
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("#err-password")).to_be_visible()  # the API's minimum length, shown at the field
    page.locator("#f-password").fill("a-long-enough-password")
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("table.grid tbody tr", has_text="carmen")).to_be_visible()

    page.get_by_role("link", name="Agents").click()
    page.locator("#admin-new").click()
    page.locator("#f-user_id").select_option(label="carmen")
    page.locator("#f-number").fill("2042")
    page.locator("#f-display_name").fill("Carmen Ruiz")
    page.locator("#f-device").fill("PJSIP/2042")
    queues = page.locator("[data-field=queues]")
    queues.get_by_role("button", name="Add a row").click()
    queues.locator("[data-prop=queue_id] select").select_option(label="Support")  # by name, not id
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("table.grid tbody tr", has_text="Carmen Ruiz")).to_be_visible()
    agent = next(a for a in ok(admin(live_center).get("/api/v1/agents"))["items"] if a["number"] == "2042")
    assert [m["queue_id"] for m in agent["queues"]] == [queue["id"]]

    page.get_by_role("link", name="Queues").click()
    page.locator("table.grid tbody tr", has_text="Support").get_by_role("button", name="Edit").click()
    page.locator("#f-wrapup_seconds").fill("15")
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("table.grid tbody tr", has_text="Support")).to_be_visible()
    assert ok(admin(live_center).get(f"/api/v1/queues/{queue['id']}"))["wrapup_seconds"] == 15

    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("table.grid tbody tr")
    expect(rows.filter(has_text="queue #").filter(has_text="created").first).to_contain_text("Support")
    expect(rows.filter(has_text="queue #").filter(has_text="changed").first).to_contain_text("Wrap-up (seconds)")
    expect(rows.filter(has_text="agent #").filter(has_text="created").first).to_contain_text("2042")
    page.locator("#audit-entity").select_option("user")
    expect(rows.filter(has_text="carmen").first).to_be_visible()
    expect(rows.filter(has_text="queue #")).to_have_count(0)
    assert errors == []
    context.close()
