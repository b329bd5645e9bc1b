"""Work that must wait for a commit (events on the stream, routing) runs once the transaction commits, in the
order it was added, and never for a transaction that rolled back, whatever savepoints it held."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from teleplex.auth.models import User
from teleplex.core.db import Database, after_commit

pytestmark = pytest.mark.db


def _user(name: str, clock) -> User:
    return User(username=name, display_name=name, password_hash="x", roles=["agent"], language="en",
                created_at=clock.now(), updated_at=clock.now(), password_changed_at=clock.now())  # fmt: skip


async def test_callbacks_wait_for_the_real_commit_not_a_savepoints_release(clean_database: Database, clock) -> None:
    ran: list[str] = []
    async with clean_database.session() as session:
        after_commit(session, lambda: ran.append("first"))
        async with session.begin_nested():  # e.g. a race-safe insert of a contact identity
            session.add(_user("ana", clock))
        assert ran == []  # the savepoint's release is not the commit
        after_commit(session, lambda: ran.append("second"))
        assert ran == []
    assert ran == ["first", "second"]
    async with clean_database.session() as session:  # a later transaction starts with nothing pending
        after_commit(session, lambda: ran.append("third"))
    assert ran == ["first", "second", "third"]


async def test_a_rolled_back_transaction_runs_nothing_even_in_a_session_that_goes_on(
    clean_database: Database, clock
) -> None:  # fmt: skip
    ran: list[str] = []
    async with clean_database.sessions() as session:
        session.add(_user("bea", clock))
        after_commit(session, lambda: ran.append("rolled back"))
        await session.flush()
        await session.rollback()
        session.add(_user("cy", clock))
        after_commit(session, lambda: ran.append("committed"))
        await session.commit()
    assert ran == ["committed"]
    async with clean_database.session() as session:
        assert (await session.execute(select(func.count()).select_from(User))).scalar_one() == 1
