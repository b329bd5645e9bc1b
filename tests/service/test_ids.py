"""Record ids handed out ahead of their rows never collide, whoever hands them out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import delete

from teleplex.core.db import Database
from teleplex.core.ids import IdBlock, IdCounter
from teleplex.interactions import service as interactions

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def test_blocks_and_single_reservations_never_collide(clean_database: Database):
    first, second = IdBlock(clean_database, "interactions", size=8), IdBlock(clean_database, "interactions", size=8)
    taken = [await first.take() for _ in range(5)] + [await second.take() for _ in range(20)]
    async with clean_database.session() as session:  # a creator without a block reserves one id in its transaction
        opened = [(await interactions.open_interaction(session, AT, channel="webchat")).id for _ in range(3)]
    taken += opened + await asyncio.gather(*(first.take() for _ in range(30)))
    assert len(taken) == len(set(taken)) == 58
    async with clean_database.session() as session:
        for iid in taken[:5]:  # ids from a block are accepted as the records' own
            await interactions.open_interaction(session, AT, channel="voice", interaction_id=iid)


async def test_a_missing_counter_starts_after_the_highest_stored_id(clean_database: Database):
    """Counters emptied (or a table that had rows before its counter): new ids go above the stored ones."""
    async with clean_database.session() as session:
        await session.execute(delete(IdCounter))
        await interactions.open_interaction(session, AT, channel="voice", interaction_id=500)
        await session.execute(delete(IdCounter))
    assert await IdBlock(clean_database, "interactions", size=4).take() == 501
