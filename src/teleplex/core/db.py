"""The database: SQLAlchemy 2 async engine and sessions over SQLite (embedded default) or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only as await_

# Stable constraint names, so Alembic migrations name the same thing the same way on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table in Teleplex."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware, on SQLite too (it keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Foreign keys on, WAL for concurrent readers, and a wait instead of 'database is locked'."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


WRITE_TURN_TIMEOUT = 30.0


class WriteTurns:
    """SQLite lets one connection write at a time, and one that finds the file locked sleeps in growing steps
    (up to 100 ms) before it tries again: under a burst, writers mostly slept while the file sat idle, and
    the pool ran dry. Here a transaction takes this process's write turn before its first write and gives it
    back when it ends, so writers queue in order and meet SQLite's lock only for another process's write.
    Python's sqlite3 begins a transaction at its first write, so reads before it never hold a stale snapshot.
    """

    def __init__(self) -> None:
        self._turn: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def install(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", self._before_execute)
        event.listen(engine.sync_engine, "commit", self._end)
        event.listen(engine.sync_engine, "rollback", self._end)
        event.listen(engine.sync_engine.pool, "reset", self._reset)
        event.listen(engine.sync_engine.pool, "close", self._returned)
        event.listen(engine.sync_engine.pool, "invalidate", self._returned)

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._turn is None or self._turn[0] is not loop:  # tests run one event loop after another
            self._turn = (loop, asyncio.Lock())
        return self._turn[1]

    def _before_execute(self, conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "write_turn" in conn.info or statement.lstrip()[:7].upper().startswith(("SELECT", "PRAGMA", "EXPLAIN")):
            return
        try:
            await_(self._take(conn.info))
        except TimeoutError:
            raise OperationalError(statement, parameters, TimeoutError(
                f"no turn to write within {WRITE_TURN_TIMEOUT:.0f} s (database is locked)")) from None

    async def _take(self, info: dict[str, Any]) -> None:
        """Wait for the turn and record it on the connection in the same step, with no await in between: a
        cancellation can then never leave the turn taken and unrecorded (asyncio.wait_for on 3.11 could),
        and whatever ends the connection's transaction gives it back."""
        lock = self._lock()
        async with asyncio.timeout(WRITE_TURN_TIMEOUT):
            await lock.acquire()
        info["write_turn"] = lock

    def _end(self, conn: Any) -> None:
        if conn.invalidated or conn.closed:
            # The pool's invalidate/close event already gave the turn back; and reading `conn.info` here would
            # raise PendingRollbackError from inside the rollback, hiding what ended the transaction (a task's
            # cancellation became an ordinary error, so loops that outlive errors never stopped).
            return
        lock = conn.info.pop("write_turn", None)
        if lock is not None:
            lock.release()

    def _reset(self, dbapi_conn: Any, record: Any, reset_state: Any) -> None:
        self._returned(dbapi_conn, record)

    def _returned(self, _dbapi_conn: Any, record: Any, *_: Any) -> None:
        lock = record.info.pop("write_turn", None) if record is not None else None
        if lock is not None:
            lock.release()


_AFTER_COMMIT = "teleplex.after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed, after those added before it; never if it
    rolls back. Two listeners per session however many callbacks (a batch adds one per message)."""
    sync = session.sync_session
    pending: list[Callable[[], None]] | None = sync.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = sync.info[_AFTER_COMMIT] = []
        event.listen(sync, "after_commit", _run_after_commit)
        event.listen(sync, "after_soft_rollback", _drop_after_commit)
    pending.append(callback)


def _run_after_commit(sync: Session) -> None:
    # SQLAlchemy tells of a savepoint's release as a commit too: only the real one runs the callbacks
    if sync.in_nested_transaction():
        return
    pending = sync.info[_AFTER_COMMIT]
    callbacks, pending[:] = list(pending), []
    for call in callbacks:
        call()


def _drop_after_commit(sync: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the transaction itself rolled back, not a savepoint in it
        sync.info[_AFTER_COMMIT].clear()


def create_engine(url: str) -> AsyncEngine:
    """Create the engine; for SQLite make sure its folder exists."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        WriteTurns().install(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """The engine and its session factory; one per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends normally, rolls back on any error."""
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
