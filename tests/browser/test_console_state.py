"""The console's state bar: pause with a reason and back to ready; "pause after this call" taken ahead while
a chat is in hand, and the agent ends paused (not ready) once it is resolved and the wrap-up ended; the
event socket's drop shows the banner here too, and an offer made meanwhile is on screen once it heals."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, ok, sign_in, watch_errors  # noqa: F401
from test_console_chat import setup_chat, visitor_writes

pytestmark = pytest.mark.browser


def test_pause_after_this_chat_and_an_offer_made_while_offline(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue, _channel, site, site_url = setup_chat(live_center)
    ok(admin(live_center).patch(f"/api/v1/queues/{queue['id']}", json={"wrapup_seconds": 600}))
    ok(admin(live_center).post("/api/v1/pause-reasons", json={"name": "Lunch", "paid": False}))
    agent = make_agent(live_center, "iris", [queue["id"]], display_name="Iris", number="2301")
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        errors = watch_errors(page)
        blocked = {"on": False}
        sockets: list[Any] = []

        def events_route(ws: Any) -> None:
            if blocked["on"]:
                ws.close()
                return
            ws.connect_to_server()
            sockets.append(ws)

        page.route_web_socket("**/api/v1/events*", events_route)
        sign_in(page, live_center, "iris")
        page.locator("#agent-login").click()
        badge = page.locator("#state-badge")
        expect(badge).to_have_text("Ready")
        page.locator("#pause-reason").select_option("Lunch")
        page.locator("#btn-pause").click()
        expect(badge).to_have_text("Paused · Lunch")
        page.locator("#btn-ready").click()
        expect(badge).to_have_text("Ready")

        blocked["on"] = True
        sockets[-1].close()
        expect(page.locator("#tpx-banner")).to_be_visible()
        visitor = visitor_writes(chromium, site_url, "Hello?")  # offered to Iris while her console is offline
        blocked["on"] = False
        expect(page.locator("#tpx-banner")).to_be_hidden()
        offer = page.locator("#offers article")
        expect(offer).to_contain_text("New chat")
        offer.get_by_role("button", name="Accept").click()
        expect(badge).to_have_text("In chats")

        page.locator("#pause-after").check()  # decided ahead: pause once this chat is done
        expect(page.locator("#tpx-toast")).to_contain_text("You will be paused")
        page.locator("[role=tabpanel]:not([hidden])").get_by_role("button", name="Resolve").click()
        expect(badge).to_have_text("Wrap-up")
        page.locator("#btn-wrapup-end").click()
        expect(badge).to_have_text("Paused · Lunch")
        presence = ok(admin(live_center).get(f"/api/v1/agents/{agent['id']}/presence"))
        assert (presence["state"], presence["pause_reason"]) == ("paused", "Lunch")
        expect(page.locator("#pause-after")).not_to_be_checked()
        visitor.context.close()
        assert errors == []
        context.close()
    finally:
        site.shutdown()
