"""A thin client of Asterisk's REST Interface: REST calls over aiohttp, events over a WebSocket.

Our own rather than a library: the Python ARI clients are unmaintained or handle events one at a time, and
ARI's WebSocket disconnects a consumer that stops reading (write timeout), so the reader here only reads and
hands events on; the engine does the work. REST goes through aiohttp rather than httpx: a call makes about ten
requests, and aiohttp spends a fifth of httpx's CPU on each (measured against the sandbox, see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import base64

import aiohttp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from teleplex.core.logging import get_logger

log = get_logger("teleplex.voice.ari")

LINK_UP = "TeleplexLinkUp"  # synthetic events the reader emits around (re)connections
LINK_DOWN = "TeleplexLinkDown"


@dataclass(frozen=True)
class AriConfig:
    """Where Asterisk's ARI is and who we are to it."""

    url: str  # http://127.0.0.1:8088 (the /ari prefix is added here)
    user: str
    password: str
    app: str = "teleplex"

    @property
    def rest_base(self) -> str:
        return self.url.rstrip("/") + "/ari"

    def events_url(self) -> str:
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = f"app={quote(self.app)}&subscribeAll=false&api_key={quote(self.user)}:{quote(self.password)}"
        return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ari/events", query, ""))


class AriError(Exception):
    """ARI refused a request; `status` is its HTTP status (0 when Asterisk could not be reached)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ARI {status}: {message}")
        self.status = status
        self.message = message


class AriNotFound(AriError):
    """The channel or bridge is gone: usually a hang-up that raced our request."""


class Ari:
    """REST calls to ARI. Every call has a timeout; failures raise AriError."""

    def __init__(self, config: AriConfig, timeout: float = 5.0) -> None:
        self.config = config
        self.timeout = timeout
        token = base64.b64encode(f"{config.user}:{config.password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}
        self._http: aiohttp.ClientSession | None = None  # made on first use, inside the running loop

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                headers=self._headers, timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=32),
            )  # fmt: skip
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: dict[str, Any] | None = None
    ) -> Any:
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        try:
            async with self._session().request(
                method, self.config.rest_base + path, params=clean, json=body
            ) as r:  # fmt: skip
                content = await r.read()
                status, reason = r.status, r.reason or ""
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AriError(0, f"{type(exc).__name__}: {exc}") from None
        if status == 404:
            raise AriNotFound(404, _message(content, reason))
        if status >= 400:
            raise AriError(status, _message(content, reason))
        return json.loads(content) if content else None

    # --- asterisk ----------------------------------------------------------------------------------------

    async def info(self) -> dict[str, Any]:
        return await self.request("GET", "/asterisk/info")

    # --- channels ------------------------------------------------------------------------------------------

    async def channels(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/channels")

    async def channel(self, channel_id: str) -> dict[str, Any]:
        return await self.request("GET", f"/channels/{channel_id}")

    async def answer(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/answer")

    async def ring(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/ring")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self.request("DELETE", f"/channels/{channel_id}", {"reason": reason})

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app_args: str = "",
        caller_id: str | None = None,
        timeout: int = 30,
        variables: dict[str, str] | None = None,
        originator: str | None = None,
    ) -> dict[str, Any]:
        """Call a device into our Stasis application; its progress arrives as events for `channel_id`."""
        params = {
            "endpoint": endpoint,
            "app": self.config.app,
            "appArgs": app_args,
            "channelId": channel_id,
            "callerId": caller_id,
            "timeout": timeout,
            "originator": originator,
        }
        return await self.request("POST", "/channels", params, {"variables": variables or {}})

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None:
        await self.request("POST", f"/channels/{channel_id}/moh", {"mohClass": moh_class})

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{channel_id}/moh")

    async def send_dtmf(self, channel_id: str, digits: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/dtmf", {"dtmf": digits})

    async def play(self, channel_id: str, media: str, playback_id: str | None = None) -> dict[str, Any]:
        params = {"media": media, "playbackId": playback_id}
        return await self.request("POST", f"/channels/{channel_id}/play", params)

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/variable", {"variable": name, "value": value})

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        try:
            return (await self.request("GET", f"/channels/{channel_id}/variable", {"variable": name}))["value"]
        except AriNotFound:
            return None

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        params = {"context": context, "extension": extension, "priority": priority}
        await self.request("POST", f"/channels/{channel_id}/continue", params)

    async def snoop(
        self, channel_id: str, *, snoop_id: str, spy: str = "both", whisper: str = "none", app_args: str = ""
    ) -> dict[str, Any]:
        """A channel that hears (spy) and/or speaks into (whisper) another channel, for supervision."""
        params = {"spy": spy, "whisper": whisper, "app": self.config.app, "appArgs": app_args, "snoopId": snoop_id}
        return await self.request("POST", f"/channels/{channel_id}/snoop", params)

    # --- bridges -------------------------------------------------------------------------------------------

    async def bridges(self) -> list[dict[str, Any]]:
        return await self.request("GET", "/bridges")

    async def create_bridge(self, bridge_id: str, kind: str = "mixing", name: str | None = None) -> dict[str, Any]:
        return await self.request("POST", f"/bridges/{bridge_id}", {"type": kind, "name": name})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    async def add_channel(self, bridge_id: str, channel_id: str, *more: str, role: str | None = None) -> None:
        """Put one or more channels into the bridge (several in one request)."""
        channels = ",".join((channel_id, *more))
        await self.request("POST", f"/bridges/{bridge_id}/addChannel", {"channel": channels, "role": role})

    async def remove_channel(self, bridge_id: str, channel_id: str) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/removeChannel", {"channel": channel_id})

    async def bridge_moh(self, bridge_id: str, moh_class: str = "default") -> None:
        await self.request("POST", f"/bridges/{bridge_id}/moh", {"mohClass": moh_class})

    async def record_bridge(self, bridge_id: str, name: str, fmt: str = "wav") -> dict[str, Any]:
        params = {"name": name, "format": fmt, "ifExists": "overwrite", "beep": "false", "terminateOn": "none"}
        return await self.request("POST", f"/bridges/{bridge_id}/record", params)

    async def pause_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{name}/pause")

    async def unpause_recording(self, name: str) -> None:
        await self.request("DELETE", f"/recordings/live/{name}/pause")

    async def stop_recording(self, name: str) -> None:
        await self.request("POST", f"/recordings/live/{name}/stop")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _message(content: bytes, reason: str) -> str:
    try:
        return str(json.loads(content).get("message", content.decode(errors="replace")))
    except (ValueError, AttributeError):
        return content.decode(errors="replace")[:200] or reason


def backoff_delays(first: float = 0.5, cap: float = 10.0) -> Any:
    """Reconnection delays: doubling from `first` up to `cap`, with jitter so nodes don't stampede."""
    delay = first
    while True:
        yield delay * random.uniform(0.8, 1.2)
        delay = min(delay * 2, cap)


