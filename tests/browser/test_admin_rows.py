"""Lists of records inside a record (a campaign's form fields, its calling windows) are edited as rows on the
admin screen: added, filled, moved and removed, with the API's error shown on the row it names."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, ok, sign_in, watch_errors  # noqa: F401

pytestmark = pytest.mark.browser


def test_admin_builds_a_campaign_form_row_by_row(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Outbound", "channels": ["voice"]}))
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "admin", "admin-password")
    page.goto(live_center.url + "/admin/campaigns")
    page.locator("#admin-new").click()
    page.locator("#f-name").fill("Autumn renewals")
    page.locator("#f-queue_id").select_option(label="Outbound")

    fields = page.locator("[data-field=form_fields]")
    add = fields.get_by_role("button", name="Add a row").last  # the outer list's button comes last
    add.click()
    first = fields.locator(".row-item").nth(0)
    expect(first.locator("legend")).to_have_text("Row 1")
    first.locator("[data-prop=name] input").fill("budget")
    first.locator("[data-prop=label] input").fill("Budget")
    first.locator("[data-prop=type] select").select_option("number")
    first.locator("[data-prop=required] input").check()
    add.click()
    second = fields.locator(":scope > .rows-editor > .rows > .row-item").nth(1)
    second.locator("[data-prop=name] input").fill("product")
    second.locator("[data-prop=label] input").fill("Product")
    second.locator("[data-prop=type] select").select_option("select")  # a list, without its options yet
    page.locator(".resource-form button[type=submit]").click()
    row_error = second.locator(":scope > .field-error")
    expect(row_error).to_be_visible()
    expect(row_error).to_contain_text("a select field needs options")
    expect(page.locator("#err-form_fields")).to_be_visible()

    second.locator("[data-prop=options] input").fill("Home insurance, Car insurance")
    second.get_by_role("button", name="Move row 2 up").click()  # the product question first
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("table.grid tbody tr", has_text="Autumn renewals")).to_be_visible()
    campaign = next(c for c in ok(client.get("/api/v1/campaigns"))["items"] if c["name"] == "Autumn renewals")
    assert [(f["name"], f["type"], f["required"]) for f in campaign["form_fields"]] == [
        ("product", "select", False), ("budget", "number", True)]
    assert campaign["form_fields"][0]["options"] == ["Home insurance", "Car insurance"]
    assert campaign["queue_id"] == queue["id"]

    # Editing: the rows come back as they were saved; removing one sends the shorter list.
    page.locator("table.grid tbody tr", has_text="Autumn renewals").get_by_role("button", name="Edit").click()
    rows = page.locator("[data-field=form_fields] > .rows-editor > .rows > .row-item")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("[data-prop=name] input")).to_have_value("product")
    rows.nth(0).get_by_role("button", name="Remove row 1").click()
    expect(rows.nth(0).locator("legend")).to_have_text("Row 1")
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("table.grid tbody tr", has_text="Autumn renewals")).to_be_visible()
    saved = ok(client.get(f"/api/v1/campaigns/{campaign['id']}"))
    assert [f["name"] for f in saved["form_fields"]] == ["budget"]
    assert errors == []
    context.close()
