"""The chat's extras in the agent console: the screen-pop (embedded and in a new tab), typing shown both ways,
each reply's delivery status updated live (read by the visitor; failed with WhatsApp's reason), files sent
and shown (an image inline, a document to download), and WhatsApp's 24-hour window with a template sent once
it has closed. WhatsApp runs against the fake Graph API on loopback."""

from __future__ import annotations

import asyncio
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from console_harness import LiveCenter, admin, make_agent, ok, sign_in, start_console, wait_for, watch_errors
from sqlalchemy import update
from test_console_chat import setup_chat, visitor_writes

from fakes.graph_api import FakeGraphApi, template
from fakes.harness import APP_SECRET, CHANNELS, fixture_bytes
from fakes.server import serve
from teleplex.messaging.models import Message
from teleplex.messaging.providers import whatsapp

pytestmark = pytest.mark.browser

TEMPLATES = [{"name": "order_update", "language": "es_ES"}]
WABA = "102290129340398"
SHIPPED = {"name": "order_shipped", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "5551230001",
           "components": [{"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Order {{1}} has shipped"},
                          {"type": "BUTTONS", "buttons": [
                              {"type": "URL", "text": "Track it", "url": "https://shop.example.com/track/{{1}}"},
                              {"type": "COPY_CODE", "example": "BACK10"}]}]}  # fmt: skip
META_TEMPLATES = [template("order_update", "Hola {{1}}, tu pedido {{2}} está listo", language="es_ES"),
                  template("summer_promo", "Sale!", status="PENDING", category="MARKETING"), SHIPPED]


