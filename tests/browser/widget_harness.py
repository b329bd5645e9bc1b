"""Harness of the browser tests: the real app on a loopback port (its own thread and event loop, its own SQLite database,
the messaging runtime running the outbox), a customer's page on another origin, and Debian's chromium.

Outside CI they skip, saying why, when chromium or Playwright is missing; in CI (`CI` set) they must run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from teleplex.app import create_app
from teleplex.core.clock import SystemClock
from teleplex.core.db import Database
from teleplex.core.migrate import upgrade
from teleplex.core.settings import Settings
from teleplex.messaging.runtime import runtime_for

IN_CI = bool(os.environ.get("CI"))
CHROMIUM = os.environ.get("TELEPLEX_CHROMIUM", "/usr/bin/chromium")


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser tests: `make setup` installs it as root)")
    pytest.skip(reason)


class RecordingSink:
    """The core's sink stays out of the widget's test: this one only keeps what it was handed."""

    def __init__(self) -> None:
        self.inbound: list[Any] = []
        self.statuses: list[tuple[int, str]] = []

    async def place(self, session, channel, items) -> None:
        return None

    async def received(self, session, channel, message, inbound) -> None:
        self.inbound.append(inbound)

    async def status_changed(self, session, channel, message, update) -> None:
        self.statuses.append((message.id, update.status))


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Center:
    """Teleplex served on 127.0.0.1 from a thread with its own event loop; `call` runs a coroutine there."""

    def __init__(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="teleplex-browser-"))
        self.folder = folder
        self.settings = Settings(database_url=f"sqlite+aiosqlite:///{folder}/test.db", var_dir=folder,
                                 credentials_key=SecretStr("browser-test-key"), cookie_secure=False)
        self.sink = RecordingSink()
        self.loop = asyncio.new_event_loop()
        self.sock = _free_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, name="teleplex-center", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self.db = Database(self.settings.database_url)
        await upgrade(self.db.engine)
        self.app = create_app(self.settings, clock=SystemClock(), db=self.db)
        self.app.state.message_sink = self.sink
        self.runtime = runtime_for(self.app)
        await self.runtime.start()  # the outbox worker: agent replies leave through it
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started and not task.done():
            await asyncio.sleep(0.01)
        self.started.set()
        await task
        await self.runtime.stop()
        await self.db.dispose()

    def start(self) -> None:
        self.thread.start()
        if not self.started.wait(30):
            raise RuntimeError("the app did not start")

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def page_server(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    """A customer's web site on another origin than the center (`localhost`, not 127.0.0.1, and another
    port). `pages` maps paths to HTML and may be filled after start, once the origin is known."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"not found"
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, name="customer-site", daemon=True).start()
    return server, f"http://localhost:{server.server_address[1]}"


@pytest.fixture(scope="module")
def center() -> Iterator[Center]:
    server = Center()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    _need(Path(CHROMIUM).exists(), f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright package is not installed (pip install -e '.[test]')")
        raise
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def admin_client(center: Center) -> httpx.Client:
    from teleplex.auth.service import create_first_admin

    async def bootstrap() -> None:
        async with center.db.session() as session:
            await create_first_admin(session, SystemClock(), "admin-password")

    center.call(bootstrap())
    client = httpx.Client(base_url=center.url, timeout=30)
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "admin-password"})
    r.raise_for_status()
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return client
