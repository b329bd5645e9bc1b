"""The sandbox Asterisk as Teleplex and its tests see it: ARI up, calls from the carrier reach Stasis,
instances isolated, and `down` really stops it."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from teleplex.voice.sandbox import Sandbox, SandboxState
from voice_harness import place_call

pytestmark = pytest.mark.asterisk

DID = "5551000"
CALLER = "5550123"



async def next_event(ws: Any, event_type: str, timeout: float = 10.0) -> dict[str, Any]:
    """The next ARI event of a type, skipping others; fails the test if none comes in time."""

    async def wait() -> dict[str, Any]:
        while True:
            event: dict[str, Any] = json.loads(await ws.recv())
            if event.get("type") == event_type:
                return event

    try:
        return await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        pytest.fail(f"no {event_type} event within {timeout} s")


def ari_client(state: SandboxState) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=state.ari_url, auth=(state.ari_user, state.ari_password), timeout=5.0)


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on the port (TIME_WAIT leftovers of closed connections allowed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def test_ari_answers_with_asterisk_18_or_newer(sandbox_state: SandboxState) -> None:
    async with ari_client(sandbox_state) as ari:
        response = await ari.get("/asterisk/info")
    assert response.status_code == 200
    version = response.json()["system"]["version"]
    assert int(version.split(".")[0]) >= 18, version


async def test_carrier_call_reaches_stasis_with_did_and_caller(
    sandbox_state: SandboxState, tmp_path: Path
) -> None:
    async with websockets.connect(sandbox_state.ari_events_url) as ws, ari_client(sandbox_state) as ari:
        caller = await place_call(sandbox_state, tmp_path, DID, caller=CALLER)  # waits for our BYE
        try:
            start = await next_event(ws, "StasisStart")
            channel = start["channel"]
            assert start["application"] == "teleplex"
            assert start["args"] == ["inbound", DID]
            assert channel["caller"]["number"] == CALLER
            assert channel["name"].startswith("PJSIP/carrier-")

            assert (await ari.post(f"/channels/{channel['id']}/answer")).status_code == 204
            assert (await ari.delete(f"/channels/{channel['id']}")).status_code == 204
            end = await next_event(ws, "StasisEnd")
            assert end["channel"]["id"] == channel["id"]

            code, output = await caller.finished(15)
            assert code == 0, output[-2000:]
        finally:
            await caller.kill()


async def test_ami_logs_in_and_lists_the_benchmark_queue(sandbox_state: SandboxState) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sandbox_state.ami_port)

    async def action(lines: str, until: str) -> str:
        writer.write((lines.strip().replace("\n", "\r\n") + "\r\n\r\n").encode())
        await writer.drain()
        seen = ""
        while until not in seen:
            seen += (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
        return seen

    try:
        banner = await asyncio.wait_for(reader.readline(), 5)
        assert banner.startswith(b"Asterisk Call Manager/")
        login = await action(
            f"Action: Login\nUsername: {sandbox_state.ami_user}\nSecret: {sandbox_state.ami_password}",
            until="Response:",
        )
        assert "Response: Success" in login
        queues = await action(
            "Action: QueueStatus\nQueue: teleplex-bench", until="Event: QueueStatusComplete"
        )
        assert "Queue: teleplex-bench" in queues
    finally:
        writer.close()
        await writer.wait_closed()


async def test_two_instances_have_their_own_ports_and_state(
    asterisk_sandbox: Sandbox, sandbox_state: SandboxState, start_sandbox: Callable[[str], Sandbox]
) -> None:
    other = start_sandbox("second")
    other_state = other.read_state()
    assert other_state is not None

    ours = {sandbox_state.http_port, sandbox_state.sip_udp_port, sandbox_state.ami_port}
    theirs = {other_state.http_port, other_state.sip_udp_port, other_state.ami_port}
    assert len(ours) == 3 and len(theirs) == 3 and not ours & theirs
    assert other_state.rtp_end < sandbox_state.rtp_start or sandbox_state.rtp_end < other_state.rtp_start
    assert other_state.instance_dir != sandbox_state.instance_dir

    # Asterisk's own database lives in each instance's folder.
    asterisk_sandbox.rx("database put teleplex isolation-check first")
    assert "first" in asterisk_sandbox.rx("database get teleplex isolation-check")
    assert "not found" in other.rx("database get teleplex isolation-check")

    # Each instance has its own ARI credentials.
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(
            f"{other_state.ari_url}/asterisk/info", auth=(sandbox_state.ari_user, sandbox_state.ari_password)
        )
    assert response.status_code == 401


async def test_status_reports_a_running_instance_with_uptime(asterisk_sandbox: Sandbox) -> None:
    status = asterisk_sandbox.status()
    assert status.running
    assert status.state is not None and status.state.app == "teleplex"
    assert status.uptime_seconds is not None and status.uptime_seconds >= 0
    assert status.asterisk_version and status.asterisk_version.startswith("Asterisk ")


async def test_down_stops_asterisk_and_frees_its_http_port(start_sandbox: Callable[[str], Sandbox]) -> None:
    sandbox = start_sandbox("down")
    state = sandbox.read_state()
    assert state is not None
    assert not port_is_free(state.http_port)

    assert sandbox.down() is True

    assert not sandbox.status().running
    assert sandbox.read_state() is None
    assert port_is_free(state.http_port)
    async with httpx.AsyncClient(timeout=2.0) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{state.ari_url}/asterisk/info")
    assert sandbox.down() is False  # idempotent
