"""Consults and queue transfers in the console, with browser phones, against the real sandbox Asterisk.

An agent on a call consults a colleague: the colleague's console shows who consults them about which caller,
rings and answers on the browser phone; the agent goes back to the customer, who is still on the line with
them, and the colleague's console no longer shows the consult. A colleague who hangs up the consult leaves
the customer on hold, as the agent's console says; a completed consult opens the call in the colleague's
console. Then a blind transfer to a queue the agent does not work in: the call leaves the agent and rings
that queue's agent.

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


async def answered_in_browser(center: VoiceCenter, agent: AgentBrowser, caller_number: str) -> dict[str, Any]:
    """The call rings in the agent's browser and is answered there: its record."""
    offer = agent.page.locator("#offers article.offer")
    answer = offer.get_by_role("button", name="Answer")
    await answer.wait_for()
    await expect(offer).to_contain_text(caller_number)
    await answer.click()
    call = await center.latest_in_state("connected")
    await agent.page.locator(f"#panel-{call['id']}").wait_for()
    return call


async def test_a_consult_goes_back_to_the_customer_who_is_still_on_the_line(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    queue = await center.queue("5554301", wrapup_seconds=60)
    first = await center.agent(None, [queue["id"]], login=False, display_name="Ana")
    second = await center.agent(None, [queue["id"]], login=False, display_name="Bruno")
    ana = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, first))
    bruno = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, second))
    caller = None
    try:
        await ana.start_with_browser_phone()
        await center.presence_is(first["id"], "ready")
        await bruno.start_with_browser_phone()
        await center.presence_is(second["id"], "ready")
        caller = await place_call(sandbox_state, tmp_path, "5554301", caller="5550188", name="Marta Ruiz",
                                  audio=True)  # fmt: skip
        call = await answered_in_browser(center, ana, "5550188")
        panel = ana.page.locator(f"#panel-{call['id']}")

        # Ana consults Bruno, chosen in the directory: the customer waits on hold.
        target = panel.locator("select[name=target]")
        await target.focus()
        await expect(target.locator(f"option[value='agent:{second['id']}']")).to_contain_text("Bruno — Ready")
        await target.select_option(f"agent:{second['id']}")
        await panel.get_by_role("button", name="Consult first").click()
        await expect(panel.locator(".consult-status")).to_have_text("Consulting Bruno: the customer is on hold.")
        await expect(panel.get_by_role("button", name="Resume", exact=True)).to_have_attribute("aria-pressed", "true")
        assert (await center.interaction(call["id"]))["state"] == "held"

        # Bruno's console shows who consults him about which caller; his browser phone rings and he answers.
        consult = bruno.page.locator("#offers article.consult")
        await expect(consult).to_contain_text("Consult from Ana")
        await expect(consult).to_contain_text("5550188")
        await expect(consult).to_contain_text("q5554301")
        await consult.get_by_role("button", name="Answer").click()
        await expect(consult).to_contain_text("On a consult with Ana")
        await center.presence_is(second["id"], "on_call", 20)
        await expect(bruno.page.locator("#state-badge")).to_have_attribute("data-state", "on_call")
        await eventually(bruno.receives_audio, 15, "the consult's audio to reach Bruno's browser")
        assert await bruno.page.locator("[role=tab]").count() == 0  # the call is Ana's, not his

        # Back to the customer: the consult is dropped, the customer is taken off hold and still with Ana.
        await panel.get_by_role("button", name="Back to the customer").click()
        await expect(panel.locator(".consult-status")).to_have_text("Back with the customer.")
        await expect(panel.get_by_role("button", name="Complete transfer")).to_be_hidden()
        await expect(panel.get_by_role("button", name="Hold", exact=True)).to_have_attribute("aria-pressed", "false")
        await expect(ana.page.locator(f"#tab-{call['id']}")).to_have_text("Call · Marta Ruiz")
        await expect(ana.page.locator("#state-badge")).to_have_attribute("data-state", "on_call")
        record = await center.interaction(call["id"])
        assert (record["state"], record["agent_id"]) == ("connected", first["id"])
        assert caller.proc.returncode is None  # the customer has not hung up

        # Bruno's console no longer shows the consult; his phone has hung up.
        await expect(consult).to_have_count(0)
        await expect(bruno.page.locator("#tpx-toast")).to_have_text("The consult is over.")
        await expect(bruno.page.locator("#state-badge")).not_to_have_attribute("data-state", "on_call")

        # The call is still up: Ana hangs up from the console and the customer hears the BYE.
        await panel.get_by_role("button", name="Hang up").click()
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        ended = await center.ended_interaction()
        assert ended["id"] == call["id"] and ended["agent_id"] == first["id"]
        kinds = [e["kind"] for e in ended["timeline"]]
        assert kinds.index("consult_started") < kinds.index("consult_answered") < kinds.index("consult_cancelled")
        assert ended["timeline"][-1]["data"]["hung_up_by"] == "agent"
        assert ana.errors == [] and bruno.errors == []
    finally:
        if caller is not None:
            await caller.kill()
        await ana.close()
        await bruno.close()


