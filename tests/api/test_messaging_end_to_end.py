"""The whole path with the background workers running: a WhatsApp message in, a reply from the sink out
through the outbox to the fake Graph API, and its delivery report back in."""

from __future__ import annotations

import asyncio
import json

from fakes.harness import (  # noqa: F401 - fixtures
    Mx, bot, bot_server, fixture_bytes, graph, graph_server, mx, twilio, twilio_server,
)
from teleplex.messaging.outbox import enqueue_outgoing
from teleplex.messaging.providers.base import OutgoingContent


async def test_message_in_reply_out_delivery_report_back(mx: Mx) -> None:
    replies: list[int] = []

    class AutoReply:
        """What the core's sink will do in its own way: answer in the same transaction."""

        async def place(self, *args: object) -> None:
            return None

        async def received(self, session, channel, message, inbound):  # noqa: ANN001
            reply = await enqueue_outgoing(session, mx.clock, channel.id, message.peer,
                                           OutgoingContent(text=f"Hello {inbound.profile_name}, an agent is coming."))
            replies.append(reply.id)

        async def status_changed(self, session, channel, message, update):  # noqa: ANN001
            return None

    mx.app.state.message_sink = AutoReply()
    channel = await mx.channel("whatsapp")
    await mx.runtime.start()
    try:
        assert (await mx.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))).status_code == 200
        mx.runtime.outbox.wakeup.set()
        async with asyncio.timeout(20):
            while not mx.graph.sent:
                await asyncio.sleep(0.05)
        (sent,) = mx.graph.sent
        assert sent["to"] == "+16505551234" and sent["text"]["body"] == "Hello Sheena Nelson, an agent is coming."
        report = json.loads(fixture_bytes("whatsapp", "status_delivered"))
        report["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = sent["id"]
        assert (await mx.whatsapp(channel["id"], json.dumps(report).encode())).status_code == 200
        (reply_id,) = replies
        async with asyncio.timeout(20):  # the report is processed after the webhook is acknowledged
            while (body := (await mx.client.get(f"/api/v1/messages/{reply_id}", headers=mx.admin)).json())[
                    "status"] != "delivered":  # fmt: skip
                await asyncio.sleep(0.05)
    finally:
        await mx.runtime.stop()
    assert body["status"] == "delivered" and body["provider_message_id"] == sent["id"]
    assert body["delivery"]["state"] == "sent" and body["delivery"]["attempts"] == 1
