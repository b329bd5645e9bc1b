"""The engine's journal stores record changes behind the routing: in order, none lost, none twice."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from teleplex.core.db import Database
from teleplex.engine.journal import Journal
from teleplex.interactions import service as interactions
from teleplex.interactions.models import Interaction, InteractionEvent

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class FlakyDatabase:
    """The real database behind a link that fails a given number of times (a database restart, say)."""

    def __init__(self, db: Database, failures: int) -> None:
        self.db = db
        self.failures = failures

    @asynccontextmanager
    async def session(self):
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("INSERT ...", {}, ConnectionRefusedError("the database is restarting"))
        async with self.db.session() as session:
            yield session


def note(interaction_id: int, n: int):
    async def change(session) -> None:
        interaction = await session.get(Interaction, interaction_id)
        await interactions.event(session, interaction, AT, "note", n=n)

    return change


async def _open(db: Database) -> int:
    async with db.session() as session:
        return (await interactions.open_interaction(session, AT, channel="voice")).id


async def _notes(db: Database, interaction_id: int) -> list[int]:
    async with db.session() as session:
        rows = await session.execute(
            select(InteractionEvent).where(InteractionEvent.interaction_id == interaction_id,
                                           InteractionEvent.kind == "note").order_by(InteractionEvent.id)
        )  # fmt: skip
        return [e.data["n"] for e in rows.scalars()]


async def test_changes_are_stored_in_the_order_they_were_made(clean_database: Database):
    iid = await _open(clean_database)
    journal = Journal(clean_database)
    journal.start()
    for n in range(50):
        journal.write(note(iid, n))
    await journal.settle()
    await journal.stop()
    assert await _notes(clean_database, iid) == list(range(50))
    assert journal.written == 50


async def test_a_database_outage_delays_records_and_loses_none(clean_database: Database):
    iid = await _open(clean_database)
    journal = Journal(FlakyDatabase(clean_database, failures=4))  # type: ignore[arg-type]
    journal.start()
    for n in range(10):
        journal.write(note(iid, n))
    await journal.settle()
    await journal.stop()
    assert await _notes(clean_database, iid) == list(range(10)), "every change once, in order"
    assert journal.dropped == 0


async def test_a_faulty_change_loses_only_itself(clean_database: Database):
    iid = await _open(clean_database)
    journal = Journal(clean_database)

    async def faulty(session) -> None:
        raise ValueError("a bug in one change")

    for change in (note(iid, 1), faulty, note(iid, 2)):
        journal.write(change)
    await journal.settle()  # not started: settle writes inline
    assert await _notes(clean_database, iid) == [1, 2]
    assert journal.dropped == 1 and journal.backlog == 0
