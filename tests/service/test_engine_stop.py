"""Stopping the engine ends every task it runs, even one started while the others were being stopped."""

from __future__ import annotations

import asyncio

from teleplex.core.clock import FakeClock
from teleplex.core.db import Database
from teleplex.core.events import EventBus
from teleplex.engine.engine import Engine


async def test_stop_ends_tasks_started_during_the_stop_and_forgets_finished_ones(clean_database: Database) -> None:
    engine = Engine(clean_database, FakeClock(), EventBus())
    await engine.start()
    late_started = asyncio.Event()

    async def forever() -> None:
        await asyncio.Event().wait()

    async def starts_another_when_stopped() -> None:
        try:
            await asyncio.Event().wait()
        finally:  # a task that reacts to its cancellation by starting work (routing what it held, say)
            engine.spawn(forever(), "late")
            late_started.set()

    finished = engine.spawn(asyncio.sleep(0), "finished")
    await finished
    assert finished not in engine._tasks  # a long-running center does not keep every task it ever ran
    engine.spawn(starts_another_when_stopped(), "reacting")
    await asyncio.sleep(0)
    await asyncio.wait_for(engine.stop(), 10)
    assert late_started.is_set()
    assert not engine._tasks
