"""A voice center for integration tests: the real app and engine against the sandbox Asterisk, SIPp callers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from teleplex.app import create_app
from teleplex.auth.service import create_first_admin
from teleplex.core.clock import SystemClock
from teleplex.core.db import Database
from teleplex.core.settings import Settings
from teleplex.voice.sandbox import SandboxState
from teleplex.voice.sandbox_config import free_udp_port

ANSWERS = "Local/answer@teleplex-local"  # an agent phone that answers at once
RINGS = "Local/ring@teleplex-local"  # an agent phone that rings for ever
BUSY = "Local/busy@teleplex-local"

_SDP = """
      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000"""

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="teleplex caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]
{sdp}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""

_AUDIO_SDP = _SDP.replace("RTP/AVP 0", "RTP/AVP 8").replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000")
_PLAY = """  <nop>
    <action>
      <exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>
    </action>
  </nop>
"""

_DTMF_SDP = _SDP.replace("RTP/AVP 0", "RTP/AVP 0 101") + """
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16"""
_PRESS = """  <pause milliseconds="{press_ms}"/>
  <nop>
    <action>
      <exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_{digit}.pcap"/>
    </action>
  </nop>
"""

_WAIT_FOR_BYE = """  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""

_HANG_UP_AFTER = """  <pause milliseconds="{ms}"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "{name}" <sip:{caller}@[local_ip]:[local_port]>;tag=[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
"""


class Caller:
    """A customer on a SIPp process: calls a number, then hangs up after a while or waits for us to."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def finished(self, timeout: float = 30.0) -> tuple[int, str]:
        out, _ = await asyncio.wait_for(self.proc.communicate(), timeout)
        assert self.proc.returncode is not None
        return self.proc.returncode, out.decode(errors="replace")

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def place_call(
    state: SandboxState,
    folder: Path,
    did: str,
    caller: str = "5550123",
    hang_up_after_ms: int | None = None,
    name: str = "Test Caller",
    audio: bool = False,
    press: tuple[str, int] | None = None,
) -> Caller:
    """`audio`: the caller speaks (RTP from the SIPp package's G.711 recording), as a real customer would.
    `press`: (digit, after ms): the caller presses a key (RFC 2833) that long after being answered."""
    pressing = _PRESS.replace("{digit}", press[0]).replace("{press_ms}", str(press[1])) if press else ""
    body = _HEAD + (_PLAY if audio else "") + pressing
    body += _WAIT_FOR_BYE if hang_up_after_ms is None else _HANG_UP_AFTER
    sdp = _AUDIO_SDP if audio else _DTMF_SDP if press else _SDP
    scenario = folder / f"caller-{caller}-{free_udp_port()}.xml"
    scenario.write_text(
        body.replace("{sdp}", sdp).replace("{caller}", caller).replace("{name}", name)
        .replace("{ms}", str(hang_up_after_ms or 0))
    )  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{state.sip_udp_port}", "-sf", str(scenario), "-s", did, "-i", "127.0.0.1",
        "-p", str(free_udp_port()), "-mp", str(free_udp_port()), "-m", "1", "-nostdin",
        "-timeout", "60s", "-timeout_error",
        cwd=folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return Caller(proc)


async def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until `check` returns something truthy; the value is returned (a bounded wait, not a timing claim)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s; last seen: {last!r}")


@asynccontextmanager
async def running_center(state: SandboxState, db: Database, hang_up_leftovers: bool = True,
                         **more_settings: Any) -> AsyncIterator[VoiceCenter]:  # fmt: skip
    """Run the real app and engine on this database against the sandbox, as `teleplex serve` would.

    Leaving the block stops the engine as a process exit would; calls stay up in Asterisk unless
    `hang_up_leftovers` (the default, so one test's calls never reach the next).
    """
    settings = Settings(
        database_url=db.url, ari_url=state.ari_url, ari_user=state.ari_user, ari_password=state.ari_password,
        ari_app=state.app, cookie_secure=False, recordings_dir=Path(state.instance_dir) / "spool" / "recording",
        **more_settings,
    )  # fmt: skip
    clock = SystemClock()
    app = create_app(settings, clock=clock, db=db)
    async with app.router.lifespan_context(app):
        voice = app.state.engine.handlers["voice"]

        async def linked() -> bool:
            return voice.link_up

        await eventually(linked, 10, "the ARI link to come up")
        async with db.session() as session:
            await create_first_admin(session, clock, "admin-password")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://teleplex.test") as client:
            r = await client.post("/api/v1/auth/token", json={"username": "admin", "password": "admin-password"})
            assert r.status_code == 200, r.text
            center = VoiceCenter(client, {"Authorization": f"Bearer {r.json()['access_token']}"}, app)
            yield center
            if hang_up_leftovers:
                for call in list(voice.calls.values()):
                    await voice.ari.hangup(call.caller)


class VoiceCenter:
    """The API of a running center as an admin, with shortcuts for setting up queues and agents."""

    def __init__(self, client: httpx.AsyncClient, admin: dict[str, str], app: Any = None) -> None:
        self.client = client
        self.admin = admin
        self.app = app
        self._n = 0

    async def do(self, interaction_id: int, action: str, body: Any = None) -> None:
        r = await self.post(f"interactions/{interaction_id}/{action}", body)
        assert r.status_code == 204, r.text

    async def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(f"/api/v1/{path}", json=body, headers=headers or self.admin)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"/api/v1/{path}", headers=self.admin, params=params)

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.post(path, body)
        assert r.status_code == 201, r.text
        return r.json()

    async def queue(self, did: str, **settings: Any) -> dict[str, Any]:
        return await self.create("queues", {"name": f"q{did}", "dids": [did], "wrapup_seconds": 0, **settings})

    async def agent(self, device: str, queues: list[int], login: bool = True, **profile: Any) -> dict[str, Any]:
        self._n = (await self.get("users")).json()["total"]
        user = await self.create(
            "users", {"username": f"agent{self._n}", "password": "password-123", "roles": ["agent"]}
        )
        agent = await self.create(
            "agents",
            {"user_id": user["id"], "number": f"{2000 + self._n}", "device": device,
             "queues": [{"queue_id": q} for q in queues], **profile},
        )  # fmt: skip
        if login:
            r = await self.post(f"agents/{agent['id']}/login", {})
            assert r.status_code == 200, r.text
        return agent

    async def interactions(self) -> list[dict[str, Any]]:
        return (await self.get("interactions", order="id")).json()["items"]

    async def interaction(self, interaction_id: int) -> dict[str, Any]:
        return (await self.get(f"interactions/{interaction_id}")).json()

    async def presence(self, agent_id: int) -> dict[str, Any]:
        return (await self.get(f"agents/{agent_id}/presence")).json()

    async def ended_interaction(self, timeout: float = 30.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            items = await self.interactions()
            return items[-1] if items and items[-1]["state"] == "ended" else None

        ended = await eventually(check, timeout, "an interaction to end")
        return await self.interaction(ended["id"])

    async def latest_in_state(self, state: str, timeout: float = 20.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            items = await self.interactions()
            return items[-1] if items and items[-1]["state"] == state else None

        return await eventually(check, timeout, f"an interaction to be {state}")

    async def presence_is(self, agent_id: int, state: str, timeout: float = 10.0) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            p = await self.presence(agent_id)
            return p if p["state"] == state else None

        return await eventually(check, timeout, f"agent {agent_id} to be {state}")
