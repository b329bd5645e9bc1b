"""Campaign lists through the administration screens: an admin creates a list on a campaign (first meeting the
API's refusal of an empty name), uploads a CSV file with one bad number and reads the import report, which
names that row and why; uploading the same file again imports nobody twice."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, ok, sign_in, watch_errors  # noqa: F401

pytestmark = pytest.mark.browser

CSV = b"phone,first_name,city\n+34911234521,Ana,Madrid\n12ab,Bruno,Lugo\n+34911234522,Carla,Vigo\n"


def test_admin_uploads_a_lead_file_and_reads_the_import_report(live_center: LiveCenter,
                                                               chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    queue = ok(client.post("/api/v1/queues", json={"name": "Outbound", "channels": ["voice"]}))
    campaign = ok(client.post("/api/v1/campaigns", json={"name": "Autumn", "queue_id": queue["id"]}))
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, live_center, "admin", "admin-password")
    page.goto(live_center.url + "/admin/campaigns")
    page.locator("table.grid tbody tr", has_text="Autumn").get_by_role("button", name="Lists").click()
    expect(page.locator("#admin-body h2")).to_have_text("Lists of Autumn")
    expect(page.locator("#admin-body")).to_contain_text("This campaign has no list yet.")

    page.get_by_role("button", name="Create list").click()  # no name: the API's reason, next to the field
    expect(page.locator("#list-name-error")).to_be_visible()
    expect(page.locator("#list-name")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("List name").fill("October")
    page.get_by_role("button", name="Create list").click()
    expect(page.locator("table.lists tbody tr", has_text="October")).to_be_visible()
    expect(page.locator("#upload-box h3")).to_have_text("Upload leads to October")

    page.get_by_role("button", name="Upload", exact=True).last.click()  # no file chosen yet
    expect(page.locator("#upload-error")).to_have_text("Choose a file first.")

    def upload() -> Any:
        chosen = {"name": "october.csv", "mimeType": "text/csv", "buffer": CSV}
        page.get_by_label("CSV file").set_input_files(chosen)
        page.get_by_label("First name column").fill("first_name")
        page.locator("#upload-box form button[type=submit]").click()
        return page.locator("#import-report")

    result = upload()
    expect(result.locator("[data-figure=rows]")).to_have_text("3")
    expect(result.locator("[data-figure=added]")).to_have_text("2")
    expect(result.locator("[data-figure=rejected]")).to_have_text("1")
    rejected = result.locator("table.rejected tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td")).to_have_text(["3", "12ab", "invalid number"])

    page.locator("#upload-box form button[type=submit]").click()  # the same file again
    expect(result.locator("[data-figure=unchanged]")).to_have_text("2")
    expect(result.locator("[data-figure=added]")).to_have_text("0")
    expect(result.locator("table.rejected tbody tr")).to_have_count(1)

    lists = ok(client.get(f"/api/v1/campaigns/{campaign['id']}/lists"))["items"]
    leads = ok(client.get(f"/api/v1/campaign-lists/{lists[0]['id']}/leads"))
    assert leads["total"] == 2
    assert sorted((x["phone"], x["first_name"], x["attributes"]["city"]) for x in leads["items"]) == [
        ("+34911234521", "Ana", "Madrid"), ("+34911234522", "Carla", "Vigo")]
    assert errors == []
    context.close()