EventSink = Callable[[dict[str, Any]], Awaitable[None] | None]


class AriEventReader:
    """Reads ARI events forever, reconnecting with backoff; emits LINK_UP / LINK_DOWN around each connection.

    `sink` must be quick (put the event on a queue): a slow reader gets disconnected by Asterisk.
    """

    def __init__(self, config: AriConfig, sink: EventSink) -> None:
        self.config = config
        self.sink = sink
        self.connected = asyncio.Event()
        self.connections = 0

    async def _emit(self, event: dict[str, Any]) -> None:
        result = self.sink(event)
        if asyncio.iscoroutine(result):
            await result

    async def run(self) -> None:
        delays = backoff_delays()
        while True:
            error = "closed by Asterisk"
            try:
                async with connect(self.config.events_url(), open_timeout=5, ping_interval=10) as ws:
                    self.connections += 1
                    self.connected.set()
                    delays = backoff_delays()
                    log.info("ari link up", url=self.config.url, connection=self.connections)
                    await self._emit({"type": LINK_UP, "connection": self.connections})
                    async for raw in ws:
                        try:
                            event = json.loads(raw)
                        except ValueError:
                            log.warning("ari sent a non-JSON event", raw=str(raw)[:200])
                            continue
                        await self._emit(event)
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidStatus, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            if self.connected.is_set():
                self.connected.clear()
                log.warning("ari link down", error=error)
                await self._emit({"type": LINK_DOWN, "error": error})
            await asyncio.sleep(next(delays))