async def consult_bruno(panel: Any, bruno: AgentBrowser, bruno_id: int) -> Any:
    """Ana consults Bruno from her call's panel and he answers on his browser phone: his consult card."""
    target = panel.locator("select[name=target]")
    await target.focus()
    await expect(target.locator(f"option[value='agent:{bruno_id}']")).to_contain_text("Bruno — Ready")
    await target.select_option(f"agent:{bruno_id}")
    await panel.get_by_role("button", name="Consult first").click()
    consult = bruno.page.locator("#offers article.consult")
    await consult.get_by_role("button", name="Answer").click()
    await expect(consult).to_contain_text("On a consult with Ana")
    return consult


async def test_a_consulted_colleague_hangs_up_then_takes_the_call_when_the_consult_is_completed(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    queue = await center.queue("5554304", wrapup_seconds=60)
    first = await center.agent(None, [queue["id"]], login=False, display_name="Ana")
    second = await center.agent(None, [queue["id"]], login=False, display_name="Bruno")
    ana = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, first))
    bruno = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, second))
    caller = None
    try:
        await ana.start_with_browser_phone()
        await center.presence_is(first["id"], "ready")
        await bruno.start_with_browser_phone()
        await center.presence_is(second["id"], "ready")
        caller = await place_call(sandbox_state, tmp_path, "5554304", caller="5550166", name="Eva Sanz")
        call = await answered_in_browser(center, ana, "5550166")
        panel = ana.page.locator(f"#panel-{call['id']}")

        # Bruno hangs up the consult from his card: Ana's console says so, the customer still on hold.
        consult = await consult_bruno(panel, bruno, second["id"])
        await consult.get_by_role("button", name="Hang up").click()
        await expect(consult).to_have_count(0)
        await expect(panel.locator(".consult-status")).to_have_text(
            "The consult has ended; the customer is still on hold: press Resume to talk to them.")
        await expect(panel.get_by_role("button", name="Complete transfer")).to_be_hidden()
        assert (await center.interaction(call["id"]))["state"] == "held"
        await panel.get_by_role("button", name="Resume", exact=True).click()
        await expect(panel.get_by_role("button", name="Hold", exact=True)).to_have_attribute("aria-pressed", "false")
        assert (await center.interaction(call["id"]))["state"] == "connected"

        # Bruno ends his wrap-up of the consult; Ana consults him again and hands the customer over.
        await center.presence_is(second["id"], "wrap_up")
        await bruno.page.locator("#btn-wrapup-end").click()
        await expect(bruno.page.locator("#state-badge")).to_have_attribute("data-state", "ready")
        consult = await consult_bruno(panel, bruno, second["id"])
        await panel.get_by_role("button", name="Complete transfer").click()

        async def with_bruno() -> dict[str, Any] | None:
            i = await center.interaction(call["id"])
            return i if i["state"] == "connected" and i["agent_id"] == second["id"] else None

        await eventually(with_bruno, 20, "the call to be Bruno's")
        await panel.wait_for(state="detached")  # gone from Ana's console, there in Bruno's
        await expect(consult).to_have_count(0)
        bruno_panel = bruno.page.locator(f"#panel-{call['id']}")
        await expect(bruno.page.locator(f"#tab-{call['id']}")).to_have_text("Call · Eva Sanz")
        await bruno_panel.get_by_role("button", name="Hang up").click()
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        ended = await center.ended_interaction()
        assert ended["id"] == call["id"] and ended["agent_id"] == second["id"]
        assert ana.errors == [] and bruno.errors == []
    finally:
        if caller is not None:
            await caller.kill()
        await ana.close()
        await bruno.close()


