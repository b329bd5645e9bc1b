"""Group commit: what arrives while one transaction commits is written together by the next.

A commit is the slow part of storing a small thing (a sync to disk on SQLite, a round trip, and the session's
own cost), and writers that each wait for their own commit queue behind one another under a burst. Here the
items that come in while one batch is being written wait for it to finish and then go in one transaction:
a commit per batch instead of per item, with no added wait when traffic is light (a lone item is written at
once, a batch of one). Used by the webhook inbox and by web chat visitors' messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`submit` returns once its item is committed, with its result (or raises what writing it raised).

    `write` stores a batch in one transaction and returns one result per item, in order. When it raises one
    of `alone_on`, the batch's items are written again one by one (`write([item])`), so one item that cannot
    be written fails only its own caller; any other error fails the whole batch. `written` hears each
    batch's items and results after its commit.
    """

    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[list[R]]],
        max_batch: int,
        alone_on: tuple[type[BaseException], ...],
        written: Callable[[list[T], list[R]], Awaitable[None] | None] | None = None,
    ) -> None:
        self._write, self._max, self._alone_on, self._written = write, max_batch, alone_on, written
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        writer = self._writer
        if writer is not None and writer.get_loop() is not loop:  # tests run one event loop after another
            self._pending = [(i, f) for i, f in self._pending if f.get_loop() is loop]
            writer = None
        self._pending.append((item, future))
        if writer is None or writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await asyncio.shield(future)  # a caller that goes away does not cancel the others' batch

    async def _write_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max], self._pending[self._max :]
            items = [item for item, _ in batch]
            results = await self._results(items)
            done_items, done_results = [], []
            for (item, future), result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    if not future.done():
                        future.set_exception(result)
                    continue
                if not future.done():
                    future.set_result(result)
                done_items.append(item)
                done_results.append(result)
            if done_items and self._written is not None:
                outcome = self._written(done_items, done_results)
                if outcome is not None:
                    await outcome

    async def _results(self, items: list[T]) -> list[R | BaseException]:
        try:
            return list(await self._write(items))
        except self._alone_on as exc:
            if len(items) == 1:
                return [exc]
            results: list[R | BaseException] = []
            for item in items:
                try:
                    results += await self._write([item])
                except Exception as alone:  # noqa: BLE001 - handed to that item's caller
                    results.append(alone)
            return results
        except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
            return [exc] * len(items)
