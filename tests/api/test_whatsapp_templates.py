"""The WhatsApp templates an agent sends once the 24-hour window has closed come from Meta: the business
account's approved templates, read page by page from the (fake) Graph API, cached per channel, with the
channel's own `settings.templates` standing in when Meta cannot be read; a template reply fills the body's
variables and only an offered template, with the right number of values, is accepted."""

from __future__ import annotations

from test_receipts import _agent_on, _assigned, _provider_id, center  # noqa: F401 - the fixture

from fakes.base import Failure, Hang
from fakes.graph_api import graph_error, template
from fakes.harness import (  # noqa: F401 - fixtures
    bot,
    bot_server,
    fixture_bytes,
    graph,
    graph_server,
    twilio,
    twilio_server,
)

WABA = "102290129340398"
META = [
    template("order_update", "Hola {{1}}, tu pedido {{2}} va en camino", language="es_ES"),
    template("summer_promo", "Sale! {{1}}% off", status="PENDING", category="MARKETING"),
    template("old_promo", "Old", status="REJECTED", category="MARKETING"),
    template("hello_again", "Hi, we have news about your request"),
]
HEADER = {"format": "TEXT", "text": "Teleplex", "variable": None, "takes_value": False}  # template()'s fixed header
FALLBACK = [{"name": "order_update", "language": "es_ES", "body": "Hola {{1}}, pedido {{2}}"}, {"name": "bye"}]


async def _whatsapp_chat(center, graph):  # noqa: ANN001, ANN202, F811
    """Ana holds a WhatsApp conversation on a channel that names its business account."""
    _q, _agent, me, channel = await _agent_on(center, "whatsapp", "whatsapp")
    r = await center.patch(f"channels/{channel['id']}", {"settings": {
        **channel["settings"], "business_account_id": WABA, "templates": FALLBACK}})  # fmt: skip
    assert r.status_code == 200, r.text
    await center.whatsapp(channel["id"], fixture_bytes("whatsapp", "text"))
    chat = await _assigned(center, "whatsapp")
    return me, channel, chat


def _listings(graph) -> list[dict]:  # noqa: ANN001
    return [r for r in graph.requests if r["path"] == f"/{WABA}/message_templates"]


async def test_the_approved_templates_come_from_meta_page_after_page_and_are_cached(center, graph, clock):  # noqa: F811
    graph.templates.extend(META)
    graph.page_size = 2  # two pages: the second holds hello_again
    me, channel, chat = await _whatsapp_chat(center, graph)

    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window["templates_source"] == "meta" and window["templates_error"] is None
    assert window["templates"] == [
        {"name": "order_update", "language": "es_ES", "category": "UTILITY",
         "body": "Hola {{1}}, tu pedido {{2}} va en camino", "variables": ["1", "2"], "variable_count": 2,
         "header": HEADER, "buttons": []},
        {"name": "hello_again", "language": "en_US", "category": "UTILITY",
         "body": "Hi, we have news about your request", "variables": [], "variable_count": 0,
         "header": HEADER, "buttons": []},
    ]  # fmt: skip
    listings = _listings(graph)
    assert len(listings) == 2
    assert listings[0]["headers"]["authorization"] == "Bearer EAAG-test-access-token"
    assert listings[0]["query"] == {"fields": "name,language,status,category,components", "limit": "100"}
    assert listings[1]["query"]["after"] and listings[1]["query"]["limit"] == "100"  # the first page's cursor

    await center.get(f"conversations/{chat['id']}/window", me)
    assert len(_listings(graph)) == 2  # cached: Meta is not asked on every look
    graph.templates.append(template("new_one", "Brand new"))
    clock.advance(6 * 60)  # the cache lasts a few minutes
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert [t["name"] for t in window["templates"]] == ["order_update", "hello_again", "new_one"]
    graph.templates.pop()
    r = await center.patch(f"channels/{channel['id']}", {"name": "WhatsApp renamed"})
    assert r.status_code == 200, r.text
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()  # an edit forgets the cache
    assert [t["name"] for t in window["templates"]] == ["order_update", "hello_again"]


async def test_meta_down_falls_back_to_the_channels_list_and_says_so(center, graph, clock):  # noqa: F811
    graph.templates.extend(META)
    me, _channel, chat = await _whatsapp_chat(center, graph)
    graph.fail_templates(Failure(500, graph_error(1, "An unknown error occurred", 500).body))

    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window["templates_source"] == "settings"
    assert window["templates_error"] == ("Meta's template list could not be read (HTTP 500: An unknown error "
                                         "occurred): showing the channel's own list")  # fmt: skip
    assert [(t["name"], t["variables"]) for t in window["templates"]] == [("order_update", ["1", "2"]), ("bye", [])]
    r = await center.post(f"conversations/{chat['id']}/reply", {"template_name": "bye"}, me)
    assert r.status_code == 201, r.text  # the fallback list is what is offered, and so what is accepted

    clock.advance(31)  # Meta is asked again soon, and now it answers
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window["templates_source"] == "meta" and len(window["templates"]) == 2


async def test_a_rejected_token_or_a_timeout_falls_back_too(center, graph, clock):  # noqa: F811
    me, _channel, chat = await _whatsapp_chat(center, graph)
    graph.fail_templates(Failure(401, graph_error(190, "Invalid OAuth access token.", 401).body), Hang(10))
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window["templates_source"] == "settings" and "HTTP 401: Invalid OAuth access token." in window[
        "templates_error"]
    clock.advance(31)
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    assert window["templates_source"] == "settings" and "timeout" in window["templates_error"]
    assert window["open"] is True and [t["name"] for t in window["templates"]] == ["order_update", "bye"]


