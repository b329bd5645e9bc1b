"""Harness of the web interface's browser tests: the whole center running (engine, chat routing, the real
message sink, the messaging outbox) on a loopback port, on SQLite or on the PostgreSQL database that
TELEPLEX_DATABASE_URL names, plus helpers to set up users and to sign in through the login page.

The widget's harness (widget_harness.py) stays as it is: its center records messages instead of routing
them; this one routes them to agents, as production does.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import text
from widget_harness import Center, admin_client

from teleplex.app import create_app
from teleplex.core.clock import SystemClock
from teleplex.core.db import Database
from teleplex.core.migrate import upgrade
from teleplex.core.settings import Settings
from teleplex.messaging.runtime import runtime_for

PASSWORD = "correct-horse-battery"


class LiveCenter(Center):
    """Teleplex as `teleplex serve` runs it (minus Asterisk), on this test's own database."""

    def __init__(self) -> None:
        super().__init__()
        given = os.environ.get("TELEPLEX_DATABASE_URL")
        if given:
            self.settings = Settings(database_url=given, var_dir=self.folder,
                                     credentials_key=SecretStr("browser-test-key"), cookie_secure=False)

    async def _serve(self) -> None:
        self.db = Database(self.settings.database_url)
        if self.db.engine.dialect.name == "postgresql":
            async with self.db.engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(self.db.engine)
        self.app = create_app(self.settings, clock=SystemClock(), db=self.db)
        engine, chat = self.app.state.engine, self.app.state.chat
        await engine.start()
        await chat.restore()
        self.runtime = runtime_for(self.app)
        await self.runtime.start()
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started and not task.done():
            await asyncio.sleep(0.01)
        self.started.set()
        await task
        await self.runtime.stop()
        await engine.stop()
        await self.db.dispose()


@pytest.fixture(scope="module")
def live_center() -> Iterator[LiveCenter]:
    server = LiveCenter()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def admin(center: Center) -> httpx.Client:
    """The first administrator's API client (created once per center)."""
    cached = getattr(center, "_admin", None)
    if cached is None:
        cached = center._admin = admin_client(center)  # type: ignore[attr-defined]
    return cached


def ok(response: httpx.Response) -> Any:
    assert response.is_success, response.text
    return response.json() if response.content else None


def make_user(center: Center, username: str, roles: list[str], language: str = "en", **extra: Any) -> dict[str, Any]:
    return ok(admin(center).post("/api/v1/users", json={"username": username, "password": PASSWORD, "roles": roles,
                                                        "language": language, **extra}))


def make_agent(center: Center, username: str, queue_ids: list[int], language: str = "en",
               display_name: str | None = None, number: str = "2001") -> dict[str, Any]:
    """A user with the agent role and their agent profile in these queues."""
    user = make_user(center, username, ["agent"], language, display_name=display_name)
    return ok(admin(center).post("/api/v1/agents", json={
        "user_id": user["id"], "number": number, "display_name": display_name, "device": f"PJSIP/{number}",
        "queues": [{"queue_id": q, "penalty": 0} for q in queue_ids]}))


def sign_in(page: Any, center: Center, username: str, password: str = PASSWORD) -> None:
    """Through the login page, as a person would."""
    page.goto(center.url + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def wait_for(what: str, check: Callable[[], Any], seconds: float = 20) -> Any:
    """A hang guard while the server catches up, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.05)


def watch_errors(page: Any) -> list[str]:
    """Collects the page's uncaught script errors, which every test asserts are none."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def start_console(chromium: Any, center: Center, username: str) -> tuple[Any, Any, list[str]]:
    """A new browser context with the agent's console signed in and the agent logged in (Ready)."""
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, center, username)
    page.locator("#agent-login").click()
    expect(page.locator("#state-badge")).to_have_text("Ready")
    return context, page, errors