async def test_a_blind_transfer_to_a_queue_rings_that_queues_agent(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    sales = await center.queue("5554302", wrapup_seconds=60)
    billing = await center.queue("5554303", wrapup_seconds=0)
    # Ana works sales only, Bruno billing only: an agent transfers to any queue of the center.
    first = await center.agent(None, [sales["id"]], login=False, display_name="Ana")
    second = await center.agent(None, [billing["id"]], login=False, display_name="Bruno")
    ana = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, first))
    bruno = await AgentBrowser.sign_in(chromium, base_url, await username_of(center, second))
    caller = None
    try:
        await ana.start_with_browser_phone()
        await center.presence_is(first["id"], "ready")
        await bruno.start_with_browser_phone()
        await center.presence_is(second["id"], "ready")
        caller = await place_call(sandbox_state, tmp_path, "5554302", caller="5550199", name="Luis Gil")
        call = await answered_in_browser(center, ana, "5550199")
        assert call["agent_id"] == first["id"]
        panel = ana.page.locator(f"#panel-{call['id']}")

        # The choices list billing, which Ana does not work in, with Bruno ready there.
        target = panel.locator("select[name=target]")
        await target.focus()
        await expect(target.locator("optgroup[label=Queues] option")).to_have_text(
            ["q5554302 — 0 waiting, 0 ready", "q5554303 — 0 waiting, 1 ready"])
        await target.select_option(f"queue:{billing['id']}")
        await panel.get_by_role("button", name="Transfer now").click()

        # The call leaves Ana (her tab goes, she is in wrap-up) and rings Bruno, billing's agent.
        await panel.wait_for(state="detached")
        await center.presence_is(first["id"], "wrap_up")
        await expect(ana.page.locator("#state-badge")).to_have_attribute("data-state", "wrap_up")
        offer = bruno.page.locator("#offers article.offer")
        await expect(offer).to_contain_text("5550199")
        await expect(offer).to_contain_text("q5554303")
        await offer.get_by_role("button", name="Answer").click()

        async def with_bruno() -> dict[str, Any] | None:
            i = await center.interaction(call["id"])
            return i if i["state"] == "connected" and i["agent_id"] == second["id"] else None

        record = await eventually(with_bruno, 20, "the call to be connected to Bruno")
        assert record["queue_id"] == billing["id"]
        bruno_panel = bruno.page.locator(f"#panel-{call['id']}")
        await expect(bruno_panel).to_contain_text("Queue: q5554303")
        await expect(bruno.page.locator("#state-badge")).to_have_attribute("data-state", "on_call")

        await bruno_panel.get_by_role("button", name="Hang up").click()
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        ended = await center.ended_interaction()
        transferred = [e for e in ended["timeline"] if e["kind"] == "transferred"]
        assert [e["data"]["to"] for e in transferred] == [{"kind": "queue", "queue_id": billing["id"]}]
        assert ana.errors == [] and bruno.errors == []
    finally:
        if caller is not None:
            await caller.kill()
        await ana.close()
        await bruno.close()
