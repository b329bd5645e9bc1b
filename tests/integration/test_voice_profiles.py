"""A customer's call and their WhatsApp conversation meet on one profile, whichever came first."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from fakes.harness import APP_SECRET, CHANNELS, fixture_bytes
from teleplex.messaging.providers import whatsapp
from voice_harness import ANSWERS, eventually, place_call, running_center

pytestmark = pytest.mark.asterisk


async def test_a_whatsapp_customer_who_calls_lands_on_the_same_profile(sandbox_state, clean_database, tmp_path):
    async with running_center(sandbox_state, clean_database, credentials_key=SecretStr("profiles-test"),
                              var_dir=tmp_path) as center:  # fmt: skip
        queue = await center.create("queues", {"name": "front", "channels": ["voice", "whatsapp"],
                                                "dids": ["5555001"], "wrapup_seconds": 0})  # fmt: skip
        await center.agent(ANSWERS, [queue["id"]])
        channel = await center.create("channels", {**CHANNELS["whatsapp"], "settings": {
            **CHANNELS["whatsapp"]["settings"], "queue_id": queue["id"]}})  # fmt: skip
        body = fixture_bytes("whatsapp", "text")  # from wa_id 16505551234, "Sheena Nelson"
        r = await center.client.post(f"/webhooks/whatsapp/{channel['id']}", content=body, headers={
            "content-type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(APP_SECRET, body)})
        assert r.status_code == 200

        async def conversation():
            items = [i for i in await center.interactions() if i["channel"] == "whatsapp"]
            return items[0] if items and items[0]["contact_id"] else None

        chat = await eventually(conversation, what="the WhatsApp conversation with its profile")
        caller = await place_call(sandbox_state, tmp_path, "5555001", caller="16505551234", hang_up_after_ms=1500)
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        call = await center.ended_interaction()
        assert call["channel"] == "voice" and call["outcome"] == "answered"
        assert call["contact_id"] == chat["contact_id"]
        timeline = (await center.get(f"contacts/{chat['contact_id']}/timeline")).json()
        channels = sorted(entry["channel"] for entry in timeline["items"])
        assert channels == ["voice", "whatsapp"]
