"""Visitors' messages are stored by group commit: messages of many visitors that arrive together are written
in fewer transactions than messages, each stored once with its visitor's stream gapless, and one message that
cannot be written (a resend, a sink's error) changes nothing for the others in its batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, select
from test_webchat_support import RecordingSink, Wc, wc  # noqa: F401 - fixture

from teleplex.engine.conversation_sink import ConversationSink
from teleplex.interactions.models import Interaction
from teleplex.messaging.models import Channel, Message
from teleplex.messaging.webchat import service
from teleplex.messaging.webchat.models import WebchatEvent, WebchatVisitor


async def _visitors(wc: Wc, count: int) -> list[int]:
    public = [(await wc.visitor({}))["visitor_id"] for _ in range(count)]
    async with wc.db.session() as session:
        rows = (await session.execute(select(WebchatVisitor.public_id, WebchatVisitor.id).where(
            WebchatVisitor.public_id.in_(public)))).all()  # fmt: skip
    ids = dict(rows)
    return [ids[p] for p in public]


async def _channel(wc: Wc) -> Channel:
    async with wc.db.session() as session:
        channel = await session.get(Channel, wc.channel_id)
        assert channel is not None
        return channel


def _count_commits(wc: Wc) -> list[int]:
    commits = [0]

    def count(_: Any) -> None:
        commits[0] += 1

    event.listen(wc.db.engine.sync_engine, "commit", count)
    return commits


async def _streams(wc: Wc) -> dict[int, list[int]]:
    async with wc.db.session() as session:
        rows = (await session.execute(select(WebchatEvent.visitor_id, WebchatEvent.seq).order_by(
            WebchatEvent.visitor_id, WebchatEvent.seq))).all()  # fmt: skip
    streams: dict[int, list[int]] = {}
    for visitor_id, seq in rows:
        streams.setdefault(visitor_id, []).append(seq)
    return streams


async def test_messages_sent_together_share_transactions_and_each_is_stored_once_in_order(wc: Wc) -> None:
    visitors = await _visitors(wc, 10)
    channel = await _channel(wc)
    commits = _count_commits(wc)
    sends = [service.visitor_message(wc.db, wc.clock, wc.sink, channel, visitor, f"client-{visitor}-{n:03d}",
                                     f"message {n} from {visitor}")
             for n in range(4) for visitor in visitors]  # fmt: skip
    stored = await asyncio.gather(*sends)
    assert not any(s.duplicate for s in stored) and len({s.message_id for s in stored}) == 40
    assert commits[0] < 40  # fewer commits than messages: they were written together
    assert sorted(text for _, inbound in wc.sink.inbound for text in [inbound.text]) == sorted(
        f"message {n} from {visitor}" for n in range(4) for visitor in visitors)
    streams = await _streams(wc)
    assert {visitor: streams[visitor] for visitor in visitors} == {visitor: [1, 2, 3, 4] for visitor in visitors}
    for visitor in visitors:  # each visitor's messages in the order they were sent
        mine = [s for s in stored if s.event and s.event["message"]["client_id"].startswith(f"client-{visitor}-")]
        assert [s.event["message"]["client_id"] for s in sorted(mine, key=lambda s: s.seq)] == [
            f"client-{visitor}-{n:03d}" for n in range(4)]


async def test_a_resend_in_a_batch_is_answered_with_the_first_copy_and_the_others_are_stored(wc: Wc) -> None:
    visitors = await _visitors(wc, 3)
    channel = await _channel(wc)
    first = await service.visitor_message(wc.db, wc.clock, wc.sink, channel, visitors[0], "client-0001", "hello")
    together = await asyncio.gather(
        service.visitor_message(wc.db, wc.clock, wc.sink, channel, visitors[1], "client-0002", "one"),
        service.visitor_message(wc.db, wc.clock, wc.sink, channel, visitors[0], "client-0001", "hello"),  # resend
        service.visitor_message(wc.db, wc.clock, wc.sink, channel, visitors[2], "client-0003", "two"),
        service.visitor_message(wc.db, wc.clock, wc.sink, channel, visitors[0], "client-0004", "next"),
    )
    assert [s.duplicate for s in together] == [False, True, False, False]
    assert (together[1].message_id, together[1].seq) == (first.message_id, first.seq)
    assert together[3].seq == first.seq + 1  # the resend took no stream number
    assert sorted(m.text for m in await wc.messages()) == ["hello", "next", "one", "two"]
    assert [inbound.text for _, inbound in wc.sink.inbound].count("hello") == 1


class _RefusingSink(RecordingSink):
    """A sink that cannot take one particular text, and (like the core's) acts on a message once it commits."""

    async def received(self, session, channel, message, inbound) -> None:  # noqa: ANN001
        if inbound.text == "poison":
            raise RuntimeError("the sink refused it")
        event.listen(session.sync_session, "after_commit",
                     lambda _: self.inbound.append((message.id, inbound)), once=True)  # fmt: skip


async def test_a_message_the_sink_refuses_fails_alone(wc: Wc) -> None:
    visitors = await _visitors(wc, 3)
    channel = await _channel(wc)
    sink = _RefusingSink()
    outcomes = await asyncio.gather(*(
        service.visitor_message(wc.db, wc.clock, sink, channel, visitor, f"client-{n:04d}", text)
        for n, (visitor, text) in enumerate(zip(visitors, ["fine", "poison", "also fine"], strict=True))),
        return_exceptions=True)  # fmt: skip
    assert isinstance(outcomes[1], RuntimeError)
    assert [o.duplicate for o in (outcomes[0], outcomes[2])] == [False, False]  # type: ignore[union-attr]
    assert sorted(m.text for m in await wc.messages()) == ["also fine", "fine"]
    assert sorted(inbound.text for _, inbound in sink.inbound) == ["also fine", "fine"]
    streams = await _streams(wc)
    assert visitors[1] not in streams  # its stream number went with its transaction
    with pytest.raises(RuntimeError):  # and a retry of it fails again, alone
        await service.visitor_message(wc.db, wc.clock, sink, channel, visitors[1], "client-0001", "poison")


async def test_a_batch_joins_each_visitor_to_their_own_conversation(wc: Wc) -> None:
    """The core's sink places a whole batch: visitors with an open conversation are appended to it together,
    a new visitor's first messages sent together open one conversation, not two, and the stream hears of
    every message once, with its conversation."""
    wc.app.state.message_sink = ConversationSink(wc.app.state.chat, wc.app.state.settings)
    async with wc.app.router.lifespan_context(wc.app):
        r = await wc.http.post("/api/v1/queues", headers=wc.admin, json={"name": "web", "channels": ["webchat"]})
        assert r.status_code == 201, r.text
        known, new = await _visitors(wc, 5), await _visitors(wc, 2)
        channel = await _channel(wc)
        sink = wc.app.state.message_sink
        for visitor in known:  # one by one: each opens its conversation
            await service.visitor_message(wc.db, wc.clock, sink, channel, visitor, f"first-{visitor}", "hello")
        heard = wc.app.state.bus.subscribe(lambda e: e.type == "conversation.message")
        commits = _count_commits(wc)
        await asyncio.gather(*(
            service.visitor_message(wc.db, wc.clock, sink, channel, visitor, f"c-{visitor}-{n}", f"{visitor} #{n}")
            for n in range(3) for visitor in known + new))  # fmt: skip
        assert commits[0] < 21  # written together
        async with wc.db.session() as session:
            rows = (await session.execute(select(Message.peer, Message.interaction_id, Message.text, Message.id)
                                          .order_by(Message.id))).all()  # fmt: skip
            chats = (await session.execute(select(Interaction.peer, Interaction.id, Interaction.contact_id)
                                           .where(Interaction.channel_ref == channel.id))).all()  # fmt: skip
        assert len(chats) == 7 and len({peer for peer, _, _ in chats}) == 7  # one conversation per visitor
        assert all(contact is not None for _, _, contact in chats)
        conversation_of = {peer: chat for peer, chat, _ in chats}
        assert len(rows) == 5 + 21
        assert all(interaction == conversation_of[peer] for peer, interaction, _, _ in rows)
        events = []
        while not heard.queue.empty():
            events.append(heard.queue.get_nowait())
        by_message = {message_id: interaction for _, interaction, _, message_id in rows}
        assert sorted(e.data["message_id"] for e in events) == sorted(m for *_, m in rows[5:])  # each once
        assert all(e.data["interaction_id"] == by_message[e.data["message_id"]] for e in events)
