"""The widget in a real browser, embedded on another origin's page: pre-chat form, a message out, an
agent's reply in through the outbox, then a dropped connection while the agent writes again; after the
reconnect every message shows exactly once, and no cookie was set anywhere. Then files both ways: the visitor
attaches a picture (the agent's side stores it), the agent sends a PDF the visitor downloads."""

from __future__ import annotations

import re
import struct
import time
import zlib
from typing import Any

import pytest
from sqlalchemy import select
from widget_harness import Center, admin_client, page_server

from teleplex.messaging.models import Message
from teleplex.messaging.outbox import enqueue_outgoing
from teleplex.messaging.providers.base import MessageKind, OutgoingContent
from teleplex.messaging.webchat import attachments
from teleplex.messaging.webchat.limits import Rate, WebchatLimits

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>A shop on another origin</h1>
<script src="{center}/widget.js" data-channel="{key}" async></script>
</body></html>"""


def _reply(center: Center, peer: str, channel_id: int, text: str) -> int:
    """Play the agent: what the core does, an outgoing message through the outbox."""

    async def enqueue() -> int:
        async with center.db.session() as session:
            message = await enqueue_outgoing(session, center.runtime.clock, channel_id, peer, OutgoingContent(text=text))
            message_id = message.id
        center.runtime.outbox.wakeup.set()
        return message_id

    return center.call(enqueue())


def _png() -> bytes:
    """A real 1x1 picture, so the browser can prove it decoded what it downloaded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + \
        chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _reply_with_file(center: Center, peer: str, channel_id: int, filename: str, content: bytes) -> int:
    """The agent's file: uploaded to the center, then sent through the outbox like any reply."""

    async def enqueue() -> int:
        stored = attachments.store(center.runtime.processor.media_dir, channel_id, "application/pdf", content)
        async with center.db.session() as session:
            message = await enqueue_outgoing(session, center.runtime.clock, channel_id, peer, OutgoingContent(
                kind=MessageKind.DOCUMENT, media_url=attachments.REFERENCE + stored, filename=filename))
            message_id = message.id
        center.runtime.outbox.wakeup.set()
        return message_id

    return center.call(enqueue())


def _messages(center: Center) -> list[Message]:
    async def load() -> list[Message]:
        async with center.db.session() as session:
            return list((await session.execute(select(Message).order_by(Message.id))).scalars())

    return center.call(load())


def _wait_for(what: str, check: Any, seconds: float = 20) -> None:
    """A hang guard while the server catches up, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.05)


def test_visitor_chats_and_resumes_after_a_dropped_connection(center: Center, chromium: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    admin = admin_client(center)
    channel = admin.post("/api/v1/channels", json={"kind": "webchat", "name": "Shop chat"}).json()
    pages: dict[str, bytes] = {}
    site, site_url = page_server(pages)
    try:
        widget = admin.put(f"/api/v1/channels/{channel['id']}/webchat",
                           json={"allowed_origins": [site_url], "title": "Shop help"}).json()
        pages["/"] = PAGE.format(center=center.url, key=widget["public_key"]).encode()
        context = chromium.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(site_url + "/")

        page.locator(".tpx-launch").click()
        expect(page.locator(".tpx-title")).to_have_text("Shop help")
        page.locator("input[name=name]").fill("Ada Lovelace")
        page.locator("input[name=email]").fill("ada@example.org")
        page.locator(".tpx-start").click()
        page.locator("textarea[name=text]").fill("Where is my order?")
        page.locator(".tpx-send").click()
        expect(page.locator(".tpx-in[data-message-id]")).to_have_text(["Where is my order?"])

        (question,) = _messages(center)
        assert question.peer_kind == "visitor" and question.data["profile_name"] == "Ada Lovelace"
        peer = question.peer
        first = _reply(center, peer, channel["id"], "It ships today.")
        expect(page.locator(".tpx-out")).to_have_text(["It ships today."])

        page.evaluate("window.TeleplexChat._test.drop()")
        page.wait_for_function("!window.TeleplexChat._test.state().ready")
        second = _reply(center, peer, channel["id"], "Tracking number: 1Z999")
        _wait_for("the offline reply to reach the visitor's stream",
                  lambda: next(m for m in _messages(center) if m.id == second).status == "sent")
        page.locator("textarea[name=text]").fill("Thanks!")  # written offline: sent on reconnect
        page.locator(".tpx-send").click()
        expect(page.locator(".tpx-out")).to_have_text(["It ships today."])

        page.evaluate("window.TeleplexChat._test.reconnect()")
        expect(page.locator(".tpx-out")).to_have_text(["It ships today.", "Tracking number: 1Z999"])
        expect(page.locator(".tpx-in")).to_have_text(["Where is my order?", "Thanks!"])
        expect(page.locator(".tpx-pending")).to_have_count(0)
        page.evaluate("window.TeleplexChat._test.drop()")  # and once more, now with nothing missed
        page.evaluate("window.TeleplexChat._test.reconnect()")
        page.wait_for_function("window.TeleplexChat._test.state().ready")
        expect(page.locator(".tpx-msg")).to_have_count(4)

        statuses: dict[int, str] = {}

        def both_read() -> bool:
            statuses.update({m.id: m.status for m in _messages(center)})
            return statuses[first] == statuses[second] == "read"

        _wait_for("both replies to be read (the widget reports what it showed)", both_read)
        messages = _messages(center)
        assert [(m.direction, m.text) for m in messages] == [
            ("in", "Where is my order?"), ("out", "It ships today."), ("out", "Tracking number: 1Z999"),
            ("in", "Thanks!")]
        assert [i.text for i in center.sink.inbound] == ["Where is my order?", "Thanks!"]
        assert context.cookies() == [] and page.evaluate("document.cookie") == ""

        # files both ways: the attach button's file input, then the agent's PDF as a download link
        picture = _png()
        page.locator("input[name=file]").set_input_files(
            files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": picture}])
        image = page.locator(".tpx-in .tpx-media[data-media-kind=image] img")
        expect(image).to_have_count(1)
        page.wait_for_function("() => { const host = document.querySelector('[data-teleplex-chat]');"
                               " const img = host.shadowRoot.querySelector('.tpx-in .tpx-media img');"
                               " return img && img.complete && img.naturalWidth === 1; }")
        expect(page.locator(".tpx-pending")).to_have_count(0)
        uploaded = _messages(center)[-1]
        assert (uploaded.direction, uploaded.kind, uploaded.media_mime) == ("in", "image", "image/png")
        assert (center.runtime.processor.media_dir / uploaded.media_path).read_bytes() == picture
        assert center.sink.inbound[-1].media.filename == "receipt.png"

        _reply_with_file(center, peer, channel["id"], "invoice.pdf", PDF)
        link = page.locator(".tpx-out .tpx-media[data-media-kind=document] a")
        expect(link).to_have_text("invoice.pdf")
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "invoice.pdf"
        assert open(download.value.path(), "rb").read() == PDF
        expect(page.locator(".tpx-msg")).to_have_count(6)  # each file shown once
        assert errors == []
        context.close()
    finally:
        site.shutdown()



PAGE_ES = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Tienda</title></head>
<body><h1>Una tienda en otro origen</h1>
<script src="{center}/widget.js" data-channel="{key}" async></script>
</body></html>"""


