"""The queue's wrap-up rule holds for chats resolved in the console: a web chat of a queue that requires a
disposition and notes cannot be resolved without them; the console says what is missing beside the Resolve
button (in the agent's language), marks the fields and keeps the chat open, and resolves it once they are
given."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, ok, sign_in, watch_errors  # noqa: F401
from test_console_chat import PAGE, visitor_writes
from widget_harness import page_server

pytestmark = pytest.mark.browser


def chat_queue(center: LiveCenter, name: str, requires: list[str]) -> tuple[dict[str, Any], Any, str]:
    """A web chat on a customer's site, routed to its own queue with this wrap-up rule."""
    client = admin(center)
    queue = ok(client.post("/api/v1/queues", json={"name": name, "channels": ["webchat"], "wrapup_seconds": 60,
                                                   "wrapup_requires": requires}))  # fmt: skip
    channel = ok(client.post("/api/v1/channels", json={"kind": "webchat", "name": f"{name} chat",
                                                       "settings": {"queue_id": queue["id"]}}))  # fmt: skip
    pages: dict[str, bytes] = {}
    site, site_url = page_server(pages)
    widget = ok(client.put(f"/api/v1/channels/{channel['id']}/webchat", json={"allowed_origins": [site_url]}))
    pages["/"] = PAGE.format(center=center.url, key=widget["public_key"]).encode()
    return queue, site, site_url


def accepted_chat(page: Any, browser: Any, site_url: str, text: str) -> tuple[Any, int]:
    """The visitor writes, the agent accepts: the chat's panel and its id."""
    from playwright.sync_api import expect

    visitor_writes(browser, site_url, text)
    page.locator("#offers article").get_by_role("button").first.click()
    panel = page.locator("[role=tabpanel]:not([hidden])")
    expect(panel.locator(".msg.in .text")).to_have_text([text])
    return panel, int(page.locator("[role=tab][aria-selected=true]").get_attribute("data-interaction"))


def test_a_chat_is_not_resolved_until_its_disposition_and_notes_are_given(live_center: LiveCenter,
                                                                          chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    solved = ok(client.post("/api/v1/dispositions", json={"code": "solved", "label": "Solved", "category": "success"}))
    queue, site, site_url = chat_queue(live_center, "Claims", ["disposition", "notes"])
    make_agent(live_center, "paula", [queue["id"]], display_name="Paula", number="2601")
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, live_center, "paula")
        page.locator("#agent-login").click()
        expect(page.locator("#state-badge")).to_have_text("Ready")
        panel, chat_id = accepted_chat(page, chromium, site_url, "My parcel arrived broken")

        panel.get_by_role("button", name="Resolve").click()
        missing = panel.locator(".resolve-form .wrapup-missing")
        expect(missing).to_have_text("Before resolving, give: a disposition, notes.")
        expect(page.locator("#tpx-toast")).to_have_text("Before resolving, give: a disposition, notes.")
        disposition = panel.locator(".resolve-form select[name=disposition]")
        notes = panel.locator(".resolve-form textarea[name=notes]")
        expect(disposition).to_have_attribute("aria-invalid", "true")
        expect(notes).to_have_attribute("aria-invalid", "true")
        expect(disposition).to_be_focused()
        expect(page.locator(f"#tab-{chat_id}")).to_be_visible()
        assert ok(client.get(f"/api/v1/interactions/{chat_id}"))["state"] == "connected"

        disposition.select_option(label="Solved")
        panel.get_by_role("button", name="Resolve").click()
        expect(missing).to_have_text("Before resolving, give: notes.")
        expect(disposition).not_to_have_attribute("aria-invalid", "true")
        expect(notes).to_be_focused()
        assert ok(client.get(f"/api/v1/interactions/{chat_id}"))["state"] == "connected"

        notes.fill("Replacement sent by courier")
        panel.get_by_role("button", name="Resolve").click()
        expect(page.locator(f"#tab-{chat_id}")).to_have_count(0)
        expect(page.locator("#tpx-toast")).to_have_text("Resolved.")
        record = ok(client.get(f"/api/v1/interactions/{chat_id}"))
        assert (record["state"], record["disposition_id"], record["notes"]) == (
            "resolved", solved["id"], "Replacement sent by courier")
        assert errors == []
        context.close()
    finally:
        site.shutdown()


def test_the_refusal_is_in_spanish_for_a_spanish_agent(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(live_center)
    if not ok(client.get("/api/v1/dispositions"))["items"]:
        ok(client.post("/api/v1/dispositions", json={"code": "solved", "label": "Solved", "category": "success"}))
    queue, site, site_url = chat_queue(live_center, "Reclamaciones", ["disposition"])
    make_agent(live_center, "ramon", [queue["id"]], language="es", display_name="Ramón", number="2602")
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, live_center, "ramon")
        page.locator("#agent-login").click()
        expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")
        panel, chat_id = accepted_chat(page, chromium, site_url, "Mi paquete llegó roto")

        panel.get_by_role("button", name="Resolver").click()
        expect(panel.locator(".resolve-form .wrapup-missing")).to_have_text("Antes de resolver, indique: una tipificación.")
        expect(panel.locator(".resolve-form select[name=disposition]")).to_have_attribute("aria-invalid", "true")
        assert ok(client.get(f"/api/v1/interactions/{chat_id}"))["state"] == "connected"

        panel.locator(".resolve-form select[name=disposition]").select_option(index=1)
        panel.get_by_role("button", name="Resolver").click()
        expect(page.locator(f"#tab-{chat_id}")).to_have_count(0)
        assert ok(client.get(f"/api/v1/interactions/{chat_id}"))["state"] == "resolved"
        assert errors == []
        context.close()
    finally:
        site.shutdown()
