"""Files in web chat: a visitor uploads one with their session token and the agent gets a media message; an
agent sends one back and only that visitor's sessions can download it; bad uploads get a clear 4xx and store
nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select
from test_webchat_support import ORIGIN, Wc, drain, login_agent, recv, recv_until, wc  # noqa: F401 - fixture

from teleplex.engine.conversation_sink import ConversationSink
from teleplex.messaging.models import Message
from teleplex.messaging.outbox import enqueue_outgoing
from teleplex.messaging.providers.base import MessageKind, OutgoingContent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _upload(wc: Wc, token: str | None, content: bytes, mime: str, client_id: str = "upload-0001",
                  filename: str = "photo.png", origin: str = ORIGIN, ref: str | None = None) -> Any:  # fmt: skip
    headers = {"content-type": mime, "origin": origin}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await wc.http.post(f"/webchat/v1/widgets/{ref or wc.public_key}/attachments", content=content,
                              headers=headers, params={"client_id": client_id, "filename": filename})  # fmt: skip


async def _download(wc: Wc, token: str | None, message_id: int, origin: str = ORIGIN) -> Any:
    headers = {"origin": origin}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return await wc.http.get(f"/webchat/v1/widgets/{wc.public_key}/attachments/{message_id}", headers=headers)


def _stored_files(wc: Wc) -> list[str]:
    media = wc.runtime.processor.media_dir
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()) if media.exists() else []


async def test_a_visitors_file_reaches_the_agent_as_a_media_message(wc: Wc) -> None:
    visitor = await wc.visitor({"name": "Ada"})
    async with wc.socket(visitor["token"]) as ws:
        assert (await recv(ws))["type"] == "ready"
        r = await _upload(wc, visitor["token"], PNG, "image/png", filename="../../etc/broken.png")
        assert r.status_code == 201, r.text
        assert r.headers["access-control-allow-origin"] == ORIGIN
        ack = r.json()
        assert ack["type"] == "ack" and ack["duplicate"] is False and ack["client_id"] == "upload-0001"
        shown = [f for f in await drain(ws) if f["type"] == "message"]
    assert [f["message"]["media"] for f in shown] == [
        {"kind": "image", "mime": "image/png", "filename": "broken.png", "size": len(PNG)}]
    (stored,) = await wc.messages()
    assert (stored.kind, stored.media_mime, stored.direction) == ("image", "image/png", "in")
    assert (wc.runtime.processor.media_dir / stored.media_path).read_bytes() == PNG
    ((_, inbound),) = wc.sink.inbound
    assert inbound.kind is MessageKind.IMAGE and inbound.media.mime == "image/png"

    again = await _upload(wc, visitor["token"], PNG, "image/png", filename="../../etc/broken.png")
    assert again.status_code == 200 and again.json()["duplicate"] is True  # a resend: stored once
    assert len(await wc.messages()) == 1 and len(_stored_files(wc)) == 1

    got = await _download(wc, visitor["token"], ack["message_id"])
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    stranger = await wc.visitor({})
    assert (await _download(wc, stranger["token"], ack["message_id"])).status_code == 404
    assert (await _download(wc, None, ack["message_id"])).status_code == 401


async def test_bad_uploads_are_refused_clearly_and_store_nothing(wc: Wc) -> None:
    visitor = await wc.visitor({})
    token = visitor["token"]
    limit = wc.app.state.settings.webchat_attachment_max_bytes
    cases = [  # the reason is what the widget says in the visitor's language (widget_strings.py)
        (await _upload(wc, token, b"x" * (limit + 1), "text/plain"), 413, "attachment_too_large", "file_too_large"),
        (await _upload(wc, token, b"MZ\x90\x00", "application/x-msdownload"), 415, "attachment_type_not_allowed",
         "file_type_refused"),
        (await _upload(wc, token, b"MZ\x90\x00 not a picture", "image/png"), 415, "attachment_type_not_allowed",
         "file_type_refused"),
        (await _upload(wc, token, b"", "image/png"), 422, "invalid_input", "file_empty"),
        (await _upload(wc, None, PNG, "image/png"), 401, "token_invalid", "token_invalid"),
        (await _upload(wc, "wc1.garbage.token", PNG, "image/png"), 401, "token_invalid", "token_invalid"),
        (await _upload(wc, token, PNG, "image/png", origin="https://evil.example"), 403, "origin_not_allowed",
         "origin_not_allowed"),
        (await _upload(wc, token, PNG, "image/png", client_id="x"), 422, "invalid_input", "client_id_format"),
    ]
    wc.clock.advance(16 * 60)  # past the token's 15 minutes
    cases.append((await _upload(wc, token, PNG, "image/png"), 401, "token_invalid", "token_expired"))
    for response, status, code, reason in cases:
        error = response.json()["error"]
        assert (response.status_code, error["code"], error.get("reason")) == (status, code, reason), response.text
        assert set(error) == {"code", "message", "details", "reason"}
    assert await wc.messages() == [] and wc.sink.inbound == [] and _stored_files(wc) == []


async def test_the_upload_answers_the_widgets_preflight(wc: Wc) -> None:
    r = await wc.http.options(f"/webchat/v1/widgets/{wc.public_key}/attachments", headers={
        "origin": ORIGIN, "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type"})
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in r.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in r.headers
    r = await wc.http.options(f"/webchat/v1/widgets/{wc.public_key}/attachments", headers={"origin": "https://evil.example"})
    assert r.status_code == 403


async def test_an_agents_file_reaches_only_that_visitor(wc: Wc) -> None:
    visitor = await wc.visitor({})
    upload_dir = wc.runtime.processor.media_dir
    from teleplex.messaging.webchat import attachments

    stored = attachments.store(upload_dir, wc.channel_id, "application/pdf", PDF)
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        async with wc.db.session() as session:
            message = await enqueue_outgoing(session, wc.clock, wc.channel_id, visitor["visitor_id"], OutgoingContent(
                kind=MessageKind.DOCUMENT, media_url="media:" + stored, filename="invoice.pdf", text="Your invoice"))
            message_id = message.id
        await wc.runtime.outbox.run_once()
        frames = [f for f in await recv_until(ws, lambda f: f["type"] == "message")]
    assert frames[-1]["message"]["media"] == {"kind": "document", "mime": "application/pdf", "filename": "invoice.pdf",
                                              "size": None}  # fmt: skip
    assert frames[-1]["message"]["text"] == "Your invoice"
    got = await _download(wc, visitor["token"], message_id)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"] == 'attachment; filename="invoice.pdf"'
    stranger = await wc.visitor({})
    assert (await _download(wc, stranger["token"], message_id)).status_code == 404


async def test_an_attachment_naming_a_file_of_no_upload_is_dead_lettered(wc: Wc) -> None:
    visitor = await wc.visitor({})
    async with wc.db.session() as session:
        message = await enqueue_outgoing(session, wc.clock, wc.channel_id, visitor["visitor_id"], OutgoingContent(
            kind=MessageKind.IMAGE, media_url="https://elsewhere.example/cat.png"))
        message_id = message.id
    await wc.runtime.outbox.run_once()
    failed = await wc.message(message_id)
    assert failed.status == "failed" and failed.error_code == "unknown_file"



async def test_the_agent_downloads_the_visitors_file_and_replies_with_one(wc: Wc) -> None:
    wc.app.state.message_sink = ConversationSink(wc.app.state.chat, wc.app.state.settings)
    async with wc.app.router.lifespan_context(wc.app):
        queue = (await wc.http.post("/api/v1/queues", headers=wc.admin, json={
            "name": "web", "channels": ["webchat"], "chat_auto_assign": True})).json()
        _, me = await login_agent(wc, queue["id"])
        visitor = await wc.visitor({"name": "Ada"})
        assert (await _upload(wc, visitor["token"], PNG, "image/png")).status_code == 201

        async def assigned() -> dict | None:
            items = (await wc.http.get("/api/v1/interactions", headers=wc.admin, params={"channel": "webchat"})).json()
            return items["items"][0] if items["items"] and items["items"][0]["state"] == "connected" else None

        async with asyncio.timeout(10):
            while (chat := await assigned()) is None:
                await asyncio.sleep(0.02)
        (shown,) = (await wc.http.get(f"/api/v1/conversations/{chat['id']}/messages", headers=me)).json()["items"]
        assert (shown["kind"], shown["media_mime"], shown["filename"]) == ("image", "image/png", "photo.png")
        file = await wc.http.get(shown["media_url"], headers=me)
        assert file.status_code == 200 and file.content == PNG

        r = await wc.http.post(f"/api/v1/conversations/{chat['id']}/attachments", headers={
            **me, "content-type": "application/pdf"}, params={"filename": "label.pdf"}, content=PDF)
        assert r.status_code == 201, r.text
        attachment = r.json()
        assert attachment["media_kind"] == "document" and attachment["filename"] == "label.pdf"
        r = await wc.http.post(f"/api/v1/conversations/{chat['id']}/attachments", headers={
            **me, "content-type": "application/zip"}, content=b"PK\x03\x04")
        assert r.status_code == 415
        r = await wc.http.post(f"/api/v1/conversations/{chat['id']}/reply", headers=me, json={
            "media_url": attachment["media_url"], "filename": attachment["filename"], "text": "Your label"})
        assert r.status_code == 201, r.text
        assert r.json()["media_url"] is not None and r.json()["filename"] == "label.pdf"
        bogus = await wc.http.post(f"/api/v1/conversations/{chat['id']}/reply", headers=me, json={
            "media_url": "media:999/" + "0" * 32 + ".pdf"})
        assert bogus.status_code == 422 and bogus.json()["error"]["details"] == {"field": "media_url"}

        async with wc.socket(visitor["token"]) as ws:
            await recv(ws)
            await wc.runtime.outbox.run_once()
            frames = [f for f in await drain(ws) if f["type"] == "message"]
        reply = frames[-1]["message"]
        assert reply["direction"] == "out" and reply["media"]["filename"] == "label.pdf"
        got = await _download(wc, visitor["token"], reply["id"])
        assert got.status_code == 200 and got.content == PDF


async def test_a_verified_visitors_replies_are_stored_under_the_same_identity(wc: Wc) -> None:
    from test_webchat_support import WIDGET_SECRET

    from teleplex.messaging.webchat import tokens

    proof = {"identifier": "customer-42", "identifier_hash": tokens.identity_hash(WIDGET_SECRET, "customer-42")}
    visitor = await wc.visitor(proof)
    async with wc.socket(visitor["token"]) as ws:
        await recv(ws)
        await ws.send(json.dumps({"type": "message", "client_id": "client-0042", "text": "It's me"}))
        await recv_until(ws, lambda f: f["type"] == "ack")
    await wc.reply("customer-42", "Hello again")
    anonymous = await wc.visitor({})
    await wc.reply(anonymous["visitor_id"], "Hello stranger")
    async with wc.db.session() as session:
        rows = (await session.execute(select(Message.direction, Message.peer_kind, Message.peer)
                                      .order_by(Message.id))).all()
    assert [tuple(r) for r in rows] == [("in", "visitor_verified", "customer-42"),
                                        ("out", "visitor_verified", "customer-42"),
                                        ("out", "visitor", anonymous["visitor_id"])]
