#!/usr/bin/env python3
"""Chat load benchmark: web-chat sessions and WhatsApp webhook deliveries against one `teleplex serve`.

The bench starts `teleplex serve` as a subprocess on a fresh SQLite database (migrated with `teleplex
migrate`) in a temporary folder, or on PostgreSQL with `--database-url`, and the baseline (bench/chat_echo.py: a plain FastAPI echo endpoint under
the same uvicorn) as a second subprocess. This process is the client (asyncio + aiohttp), so client and
server never share an event loop. Three phases, one after the other:

1. **Held sessions**: N real widget sessions, made as widget.js makes them (POST the widget's session
   endpoint with the site's Origin, then the WebSocket `/webchat/v1/ws` with an auth frame), held open for a
   while; a sample of them is pinged while held (a pong follows a flush of the visitor's stream).
2. **Round trip**: C visitors each chat with an agent (queue with auto-assign; agents logged in with enough
   chat capacity, each holding the agent event stream `/api/v1/events`); messages go out open-loop at R per
   second in total; round trip = the visitor's `send` to the `conversation.message` event arriving on the
   stream of the agent the conversation is assigned to.
3. **Ingest**: signed WhatsApp deliveries (shaped like tests/fixtures/whatsapp/text.json, signed on the raw
   bytes with the channel's app secret), a share of them exact redeliveries, open-loop at D per second,
   first to the echo baseline, then to Teleplex's `/webhooks/whatsapp/{channel_id}`.

Afterwards the database is read directly: every distinct message (web chat and WhatsApp) must be stored
exactly once (`duplicates_stored` 0, `messages_lost` 0).

    .venv/bin/python bench/chat_load.py --quick   # < 2 minutes
    .venv/bin/python bench/chat_load.py           # the targets of issue 4: 5,000 sockets, 200 msg/s, 500 deliveries/s

Prints a side-by-side table (target, measured, baseline), then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from teleplex.messaging.providers import whatsapp

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "whatsapp" / "text.json"
ORIGIN = "https://shop.bench.example"
APP_SECRET = "bench-whatsapp-app-secret"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CHAT_CAPACITY = 20  # the most chats an agent may hold (center/schemas.py Capacity)
PROCESSING_PATIENCE_S = 600  # how long the check waits for a burst's processing before counting what is left
TARGETS = {"ws_sessions": 5000, "rtt_rate": 200, "rtt_p99_ms": 100.0, "ingest_per_s": 500, "ingest_median_ms": 50.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, rounded to 0.1."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return round(ordered[k], 1)


# --- processes and CPU -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Meter:
    """CPU seconds used by the server and by this client over one phase, and the wall time."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid
        self.wall0, self.server0, self.client0 = time.monotonic(), cpu_seconds(server_pid), time.process_time()

    def read(self) -> dict[str, float]:
        wall = time.monotonic() - self.wall0
        server = cpu_seconds(self.pid) - self.server0
        client = time.process_time() - self.client0
        return {"wall_s": round(wall, 1), "server_cpu_s": round(server, 1), "client_cpu_s": round(client, 1),
                "server_cpu_share": round(server / wall, 2) if wall else 0.0,
                "client_cpu_share": round(client / wall, 2) if wall else 0.0}


