"""The agent console with a web chat: a visitor writes on a customer's site (the real widget), the agent
accepts the offer, the draft they were typing survives a reload, they reply with a canned response and a
private note, and resolve with a disposition; the visitor sees the reply and never the note. An agent
transfers a chat to a queue of the center they do not work in, and it is offered to that queue's agent."""

from __future__ import annotations

from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, ok, sign_in, watch_errors  # noqa: F401
from widget_harness import page_server

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>
<script src="{center}/widget.js" data-channel="{key}" async></script></body></html>"""


def setup_chat(center: LiveCenter, queue_name: str = "Web help",
               channel_name: str = "Site chat") -> tuple[dict[str, Any], dict[str, Any], Any, str]:
    """A web chat channel on a customer's site, waiting in its own queue."""
    client = admin(center)
    queue = ok(client.post("/api/v1/queues", json={"name": queue_name, "channels": ["webchat"]}))
    channel = ok(client.post("/api/v1/channels", json={"kind": "webchat", "name": channel_name,
                                                       "settings": {"queue_id": queue["id"]}}))
    pages: dict[str, bytes] = {}
    site, site_url = page_server(pages)
    widget = ok(client.put(f"/api/v1/channels/{channel['id']}/webchat", json={"allowed_origins": [site_url]}))
    pages["/"] = PAGE.format(center=center.url, key=widget["public_key"]).encode()
    return queue, channel, site, site_url


def visitor_writes(browser: Any, site_url: str, text: str) -> Any:
    page = browser.new_context().new_page()
    page.goto(site_url + "/")
    page.locator(".tpx-launch").click()
    page.locator("input[name=name]").fill("Ada Lovelace")
    page.locator("input[name=email]").fill("ada@example.org")
    page.locator(".tpx-start").click()
    page.locator("textarea[name=text]").fill(text)
    page.locator(".tpx-send").click()
    return page


def test_agent_accepts_a_chat_replies_with_a_canned_response_and_resolves(live_center: LiveCenter,
                                                                         chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue, _channel, site, site_url = setup_chat(live_center)
    client = admin(live_center)
    make_agent(live_center, "nora", [queue["id"]], display_name="Nora", number="2101")
    omar = make_agent(live_center, "omar", [queue["id"]], display_name="Omar", number="2102")
    ok(client.post("/api/v1/canned-responses", json={"shortcut": "ship", "title": "Shipping",
                                                     "body": "Hello {contact.name}, it ships today."}))
    solved = ok(client.post("/api/v1/dispositions", json={"code": "solved", "label": "Solved", "category": "success"}))
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, live_center, "nora")
        expect(page).to_have_url(live_center.url + "/console")
        expect(page.locator("#device-input")).to_have_value("PJSIP/2101")
        page.locator("#agent-login").click()
        expect(page.locator("#state-badge")).to_have_text("Ready")

        visitor = visitor_writes(chromium, site_url, "Where is my order?")
        offer = page.locator("#offers article")
        expect(offer).to_contain_text("New chat")
        expect(offer).to_contain_text("Web help")
        accept = offer.get_by_role("button", name="Accept")
        expect(accept).to_be_focused()  # the keyboard is where the work is: Enter takes the chat
        page.keyboard.press("Enter")
        panel = page.locator("[role=tabpanel]:not([hidden])")
        expect(panel.locator(".msg.in .text")).to_have_text(["Where is my order?"])
        expect(page.locator("#customer")).to_contain_text("Ada Lovelace")
        # Accepted: the chat is in front of the agent, and the visitor sees their message was read.
        expect(visitor.locator(".tpx-seen")).to_have_text("Seen")
        expect(visitor.locator(".tpx-in[data-status=read]")).to_have_text(["Where is my order?"])

        panel.locator("textarea[name=reply]").fill("Let me check, one moment")
        page.reload()  # an accidental reload: the tab and the half-written reply come back
        panel = page.locator("[role=tabpanel]:not([hidden])")
        expect(panel.locator("textarea[name=reply]")).to_have_value("Let me check, one moment")

        panel.locator("select[name=canned]").select_option(label="/ship — Shipping")
        panel.get_by_role("button", name="Send canned response").click()
        expect(panel.locator(".msg.out .text")).to_have_text(["Hello Ada Lovelace, it ships today."])
        expect(visitor.locator(".tpx-out")).to_have_text(["Hello Ada Lovelace, it ships today."])
        expect(panel.locator(".msg.out .status")).not_to_have_text([" · queued"])

        ok(client.post(f"/api/v1/agents/{omar['id']}/login", json={"pause_reason": "Training"}))
        target = panel.locator("select[name=target]")
        target.focus()  # the directory of colleagues, with their state now
        expect(target.locator(f"option[value='agent:{omar['id']}']")).to_have_text("Omar — Paused")

        panel.locator("textarea[name=note]").fill("Customer seemed in a hurry")
        panel.get_by_role("button", name="Add note").click()
        expect(panel.locator(".msg.note .text")).to_have_text(["Customer seemed in a hurry"])
        expect(panel.locator("textarea[name=reply]")).to_have_value("Let me check, one moment")

        conversation_id = int(page.locator("[role=tab][aria-selected=true]").get_attribute("data-interaction"))
        panel.locator("select[name=disposition]").select_option(label="Solved")
        panel.get_by_role("button", name="Resolve").click()
        expect(page.locator("[role=tab]")).to_have_count(0)
        expect(page.locator("#no-work")).to_be_visible()
        record = ok(client.get(f"/api/v1/interactions/{conversation_id}"))
        assert record["outcome"] == "resolved" and record["disposition_id"] == solved["id"]
        assert visitor.locator(".tpx-msg", has_text="hurry").count() == 0
        assert page.evaluate("Object.keys(sessionStorage).filter((k) => k.startsWith('tpx-draft:'))") == []
        assert errors == []
        context.close()
    finally:
        site.shutdown()


