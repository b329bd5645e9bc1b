"""Record ids handed out from memory, reserved from the database a block at a time.

Why: a call is routed before its record is written (the engine's journal stores it a moment later), yet its id
is needed at once, in the offer to the agent. Every creator of a row of such a table takes its id from the same
counter, so ids never collide, whichever node or process made them.
"""

from __future__ import annotations

import asyncio
from collections import deque

from sqlalchemy import Integer, String, column, func, insert, select, table, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from teleplex.core.db import Base, Database


class IdCounter(Base):
    """The next free id of a table whose ids are handed out ahead of its rows."""

    __tablename__ = "id_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # the table's name
    next_id: Mapped[int] = mapped_column(Integer)


async def reserve(session: AsyncSession, name: str, count: int) -> range:
    """Reserve `count` consecutive ids of table `name` in the session's transaction."""
    stmt = (
        update(IdCounter).where(IdCounter.name == name).values(next_id=IdCounter.next_id + count)
        .returning(IdCounter.next_id)
    )  # fmt: skip
    end = (await session.execute(stmt)).scalar()
    if end is None:  # first use (or the counters were emptied): start after the table's highest id
        rows = table(name, column("id"))
        start = (await session.execute(select(func.coalesce(func.max(rows.c.id), 0) + 1))).scalar_one()
        end = start + count
        await session.execute(insert(IdCounter).values(name=name, next_id=end))
    return range(end - count, end)


class IdBlock:
    """A process's supply of ids for one table; refilled ahead, before it runs out."""

    def __init__(self, db: Database, name: str, size: int = 64) -> None:
        self.db = db
        self.name = name
        self.size = size
        self._ids: deque[int] = deque()
        self._refilling: asyncio.Task[None] | None = None

    async def take(self) -> int:
        while not self._ids:
            await self._refill_now()
        if len(self._ids) <= self.size // 4 and self._refilling is None:
            self._refilling = asyncio.create_task(self._refill_now(), name=f"ids-{self.name}")
        return self._ids.popleft()

    async def _refill_now(self) -> None:
        if self._refilling is not None and asyncio.current_task() is not self._refilling:
            await asyncio.shield(self._refilling)
            if self._ids:
                return
        try:
            for attempt in range(3):
                try:
                    async with self.db.session() as session:
                        self._ids.extend(await reserve(session, self.name, self.size))
                    return
                except IntegrityError:  # two nodes created the counter at once: the other one won, read it
                    if attempt == 2:
                        raise
        finally:
            if asyncio.current_task() is self._refilling:
                self._refilling = None