class Processes:
    """Subprocesses this benchmark started; each in its own session, stopped by pid (never by name)."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], *, out: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
        with out.open("ab") as f:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, env=env,
                                    cwd=cwd, start_new_session=True)  # fmt: skip
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-files limit (children inherit it): one socket per session on each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_tcp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], out: Path, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited: {out.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


# --- the center's configuration over the API ---------------------------------------------------------------


@dataclass
class Center:
    base: str
    admin: dict[str, str]
    webchat_channel: int = 0
    widget_key: str = ""
    whatsapp_channel: int = 0
    agents: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (agent id, its own auth header)


async def _call(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
                body: dict[str, Any] | None, expect: int) -> dict[str, Any]:  # fmt: skip
    async with http.request(method, url, json=body, headers=headers) as r:
        text = await r.text()
        if r.status != expect:
            raise RuntimeError(f"{method} {url}: {r.status} {text[:300]}")
        return json.loads(text) if text else {}


async def configure(http: aiohttp.ClientSession, base: str, admin_password: str, agents: int) -> Center:
    """A web chat queue (auto-assign) with `agents` agents of chat capacity 20, logged in; a webchat
    channel whose widget allows the bench's origin; a WhatsApp channel whose conversations wait in a queue
    of their own (nobody answers them: the ingest phase measures messaging, not agents)."""
    r = await _call(http, "POST", f"{base}/api/v1/auth/token", {}, {"username": "admin", "password": admin_password},
                    200)  # fmt: skip
    center = Center(base, {"Authorization": f"Bearer {r['access_token']}"})
    admin = center.admin

    async def post(path: str, body: dict[str, Any], expect: int = 201, headers: dict[str, str] | None = None,
                   method: str = "POST") -> dict[str, Any]:  # fmt: skip
        return await _call(http, method, f"{base}/api/v1/{path}", headers or admin, body, expect)

    chat_queue = await post("queues", {"name": "bench web chat", "channels": ["webchat"], "chat_auto_assign": True})
    await post("queues", {"name": "bench whatsapp", "channels": ["whatsapp"]})
    channel = await post("channels", {"kind": "webchat", "name": "bench web chat"})
    widget = await post(f"channels/{channel['id']}/webchat", {"allowed_origins": [ORIGIN], "title": "Bench",
                                                               "prechat": False}, 200, method="PUT")  # fmt: skip
    center.webchat_channel, center.widget_key = channel["id"], widget["public_key"]
    wa = await post("channels", {"kind": "whatsapp", "name": "bench whatsapp",
                                 "credentials": {"access_token": "bench-token", "app_secret": APP_SECRET,
                                                 "verify_token": "bench-verify"},
                                 "settings": {"phone_number_id": "106540352242922"}})  # fmt: skip
    center.whatsapp_channel = wa["id"]
    for i in range(1, agents + 1):
        user = await post("users", {"username": f"chatagent{i}", "password": "password-123456", "roles": ["agent"]})
        agent = await post("agents", {"user_id": user["id"], "number": f"{4000 + i}", "device": f"PJSIP/chat{i}",
                                      "capacity": {"voice": 1, "chat": CHAT_CAPACITY},
                                      "queues": [{"queue_id": chat_queue["id"]}]})  # fmt: skip
        token = await _call(http, "POST", f"{base}/api/v1/auth/token", {},
                            {"username": f"chatagent{i}", "password": "password-123456"}, 200)  # fmt: skip
        me = {"Authorization": f"Bearer {token['access_token']}"}
        await post(f"agents/{agent['id']}/login", {}, 200, headers=me)
        center.agents.append((agent["id"], me))
    return center


# --- a widget, as widget.js is ------------------------------------------------------------------------------


class Visitor:
    """One browser's widget: a session, a WebSocket authenticated by its first frame, a reader of frames."""

    def __init__(self, http: aiohttp.ClientSession, center: Center) -> None:
        self.http, self.center = http, center
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.visitor_id = ""
        self.ready = asyncio.Event()
        self.closed = False
        self.close_code: int | None = None
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.pongs: list[asyncio.Future[None]] = []
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        url = f"{self.center.base}/webchat/v1/widgets/{self.center.widget_key}/session"
        async with self.http.post(url, data=b"{}", headers={"content-type": "application/json",
                                                            "origin": ORIGIN}) as r:  # fmt: skip
            doc = await r.json()
            if r.status != 200:
                raise RuntimeError(f"session: {r.status} {doc}")
        self.visitor_id = doc["visitor_id"]
        ws_url = self.center.base.replace("http://", "ws://") + doc["websocket_path"]
        self.ws = await self.http.ws_connect(ws_url, origin=ORIGIN, autoping=True, heartbeat=None,
                                             max_msg_size=1 << 20)  # fmt: skip
        await self.ws.send_str(json.dumps({"type": "auth", "token": doc["token"], "after": 0}))
        self.reader = asyncio.create_task(self._read())
        async with asyncio.timeout(60):
            await self.ready.wait()

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                kind = frame.get("type")
                if kind == "ready":
                    self.ready.set()
                elif kind == "ack":
                    future = self.acks.pop(frame["client_id"], None)
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif kind == "pong" and self.pongs:
                    future = self.pongs.pop(0)
                    if not future.done():
                        future.set_result(None)
        finally:
            self.closed = True
            self.close_code = self.ws.close_code
            self.ready.set()  # wake an open() that waits: it sees `closed`

    async def send(self, client_id: str, text: str) -> asyncio.Future[dict[str, Any]]:
        assert self.ws is not None
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.acks[client_id] = future
        await self.ws.send_str(json.dumps({"type": "message", "client_id": client_id, "text": text}))
        return future

    async def ping(self) -> float:
        assert self.ws is not None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pongs.append(future)
        t0 = time.perf_counter()
        await self.ws.send_str('{"type": "ping"}')
        await future
        return (time.perf_counter() - t0) * 1000

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)


