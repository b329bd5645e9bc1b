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


def _user(n: int, clock) -> User:
    return User(username=f"user{n}", display_name=f"User {n}", password_hash="x", roles=["agent"], language="en",
                created_at=clock.now(), updated_at=clock.now(), password_changed_at=clock.now())  # fmt: skip


async def test_a_writer_cancelled_while_it_waits_is_cancelled_and_the_others_go_on(clean_database: Database, clock) -> None:
    """A task stopped mid-transaction (a shutdown cancelling the dialer) must end cancelled, not with an
    ordinary error that a retry loop swallows, which is how stopping the center once hung; and its turn, or
    its place in the queue, must not block the writers after it."""
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with clean_database.session() as session:
            session.add(_user(1, clock))
            await session.flush()  # holds the write (on SQLite, this process's write turn)
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with clean_database.session() as session:
            session.add(_user(1, clock))  # the same name: PostgreSQL too makes it wait for the first one's outcome
            await session.flush()

    first = asyncio.create_task(holder())
    await holding.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0.3)  # the second writer is now waiting for the first one's transaction
    second.cancel()
    done, _ = await asyncio.wait({second}, timeout=10)
    assert done, "the cancelled writer did not end"
    assert second.cancelled(), f"the cancellation became {second.exception()!r}"
    release.set()
    await first
    async with clean_database.session() as session:
        session.add(_user(3, clock))
    async with clean_database.session() as session:
        names = (await session.execute(select(User.username).order_by(User.username))).scalars().all()
    assert names == ["user1", "user3"]
