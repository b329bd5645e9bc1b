"""Fixtures for the messaging tests: the app wired to fake providers on loopback, and signed deliveries.

Import the fixtures into a test module (`from fakes.harness import graph, bot, twilio, mx`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from teleplex.app import create_app
from teleplex.core.clock import FakeClock
from teleplex.core.db import Database
from teleplex.core.settings import Settings
from teleplex.messaging.models import InboundEvent, Message, OutboxItem
from teleplex.messaging.providers import whatsapp
from teleplex.messaging.runtime import MessagingRuntime, runtime_for

from .bot_api import TOKEN as BOT_TOKEN, FakeBotApi
from .graph_api import TOKEN as GRAPH_TOKEN, FakeGraphApi
from .server import serve
from .twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
APP_SECRET = "whatsapp-app-secret"
VERIFY_TOKEN = "whatsapp-verify-token"
TG_SECRET = "telegram-webhook-secret"
BASE_URL = "http://teleplex.test"


def fixture_bytes(provider: str, name: str) -> bytes:
    suffix = ".txt" if provider == "twilio" else ".json"
    return (FIXTURES / provider / f"{name}{suffix}").read_bytes().strip()


@pytest.fixture(scope="module")
async def graph_server() -> AsyncIterator[FakeGraphApi]:
    fake = FakeGraphApi()
    async with serve(fake.app) as url:
        fake.base_url = url
        yield fake
        fake.release.set()


@pytest.fixture(scope="module")
async def bot_server() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    async with serve(fake.app) as url:
        fake.base_url = url  # type: ignore[attr-defined]
        yield fake
        fake.release.set()


@pytest.fixture(scope="module")
async def twilio_server() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    async with serve(fake.app) as url:
        fake.base_url = url  # type: ignore[attr-defined]
        yield fake
        fake.release.set()


@pytest.fixture
def graph(graph_server: FakeGraphApi) -> FakeGraphApi:
    graph_server.reset()
    graph_server.media.clear()
    return graph_server


@pytest.fixture
def bot(bot_server: FakeBotApi) -> FakeBotApi:
    bot_server.reset()
    bot_server.files.clear()
    bot_server.updates.clear()
    bot_server.webhook = None
    return bot_server


@pytest.fixture
def twilio(twilio_server: FakeTwilio) -> FakeTwilio:
    twilio_server.reset()
    twilio_server.media.clear()
    return twilio_server


@dataclass
class Mx:
    """The app under test, its HTTP client as an administrator, and the fakes it talks to."""

    client: httpx.AsyncClient
    admin: dict[str, str]
    app: Any
    runtime: MessagingRuntime
    db: Database
    clock: FakeClock
    settings: Settings
    graph: FakeGraphApi
    bot: FakeBotApi
    twilio: FakeTwilio

    async def channel(self, kind: str, **extra: Any) -> dict[str, Any]:
        body = {**CHANNELS[kind], **extra}
        r = await self.client.post("/api/v1/channels", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return r.json()

    async def whatsapp(self, channel_id: int, body: bytes, signature: str | None = "valid") -> httpx.Response:
        headers = {"content-type": "application/json"}
        if signature == "valid":
            headers[whatsapp.SIGNATURE_HEADER] = whatsapp.sign(APP_SECRET, body)
        elif signature is not None:
            headers[whatsapp.SIGNATURE_HEADER] = signature
        return await self._delivered(self.client.post(f"/webhooks/whatsapp/{channel_id}", content=body, headers=headers))

    async def _delivered(self, posting: Awaitable[httpx.Response]) -> httpx.Response:
        """The provider's answer, once what it delivered is processed too (processing follows the answer)."""
        response = await posting
        await self.runtime.processor.drain()
        return response

    async def telegram(self, channel_id: int, body: bytes, secret: str | None = TG_SECRET) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return await self._delivered(self.client.post(f"/webhooks/telegram/{channel_id}", content=body, headers=headers))

    async def twilio_post(
        self, channel_id: int, body: bytes, status: bool = False, signature: str | None = "valid", token: str = AUTH_TOKEN
    ) -> httpx.Response:
        """Signed as Twilio signs, by the twilio package's own RequestValidator."""
        path = f"/webhooks/twilio/{channel_id}" + ("/status" if status else "")
        headers = {"content-type": "application/x-www-form-urlencoded"}
        if signature == "valid":
            from urllib.parse import parse_qsl

            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(BASE_URL + path, params)
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self._delivered(self.client.post(path, content=body, headers=headers))

    async def count(self, model: Any) -> int:
        async with self.db.session() as session:
            return (await session.execute(select(func.count()).select_from(model))).scalar_one()

    async def messages(self) -> list[Message]:
        async with self.db.session() as session:
            return list((await session.execute(select(Message).order_by(Message.id))).scalars())

    async def events(self) -> list[InboundEvent]:
        async with self.db.session() as session:
            return list((await session.execute(select(InboundEvent).order_by(InboundEvent.id))).scalars())

    async def outbox(self) -> list[OutboxItem]:
        async with self.db.session() as session:
            return list((await session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars())


CHANNELS: dict[str, dict[str, Any]] = {
    "whatsapp": {"kind": "whatsapp", "name": "WhatsApp sales",
                 "credentials": {"access_token": GRAPH_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN},
                 "settings": {"phone_number_id": "106540352242922"}},
    "telegram": {"kind": "telegram", "name": "Telegram bot",
                 "credentials": {"bot_token": BOT_TOKEN, "secret_token": TG_SECRET}},
    "sms_twilio": {"kind": "sms_twilio", "name": "SMS",
                   "credentials": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
                   "settings": {"from_number": "+14155550100"}},
}


@pytest.fixture
async def mx(
    settings: Settings, clock: FakeClock, clean_database: Database, tmp_path: Path,
    graph: FakeGraphApi, bot: FakeBotApi, twilio: FakeTwilio,
) -> AsyncIterator[Mx]:  # fmt: skip
    custom = settings.model_copy(update={
        "credentials_key": SecretStr("messaging-test-key"), "var_dir": tmp_path,
        "whatsapp_api_url": graph.base_url, "telegram_api_url": bot.base_url,  # type: ignore[attr-defined]
        "twilio_api_url": twilio.base_url,  # type: ignore[attr-defined]
        "provider_timeout_seconds": 0.5,
    })  # fmt: skip
    app = create_app(custom, clock=clock, db=clean_database)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        from teleplex.auth.service import create_first_admin

        async with clean_database.session() as session:
            await create_first_admin(session, clock, "admin-password")
        r = await client.post("/api/v1/auth/token", json={"username": "admin", "password": "admin-password"})
        assert r.status_code == 200, r.text
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield Mx(client, admin, app, runtime_for(app), clean_database, clock, custom, graph, bot, twilio)


def dumps(doc: Any) -> bytes:
    return json.dumps(doc).encode()