async def open_visitors(http: aiohttp.ClientSession, center: Center, n: int, parallel: int) -> tuple[list[Visitor], int]:
    """Open n widgets, `parallel` at a time; returns those that reached `ready`, and how many failed."""
    limit = asyncio.Semaphore(parallel)
    opened: list[Visitor] = []
    failed = 0
    errors: dict[str, int] = {}

    async def one() -> None:
        nonlocal failed
        visitor = Visitor(http, center)
        async with limit:
            try:
                await visitor.open()
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failed += 1
                key = f"{type(exc).__name__}: {str(exc)[:80]}"
                errors[key] = errors.get(key, 0) + 1
                await visitor.close()
                return
        if visitor.closed:
            failed += 1
        else:
            opened.append(visitor)
        done = len(opened) + failed
        if done % 500 == 0:
            log(f"  {done}/{n} sessions ({failed} failed)")

    await asyncio.gather(*(one() for _ in range(n)))
    if errors:
        log(f"  session errors: {json.dumps(errors)}")
    return opened, failed


# --- phase 1: held sessions ---------------------------------------------------------------------------------


async def held_sessions(http: aiohttp.ClientSession, center: Center, n: int, hold_s: float,
                        server_pid: int) -> dict[str, Any]:  # fmt: skip
    log(f"sessions: opening {n} widget sessions")
    meter = Meter(server_pid)
    visitors, failed = await open_visitors(http, center, n, parallel=50)
    opening = meter.read()
    log(f"sessions: {len(visitors)} open after {opening['wall_s']} s; holding {hold_s:g} s")
    hold = Meter(server_pid)
    pings: list[float] = []
    ping_failures = 0
    deadline = time.monotonic() + hold_s
    while time.monotonic() < deadline:
        sample = random.sample(visitors, min(50, len(visitors)))
        results = await asyncio.gather(*(_timed_ping(v) for v in sample))
        pings.extend(r for r in results if r is not None)
        ping_failures += sum(1 for r in results if r is None)
        await asyncio.sleep(max(0.0, min(1.0, deadline - time.monotonic())))
    held = hold.read()
    alive = sum(1 for v in visitors if not v.closed)
    rss = rss_mb(server_pid)
    codes: dict[str, int] = {}
    for v in visitors:
        if v.closed:
            codes[str(v.close_code)] = codes.get(str(v.close_code), 0) + 1
    await asyncio.gather(*(v.close() for v in visitors))
    return {"ws_sessions": alive, "ws_requested": n, "ws_failed_to_open": failed, "ws_closed_while_held": codes,
            "ws_open_s": opening["wall_s"], "ws_open_per_s": round(len(visitors) / opening["wall_s"], 1)
            if opening["wall_s"] else None, "ws_open_meter": opening,
            "ws_hold_s": hold_s, "ws_hold_meter": held, "ws_ping_p50_ms": pct(pings, 50),
            "ws_ping_p99_ms": pct(pings, 99), "ws_ping_failures": ping_failures, "server_rss_mb_held": rss}


async def _timed_ping(visitor: Visitor) -> float | None:
    try:
        async with asyncio.timeout(10):
            return await visitor.ping()
    except (TimeoutError, ConnectionError, RuntimeError, aiohttp.ClientError):
        return None


# --- phase 2: round trip customer -> agent stream ------------------------------------------------------------


