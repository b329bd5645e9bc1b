"""Harness of the browser-phone tests: the sandbox Asterisk and the voice center of tests/integration, the app
served on a loopback port, and Debian's chromium with fake media devices driving phone.js.

Everything runs on the tests' event loop: the app (running_center), uvicorn serving it, Playwright's async API
and the SIPp callers. The sandbox fixtures are the integration ones (loaded from tests/integration/conftest.py),
so these tests skip or fail exactly as they do: skipped outside CI with the reason, failing under CI.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from fastapi.responses import HTMLResponse
from websockets.asyncio.client import connect

from teleplex.core.db import Database
from teleplex.voice.sandbox import SandboxState
from widget_harness import CHROMIUM, _free_socket, _need

_INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
sys.path.insert(0, str(_INTEGRATION))  # voice_harness: the one voice center and SIPp caller of the tests

from voice_harness import VoiceCenter, eventually, running_center  # noqa: E402


def _integration_fixtures() -> Any:
    """tests/integration/conftest.py under its own module name, so its sandbox fixtures are reused, not copied."""
    spec = importlib.util.spec_from_file_location("teleplex_integration_fixtures", _INTEGRATION / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fixtures = _integration_fixtures()
sandbox_var_dir = _fixtures.sandbox_var_dir
start_sandbox = _fixtures.start_sandbox
asterisk_sandbox = _fixtures.asterisk_sandbox
sandbox_state = _fixtures.sandbox_state

# A microphone the page may use without asking (a fake one); --use-fake-ui-for-media-stream grants it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--autoplay-policy=no-user-gesture-required"]  # fmt: skip

# A page of the tests' own, added to the app under test: on the app's origin (same-origin API calls), and really
# served from 127.0.0.1 (a page Playwright fulfils has no address, so chromium's local-network checks would
# block its WebSocket to the loopback Asterisk).
TEST_PAGE = "/__tests__/phone.html"
_PAGE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>phone test</title><script src="/static/phone.js"></script></head>
<body><script>
  window.seen = [];
  window.calls = [];
  async function credentials(agentId, token) {
    const r = await fetch(`/api/v1/agents/${agentId}/webrtc`, {method: "POST", headers: {Authorization: `Bearer ${token}`}});
    return {status: r.status, body: await r.json()};
  }
  async function register(creds) {
    const phone = new TeleplexPhone({...creds, display_name: "Browser agent"});
    window.phone = phone;
    phone.on("state", (s) => seen.push(["state", s.state, s.reason]));
    phone.on("incoming", (call) => { calls.push(call); seen.push(["incoming", call.from]); });
    phone.on("ended", (e) => seen.push(["ended", String(e.cause)]));
    try { await phone.start(); return "registered"; } catch (err) { return "refused: " + err.message; }
  }
</script></body></html>"""


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    """Headless chromium through Playwright's async API (the tests' loop also runs the app and SIPp)."""
    _need(Path(CHROMIUM).exists(), f"chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _need(False, "the playwright package is not installed (pip install -e '.[test]')")
        raise
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def served(center: VoiceCenter) -> AsyncIterator[str]:
    """The running center's app on a free loopback port (its lifespan is already running), for the browser."""
    if not any(getattr(r, "path", None) == TEST_PAGE for r in center.app.routes):
        center.app.add_api_route(TEST_PAGE, lambda: HTMLResponse(_PAGE_HTML), include_in_schema=False)
    sock = _free_socket()
    config = uvicorn.Config(center.app, log_config=None, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=1)  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


# The voice center of the browser-phone tests and its app served for the browser (one per test).
@pytest.fixture
async def center(sandbox_state: SandboxState, clean_database: Database) -> AsyncIterator[VoiceCenter]:
    async with running_center(sandbox_state, clean_database) as c:
        yield c


@pytest.fixture
async def base_url(center: VoiceCenter) -> AsyncIterator[str]:
    async with served(center) as url:
        yield url


class PhonePage:
    """One browser tab on the app's origin with phone.js loaded; `seen` is what the phone told the page."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @classmethod
    async def open(cls, browser: Any, base_url: str) -> PhonePage:
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(base_url + TEST_PAGE)
        return cls(page)

    async def credentials(self, agent_id: int, token: str) -> tuple[int, dict[str, Any]]:
        result = await self.page.evaluate("([id, token]) => credentials(id, token)", [agent_id, token])
        return result["status"], result["body"]

    async def register(self, creds: dict[str, Any]) -> str:
        return await self.page.evaluate("(creds) => register(creds)", creds)

    async def seen(self) -> list[list[str]]:
        return await self.page.evaluate("() => window.seen")

    async def call(self, action: str, *args: str) -> None:
        """Act on the latest incoming call as the console would: answer, hangup, mute, unmute, dtmf."""
        await self.page.evaluate("([action, args]) => calls[calls.length - 1][action](...args)", [action, list(args)])

    async def audio_received(self) -> dict[str, Any]:
        """ICE state and the count of audio packets the latest call's peer connection has received."""
        return await self.page.evaluate("""async () => {
          const pc = calls[calls.length - 1].session.connection;
          let packets = 0;
          (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio") packets += s.packetsReceived; });
          return {ice: pc.iceConnectionState, packets};
        }""")

    async def wait_seen(self, kind: str, timeout: float = 20.0) -> list[str]:
        async def check() -> list[str] | None:
            return next((s for s in await self.seen() if s[0] == kind), None)

        return await eventually(check, timeout, f"the phone to report {kind!r}")

    async def close(self) -> None:
        await self.page.evaluate("() => window.phone && window.phone.stop()")
        await self.page.context.close()


class AriWatcher:
    """Every ARI event of the sandbox, seen through an application of its own subscribed to everything,
    so the test sees what Asterisk saw (e.g. a key pressed on the browser's leg) without touching Teleplex."""

    def __init__(self, state: SandboxState) -> None:
        query = f"app=tpx-watch&subscribeAll=true&api_key={quote(state.ari_user)}:{quote(state.ari_password)}"
        self.url = f"ws://127.0.0.1:{state.http_port}/ari/events?{query}"
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None

    async def _read(self, ready: asyncio.Event) -> None:
        async with connect(self.url) as ws:
            ready.set()
            async for raw in ws:
                self.events.append(json.loads(raw))

    async def __aenter__(self) -> AriWatcher:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._read(ready))
        async with asyncio.timeout(10):
            await ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    def dtmf_on(self, channel_prefix: str) -> str:
        """The digits Asterisk received on channels whose name starts with `channel_prefix`, in order."""
        return "".join(e["digit"] for e in self.events if e.get("type") == "ChannelDtmfReceived"
                       and e.get("channel", {}).get("name", "").startswith(channel_prefix))  # fmt: skip


