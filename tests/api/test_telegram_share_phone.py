"""Telegram's share-phone button: the agent asks, the customer taps, and their profile gains the number."""

from __future__ import annotations

from test_receipts import _agent_on, _assigned, center  # noqa: F401 - fixtures and helpers

from fakes.harness import CHANNELS, bot, bot_server, fixture_bytes, graph, graph_server, twilio, twilio_server  # noqa: F401


async def _telegram(c, channel_id: int, name: str) -> None:
    r = await c.client.post(f"/webhooks/telegram/{channel_id}", content=fixture_bytes("telegram", name),
                            headers={"content-type": "application/json",
                                     "X-Telegram-Bot-Api-Secret-Token": CHANNELS["telegram"]["credentials"]["secret_token"]})  # fmt: skip
    assert r.status_code == 200, r.text


async def test_the_agent_asks_for_the_phone_and_the_shared_contact_lands_on_the_profile(center, bot) -> None:  # noqa: F811
    _, _, me, channel = await _agent_on(center, "telegram", "telegram")
    await _telegram(center, channel["id"], "text")
    chat = await _assigned(center, "telegram")
    r = await center.post(f"conversations/{chat['id']}/reply",
                          {"text": "May we have your number?", "ask_phone": "Share my number"}, me)  # fmt: skip
    assert r.status_code == 201, r.text

    async def sent() -> dict | None:
        return next((m for m in bot.sent if m["method"] == "sendMessage"), None)

    message = await center.until(sent, "the question to reach Telegram")
    assert message["text"] == "May we have your number?"
    assert message["reply_markup"]["keyboard"] == [[{"text": "Share my number", "request_contact": True}]]
    assert message["reply_markup"]["one_time_keyboard"] is True

    await _telegram(center, channel["id"], "contact_own")  # the customer taps the button

    async def linked() -> dict | None:
        found = (await center.get("contacts", q="+593991234567")).json()["items"]
        if len(found) != 1:
            return None
        detail = (await center.get(f"contacts/{found[0]['id']}")).json()
        return detail if "phone" in {i["kind"] for i in detail["identities"]} else None

    detail = await center.until(linked, "the number to land on the Telegram profile")
    assert {"phone", "telegram"} <= {i["kind"] for i in detail["identities"]}


async def test_only_telegram_text_replies_carry_the_button(center) -> None:  # noqa: F811
    _, _, me, channel = await _agent_on(center, "whatsapp", "whatsapp")
    r = await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    assert r.status_code == 200, r.text
    chat = await _assigned(center, "whatsapp")
    r = await center.post(f"conversations/{chat['id']}/reply", {"text": "Your number?", "ask_phone": "Share"}, me)
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "ask_phone"