class AgentStreams:
    """Every agent's event stream; records when each bench message's `conversation.message` arrives."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}  # text -> perf_counter at send
        self.first_seen: dict[str, float] = {}
        self.at_assignee: dict[str, float] = {}
        self.assigned: dict[str, int | None] = {}
        self.connected: set[int] = set()  # web chat conversations assigned to one of these agents
        self.resyncs = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def open(self, http: aiohttp.ClientSession, center: Center) -> None:
        for agent_id, headers in center.agents:
            token = headers["Authorization"].split(" ", 1)[1]
            ws = await http.ws_connect(f"{center.base.replace('http://', 'ws://')}/api/v1/events?token={token}",
                                       max_msg_size=16 << 20)  # fmt: skip
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(agent_id, ws)))

    async def _read(self, agent_id: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "resync":
                self.resyncs += 1
            if kind == "interaction.connected" and (frame.get("data") or {}).get("channel") == "webchat":
                self.connected.add(frame["data"]["interaction_id"])
            if kind != "conversation.message":
                continue
            data = frame.get("data") or {}
            text = data.get("text")
            if text not in self.sent:
                continue
            self.first_seen.setdefault(text, now)
            assignee = data.get("agent_id")
            self.assigned.setdefault(text, assignee)
            if assignee == agent_id:
                self.at_assignee.setdefault(text, now)

    def seen(self, text: str) -> bool:
        return text in self.first_seen

    async def close(self) -> None:
        for ws in self.sockets:
            with contextlib.suppress(Exception):
                await ws.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def round_trip(http: aiohttp.ClientSession, center: Center, chatters: int, rate: float, seconds: float,
                     server_pid: int) -> tuple[dict[str, Any], dict[str, str]]:  # fmt: skip
    """Returns the figures and every message sent (provider_message_id -> text) for the database check."""
    streams = AgentStreams()
    await streams.open(http, center)
    visitors, failed = await open_visitors(http, center, chatters, parallel=20)
    log(f"round trip: {len(visitors)} chatting visitors ({failed} failed), {len(center.agents)} agents on the stream")
    sent_ids: dict[str, str] = {}
    acks: list[asyncio.Future[dict[str, Any]]] = []
    run = f"{os.getpid():x}"

    async def send(visitor: Visitor, n: int) -> str:
        text = f"bench {run} {visitor.visitor_id} #{n}"
        client_id = f"b{run}x{n:07d}{visitor.visitor_id[-8:]}".replace("_", "x")[:64]
        streams.sent[text] = time.perf_counter()
        sent_ids[f"{visitor.visitor_id}:{client_id}"] = text
        acks.append(await visitor.send(client_id, text))
        return text

    # Warm-up: each visitor's first message opens its conversation, which the router assigns to an agent. A
    # waiting conversation's messages reach supervisors only (private events): the agents hear of the
    # assignment (`interaction.connected`), and every later message.
    first = [await send(v, 0) for v in visitors]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while len(streams.connected) < len(first):
                await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)
    log(f"round trip: warm-up assigned {len(streams.connected)}/{len(first)}; "
        f"{rate:g} messages/s for {seconds:g} s")  # fmt: skip
    measured: list[str] = []
    meter = Meter(server_pid)
    loop = asyncio.get_running_loop()
    start, total, i = loop.time(), int(rate * seconds), 0
    late = 0.0
    while i < total:
        due = start + i / rate
        now = loop.time()
        if due > now:
            await asyncio.sleep(due - now)
        late = max(late, loop.time() - due)
        visitor = visitors[i % len(visitors)]
        if not visitor.closed:
            measured.append(await send(visitor, 1 + i // len(visitors)))
        i += 1
    send_s = loop.time() - start
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            while not all(streams.seen(t) for t in measured):
                await asyncio.sleep(0.05)
    figures = meter.read()
    acked = sum(1 for a in acks if a.done() and not a.cancelled())
    rtt = [(streams.at_assignee.get(t, streams.first_seen.get(t, 0.0)) - streams.sent[t]) * 1000
           for t in measured if streams.seen(t)]  # fmt: skip
    assigned = sum(1 for t in measured if streams.at_assignee.get(t) is not None)
    await asyncio.gather(*(v.close() for v in visitors))
    await streams.close()
    return {"rtt_visitors": len(visitors), "rtt_agents": len(center.agents), "rtt_messages": len(measured),
            "rtt_rate_offered": round(len(measured) / send_s, 1) if send_s else None,
            "rtt_client_max_late_ms": round(late * 1000, 1),
            "rtt_p50_ms": pct(rtt, 50), "rtt_p90_ms": pct(rtt, 90), "rtt_p99_ms": pct(rtt, 99),
            "rtt_max_ms": pct(rtt, 100), "rtt_not_seen": len(measured) - len(rtt),
            "rtt_seen_at_assignee": assigned, "rtt_acked": acked, "rtt_sent_total": len(acks),
            "stream_resyncs": streams.resyncs, "rtt_meter": figures}, sent_ids  # fmt: skip


# --- phase 3: webhook ingest -----------------------------------------------------------------------------------


class Deliveries:
    """WhatsApp deliveries shaped like the text fixture: one message each, from a pool of senders; a share
    are the exact bytes of a recent delivery again (Meta redelivers the same body)."""

    def __init__(self, senders: int, duplicate_share: float, seed: int = 7) -> None:
        self.template = json.loads(FIXTURE.read_text())
        self.senders = senders
        self.duplicate_share = duplicate_share
        self.rng = random.Random(seed)
        self.recent: list[bytes] = []
        self.wamids: set[str] = set()
        self.bodies: set[bytes] = set()
        self.n = 0
        self.run = f"{os.getpid():x}{int(time.time()):x}"

    def next(self) -> bytes:
        if self.recent and self.rng.random() < self.duplicate_share:
            return self.rng.choice(self.recent)
        self.n += 1
        wa_id = f"1650555{1000 + self.n % self.senders:04d}"
        wamid = f"wamid.bench{self.run}.{self.n:08d}"
        doc = copy.deepcopy(self.template)
        value = doc["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["wa_id"] = wa_id
        value["contacts"][0]["profile"]["name"] = f"Customer {wa_id[-4:]}"
        message = value["messages"][0]
        message.update({"from": wa_id, "id": wamid, "timestamp": str(int(time.time()))})
        message["text"]["body"] = f"Order question number {self.n}"
        body = json.dumps(doc, separators=(",", ":")).encode()
        self.wamids.add(wamid)
        self.bodies.add(body)
        self.recent.append(body)
        if len(self.recent) > 200:
            self.recent.pop(0)
        return body


async def post_load(http: aiohttp.ClientSession, url: str, bodies: list[bytes], rate: float,
                    server_pid: int) -> dict[str, Any]:  # fmt: skip
    """POST each body (signed) open-loop at `rate`; latency = request sent to response read."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    acked_bodies: list[bytes] = []
    duplicates_answered = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(body: bytes) -> None:
        nonlocal duplicates_answered
        headers = {"content-type": "application/json", whatsapp.SIGNATURE_HEADER: whatsapp.sign(APP_SECRET, body)}
        t0 = time.perf_counter()
        try:
            async with http.post(url, data=body, headers=headers) as r:
                payload = await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            statuses[type(exc).__name__] = statuses.get(type(exc).__name__, 0) + 1
            return
        latencies.append((time.perf_counter() - t0) * 1000)
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status == 200:
            acked_bodies.append(body)
            if b'"duplicate":true' in payload:
                duplicates_answered += 1

    meter = Meter(server_pid)
    loop = asyncio.get_running_loop()
    start = loop.time()
    late = 0.0
    for i, body in enumerate(bodies):
        due = start + i / rate
        now = loop.time()
        if due > now:
            await asyncio.sleep(due - now)
        late = max(late, loop.time() - due)
        task = asyncio.create_task(one(body))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    offered_s = loop.time() - start
    if tasks:
        await asyncio.wait(tasks, timeout=120)
    elapsed = loop.time() - start
    figures = meter.read()
    acked = len(acked_bodies)
    return {"sent": len(bodies), "acked": acked, "statuses": statuses, "per_s": round(acked / elapsed, 1),
            "offered_per_s": round(len(bodies) / offered_s, 1) if offered_s else None,
            "median_ms": pct(latencies, 50), "p90_ms": pct(latencies, 90), "p99_ms": pct(latencies, 99),
            "max_ms": pct(latencies, 100), "client_max_late_ms": round(late * 1000, 1),
            "duplicates_answered": duplicates_answered, "meter": figures, "acked_bodies": acked_bodies}


