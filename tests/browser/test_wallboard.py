"""The supervisor's wallboard is live: a chat arriving changes the queue's figures without a reload, an agent
logging in appears in the grid, and when the event socket drops a banner says so until it heals, after
which what happened meanwhile is on the screen."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, make_user, ok, sign_in, watch_errors  # noqa: F401
from test_console_chat import setup_chat, visitor_writes

pytestmark = pytest.mark.browser


def test_wallboard_changes_as_a_chat_arrives_and_heals_after_a_dropped_socket(live_center: LiveCenter,
                                                                             chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue, _channel, site, site_url = setup_chat(live_center)
    other = ok(admin(live_center).post("/api/v1/queues", json={"name": "Not mine", "channels": ["voice"]}))
    make_user(live_center, "sofia", ["supervisor"], supervised_queue_ids=[queue["id"]])
    agent = make_agent(live_center, "hugo", [queue["id"]], display_name="Hugo", number="2201")
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
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
        sign_in(page, live_center, "sofia")
        expect(page).to_have_url(live_center.url + "/wallboard")
        card = page.locator(f"article.queue[data-queue-id='{queue['id']}']")
        expect(card.locator("[data-figure=waiting] .value")).to_have_text("0")
        expect(page.locator(f"article.queue[data-queue-id='{other['id']}']")).to_have_count(0)  # not in scope
        expect(page.locator("#agents tbody")).to_contain_text("No agent is logged in.")

        visitor = visitor_writes(chromium, site_url, "Anyone there?")
        expect(card.locator("[data-figure=waiting] .value")).to_have_text("1")
        expect(card.locator("[data-figure=waiting]")).to_have_class("figure big alert")

        blocked["on"] = True
        sockets[-1].close()  # the network drops the live connection
        banner = page.locator("#tpx-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Connection lost")
        ok(admin(live_center).post(f"/api/v1/agents/{agent['id']}/login", json={}))  # happens while offline
        expect(banner).to_be_visible()
        blocked["on"] = False  # the network comes back: the socket reconnects by itself
        expect(banner).to_be_hidden()
        row = page.locator(f"#agents tr[data-agent-id='{agent['id']}']")
        expect(row).to_contain_text("Hugo")
        expect(row.locator(".badge")).not_to_have_text("Logged out")
        expect(card.locator("[data-figure=waiting] .value")).to_have_text("0")  # offered to Hugo meanwhile
        visitor.context.close()

        page.locator("#large-screen").click()
        expect(page.locator("body")).to_have_class("wallboard-page large")
        assert errors == []
        context.close()
    finally:
        site.shutdown()
