"""A supervisor monitors a live call from the wallboard with their own browser phone, against the real sandbox
Asterisk: they start the browser phone on the wallboard (it becomes their monitoring device), a SIPp customer
talks with an agent, and Listen rings the browser phone, which answers by itself (the supervisor asked for
it): Asterisk bridges the supervisor with the snoop on the agent's leg and audio reaches the browser over
DTLS-SRTP. They hang up, whisper, hang up, barge in (joining the call's own bridge), and when the call is hung
up the supervision ends with it: the wallboard's monitoring line goes and Asterisk keeps no snoop, monitoring
leg or bridge.

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
from voice_harness import ANSWERS, VoiceCenter, eventually, place_call

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


async def supervisor(center: VoiceCenter, queue_id: int) -> dict[str, Any]:
    """A supervisor of the queue, with no agent profile: the monitoring phone is the user's own."""
    return await center.create("users", {
        "username": "sofia", "password": "password-123", "display_name": "Sofía", "roles": ["supervisor"],
        "supervised_queue_ids": [queue_id]})  # fmt: skip


async def test_a_supervisor_listens_whispers_and_barges_with_the_browser_phone_until_the_call_ends(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path: Any
) -> None:
    queue = await center.queue("5554301")
    agent = await center.agent(ANSWERS, [queue["id"]], display_name="Ana")
    sofia_user = await supervisor(center, queue["id"])
    ari = center.app.state.engine.handlers["voice"].ari
    sofia = await AgentBrowser.sign_in(chromium, base_url, "sofia", lands_on="/wallboard")
    page = sofia.page
    caller = None
    try:
        await page.goto(base_url + "/wallboard")
        await page.get_by_role("button", name="Use the browser phone").click()
        await expect(page.locator("#monitor-phone-state")).to_have_text("Phone: ready")
        await expect(page.locator("#monitor-device")).to_have_value(f"PJSIP/tpx-web-u{sofia_user['id']}")
        await expect(page.get_by_role("button", name="Use the browser phone")).to_be_hidden()

        caller = await place_call(sandbox_state, tmp_path, "5554301", caller="5550166", audio=True)
        call = await center.latest_in_state("connected")
        assert call["agent_id"] == agent["id"]
        row = page.locator(f"#agents tr[data-agent-id='{agent['id']}']")
        await expect(row).to_contain_text(f"#{call['id']}")
        await expect(row.locator(".badge")).to_have_text("On a call")
        monitoring = page.locator("#monitor-call")

        async def bridged_with_snoop() -> dict[str, Any] | None:
            for b in await ari.bridges():
                chans = b["channels"]
                if b["id"].startswith(f"tpx-mon-{call['id']}-") and len(chans) == 2 \
                        and any(c.startswith("tpx-snoop-") for c in chans) \
                        and any(c.startswith("tpx-monitor-") for c in chans):
                    return b
            return None

        # Listen: the browser phone rings and answers by itself; Asterisk bridges it with the snoop.
        await row.get_by_role("button", name="Listen").click()
        await expect(monitoring).to_contain_text(f"Listen: interaction #{call['id']}")
        await expect(page.locator("#tpx-toast")).to_have_text("Listen: your phone will ring.")
        await eventually(bridged_with_snoop, 15, "the supervisor's browser to be bridged with the snoop")
        await eventually(sofia.receives_audio, 15, "the snooped audio to reach the supervisor")
        assert (await center.interaction(call["id"]))["state"] == "connected"  # the customer noticed nothing

        async def monitoring_legs() -> list[str]:
            return [c["id"] for c in await ari.channels() if c["id"].startswith("tpx-monitor-")]

        async def no_monitoring_leg() -> bool:
            return not await monitoring_legs()

        # The supervisor hangs up from the wallboard, then whispers (a second snoop, bridged the same way).
        await monitoring.get_by_role("button", name="Hang up").click()
        await expect(monitoring).to_be_hidden()
        await eventually(no_monitoring_leg, 10, "the supervisor's leg to end")
        await row.get_by_role("button", name="Whisper").click()
        await expect(monitoring).to_contain_text(f"Whisper: interaction #{call['id']}")
        await eventually(bridged_with_snoop, 15, "the whispering supervisor to be bridged with a snoop")
        await monitoring.get_by_role("button", name="Hang up").click()
        await expect(monitoring).to_be_hidden()
        await eventually(no_monitoring_leg, 10, "the supervisor's leg to end")

        # Barge in: the supervisor joins the call's own bridge with the customer and the agent.
        await row.get_by_role("button", name="Barge in").click()
        await expect(monitoring).to_contain_text(f"Barge in: interaction #{call['id']}")

        async def three_in_call() -> dict[str, Any] | None:
            for b in await ari.bridges():
                chans = b["channels"]
                if b["id"].startswith(f"tpx-call-{call['id']}-") and len(chans) == 3 \
                        and any(c.startswith("tpx-monitor-") for c in chans):
                    return b
            return None

        await eventually(three_in_call, 15, "the supervisor to join the call's bridge")

        # The call is hung up: the supervision ends with it, in the browser and in Asterisk.
        await center.do(call["id"], "hangup")
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        await expect(monitoring).to_be_hidden()

        async def all_gone() -> bool:
            channels = [c["id"] for c in await ari.channels()]
            bridges = [b["id"] for b in await ari.bridges()]
            left = [c for c in channels if c.startswith(("tpx-snoop-", "tpx-monitor-"))]
            return not left and not any(b.startswith("tpx-mon-") for b in bridges)

        await eventually(all_gone, 10, "the snoops, monitoring legs and bridges to end with the call")
        kinds = [e["kind"] for e in (await center.interaction(call["id"]))["timeline"]]
        modes = [k for k in kinds if k.startswith("supervisor_")]
        assert modes == ["supervisor_listen", "supervisor_whisper", "supervisor_barge"]
        await expect(row.locator(".badge")).not_to_have_text("On a call")
        assert sofia.errors == []
    finally:
        if caller is not None:
            await caller.kill()
        await sofia.close()