# --- the database check ---------------------------------------------------------------------------------------


@dataclass
class Store:
    """The server's database, read directly for the checks: the SQLite file, or PostgreSQL through psql."""

    sqlite: Path | None = None
    postgres: str | None = None

    def rows(self, sql: str) -> list[tuple[str, ...]]:
        if self.sqlite is not None:
            with contextlib.closing(sqlite3.connect(f"file:{self.sqlite}?mode=ro", uri=True, timeout=30)) as conn:
                return [tuple(str(v) for v in row) for row in conn.execute(sql).fetchall()]
        assert self.postgres is not None
        done = subprocess.run(["psql", self.postgres, "-X", "-At", "-F", "\t", "-c", sql], capture_output=True,
                              text=True, check=True, timeout=60)  # fmt: skip
        return [tuple(line.split("\t")) for line in done.stdout.splitlines() if line]


def wait_processed(db: Store, channel_id: int, timeout: float) -> int:
    """Wait until the channel's stored deliveries are processed; returns how many are still pending."""
    deadline = time.monotonic() + timeout
    while True:
        pending = int(db.rows(f"SELECT count(*) FROM inbound_events WHERE channel_id = {int(channel_id)}"
                              " AND processed_at IS NULL")[0][0])  # fmt: skip
        if pending == 0 or time.monotonic() > deadline:
            return pending
        time.sleep(0.5)


def stored_counts(db: Store, channel_id: int) -> dict[str, int]:
    rows = db.rows(f"SELECT provider_message_id, count(*) FROM messages WHERE channel_id = {int(channel_id)}"
                   " AND direction = 'in' GROUP BY provider_message_id")  # fmt: skip
    return {str(k): int(n) for k, n in rows}


def event_count(db: Store, channel_id: int) -> int:
    return int(db.rows(f"SELECT count(*) FROM inbound_events WHERE channel_id = {int(channel_id)}")[0][0])


def check_stored(expected: set[str], stored: dict[str, int]) -> tuple[int, int]:
    """(duplicates stored, messages lost) for the messages this bench sent."""
    duplicates = sum(n - 1 for k, n in stored.items() if k in expected and n > 1)
    lost = sum(1 for k in expected if k not in stored)
    return duplicates, lost


