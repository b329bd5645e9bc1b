"""The console's "My day" panel: an agent who paused and then resolved a web chat sees, without reloading,
one conversation resolved and their time in pause by reason."""

from __future__ import annotations

import re
from typing import Any

import pytest
from console_harness import LiveCenter, admin, live_center, make_agent, ok, sign_in, watch_errors  # noqa: F401
from test_console_chat import setup_chat, visitor_writes

pytestmark = pytest.mark.browser


def test_my_day_shows_the_chat_resolved_and_the_pause(live_center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue, _channel, site, site_url = setup_chat(live_center)
    dana = make_agent(live_center, "dana", [queue["id"]], display_name="Dana", number="2301")
    ok(admin(live_center).post(f"/api/v1/agents/{dana['id']}/login", json={"pause_reason": "Break"}))
    try:
        context = chromium.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, live_center, "dana")
        day = page.locator("#my-day")
        expect(day.locator("[data-figure=handled]")).to_have_text("0")  # nothing handled yet today
        page.locator("#btn-ready").click()
        expect(page.locator("#state-badge")).to_have_text("Ready")

        visitor_writes(chromium, site_url, "Do you ship to Quito?")
        page.locator("#offers article").get_by_role("button", name="Accept").click()
        panel = page.locator("[role=tabpanel]:not([hidden])")
        expect(panel.locator(".msg.in .text")).to_have_text(["Do you ship to Quito?"])
        panel.get_by_role("button", name="Resolve").click()
        expect(page.locator("[role=tab]")).to_have_count(0)

        # refreshed by the conversation's end, not by a reload
        resolved = day.locator("[data-figure=handled-webchat]")
        expect(resolved).to_have_text("1")
        expect(day.locator("dt", has_text="Conversations resolved (Web chat)")).to_be_visible()
        expect(day.locator("dt", has_text="Pause: Break")).to_be_visible()
        expect(day.locator("[data-figure=pause-Break]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        expect(day.locator("[data-figure=pause]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
        expect(day.locator("[data-figure=missed]")).to_have_text("0")
        assert errors == []
        context.close()
    finally:
        site.shutdown()