# The page's peer connections, kept where the test can read them: is audio arriving, is the microphone on.
_KEEP_PEERS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__peers.push(this); }
  };
})();"""


class AgentBrowser:
    """One agent's own browser (context) on the console, with the page's script errors collected."""

    def __init__(self, page: Any, errors: list[str]) -> None:
        self.page = page
        self.errors = errors

    @classmethod
    async def sign_in(cls, browser: Any, base_url: str, username: str, lands_on: str = "/console") -> AgentBrowser:
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        await context.add_init_script(_KEEP_PEERS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(base_url + "/login")
        await page.locator("input[name=username]").fill(username)
        await page.locator("input[name=password]").fill("password-123")
        await page.locator("#login-form button[type=submit]").click()
        await page.wait_for_url(lambda url: url.endswith(lands_on))
        return cls(page, errors)

    async def start_with_browser_phone(self) -> None:
        """Chooses the browser phone as the device and starts working: registered, then ready."""
        from playwright.async_api import expect  # here: the harness loads where playwright is missing (skips)

        await expect(self.page.locator("#browser-choice")).to_be_enabled()
        await self.page.locator("#browser-choice").check()
        await self.page.locator("#agent-login").click()
        await self.page.locator("#state-badge[data-state=ready]").wait_for()
        await expect(self.page.locator("#phone-state")).to_have_text("Phone: ready")

    async def receives_audio(self) -> bool:
        """ICE is up and audio packets have arrived on the latest call's peer connection (the media really flows
        between Asterisk and this browser; which voice they carry is not judged)."""
        return await self.page.evaluate("""async () => {
          const pc = window.__peers[window.__peers.length - 1];
          if (!pc || !["connected", "completed"].includes(pc.iceConnectionState)) return false;
          let packets = 0;
          (await pc.getStats()).forEach((s) => {
            if (s.type === "inbound-rtp" && s.kind === "audio") packets += s.packetsReceived;
          });
          return packets > 0;
        }""")

    async def microphone_on(self) -> bool:
        return await self.page.evaluate("""() => {
          const pc = window.__peers[window.__peers.length - 1];
          return pc.getSenders().some((s) => s.track && s.track.kind === "audio" && s.track.enabled);
        }""")

    async def close(self) -> None:
        await self.page.context.close()
