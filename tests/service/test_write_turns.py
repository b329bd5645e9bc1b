"""Writers that overlap wait their turn: on SQLite none fails with "database is locked", however long the queue."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from teleplex.auth.models import User
from teleplex.core.db import Database

pytestmark = pytest.mark.db


async def test_overlapping_writers_all_commit_even_when_the_queue_outlasts_sqlites_busy_timeout(
    clean_database: Database, clock
) -> None:  # fmt: skip
    """12 transactions each hold their write for 0.5 s: 6 s in a row, beyond SQLite's 5 s busy timeout, which is
    what a burst looked like before writers queued in the process (the last ones failed)."""

    async def writer(n: int) -> None:
        async with clean_database.session() as session:
            session.add(User(username=f"writer{n}", display_name=f"Writer {n}", password_hash="x", roles=["agent"],
                             language="en", created_at=clock.now(), updated_at=clock.now(),
                             password_changed_at=clock.now()))  # fmt: skip
            await session.flush()
            await asyncio.sleep(0.5)  # work done while holding the write (routing, events...)

    await asyncio.gather(*(writer(n) for n in range(12)))
    async with clean_database.session() as session:
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 12
