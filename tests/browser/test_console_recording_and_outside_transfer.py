"""From the console's call panel, against the real sandbox Asterisk: the agent pauses and resumes the call's
recording (e.g. while the customer reads a card number), then transfers the customer to a number outside the
center, where a SIPp phone behind the sandbox's carrier trunk answers. The customer stays connected to the
outside party; the agent's tab shows the call ended and the server records it as transferred to that number.

Skipped outside CI where the sandbox or chromium is missing (the fixtures of phone_harness.py decide)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import expect

from teleplex.core.db import Database
from teleplex.voice.ari import AriNotFound
from phone_harness import (  # noqa: F401 - fixtures
    asterisk_sandbox,
    chromium,
    sandbox_state,
    sandbox_var_dir,
    served,
    start_sandbox,
)
from test_console_voice import console_of, username_of
from test_voice_outside import OutsideParty
from voice_harness import ANSWERS, VoiceCenter, eventually, free_udp_port, place_call, running_center

pytestmark = [pytest.mark.asterisk, pytest.mark.browser]


@pytest.fixture(scope="module")
def outside_port() -> int:
    return free_udp_port()


@pytest.fixture(scope="module")
def outside_sandbox(start_sandbox, outside_port):  # noqa: ANN001, ANN201 - as in tests/integration
    """A sandbox of its own whose carrier trunk leads to the outside party's port."""
    return start_sandbox("console-outside", carrier_contact=f"sip:127.0.0.1:{outside_port}").read_state()


@pytest.fixture
async def world(outside_sandbox, clean_database: Database, outside_port: int,
                tmp_path: Any) -> AsyncIterator[tuple[VoiceCenter, OutsideParty]]:  # fmt: skip
    party = OutsideParty(outside_port, tmp_path)
    await party.start()
    try:
        async with running_center(outside_sandbox, clean_database) as center:
            yield center, party
    finally:
        await party.kill()


async def test_recording_is_paused_and_resumed_then_the_call_goes_to_an_outside_number(
    world: tuple[VoiceCenter, OutsideParty], outside_sandbox: Any, chromium: Any, tmp_path: Any
) -> None:
    center, party = world
    queue = await center.queue("5554401", recording=True)
    agent = await center.agent(ANSWERS, [queue["id"]], login=False, answer_mode="console")
    caller = None
    async with served(center) as base_url:
        page, errors = await console_of(chromium, base_url, await username_of(center, agent))
        try:
            await expect(page.locator("#device-input")).to_have_value(ANSWERS)
            await page.locator("#agent-login").click()
            await page.locator("#state-badge[data-state=ready]").wait_for()
            caller = await place_call(outside_sandbox, tmp_path, "5554401", caller="5550144", audio=True)
            await page.locator("#offers").get_by_role("button", name="Answer").click()
            call = await center.latest_in_state("connected")
            panel = page.locator(f"#panel-{call['id']}")
            await panel.wait_for()

            async def timeline_has(kind: str) -> bool:
                return kind in [e["kind"] for e in (await center.interaction(call["id"]))["timeline"]]

            toast = page.locator("#tpx-toast")
            assert await eventually(lambda: timeline_has("recording_started"), 10, "the recording to start")
            await panel.get_by_role("button", name="Pause recording").click()
            await expect(toast).to_have_text("Recording paused.")
            assert await timeline_has("recording_paused")
            await panel.get_by_role("button", name="Resume recording").click()
            await expect(toast).to_have_text("Recording resumed.")
            assert await timeline_has("recording_resumed")

            await panel.locator("select[name=kind]").select_option("number")
            number = panel.get_by_role("textbox", name="Number")
            await expect(number).to_be_visible()
            await expect(panel.locator("select[name=target]")).to_be_hidden()
            await number.fill("5557000")
            await panel.get_by_role("button", name="Transfer now").click()

            done = await center.ended_interaction()
            assert done["id"] == call["id"] and done["outcome"] == "transferred"
            assert done["timeline"][-1]["data"]["target"] == {"kind": "number", "number": "5557000"}
            await expect(page.locator(f"#tab-{call['id']}")).to_contain_text("(ended)")
            await center.presence_is(agent["id"], "ready")
            await expect(page.locator("#state-badge")).to_have_attribute("data-state", "ready")

            ari = center.app.state.engine.handlers["voice"].ari

            async def outside_leg_up() -> list[dict[str, Any]] | None:
                legs = [c for c in await ari.channels()
                        if c["name"].startswith("PJSIP/carrier-") and c["state"] == "Up"]  # fmt: skip
                return legs if len(legs) == 2 else None  # the customer's leg and the one to the outside party

            legs = await eventually(outside_leg_up, 15, "the customer to be connected to the outside number")
            assert any(c["dialplan"]["context"] == "teleplex-outbound" for c in legs)
            try:
                await ari.hangup(legs[0]["id"])  # the other leg goes with it
            except AriNotFound:
                pass
            code, out = await caller.finished()
            assert code == 0, out[-1500:]
            assert await party.finished() == 0
            assert errors == []
        finally:
            if caller is not None:
                await caller.kill()
            await page.context.close()