# --- main -------------------------------------------------------------------------------------------------------


@dataclass
class Load:
    sessions: int
    hold_s: float
    chatters: int
    rtt_rate: float
    rtt_s: float
    ingest_rate: float
    ingest_s: float
    duplicate_share: float
    senders: int


QUICK = Load(sessions=1000, hold_s=10, chatters=100, rtt_rate=100, rtt_s=10, ingest_rate=500, ingest_s=8,
             duplicate_share=0.1, senders=200)  # fmt: skip
FULL = Load(sessions=5000, hold_s=30, chatters=200, rtt_rate=200, rtt_s=30, ingest_rate=500, ingest_s=30,
            duplicate_share=0.1, senders=500)  # fmt: skip


async def client(load: Load, base: str, echo: str, admin_password: str, server_pid: int, echo_pid: int, db: Store,
                 phases: set[str]) -> dict[str, Any]:  # fmt: skip
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=120)
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        agents = max(1, math.ceil(load.chatters / CHAT_CAPACITY))
        center = await configure(http, base, admin_password, agents)
        log(f"configured: webchat channel {center.webchat_channel}, whatsapp channel {center.whatsapp_channel}, "
            f"{agents} agents logged in")  # fmt: skip
        webchat_sent: dict[str, str] = {}
        if "sessions" in phases:
            out.update(await held_sessions(http, center, load.sessions, load.hold_s, server_pid))
            log(f"sessions: {out['ws_sessions']} held")
        if "rtt" in phases:
            figures, webchat_sent = await round_trip(http, center, load.chatters, load.rtt_rate, load.rtt_s, server_pid)
            out.update(figures)
            log(f"round trip: p50 {figures['rtt_p50_ms']} ms, p99 {figures['rtt_p99_ms']} ms")
        deliveries: Deliveries | None = None
        if "ingest" in phases:
            deliveries = Deliveries(load.senders, load.duplicate_share)
            bodies = [deliveries.next() for _ in range(int(load.ingest_rate * load.ingest_s))]
            log(f"ingest: {len(bodies)} deliveries ({len(deliveries.bodies)} distinct) at {load.ingest_rate:g}/s, "
                "baseline first")  # fmt: skip
            base_fig = await post_load(http, f"{echo}/webhooks/whatsapp/1", bodies, load.ingest_rate, echo_pid)
            base_fig.pop("acked_bodies")
            await asyncio.sleep(1.0)
            tpx = await post_load(http, f"{base}/webhooks/whatsapp/{center.whatsapp_channel}", bodies,
                                  load.ingest_rate, server_pid)  # fmt: skip
            acked_bodies = set(tpx.pop("acked_bodies"))
            out["baseline"] = base_fig
            out["ingest"] = tpx
            out["_acked_wamids"] = sorted(_wamid(b) for b in acked_bodies)
            log(f"ingest: Teleplex {tpx['per_s']}/s median {tpx['median_ms']} ms; "
                f"baseline {base_fig['per_s']}/s median {base_fig['median_ms']} ms")  # fmt: skip
    # The database: every message sent and acknowledged, stored exactly once.
    check: dict[str, Any] = {}
    duplicates = lost = 0
    if webchat_sent:
        stored = stored_counts(db, center.webchat_channel)
        d, lost_wc = check_stored(set(webchat_sent), stored)
        duplicates += d
        lost += lost_wc
        check["webchat_sent"] = len(webchat_sent)
        check["webchat_stored"] = sum(1 for k in webchat_sent if k in stored)
        check["webchat_lost"] = lost_wc
    if deliveries is not None:
        waited = time.monotonic()
        pending = wait_processed(db, center.whatsapp_channel, timeout=PROCESSING_PATIENCE_S)
        out["ingest_processed_after_s"] = round(time.monotonic() - waited, 1)  # after the last acknowledgement
        stored = stored_counts(db, center.whatsapp_channel)
        acked = set(out.pop("_acked_wamids"))
        d, lost_wa = check_stored(acked, stored)
        duplicates += d
        lost += lost_wa
        check.update(whatsapp_distinct_sent=len(deliveries.wamids), whatsapp_acked_distinct=len(acked),
                     whatsapp_stored=sum(1 for k in deliveries.wamids if k in stored), whatsapp_lost=lost_wa,
                     whatsapp_deliveries_stored=event_count(db, center.whatsapp_channel),
                     whatsapp_distinct_deliveries=len(deliveries.bodies), whatsapp_unprocessed=pending)  # fmt: skip
        out["ingest_unprocessed"] = pending  # stored, not yet messages when the patience ran out (not lost)
    out.update(duplicates_stored=duplicates, messages_lost=lost, db_check=check)
    return out


