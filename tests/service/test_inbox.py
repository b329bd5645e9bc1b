"""The webhook inbox stores each delivery once, batched under a burst, and hands over only what is new."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from teleplex.core.db import Database
from teleplex.messaging.inbox import Delivery, Inbox
from teleplex.messaging.models import Channel, InboundEvent

pytestmark = pytest.mark.db


async def _channel(db: Database, clock) -> int:  # noqa: ANN001
    async with db.session() as session:
        channel = Channel(kind="whatsapp", name="WhatsApp", enabled=True, credentials="", credential_names=[], settings={},
                          created_at=clock.now(), updated_at=clock.now())  # fmt: skip
        session.add(channel)
        await session.flush()
        return channel.id


async def _events(db: Database) -> list[tuple[int, str]]:
    async with db.session() as session:
        rows = await session.execute(select(InboundEvent.id, InboundEvent.provider_event_id).order_by(InboundEvent.id))
        return [(row[0], row[1]) for row in rows]


async def test_a_burst_is_stored_once_per_delivery_and_only_new_ones_are_handed_over(clean_database, clock) -> None:
    channel_id = await _channel(clean_database, clock)
    handed: list[int] = []
    inbox = Inbox(clean_database, clock, stored=handed.extend)
    keys = [f"wamid.{n % 40}" for n in range(120)]  # 40 distinct deliveries, each arriving three times at once
    results = await asyncio.gather(*(inbox.store(Delivery(channel_id, "message", key, key.encode())) for key in keys))

    stored = await _events(clean_database)
    assert sorted(key for _, key in stored) == sorted({*keys})
    ids = dict((key, event_id) for event_id, key in stored)
    assert [event_id for event_id, _ in results] == [ids[key] for key in keys]  # every copy names the same event
    assert sum(created for _, created in results) == 40  # exactly one copy of each is "new"
    assert sorted(handed) == sorted(ids.values())  # each new event reaches the processor once

    again = await inbox.store(Delivery(channel_id, "message", "wamid.7", b"redelivered"))
    assert again == (ids["wamid.7"], False) and len(handed) == 40


async def test_a_delivery_another_writer_stored_meanwhile_is_answered_as_a_duplicate(clean_database, clock) -> None:
    """Two nodes (two inboxes) storing the same burst: the unique key decides, and both answer the same ids."""
    channel_id = await _channel(clean_database, clock)
    first, second = Inbox(clean_database, clock), Inbox(clean_database, clock)
    keys = [f"tg.{n}" for n in range(30)]
    a, b = await asyncio.gather(
        asyncio.gather(*(first.store(Delivery(channel_id, "update", k, b"{}")) for k in keys)),
        asyncio.gather(*(second.store(Delivery(channel_id, "update", k, b"{}")) for k in keys)),
    )
    assert [event_id for event_id, _ in a] == [event_id for event_id, _ in b]
    assert all(x[1] != y[1] for x, y in zip(a, b, strict=True))  # one of the two stored it, the other did not
    async with clean_database.session() as session:
        assert (await session.execute(select(func.count()).select_from(InboundEvent))).scalar_one() == 30


async def test_a_failed_write_is_reported_to_every_caller_and_stores_nothing(clean_database, clock, monkeypatch) -> None:
    channel_id = await _channel(clean_database, clock)
    inbox = Inbox(clean_database, clock)

    async def broken(batch):  # noqa: ANN001, ANN202
        raise ConnectionResetError("database went away")

    monkeypatch.setattr(inbox, "_write", broken)
    outcomes = await asyncio.gather(*(inbox.store(Delivery(channel_id, "message", f"k{n}", b"")) for n in range(5)),
                                    return_exceptions=True)  # fmt: skip
    assert all(isinstance(o, ConnectionResetError) for o in outcomes)
    monkeypatch.undo()
    assert await _events(clean_database) == []
    assert (await inbox.store(Delivery(channel_id, "message", "k1", b"")))[1] is True  # the provider's retry lands