def test_agent_transfers_a_chat_to_a_queue_she_does_not_work_in(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    orders, _channel, site, site_url = setup_chat(live_center, "Orders chat", "Orders site chat")
    client = admin(live_center)
    billing = ok(client.post("/api/v1/queues", json={"name": "Billing", "channels": ["webchat"]}))
    ok(client.post("/api/v1/queues", json={"name": "Phone sales", "channels": ["voice"]}))
    make_agent(live_center, "pia", [orders["id"]], display_name="Pia", number="2111")
    raul = make_agent(live_center, "raul", [billing["id"]], display_name="Raul", number="2112")
    contexts = [chromium.new_context(viewport={"width": 1280, "height": 720}) for _ in range(2)]
    try:
        # Raul works billing only and is ready in his console.
        raul_page = contexts[0].new_page()
        raul_errors = watch_errors(raul_page)
        sign_in(raul_page, live_center, "raul")
        raul_page.locator("#agent-login").click()
        expect(raul_page.locator("#state-badge")).to_have_text("Ready")

        # Pia works the orders chat only; she takes a chat there.
        page = contexts[1].new_page()
        errors = watch_errors(page)
        sign_in(page, live_center, "pia")
        page.locator("#agent-login").click()
        expect(page.locator("#state-badge")).to_have_text("Ready")
        visitor_writes(chromium, site_url, "I was charged twice")
        page.locator("#offers article").get_by_role("button", name="Accept").click()
        panel = page.locator("[role=tabpanel]:not([hidden])")
        expect(panel.locator(".msg.in .text")).to_have_text(["I was charged twice"])
        conversation_id = int(page.locator("[role=tab][aria-selected=true]").get_attribute("data-interaction"))

        # The choices list billing, a queue she is not in, with Raul ready there; not a voice-only queue.
        target = panel.locator("select[name=target]")
        target.focus()
        billing_option = target.locator(f"option[value='queue:{billing['id']}']")
        expect(billing_option).to_have_text("Billing — 0 waiting, 1 ready")
        expect(target.locator("optgroup[label=Queues] option", has_text="Phone sales")).to_have_count(0)
        target.select_option(f"queue:{billing['id']}")
        panel.get_by_role("button", name="Transfer", exact=True).click()
        expect(page.locator("#tpx-toast")).to_have_text("Transferred.")
        expect(page.locator(f"#tab-{conversation_id}")).to_have_count(0)

        # The chat is billing's now: Raul's console offers it to him, in billing.
        offer = raul_page.locator(f"#offers article[data-interaction='{conversation_id}']")
        expect(offer).to_contain_text("Queue: Billing")
        offer.get_by_role("button", name="Accept").click()
        raul_panel = raul_page.locator(f"#panel-{conversation_id}")
        expect(raul_panel.locator(".msg.in .text")).to_have_text(["I was charged twice"])
        record = ok(client.get(f"/api/v1/interactions/{conversation_id}"))
        assert (record["queue_id"], record["agent_id"]) == (billing["id"], raul["id"])
        assert errors == [] and raul_errors == []
    finally:
        for context in contexts:
            context.close()
        site.shutdown()
