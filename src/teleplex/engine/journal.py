"""Records written behind the routing: every change goes, in order, to one writer that stores many per transaction.

Why: ringing an agent must not wait for the database, and one transaction per change was most of the engine's
CPU under load. The writer keeps the order in which changes were made. A batch that fails is replayed one change
at a time, so a faulty change loses only itself (and says so in the log); a database that is down delays the
records, retried with backoff, and loses none of them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from teleplex.core.db import Database
from teleplex.core.logging import get_logger

log = get_logger("teleplex.journal")

Change = Callable[[AsyncSession], Awaitable[None]]

MAX_BATCH = 500
RETRY_FIRST_S = 0.05
RETRY_MAX_S = 5.0


def _is_outage(exc: BaseException) -> bool:
    """A fault of the database or the link to it (worth retrying), as opposed to a change that is wrong."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class Journal:
    """An ordered write-behind queue of record changes, drained by one task."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: deque[Change] = deque()
        self._wake = asyncio.Event()
        self._settled = asyncio.Event()
        self._settled.set()
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Lock()
        self.written = 0  # changes stored since start, for metrics and tests
        self.dropped = 0  # changes that failed for a reason other than an outage

    def write(self, change: Change) -> None:
        """Queue a change; it is stored after every change queued before it."""
        self._pending.append(change)
        self._settled.clear()
        self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="engine-journal")

    async def stop(self) -> None:
        """Store what is queued, then stop the writer."""
        await self.settle()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def settle(self) -> None:
        """Wait until every change queued so far is stored (read-your-writes for API answers)."""
        if self._task is None or self._task.done():
            await self._drain()
            return
        await self._settled.wait()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._drain()

    async def _drain(self) -> None:
        async with self._draining:
            delay = RETRY_FIRST_S
            while self._pending:
                batch = [self._pending[i] for i in range(min(MAX_BATCH, len(self._pending)))]
                try:
                    await self._store(batch)
                except Exception as exc:  # noqa: BLE001 - sorted below: outage (retry) or a faulty change
                    if _is_outage(exc):
                        log.warning("database unavailable; records wait", backlog=len(self._pending), error=str(exc))
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, RETRY_MAX_S)
                        continue
                    await self._store_one_by_one(len(batch))
                    continue
                for _ in batch:
                    self._pending.popleft()
                self.written += len(batch)
                delay = RETRY_FIRST_S
            self._settled.set()

    async def _store(self, batch: list[Change]) -> None:
        async with self.db.session() as session:
            for change in batch:
                await change(session)

    async def _store_one_by_one(self, count: int) -> None:
        """Find the faulty change of a failed batch: store each alone, drop (and log) the ones that fail."""
        for _ in range(count):
            change = self._pending[0]
            delay = RETRY_FIRST_S
            while True:
                try:
                    await self._store([change])
                except Exception as exc:  # noqa: BLE001
                    if _is_outage(exc):
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, RETRY_MAX_S)
                        continue
                    self.dropped += 1
                    log.exception("a record change failed and was dropped", change=getattr(change, "__qualname__", ""))
                else:
                    self.written += 1
                break
            self._pending.popleft()
