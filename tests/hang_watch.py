"""A watchdog for the suite: when one test (set-up and teardown included) runs far longer than any test should,
print what every thread and every asyncio task is waiting on, once, to the real stderr.

Why: a hang in CI used to end as the job's time limit with no clue where; pytest-timeout (configured in
pyproject.toml) then fails the test so the rest of the suite still runs, but its dump shows only threads, and
an asyncio hang is a task awaiting something, which only the tasks' stacks show.
"""

from __future__ import annotations

import asyncio
import faulthandler
import io
import sys
import threading
import time
from collections.abc import Iterator

import pytest

REPORT_AFTER_S = 240.0

_current: dict[str, object] = {}
_loop: list[asyncio.AbstractEventLoop] = []
_config: list[pytest.Config] = []


def _dump_tasks(out: io.StringIO) -> None:
    for task in asyncio.all_tasks():
        out.write(f"--- {task!r}\n")
        task.print_stack(file=out)


def _report(test_id: str, seconds: float) -> None:
    """Print past pytest's capture (the test is stuck, so nothing of its own output interleaves)."""
    capture = _config[0].pluginmanager.getplugin("capturemanager") if _config else None
    if capture is None:
        _write(test_id, seconds)
        return
    with capture.global_and_fixture_disabled():
        _write(test_id, seconds)


def _write(test_id: str, seconds: float) -> None:
    err = sys.__stderr__
    if err is None:
        return
    err.write(f"\n=== hang watch: {test_id} still running after {seconds:.0f} s ===\n")
    faulthandler.dump_traceback(file=err, all_threads=True)
    if _loop and _loop[0].is_running():
        out = io.StringIO()
        done = threading.Event()

        def dump() -> None:
            try:
                _dump_tasks(out)
            finally:
                done.set()

        _loop[0].call_soon_threadsafe(dump)
        if not done.wait(10):
            out.write("(the event loop did not run the dump within 10 s: it is blocked in the thread above)\n")
        err.write(out.getvalue())
    err.write("=== end of hang watch ===\n")
    err.flush()


def _watch() -> None:
    reported: object = None
    while True:
        time.sleep(5)
        started, test_id = _current.get("started"), _current.get("id")
        if not isinstance(started, float) or test_id is reported:
            continue
        seconds = time.monotonic() - started
        if seconds > REPORT_AFTER_S:
            reported = test_id
            _report(str(test_id), seconds)


def pytest_configure(config: pytest.Config) -> None:
    _config[:] = [config]
    threading.Thread(target=_watch, name="hang-watch", daemon=True).start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _current["id"], _current["started"] = item.nodeid, time.monotonic()
    yield
    _current.pop("started", None)


@pytest.fixture(scope="session", autouse=True)
async def _hang_watch_loop() -> None:
    """Remember the suite's event loop, so the watchdog can list its tasks."""
    _loop[:] = [asyncio.get_running_loop()]