class FakeGraphThread:
    """The fake WhatsApp Cloud API served from its own thread and loop while the module runs."""

    def __init__(self) -> None:
        self.fake = FakeGraphApi()
        self.url = ""
        self.ready = threading.Event()
        self.done: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="fake-graph", daemon=True)

    async def _run(self) -> None:
        self.loop, self.done = asyncio.get_running_loop(), asyncio.Event()
        async with serve(self.fake.app) as url:
            self.url = self.fake.base_url = url
            self.ready.set()
            await self.done.wait()

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(15):
            raise RuntimeError("the fake Graph API did not start")

    def stop(self) -> None:
        assert self.loop is not None and self.done is not None
        self.loop.call_soon_threadsafe(self.done.set)
        self.thread.join(15)


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphThread]:
    server = FakeGraphThread()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def center(graph: FakeGraphThread) -> Iterator[LiveCenter]:
    """One running center for the module, sending WhatsApp through the fake Graph API."""
    server = LiveCenter()
    server.settings = server.settings.model_copy(update={"whatsapp_api_url": graph.url})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def png() -> bytes:
    """A real 2x2 red PNG, so the browser can draw it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def signed_whatsapp(center: LiveCenter, channel_id: int, doc: dict[str, Any]) -> None:
    body = json.dumps(doc).encode()
    r = httpx.post(f"{center.url}/webhooks/whatsapp/{channel_id}", content=body, timeout=30, headers={
        "content-type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(APP_SECRET, body)})
    assert r.status_code == 200, r.text


def test_a_web_chat_with_screen_pop_typing_delivery_status_and_files(center: LiveCenter, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    queue, _channel, site, site_url = setup_chat(center)
    client = admin(center)
    crm = f"{center.url}/static/console/style.css?id={{interaction}}&queue={{queue}}&who={{contact_name}}"
    ok(client.patch(f"/api/v1/queues/{queue['id']}", json={"crm_url_template": crm, "screen_pop_mode": "embed"}))
    make_agent(center, "ines", [queue["id"]], display_name="Inés", number="2201")
    try:
        context, page, errors = start_console(chromium, center, "ines")
        visitor = visitor_writes(chromium, site_url, "Hello, is anyone there?")
        page.locator("#offers article").get_by_role("button", name="Accept").click()
        panel = page.locator("[role=tabpanel]:not([hidden])")
        expect(panel.locator(".msg.in .text")).to_have_text(["Hello, is anyone there?"])
        chat_id = int(page.locator("[role=tab][aria-selected=true]").get_attribute("data-interaction"))

        # the queue's CRM page, filled with this chat's data, embedded in the chat's tab
        frame = panel.locator("iframe.screen-pop-frame")
        expect(frame).to_have_attribute("src", f"{center.url}/static/console/style.css?id={chat_id}"
                                               f"&queue=Web%20help&who=Ada%20Lovelace")
        expect(page.frame_locator("iframe.screen-pop-frame").locator("body")).to_contain_text(".msg")
        expect(panel.get_by_role("link", name="Open in a new tab")).to_have_attribute("href", frame.get_attribute("src"))

        # the customer's typing, then the message it was
        visitor.locator("textarea[name=text]").press_sequentially("Where is")
        expect(panel.locator(".typing")).to_have_text("typing…")
        visitor.locator("textarea[name=text]").press_sequentially(" my parcel?")
        visitor.locator(".tpx-send").click()
        expect(panel.locator(".msg.in .text")).to_have_text(["Hello, is anyone there?", "Where is my parcel?"])
        expect(panel.locator(".typing")).to_have_text("")

        # the agent's typing reaches the visitor; the reply's status moves on live until the visitor read it
        panel.locator("textarea[name=reply]").press_sequentially("Let me look")
        expect(visitor.locator(".tpx-note")).to_have_text("Agent is typing…")
        panel.get_by_role("button", name="Send", exact=True).click()
        expect(visitor.locator(".tpx-out")).to_have_text(["Let me look"])
        expect(panel.locator(".msg.out .status")).to_have_text([" · read"])

        # a photo with a caption, shown inline on both sides; then a document to download
        panel.locator("input[name=attachment]").set_input_files(
            {"name": "parcel.png", "mimeType": "image/png", "buffer": png()})
        panel.locator("textarea[name=reply]").fill("This one?")
        panel.get_by_role("button", name="Send", exact=True).click()
        image = panel.locator(".msg.out img[alt='parcel.png']")
        expect(image).to_be_visible()
        wait_for("the photo to be drawn", lambda: image.evaluate("(img) => img.complete && img.naturalWidth === 2"))
        expect(panel.locator(".msg.out").nth(1).locator(".caption")).to_have_text("This one?")
        expect(visitor.locator(".tpx-media img")).to_have_count(1)

        pdf = b"%PDF-1.4\n% a receipt\n%%EOF\n"
        panel.locator("input[name=attachment]").set_input_files(
            {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": pdf})
        panel.get_by_role("button", name="Send", exact=True).click()
        link = panel.get_by_role("link", name="Download receipt.pdf")
        expect(link).to_be_visible()
        download = page.request.get(center.url + link.get_attribute("href"))
        assert download.status == 200 and download.body() == pdf
        expect(panel.locator("input[name=attachment]")).to_have_value("")
        expect(panel.get_by_role("button", name="Send template")).to_be_hidden()  # web chat has no templates
        assert ok(client.get(f"/api/v1/conversations/{chat_id}/window")) == {
            "applies": False, "open": True, "closes_at": None, "last_inbound_at": None, "templates": [],
            "templates_source": None, "templates_error": None}
        assert errors == []
        context.close()
    finally:
        site.shutdown()


def test_a_whatsapp_chat_with_a_failed_delivery_and_a_template_after_the_window_closed(
        center: LiveCenter, graph: FakeGraphThread, chromium: Any) -> None:  # fmt: skip
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    client = admin(center)
    crm = f"{center.url}/static/console/style.css?phone={{caller}}&id={{interaction}}"
    queue = ok(client.post("/api/v1/queues", json={"name": "WhatsApp sales", "channels": ["whatsapp"],
                                                   "crm_url_template": crm, "screen_pop_mode": "tab"}))
    base = CHANNELS["whatsapp"]
    graph.fake.templates[:] = META_TEMPLATES  # Meta's list, read with the channel's business account id
    channel = ok(client.post("/api/v1/channels", json={**base, "settings": {
        **base["settings"], "queue_id": queue["id"], "business_account_id": WABA, "templates": TEMPLATES}}))
    make_agent(center, "wendy", [queue["id"]], display_name="Wendy", number="2202")
    context, page, errors = start_console(chromium, center, "wendy")

    signed_whatsapp(center, channel["id"], json.loads(fixture_bytes("whatsapp", "text")))
    accept = page.locator("#offers article").get_by_role("button", name="Accept")
    with context.expect_page() as popup:  # the queue's CRM page opens in a new tab as the chat is taken
        accept.click()
    panel = page.locator("[role=tabpanel]:not([hidden])")
    expect(panel.locator(".msg.in .text")).to_have_text(["Does it come in another color?"])
    chat_id = int(page.locator("[role=tab][aria-selected=true]").get_attribute("data-interaction"))
    caller = ok(client.get(f"/api/v1/interactions/{chat_id}"))["caller_id"]
    popup.value.wait_for_load_state()
    assert popup.value.url == f"{center.url}/static/console/style.css?phone={quote(caller, safe='')}&id={chat_id}"
    expect(panel.locator("iframe")).to_have_count(0)  # "tab" mode: a link in the panel, no frame
    expect(panel.get_by_role("link", name="Open in a new tab")).to_have_attribute("href", popup.value.url)
    popup.value.close()

    expect(panel.locator(".window")).to_contain_text("WhatsApp window open until")
    expect(panel.get_by_role("button", name="Send template")).to_be_hidden()  # free text while the window is open
    panel.locator("textarea[name=reply]").fill("We have it in blue")
    panel.get_by_role("button", name="Send", exact=True).click()
    expect(panel.locator(".msg.out .status")).to_have_text([" · sent"])
    reply_id = int(panel.locator(".msg.out").get_attribute("data-message-id"))
    wamid = wait_for("the reply's WhatsApp id", lambda: ok(client.get(f"/api/v1/messages/{reply_id}"))[
        "provider_message_id"])
    failed = json.loads(fixture_bytes("whatsapp", "status_failed"))
    failed["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    signed_whatsapp(center, channel["id"], failed)  # WhatsApp could not deliver it: the agent sees why, live
    expect(panel.locator(".msg.out .status.failed")).to_have_text(
        " · Not delivered: Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.")

    async def a_day_later() -> None:  # the customer's message is now 25 hours old
        async with center.db.session() as session:
            await session.execute(update(Message).where(Message.interaction_id == chat_id, Message.direction == "in")
                                  .values(created_at=datetime.now(UTC) - timedelta(hours=25)))

    center.call(a_day_later())
    page.reload()
    panel = page.locator("[role=tabpanel]:not([hidden])")
    expect(panel.locator(".window.closed")).to_have_text(
        "The 24-hour WhatsApp window is closed: the customer has not written in the last 24 hours, so only an "
        "approved template can be sent.")
    expect(panel.locator("textarea[name=reply]")).to_be_disabled()
    expect(panel.locator("form.reply button[type=submit]")).to_be_disabled()
    expect(panel.locator("select[name=template] option")).to_have_text(
        ["order_update (es_ES)", "order_shipped (en_US)"])  # approved only
    preview = panel.locator(".template-preview")
    expect(preview).to_have_text("Preview: Teleplex — Hola {{1}}, tu pedido {{2}} está listo")  # header — body
    first, second = panel.get_by_label("Value for {{1}}"), panel.get_by_label("Value for {{2}}")
    first.fill("Ana")
    expect(preview).to_have_text("Preview: Teleplex — Hola Ana, tu pedido {{2}} está listo")
    sent_before = len(graph.fake.sent)
    panel.get_by_role("button", name="Send template").click()  # {{2}} is still empty: the browser asks for it
    expect(panel.locator(".msg.out .template")).to_have_count(0)
    second.fill("A-1017")
    panel.get_by_role("button", name="Send template").click()
    expect(panel.locator(".msg.out .template")).to_have_text(["Approved template: order_update"])
    wait_for("the template to reach WhatsApp", lambda: len(graph.fake.sent) > sent_before)
    sent = graph.fake.sent[-1]
    assert sent["type"] == "template" and sent["template"] == {
        "name": "order_update", "language": {"code": "es_ES"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                       {"type": "text", "text": "A-1017"}]}]}  # fmt: skip
    expect(first).to_have_value("")  # sent: the inputs are ready for the next one

    # a template with a document header and two buttons that take a value: one input each
    panel.locator("select[name=template]").select_option("order_shipped|en_US")
    expect(panel.get_by_label("Value for {{2}}")).to_have_count(0)
    panel.get_by_label("Link to the header's document").fill("https://shop.example.com/invoices/A-1017.pdf")
    panel.get_by_label("Value for {{1}}").fill("A-1017")
    panel.get_by_label("End of the link of the button “Track it” (https://shop.example.com/track/{{1}})").fill("A-1017")
    code = panel.get_by_label("Code the customer copies (at most 15 characters)")
    expect(code).to_have_attribute("maxlength", "15")
    code.fill("BACK10")
    expect(preview).to_have_text("Preview: Order A-1017 has shipped")
    sent_before = len(graph.fake.sent)
    panel.get_by_role("button", name="Send template").click()
    expect(panel.locator(".msg.out .template")).to_have_count(2)
    wait_for("the second template to reach WhatsApp", lambda: len(graph.fake.sent) > sent_before)
    assert graph.fake.sent[-1]["template"]["components"] == [
        {"type": "header", "parameters": [
            {"type": "document", "document": {"link": "https://shop.example.com/invoices/A-1017.pdf"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "A-1017"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "A-1017"}]},
        {"type": "button", "sub_type": "copy_code", "index": "1",
         "parameters": [{"type": "coupon_code", "coupon_code": "BACK10"}]}]  # fmt: skip
    assert errors == []
    context.close()


def test_an_admin_sets_a_queues_screen_pop_on_its_screen_and_meets_the_apis_check(center: LiveCenter,
                                                                                  chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    admin(center)
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, center, "admin", "admin-password")
    page.goto(center.url + "/admin/queues")
    page.locator("#admin-new").click()  # the fields come from the API's schema, labelled from the catalogue
    page.locator("#f-name").fill("Billing")
    expect(page.get_by_label("CRM screen-pop URL")).to_be_visible()
    page.locator("#f-crm_url_template").fill("https://crm.example/find?phone={phone}")
    page.locator("#f-screen_pop_mode").select_option(label="inside the console")
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("#err-crm_url_template")).to_contain_text("unknown placeholder(s) {phone}")
    page.locator("#f-crm_url_template").fill("https://crm.example/find?phone={caller}")
    page.locator(".resource-form button[type=submit]").click()
    expect(page.locator("table.grid tbody tr", has_text="Billing")).to_be_visible()
    queue = next(q for q in ok(admin(center).get("/api/v1/queues"))["items"] if q["name"] == "Billing")
    assert (queue["crm_url_template"], queue["screen_pop_mode"]) == ("https://crm.example/find?phone={caller}", "embed")
    assert errors == []
    context.close()
