"""The console's state bar: pause with a reason and back to ready; "pause after this call" taken ahead while
a chat is in hand, and the agent ends paused (not ready) once it is resolved and the wrap-up ended; the
event socket's drop shows the banner here too, and an offer made meanwhile is on screen once it heals."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, ok, sign_in, watch_errors  # noqa: F401
from test_console_chat import setup_chat, visitor_writes
from wrapup_calls import call_in_wrapup

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


def test_a_late_answer_does_not_undo_a_newer_state_from_the_stream(live_center: LiveCenter, chromium: Any) -> None:
    """The login's answer ("ready") held back until a call has put the agent in wrap-up: the console keeps
    showing the wrap-up (the state that began later), with its End wrap-up button."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue = ok(admin(live_center).post("/api/v1/queues", json={"name": "Late", "channels": ["voice"],
                                                               "wrapup_seconds": 600}))  # fmt: skip
    agent = make_agent(live_center, "tomas", [queue["id"]], display_name="Tomás", number="2601")
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    held: list[tuple[Any, Any]] = []
    page.route(f"**/api/v1/agents/{agent['id']}/login", lambda route: held.append((route, route.fetch())))
    sign_in(page, live_center, "tomas")
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")  # from the stream
    for _ in range(200):  # the route handler holds the answer once its own fetch of it has returned
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1  # the login's own answer has not reached the page yet

    live_center.call(call_in_wrapup(live_center.app.state.engine, queue["id"], agent["id"]))
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    route, answer = held[0]
    assert answer.json()["state"] == "ready"
    route.fulfill(response=answer)
    page.wait_for_timeout(500)  # give the late answer its chance to be (wrongly) applied
    expect(page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
    expect(page.locator("#btn-wrapup-end")).to_be_visible()
    assert errors == []
    context.close()
