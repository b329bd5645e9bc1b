"""Calls answered on the console's browser phone against the real sandbox Asterisk: two agents log in with the
browser phone as their device (each in a browser of their own), a SIPp customer dials the queue's number, the
call rings in the first agent's browser, who answers there, holds and resumes, mutes and unmutes the
microphone, saves a disposition and transfers the caller to the second agent, whose browser rings and answers;
the first agent ends the wrap-up, the second hangs up from the browser.

What is asserted is what the agents see (the ringing offer, the state badge, the call's panel and tab, the
microphone's track) and what the server records (the interaction's state and agent, the agents' presence).
Skipped outside CI where the sandbox or chromium is missing (the fixtures of phone_harness.py decide)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from teleplex.voice.sandbox import SandboxState
from phone_harness import (  # noqa: F401 - fixtures
    base_url,
    center,
    AgentBrowser,
    asterisk_sandbox,
    chromium,
    sandbox_state,
    sandbox_var_dir,
    served,
    start_sandbox,
)
from voice_harness import VoiceCenter, eventually, place_call

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]

async def username_of(center: VoiceCenter, agent: dict[str, Any]) -> str:
    return (await center.get(f"users/{agent['user_id']}")).json()["username"]


async def test_a_call_rings_in_the_browser_is_answered_held_muted_and_transferred_to_a_browser_colleague(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    queue = await center.queue("5554201", wrapup_seconds=120)
    sale = await center.create("dispositions", {"code": "sale", "label": "Sale made", "category": "success"})
    first = await center.agent(None, [queue["id"]], login=False, display_name="Ana")
    second = await center.agent(None, [queue["id"]], login=False, display_name="Bruno")
    ana = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, first))
    bruno = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, second))
    caller = None
    try:
        await ana.start_with_browser_phone()
        presence = await center.presence_is(first["id"], "ready")
        assert presence["device"] == f"PJSIP/tpx-web-{first['id']}"
        await bruno.start_with_browser_phone()
        await center.presence_is(second["id"], "ready")

        caller = await place_call(sandbox_state, tmp_path, "5554201", caller="5550188", name="Marta Ruiz",
                                  audio=True)  # fmt: skip
        # It rings in Ana's browser: the offer names the caller and the queue, and answers on the browser phone
        offer = ana.page.locator("#offers article.offer")
        answer = offer.get_by_role("button", name="Answer")
        await answer.wait_for()
        await expect(offer).to_contain_text("Incoming call")
        await expect(offer).to_contain_text("5550188")
        await expect(offer).to_contain_text("q5554201")
        await expect(ana.page.locator("#tpx-toast")).to_have_text("Your phone is ringing: 5550188")
        assert (await center.presence(first["id"]))["state"] == "ringing"
        await answer.click()

        call = await center.latest_in_state("connected")
        assert call["agent_id"] == first["id"] and call["answered_at"] is not None
        panel = ana.page.locator(f"#panel-{call['id']}")
        await panel.wait_for()
        await expect(offer).to_have_count(0)
        await expect(ana.page.locator(f"#tab-{call['id']}")).to_contain_text("Marta Ruiz")
        await expect(ana.page.locator("#state-badge")).to_have_attribute("data-state", "on_call")
        await eventually(ana.receives_audio, 15, "the call's audio to reach Ana's browser")

        await panel.get_by_role("button", name="Hold", exact=True).click()
        resume = panel.get_by_role("button", name="Resume", exact=True)
        await expect(resume).to_have_attribute("aria-pressed", "true")
        assert (await center.interaction(call["id"]))["state"] == "held"
        await resume.click()
        hold = panel.get_by_role("button", name="Hold", exact=True)
        await expect(hold).to_have_attribute("aria-pressed", "false")
        assert (await center.interaction(call["id"]))["state"] == "connected"

        assert await ana.microphone_on()
        await panel.get_by_role("button", name="Mute", exact=True).click()
        unmute = panel.get_by_role("button", name="Unmute", exact=True)
        await expect(unmute).to_have_attribute("aria-pressed", "true")
        assert not await ana.microphone_on()
        await unmute.click()
        mute = panel.get_by_role("button", name="Mute", exact=True)
        await expect(mute).to_have_attribute("aria-pressed", "false")
        assert await ana.microphone_on()

        await panel.locator("select[name=disposition]").select_option(str(sale["id"]))
        await panel.locator("textarea[name=notes]").fill("Wants the yearly plan")
        await panel.get_by_role("button", name="Save", exact=True).click()
        await panel.get_by_text("Saved.").wait_for()

        # A blind transfer to Bruno, picked from the directory where he shows as ready.
        target = panel.locator("select[name=target]")
        await target.focus()
        option = target.locator(f"option[value='agent:{second['id']}']")
        await expect(option).to_contain_text("Bruno — Ready")
        await target.select_option(f"agent:{second['id']}")
        await panel.get_by_role("button", name="Transfer now").click()

        # Bruno's browser rings with the same customer; Ana's tab goes and she is in wrap-up.
        offered = bruno.page.locator("#offers article.offer")
        bruno_answer = offered.get_by_role("button", name="Answer")
        await bruno_answer.wait_for()
        await expect(offered).to_contain_text("5550188")
        await expect(bruno.page.locator("#tpx-toast")).to_have_text("Your phone is ringing: 5550188")
        await panel.wait_for(state="detached")
        await center.presence_is(first["id"], "wrap_up")
        await expect(ana.page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
        await bruno_answer.click()

        async def with_bruno() -> dict[str, Any] | None:
            i = await center.interaction(call["id"])
            return i if i["state"] == "connected" and i["agent_id"] == second["id"] else None

        await eventually(with_bruno, 20, "the call to be connected to Bruno")
        bruno_panel = bruno.page.locator(f"#panel-{call['id']}")
        await bruno_panel.wait_for()
        await expect(bruno.page.locator("#state-badge")).to_have_attribute("data-state", "on_call")
        await expect(bruno_panel.locator("select[name=disposition]")).to_have_value(str(sale["id"]))
        await eventually(bruno.receives_audio, 15, "the call's audio to reach Bruno's browser")

        # Ana's disposition is saved, so her wrap-up ends from the state bar.
        await ana.page.locator("#btn-wrapup-end").click()
        await expect(ana.page.locator("#state-badge")).to_have_attribute("data-state", "ready")
        await center.presence_is(first["id"], "ready")

        # Bruno hangs up from the browser; the customer hears the BYE and his wrap-up ends too.
        await bruno_panel.get_by_role("button", name="Hang up").click()
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        await expect(bruno.page.locator(f"#tab-{call['id']}")).to_contain_text("(ended)")
        ended = await center.ended_interaction()
        assert ended["id"] == call["id"] and ended["agent_id"] == second["id"]
        assert ended["disposition_id"] == sale["id"] and ended["notes"] == "Wants the yearly plan"
        kinds = [e["kind"] for e in ended["timeline"]]
        assert kinds.index("held") < kinds.index("unheld") < kinds.index("transferred")
        assert ended["timeline"][-1]["data"]["hung_up_by"] == "agent"
        await center.presence_is(second["id"], "wrap_up")
        await bruno.page.locator("#btn-wrapup-end").click()
        await expect(bruno.page.locator("#state-badge")).to_have_attribute("data-state", "ready")
        assert ana.errors == [] and bruno.errors == []
    finally:
        if caller is not None:
            await caller.kill()
        await ana.close()
        await bruno.close()