def test_a_spanish_page_tells_its_visitor_why_in_spanish(center: Center, chromium: Any) -> None:
    """The page says `lang="es"` (the browser itself is English): a message too long for the socket and a file
    of a refused type are each told in a Spanish sentence, and neither is left on screen as if sent."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
    admin = admin_client(center)
    channel = admin.post("/api/v1/channels", json={"kind": "webchat", "name": "Tienda chat"}).json()
    pages: dict[str, bytes] = {}
    site, site_url = page_server(pages)
    try:
        widget = admin.put(f"/api/v1/channels/{channel['id']}/webchat",
                           json={"allowed_origins": [site_url], "title": "Ayuda", "prechat": False}).json()
        pages["/"] = PAGE_ES.format(center=center.url, key=widget["public_key"]).encode()
        context = chromium.new_context(locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(site_url + "/")

        expect(page.locator(".tpx-launch")).to_have_text("Hable con nosotros")
        page.locator(".tpx-launch").click()
        expect(page.locator(".tpx-title")).to_have_text("Ayuda")
        expect(page.locator("textarea[name=text]")).to_have_attribute("placeholder", "Escriba un mensaje")
        page.wait_for_function("window.TeleplexChat._test.state().ready")

        page.evaluate("window.TeleplexChat.send('x'.repeat(4001))")  # past the textarea's limit, as a script can
        note = page.locator(".tpx-note")
        expect(note).to_have_text("El mensaje es demasiado largo: como máximo 4000 caracteres.")
        expect(page.locator(".tpx-msg")).to_have_count(0)

        page.locator("input[name=file]").set_input_files(
            files=[{"name": "tool.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ\x90\x00"}])
        expect(note).to_have_text("No se pueden enviar archivos de este tipo.")
        expect(page.locator(".tpx-msg")).to_have_count(0)
        assert [m for m in _messages(center) if m.channel_id == channel["id"]] == []

        # Faster than the pace allowed (here one message a minute): told how long to wait, the text kept.
        center.runtime.webchat_limits = WebchatLimits(Rate(per_minute=1, burst=1), Rate(per_minute=60, burst=100))
        page.locator("textarea[name=text]").fill("")  # the too-long text came back to the box above
        page.evaluate("window.TeleplexChat.send('Hola')")
        page.evaluate("window.TeleplexChat.send('¿Hay alguien?')")
        expect(note).to_have_text(re.compile(
            r"^Va más rápido de lo que podemos atender: vuelva a intentarlo en \d+ s\.$"))
        expect(page.locator(".tpx-msg")).to_have_count(1)
        expect(page.locator("textarea[name=text]")).to_have_value("¿Hay alguien?")
        _wait_for("the first message stored", lambda: [m.text for m in _messages(center)
                                                        if m.channel_id == channel["id"]] == ["Hola"])
        assert errors == []
        context.close()
    finally:
        center.runtime.webchat_limits = WebchatLimits.from_settings(center.settings)
        site.shutdown()