async def test_a_template_reply_fills_its_variables_and_reaches_meta_as_body_parameters(center, graph, clock):  # noqa: F811
    graph.templates.extend(META)
    me, _channel, chat = await _whatsapp_chat(center, graph)
    clock.advance(24 * 3600 + 1)  # the window has closed: a template is the only way
    me = await center.login("ana", "password-123")
    r = await center.post(f"conversations/{chat['id']}/reply", {
        "template_name": "order_update", "template_language": "es_ES", "template_variables": ["Ana", "A-1017"]}, me)
    assert r.status_code == 201, r.text
    assert r.json()["template_name"] == "order_update"
    await _provider_id(center, r.json()["id"])
    assert graph.sent[-1]["type"] == "template"
    assert graph.sent[-1]["template"] == {
        "name": "order_update", "language": {"code": "es_ES"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                       {"type": "text", "text": "A-1017"}]}]}  # fmt: skip

    r = await center.post(f"conversations/{chat['id']}/reply", {"template_name": "hello_again"}, me)
    assert r.status_code == 201, r.text  # no variables, no language given: the only offered one is taken
    await _provider_id(center, r.json()["id"])
    assert graph.sent[-1]["template"] == {"name": "hello_again", "language": {"code": "en_US"}}


async def test_only_an_offered_template_with_the_right_values_is_accepted(center, graph):  # noqa: F811
    graph.templates.extend(META)
    me, _channel, chat = await _whatsapp_chat(center, graph)
    path = f"conversations/{chat['id']}/reply"

    async def refused(body: dict) -> str:
        r = await center.post(path, body, me)
        assert r.status_code == 422, r.text
        return r.json()["error"]["message"]

    assert "template_name: 'summer_promo' is not one of this channel's approved templates" in await refused(
        {"template_name": "summer_promo", "template_variables": ["20"]})  # pending at Meta
    assert "template_name: 'bye' is not one" in await refused({"template_name": "bye"})  # only in the settings
    assert "template_name: 'order_update' in 'en_US' is not one" in await refused(
        {"template_name": "order_update", "template_language": "en_US", "template_variables": ["Ana", "1"]})
    assert "template_variables: 'order_update' takes 2 variable(s), got 1" in await refused(
        {"template_name": "order_update", "template_variables": ["Ana"]})
    assert "template_variables: 'order_update' takes 2 variable(s), got 0" in await refused(
        {"template_name": "order_update"})
    assert "template_variables[1]: a value cannot be empty" in await refused(
        {"template_name": "order_update", "template_variables": ["Ana", " "]})
    assert "template_variables, template_header and template_buttons go with template_name" in await refused({"text": "hi", "template_variables": ["x"]})
    assert [s for s in graph.sent if s.get("type") == "template"] == []


SHIPPED = {
    "name": "order_shipped", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "5551230001",
    "components": [
        {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::YXBwbGljYXRpb24vcGRm"]}},
        {"type": "BODY", "text": "Your order {{1}} has shipped", "example": {"body_text": [["A-1"]]}},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Thanks"},
            {"type": "URL", "text": "Track it", "url": "https://shop.example.com/track/{{1}}",
             "example": ["https://shop.example.com/track/A-1"]},
            {"type": "COPY_CODE", "example": "BACK10"}]}],
}  # fmt: skip


async def test_a_template_with_a_media_header_and_buttons_is_offered_and_sent_as_meta_documents(
        center, graph, clock):  # noqa: F811
    graph.templates.extend([*META, SHIPPED])
    me, _channel, chat = await _whatsapp_chat(center, graph)
    window = (await center.get(f"conversations/{chat['id']}/window", me)).json()
    shipped = next(t for t in window["templates"] if t["name"] == "order_shipped")
    assert shipped["header"] == {"format": "DOCUMENT", "text": None, "variable": None, "takes_value": True}
    assert [(b["index"], b["type"]) for b in shipped["buttons"]] == [(1, "URL"), (2, "COPY_CODE")]

    path = f"conversations/{chat['id']}/reply"
    body = {"template_name": "order_shipped", "template_variables": ["A-1017"]}
    r = await center.post(path, body, me)  # no document link, no button values
    assert r.status_code == 422 and r.json()["error"]["message"].startswith(
        "template_header: 'order_shipped' needs a link to the header's document")
    assert r.json()["error"]["details"]["field"] == "template_header"
    r = await center.post(path, body | {"template_header": "https://shop.example.com/invoices/A-1017.pdf",
                                        "template_buttons": ["A-1017"]}, me)  # fmt: skip
    assert r.status_code == 422 and "template_buttons: 'order_shipped' takes 2 button value(s), got 1" in r.text
    assert [s for s in graph.sent if s.get("type") == "template"] == []

    r = await center.post(path, body | {"template_header": "https://shop.example.com/invoices/A-1017.pdf",
                                        "template_buttons": ["A-1017", "BACK10"]}, me)  # fmt: skip
    assert r.status_code == 201, r.text
    await _provider_id(center, r.json()["id"])
    assert graph.sent[-1]["template"] == {"name": "order_shipped", "language": {"code": "en_US"}, "components": [
        {"type": "header", "parameters": [
            {"type": "document", "document": {"link": "https://shop.example.com/invoices/A-1017.pdf"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "A-1017"}]},
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "A-1017"}]},
        {"type": "button", "sub_type": "copy_code", "index": "2",
         "parameters": [{"type": "coupon_code", "coupon_code": "BACK10"}]}]}  # fmt: skip
    assert len([s for s in graph.sent if s.get("type") == "template"]) == 1