def _wamid(body: bytes) -> str:
    return str(json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 sockets, 100 msg/s, 500 deliveries/s for 8 s")
    parser.add_argument("--sessions", type=int, help="web-chat sockets to hold (full: 5000)")
    parser.add_argument("--hold", type=float, help="seconds to hold them (full: 30)")
    parser.add_argument("--chatters", type=int, help="visitors chatting in the round-trip phase (full: 200)")
    parser.add_argument("--rtt-rate", type=float, help="visitor messages per second in total (full: 200)")
    parser.add_argument("--rtt-seconds", type=float, help="length of the round-trip phase (full: 30)")
    parser.add_argument("--ingest-rate", type=float, help="WhatsApp deliveries per second (full: 500)")
    parser.add_argument("--ingest-seconds", type=float, help="length of each ingest load (full: 30)")
    parser.add_argument("--only", action="append", choices=["sessions", "rtt", "ingest"], help="run only these phases")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, server log)")
    parser.add_argument("--database-url", metavar="URL",
                        help="run the server on this PostgreSQL database instead of a fresh SQLite file "
                             "(postgresql://...; its public schema is DROPPED first; needs psql)")
    parser.add_argument("--profile", metavar="SECONDS", type=float,
                        help="py-spy record the server for this many seconds from the first phase (needs py-spy)")
    args = parser.parse_args()
    base_load = QUICK if args.quick else FULL
    load = Load(
        sessions=args.sessions or base_load.sessions, hold_s=args.hold or base_load.hold_s,
        chatters=args.chatters or base_load.chatters, rtt_rate=args.rtt_rate or base_load.rtt_rate,
        rtt_s=args.rtt_seconds or base_load.rtt_s, ingest_rate=args.ingest_rate or base_load.ingest_rate,
        ingest_s=args.ingest_seconds or base_load.ingest_s, duplicate_share=base_load.duplicate_share,
        senders=base_load.senders,
    )  # fmt: skip
    phases = set(args.only or ["sessions", "rtt", "ingest"])
    nofile = raise_open_files(2 * load.sessions + 2048)

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="teleplex-chat-load-"))
    procs = Processes()
    result: dict[str, Any] = {}
    try:
        port, echo_port = free_tcp_port(), free_tcp_port()
        admin_password = "bench-" + os.urandom(8).hex()
        if args.database_url:
            db, url = Store(postgres=args.database_url), args.database_url
            subprocess.run(["psql", args.database_url, "-X", "-q", "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public"],
                           check=True, capture_output=True, timeout=60)  # fmt: skip
        else:
            db = Store(sqlite=work / "teleplex.db")
            url = f"sqlite:///{db.sqlite}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TELEPLEX_")},
            "TELEPLEX_DATABASE_URL": url, "TELEPLEX_ADMIN_PASSWORD": admin_password,
            "TELEPLEX_HTTP_HOST": "127.0.0.1", "TELEPLEX_HTTP_PORT": str(port), "TELEPLEX_VAR_DIR": str(work / "var"),
            "TELEPLEX_COOKIE_SECURE": "false", "TELEPLEX_LOG_LEVEL": "WARNING",
            # every load visitor comes from 127.0.0.1, and each chatter sends faster than a person does
            "TELEPLEX_WEBCHAT_SESSIONS_PER_MINUTE": "1000000", "TELEPLEX_WEBCHAT_SESSIONS_BURST": "1000000",
            "TELEPLEX_WEBCHAT_MESSAGES_PER_MINUTE": "1000000", "TELEPLEX_WEBCHAT_MESSAGES_BURST": "1000000",
        }  # fmt: skip
        teleplex = str(Path(sys.executable).parent / "teleplex")
        subprocess.run([teleplex, "migrate"], env=env, check=True, capture_output=True, timeout=180)
        server = procs.start([teleplex, "serve"], out=work / "teleplex.log", env=env, cwd=work)
        echo = procs.start([sys.executable, str(REPO / "bench" / "chat_echo.py"), str(echo_port)],
                           out=work / "echo.log", env=env, cwd=work)  # fmt: skip
        base, echo_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{echo_port}"
        wait_healthy(base, server, work / "teleplex.log")
        wait_healthy(echo_url, echo, work / "echo.log")
        log(f"teleplex serve pid {server.pid} on {base}; echo baseline pid {echo.pid}; open files {nofile}")
        if args.profile:
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            procs.start([py_spy, "record", "-p", str(server.pid), "-d", str(int(args.profile)), "-r", "100", "-f",
                         "raw", "--threads", "--nonblocking", "-o", str(work / "teleplex.pyspy.txt")],
                        out=work / "py-spy.out", env=env, cwd=work)  # fmt: skip
        result = asyncio.run(client(load, base, echo_url, admin_password, server.pid, echo.pid, db, phases))
        result["server_rss_mb_end"] = rss_mb(server.pid)
        if server.poll() is not None:
            raise RuntimeError(f"teleplex serve died: {(work / 'teleplex.log').read_text()[-2000:]}")
    except KeyboardInterrupt:
        log("interrupted: tearing down")
        return 130
    finally:
        procs.stop_all()
        if args.keep or args.profile:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    meta = {"mode": "quick" if args.quick else "full", "database": "postgresql" if args.database_url else "sqlite", "load": load.__dict__, "phases": sorted(phases),
            "cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "wall_s": round(time.monotonic() - t0, 1)}
    report(result, load, meta)
    return 0


def report(r: dict[str, Any], load: Load, meta: dict[str, Any]) -> None:
    ing, base = r.get("ingest") or {}, r.get("baseline") or {}
    rows = [
        ("web-chat sockets held", f">= {TARGETS['ws_sessions']}", f"{r.get('ws_sessions')} of {load.sessions}", "-"),
        ("sessions opened per s", "-", r.get("ws_open_per_s"), "-"),
        ("ping->pong while held p50/p99 ms", "-", f"{r.get('ws_ping_p50_ms')} / {r.get('ws_ping_p99_ms')}", "-"),
        ("server CPU share while held", "-", (r.get("ws_hold_meter") or {}).get("server_cpu_share"), "-"),
        ("chat messages/s (offered)", f"{TARGETS['rtt_rate']}", r.get("rtt_rate_offered"), "-"),
        ("round trip p50 ms", "-", r.get("rtt_p50_ms"), "-"),
        ("round trip p99 ms", f"< {TARGETS['rtt_p99_ms']:g}", r.get("rtt_p99_ms"), "-"),
        ("round trip messages not seen", "0", r.get("rtt_not_seen"), "-"),
        ("deliveries acknowledged per s", f">= {TARGETS['ingest_per_s']}", ing.get("per_s"), base.get("per_s")),
        ("delivery median ms", f"< {TARGETS['ingest_median_ms']:g}", ing.get("median_ms"), base.get("median_ms")),
        ("delivery p99 ms", "-", ing.get("p99_ms"), base.get("p99_ms")),
        ("deliveries not acknowledged", "0", ing.get("sent", 0) - ing.get("acked", 0) if ing else None,
         base.get("sent", 0) - base.get("acked", 0) if base else None),
        ("server CPU share during ingest", "-", (ing.get("meter") or {}).get("server_cpu_share"),
         (base.get("meter") or {}).get("server_cpu_share")),
        ("client CPU share during ingest", "-", (ing.get("meter") or {}).get("client_cpu_share"),
         (base.get("meter") or {}).get("client_cpu_share")),
        ("duplicates stored", "0", r.get("duplicates_stored"), "-"),
        ("messages lost", "0", r.get("messages_lost"), "-"),
    ]
    print(f"\nchat load ({meta['mode']}): {meta['cpus']} CPUs shared by server, baseline and client; "
          f"load average {meta['load_avg_before']} before, {meta['load_avg_after']} after; {meta['date']}")
    print(f"{'':36}{'target':>12}{'Teleplex':>16}{'echo baseline':>16}")
    for label, target, measured, baseline in rows:
        print(f"{label:36}{target!s:>12}{'-' if measured is None else measured!s:>16}{baseline!s:>16}")
    details = {k: v for k, v in r.items() if k not in ("ingest", "baseline")}
    print("details: " + json.dumps({**details, "ingest": ing, "baseline": base}, sort_keys=True))
    line = {
        "ws_sessions": r.get("ws_sessions"), "rtt_p50_ms": r.get("rtt_p50_ms"), "rtt_p99_ms": r.get("rtt_p99_ms"),
        "ingest_per_s": ing.get("per_s"), "ingest_median_ms": ing.get("median_ms"),
        "duplicates_stored": r.get("duplicates_stored"), "messages_lost": r.get("messages_lost"),
        "baseline_ingest_per_s": base.get("per_s"), "baseline_ingest_median_ms": base.get("median_ms"),
        "rtt_rate": r.get("rtt_rate_offered"), "rtt_not_seen": r.get("rtt_not_seen"),
        "ingest_p99_ms": ing.get("p99_ms"), "ingest_not_acked": ing.get("sent", 0) - ing.get("acked", 0) if ing else None,
        "ingest_processed_after_s": r.get("ingest_processed_after_s"), "ingest_unprocessed": r.get("ingest_unprocessed"),
        **meta,
    }  # fmt: skip
    print(json.dumps(line))


if __name__ == "__main__":
    sys.exit(main())
