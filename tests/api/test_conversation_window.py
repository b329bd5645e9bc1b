"""WhatsApp's 24-hour window as the console reads it (GET /conversations/{id}/window) and the approved
templates an agent sends once it has closed; channels without such a window say so."""

from __future__ import annotations

from test_receipts import _agent_on, _assigned, _provider_id, center  # noqa: F401 - the fixture

from fakes.harness import (  # noqa: F401 - fixtures
    TG_SECRET,
    bot,
    bot_server,
    fixture_bytes,
    graph,
    graph_server,
    twilio,
    twilio_server,
)

TEMPLATES = [{"name": "order_update", "language": "es_ES"}, {"name": "hello_again"}]


async def test_the_window_closes_24_hours_after_the_customer_wrote_and_a_template_still_goes(center, graph, clock):  # noqa: F811
    _q, _agent, me, channel = await _agent_on(center, "whatsapp", "whatsapp")
    r = await center.patch(f"channels/{channel['id']}", {"settings": {"templates": TEMPLATES}})
    assert r.status_code == 200, r.text
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await _assigned(center, "whatsapp")

    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window["applies"] is True and window["open"] is True
    assert window["closes_at"] is not None and window["last_inbound_at"] is not None
    assert [(t["name"], t["language"]) for t in window["templates"]] == [("order_update", "es_ES"),
                                                                         ("hello_again", "en_US")]
    assert window["templates_source"] == "settings"  # no business account named: the channel's own list

    clock.advance(24 * 3600 + 1)
    me = await center.login("ana", "password-123")  # a day later: a fresh token
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window["open"] is False
    r = await center.post(f"conversations/{chat['id']}/reply", {"text": "Are you there?"}, me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "window_closed"
    r = await center.post(f"conversations/{chat['id']}/reply",
                          {"template_name": "order_update", "template_language": "es_ES"}, me)
    assert r.status_code == 201, r.text
    assert r.json()["template_name"] == "order_update" and r.json()["kind"] == "template"
    await _provider_id(center, r.json()["id"])
    sent = graph.requests[-1]["body"]
    assert sent["type"] == "template"
    assert sent["template"] == {"name": "order_update", "language": {"code": "es_ES"}}


async def test_templates_are_for_whatsapp_only_and_named_properly(center):  # noqa: F811
    _q, _agent, me, channel = await _agent_on(center, "telegram", "telegram")
    r = await center.patch(f"channels/{channel['id']}", {"settings": {"templates": TEMPLATES}})
    assert r.status_code == 422 and "templates" in r.json()["error"]["message"]
    r = await center.client.post(f"/webhooks/telegram/{channel['id']}", content=fixture_bytes("telegram", "text"),
                                 headers={"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
    assert r.status_code == 200, r.text
    chat = await _assigned(center, "telegram")
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window == {"applies": False, "open": True, "closes_at": None, "last_inbound_at": None, "templates": [],
                      "templates_source": None, "templates_error": None}
    r = await center.post(f"conversations/{chat['id']}/reply", {"template_name": "order_update"}, me)
    assert r.status_code == 422 and "only WhatsApp" in r.json()["error"]["message"]
    r = await center.post(f"conversations/{chat['id']}/reply", {"template_name": "Order Update!"}, me)
    assert r.status_code == 422 and "template_name" in r.json()["error"]["message"]
    r = await center.post(f"conversations/{chat['id']}/reply", {"text": "hi", "template_name": "order_update"}, me)
    assert r.status_code == 422 and "either text" in r.json()["error"]["message"]
