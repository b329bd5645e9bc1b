"""Calls in the agent console against the real sandbox Asterisk: a SIPp customer dials the queue's number, the
offer rings in the console of an agent in console answer mode, who answers, holds and resumes, sends a key,
transfers the caller to a colleague and ends the wrap-up; and a call the customer ends cannot leave wrap-up
before the agent saves its disposition.

Skipped outside CI where the sandbox or chromium is missing (the fixtures of phone_harness.py decide)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from teleplex.voice.sandbox import SandboxState
from phone_harness import (  # noqa: F401 - fixtures
    base_url,
    center,
    asterisk_sandbox,
    chromium,
    sandbox_state,
    sandbox_var_dir,
    served,
    start_sandbox,
)
from voice_harness import ANSWERS, VoiceCenter, eventually, place_call

pytestmark = pytest.mark.asterisk


async def console_of(browser: Any, base_url: str, username: str) -> tuple[Any, list[str]]:
    """The agent's console, signed in through the login page."""
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(base_url + "/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill("password-123")
    await page.locator("#login-form button[type=submit]").click()
    await page.wait_for_url(lambda url: url.endswith("/console"))
    return page, errors


async def username_of(center: VoiceCenter, agent: dict[str, Any]) -> str:
    return (await center.get(f"users/{agent['user_id']}")).json()["username"]


async def test_a_call_is_answered_held_keyed_transferred_and_wrapped_up_from_the_console(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    queue = await center.queue("5554101", wrapup_seconds=120)
    # With dispositions to choose, a call transferred away still lets its first agent end the wrap-up.
    await center.create("dispositions", {"code": "sale", "label": "Sale made", "category": "success"})
    first = await center.agent(ANSWERS, [queue["id"]], login=False, answer_mode="console", display_name="Ana")
    second = await center.agent(ANSWERS, [queue["id"]], login=False, display_name="Bruno")
    page, errors = await console_of(chromium, base_url, await username_of(center, first))

    # Log in from the console with the profile's device: the agent is ready at once.
    await expect(page.locator("#device-input")).to_have_value(ANSWERS)
    await page.locator("#agent-login").click()
    await page.locator("#state-badge[data-state=ready]").wait_for()
    await center.presence_is(first["id"], "ready")

    caller = await place_call(sandbox_state, tmp_path, "5554101", caller="5550188", name="Marta Ruiz", audio=True)
    try:
        offer = page.locator("#offers article.offer")
        await offer.wait_for()
        assert "Incoming call" in await offer.inner_text()
        assert "5550188" in await offer.inner_text()
        await offer.get_by_role("button", name="Answer").click()
        call = await center.latest_in_state("connected")
        assert call["agent_id"] == first["id"]

        panel = page.locator(f"#panel-{call['id']}")
        await panel.wait_for()
        assert "Marta Ruiz" in await page.locator(f"#tab-{call['id']}").inner_text()
        assert await page.locator("#state-badge").get_attribute("data-state") == "on_call"

        hold = panel.get_by_role("button", name="Hold", exact=True)
        await hold.click()
        resume = panel.get_by_role("button", name="Resume", exact=True)
        await resume.wait_for()
        assert await resume.get_attribute("aria-pressed") == "true"
        assert (await center.interaction(call["id"]))["state"] == "held"
        if os.environ.get("TELEPLEX_SCREENSHOT_DIR"):  # docs/screenshots/console-call.png (see docs/web.md)
            await page.screenshot(path=Path(os.environ["TELEPLEX_SCREENSHOT_DIR"]) / "console-call.png")
        await resume.click()
        await panel.get_by_role("button", name="Hold", exact=True).wait_for()
        assert (await center.interaction(call["id"]))["state"] == "connected"

        async with page.expect_response(lambda r: r.url.endswith(f"/interactions/{call['id']}/dtmf")) as sent:
            await panel.locator(".keypad").get_by_role("button", name="5", exact=True).click()
        assert (await sent.value).status == 204

        # Bruno becomes ready; the directory offers him with his state, and the call goes to him.
        r = await center.post(f"agents/{second['id']}/login", {})
        assert r.status_code == 200, r.text
        target = panel.locator("select[name=target]")
        await target.focus()
        option = target.locator(f"option[value='agent:{second['id']}']")
        await eventually(lambda: _text_has(option, "Ready"), 10, "Bruno to show as ready")
        await target.select_option(f"agent:{second['id']}")
        await panel.get_by_role("button", name="Transfer now").click()

        async def with_bruno() -> dict[str, Any] | None:
            i = await center.interaction(call["id"])
            return i if i["state"] == "connected" and i["agent_id"] == second["id"] else None

        await eventually(with_bruno, 20, "the call to reach Bruno")

        # The call is Bruno's now: Ana's tab goes (its drafts with it) and her wrap-up ends from the state bar.
        await page.locator(f"#panel-{call['id']}").wait_for(state="detached")
        await center.presence_is(first["id"], "wrap_up")
        await page.locator("#btn-wrapup-end").click()
        await center.presence_is(first["id"], "ready")
        await page.locator("#state-badge[data-state=ready]").wait_for()
        kinds = [e["kind"] for e in (await center.interaction(call["id"]))["timeline"]]
        assert kinds.index("held") < kinds.index("unheld") < kinds.index("transferred")
        assert errors == []
    finally:
        await caller.kill()
        await page.context.close()


async def test_the_wrap_up_of_a_call_needs_its_disposition_before_it_ends(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    queue = await center.queue("5554102", wrapup_seconds=120)
    sale = await center.create("dispositions", {"code": "sale", "label": "Sale made", "category": "success"})
    agent = await center.agent(ANSWERS, [queue["id"]], login=False, answer_mode="console")
    page, errors = await console_of(chromium, base_url, await username_of(center, agent))
    await expect(page.locator("#device-input")).to_have_value(ANSWERS)
    await page.locator("#agent-login").click()
    await page.locator("#state-badge[data-state=ready]").wait_for()

    caller = await place_call(sandbox_state, tmp_path, "5554102", caller="5550199", hang_up_after_ms=3000)
    try:
        await page.locator("#offers").get_by_role("button", name="Answer").click()
        call = await center.latest_in_state("connected")
        tab = page.locator(f"#tab-{call['id']}")
        await tab.wait_for()
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        await expect(tab).to_contain_text("(ended)")
        await center.presence_is(agent["id"], "wrap_up")

        end = page.locator("#btn-wrapup-end")
        await end.click()
        await page.get_by_text("Choose and save a disposition").wait_for()
        assert (await center.presence(agent["id"]))["state"] == "wrap_up"

        panel = page.locator(f"#panel-{call['id']}")
        await panel.locator("select[name=disposition]").select_option(str(sale["id"]))
        await panel.locator("textarea[name=notes]").fill("Wants the yearly plan")
        await panel.get_by_role("button", name="Save", exact=True).click()
        await panel.get_by_text("Saved.").wait_for()
        await end.click()
        await center.presence_is(agent["id"], "ready")
        await page.locator("#state-badge[data-state=ready]").wait_for()
        record = await center.interaction(call["id"])
        assert record["disposition_id"] == sale["id"] and record["notes"] == "Wants the yearly plan"
        assert errors == []
    finally:
        await caller.kill()
        await page.context.close()


async def test_a_consult_is_completed_from_the_console(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    queue = await center.queue("5554103", wrapup_seconds=0)
    first = await center.agent(ANSWERS, [queue["id"]], login=False, answer_mode="console")
    second = await center.agent(ANSWERS, [queue["id"]], login=False, display_name="Bruno")
    page, errors = await console_of(chromium, base_url, await username_of(center, first))
    await expect(page.locator("#device-input")).to_have_value(ANSWERS)
    await page.locator("#agent-login").click()
    await page.locator("#state-badge[data-state=ready]").wait_for()

    caller = await place_call(sandbox_state, tmp_path, "5554103", caller="5550177", audio=True)
    try:
        await page.locator("#offers").get_by_role("button", name="Answer").click()
        call = await center.latest_in_state("connected")
        panel = page.locator(f"#panel-{call['id']}")
        await panel.wait_for()
        r = await center.post(f"agents/{second['id']}/login", {})
        assert r.status_code == 200, r.text
        target = panel.locator("select[name=target]")
        await target.focus()
        option = target.locator(f"option[value='agent:{second['id']}']")
        await eventually(lambda: _text_has(option, "Ready"), 10, "Bruno to show as ready")
        await target.select_option(f"agent:{second['id']}")
        await panel.get_by_role("button", name="Consult first").click()
        complete = panel.get_by_role("button", name="Complete transfer")
        await complete.wait_for()
        await center.presence_is(second["id"], "on_call", 20)
        assert (await center.interaction(call["id"]))["state"] == "held"
        await complete.click()

        async def with_bruno() -> dict[str, Any] | None:
            i = await center.interaction(call["id"])
            return i if i["state"] == "connected" and i["agent_id"] == second["id"] else None

        await eventually(with_bruno, 20, "the call to reach Bruno")
        await panel.wait_for(state="detached")
        assert errors == []
    finally:
        await caller.kill()
        await page.context.close()


async def _text_has(locator: Any, text: str) -> bool:
    return await locator.count() > 0 and text in await locator.inner_text()
