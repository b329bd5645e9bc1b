#!/usr/bin/env python3
"""Voice load benchmark: Teleplex routing calls on the sandbox Asterisk, side by side with Asterisk's app_queue.

SIPp customers call at a fixed rate, carrying RTP (the g711a.pcap that ships with SIPp, replayed for the whole
talk time); one SIPp UAS answers for every agent (all agents' PJSIP endpoints have a static contact pointing
at it) and echoes the audio. The same load runs twice in one invocation, on one sandbox instance:

1. at a DID routed by Teleplex (`teleplex serve` as its own process, configured over the REST API);
2. at a DID routed by app_queue (`Answer()`, `Queue()`; same agents as `PJSIP/agentN` members, strategy
   `leastrecent` ~ Teleplex's `longest_idle`, `ringinuse=no`, same ring timeout, no wrap-up).

Time to ring = the agent's phone (SIPp UAS) receiving the INVITE minus the customer (SIPp UAC) sending its
INVITE, both from SIPp's own message logs (`-trace_msg`, microsecond wall-clock stamps on one machine),
correlated by the caller number, which is unique per call and reaches the agent leg as its From user.
CPU = utime + stime from /proc/<pid>/stat of `teleplex serve` and of Asterisk, before and after each load.

    sudo .venv/bin/python bench/voice_load.py --quick     # < 2 minutes
    sudo .venv/bin/python bench/voice_load.py             # 10 calls/s, 10 s talk (~100 concurrent), 600 calls

Ends with one JSON line. Needs root (the sandbox is a chrooted Asterisk) and `sipp` (Debian's sip-tester).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from teleplex.voice.sandbox import Sandbox, SandboxState
from teleplex.voice.sandbox_config import RTP_RANGE, AgentDevice, free_tcp_port, free_udp_port, udp_port_free

REPO = Path(__file__).resolve().parent.parent
PCAP = Path("/usr/share/sip-tester/g711a.pcap")
TELEPLEX_DID = "5557000"
BASELINE_DID = "5557001"
BASELINE_QUEUE = "bench-baseline"
RING_TIMEOUT_S = 20
# Caller numbers: prefix + SIPp's call number. The prefixes differ in their last digit, so every number is unique
# across both loads (a fixed prefix followed by a number without leading zeros is injective).
TELEPLEX_PREFIX = "2025550"
BASELINE_PREFIX = "2025551"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- SIPp scenarios -------------------------------------------------------------------------------------------

_UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench customer">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Customer {prefix}[call_number]" <sip:{prefix}[call_number]@[local_ip]:[local_port]>;tag=[pid]C[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{prefix}[call_number]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=customer 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=sendrecv

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
      From: "Customer {prefix}[call_number]" <sip:{prefix}[call_number]@[local_ip]:[local_port]>;tag=[pid]C[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{prefix}[call_number]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
{talk}
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Customer {prefix}[call_number]" <sip:{prefix}[call_number]@[local_ip]:[local_port]>;tag=[pid]C[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{prefix}[call_number]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""

_PLAY = """  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
  <pause milliseconds="{ms}"/>
"""

# The agents' phones: ring, answer at once with G.711 A-law (what the customers send: no transcoding), echo
# the audio (-rtp_echo), take the BYE. Re-INVITEs (Asterisk updating the connected line) are answered too.
_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench agent phones">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]A[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]A[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK"/>
  <label id="wait"/>
  <recv request="INVITE" optional="true" next="reinvite"/>
  <recv request="BYE" next="bye"/>
  <label id="reinvite"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 53655765 2353687638 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=sendrecv

    ]]>
  </send>
  <recv request="ACK" next="wait"/>
  <label id="bye"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <timewait milliseconds="2000"/>
</scenario>
"""


def pcap_seconds(path: Path) -> float:
    """Duration of a classic pcap file (first to last packet)."""
    data = path.read_bytes()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    offset, stamps = 24, []
    while offset + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack(endian + "IIII", data[offset : offset + 16])
        stamps.append(sec + usec / 1e6)
        offset += 16 + incl
    return stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0


def uac_scenario(prefix: str, talk_ms: int) -> str:
    """A customer who talks for talk_ms, replaying the pcap back to back so audio flows the whole time."""
    chunk = max(1000, int(pcap_seconds(PCAP) * 1000))
    parts, left = [], talk_ms
    while left > 0:
        ms = min(chunk, left)
        parts.append(_PLAY.format(pcap=PCAP, ms=ms))
        left -= ms
    return _UAC.replace("{prefix}", prefix).replace("{talk}", "".join(parts))


# --- SIPp message logs ----------------------------------------------------------------------------------------

_BLOCK = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$", re.M)
_FROM_USER = re.compile(r"^(?:From|f):[^\n]*?<?sips?:([^@;>]+)@", re.M | re.I)
_CALL_ID = re.compile(r"^(?:Call-ID|i):\s*(\S+)", re.M | re.I)
_CSEQ = re.compile(r"^CSeq:\s*(\d+)\s+(\w+)", re.M | re.I)


@dataclass
class SipMessage:
    at: float  # epoch seconds
    sent: bool
    first_line: str
    from_user: str
    call_id: str
    cseq_method: str


def parse_message_log(path: Path) -> list[SipMessage]:
    """SIPp's -trace_msg file: blocks headed by '----- YYYY-MM-DD HH:MM:SS.ffffff', then sent/received, then the message."""
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    heads = list(_BLOCK.finditer(text))
    messages = []
    for i, head in enumerate(heads):
        body = text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)].strip("\n")
        lines = body.split("\n", 2)
        if len(lines) < 3:
            continue
        direction, message = lines[0], lines[2].lstrip("\n")
        first = message.split("\n", 1)[0].strip()
        fm, cm, sm = _FROM_USER.search(message), _CALL_ID.search(message), _CSEQ.search(message)
        messages.append(
            SipMessage(
                at=datetime.strptime(head.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(),
                sent="sent" in direction,
                first_line=first,
                from_user=fm.group(1) if fm else "",
                call_id=cm.group(1) if cm else "",
                cseq_method=sm.group(2).upper() if sm else "",
            )
        )
    return messages


@dataclass
class CustomerCall:
    number: str
    invite_at: float
    answered: bool = False  # 200 OK to the INVITE
    bye_ok: bool = False  # our BYE got its 200 OK: the call ran its full length


def customer_calls(messages: list[SipMessage]) -> dict[str, CustomerCall]:
    calls: dict[str, CustomerCall] = {}
    by_call_id: dict[str, CustomerCall] = {}
    for m in messages:
        if m.sent and m.first_line.startswith("INVITE ") and m.call_id not in by_call_id:
            call = CustomerCall(m.from_user, m.at)
            calls[m.from_user] = by_call_id[m.call_id] = call
        call = by_call_id.get(m.call_id)
        if call is None or m.sent:
            continue
        if m.first_line.startswith("SIP/2.0 200") and m.cseq_method == "INVITE":
            call.answered = True
        elif m.first_line.startswith("SIP/2.0 200") and m.cseq_method == "BYE":
            call.bye_ok = True
    return calls


@dataclass
class AgentLeg:
    number: str  # the customer's number, as the agent leg's From user
    invite_at: float  # the first INVITE the agents' phones received for this customer
    legs: int = 0  # how many agent legs (more than one: a re-offer)
    answered: bool = False


def agent_legs(messages: list[SipMessage]) -> dict[str, AgentLeg]:
    legs: dict[str, AgentLeg] = {}
    seen_calls: set[str] = set()
    for m in messages:
        if not m.sent and m.first_line.startswith("INVITE ") and m.call_id not in seen_calls:
            seen_calls.add(m.call_id)
            leg = legs.setdefault(m.from_user, AgentLeg(m.from_user, m.at))
            leg.invite_at = min(leg.invite_at, m.at)
            leg.legs += 1
        elif m.sent and m.first_line.startswith("SIP/2.0 200") and m.cseq_method == "INVITE":
            if m.from_user in legs:
                legs[m.from_user].answered = True
    return legs


# --- processes and CPU ----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Processes:
    """Subprocesses this benchmark started; each in its own session, stopped by pid (never by name)."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], *, out: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:  # fmt: skip
        with out.open("ab") as f:
            proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                start_new_session=True,
            )  # fmt: skip
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                self.stop(proc)


# --- the sandbox ----------------------------------------------------------------------------------------------


def widen_rtp_window(sandbox: Sandbox, state: SandboxState, ports_needed: int) -> tuple[int, int]:
    """The sandbox's RTP window (400 ports) fits exactly 100 two-leg calls; give Asterisk room for the load.

    Extends the window upwards past ports that are free now and inside no other instance's window, then
    reloads res_rtp_asterisk (rtp.conf is read on reload).
    """
    start, end = state.rtp_start, state.rtp_end
    if end - start + 1 >= ports_needed:
        return start, end
    others = []
    for path in Path(state.rootfs, "teleplex").glob("*/state.json"):
        with contextlib.suppress(OSError, ValueError):
            other = json.loads(path.read_text())
            if other.get("instance") != state.instance:
                others.append((int(other["rtp_start"]), int(other["rtp_end"])))
    want_end = start + ports_needed - 1
    new_end = end
    for port in range(end + 1, min(want_end, RTP_RANGE[1]) + 1):
        if any(a <= port <= b for a, b in others) or not udp_port_free(port):
            break
        new_end = port
    if new_end - start + 1 < ports_needed:
        log(f"warning: RTP window {start}-{new_end} has fewer than the {ports_needed} ports this load needs")
    rtp_conf = Path(state.instance_dir, "etc", "rtp.conf")
    rtp_conf.write_text(
        "; Widened by bench/voice_load.py for the load\n[general]\n"
        f"rtpstart = {start}\nrtpend = {new_end}\n"
    )
    sandbox.rx("module reload res_rtp_asterisk.so")
    return start, new_end


def baseline_config(state: SandboxState, agents: int) -> None:
    """app_queue with the same agents and the same strategy, at BASELINE_DID."""
    etc = Path(state.instance_dir, "etc")
    members = "\n".join(f"member => PJSIP/agent{i},0,agent{i}" for i in range(1, agents + 1))
    (etc / "queues_custom.conf").write_text(
        f"""; bench/voice_load.py: the app_queue baseline
[{BASELINE_QUEUE}]
strategy = leastrecent
timeout = {RING_TIMEOUT_S}
retry = 1
wrapuptime = 0
ringinuse = no
autofill = yes
joinempty = yes
leavewhenempty = no
musicclass = default
announce-frequency = 0
periodic-announce-frequency = 0
announce-position = no
announce-holdtime = no
reportholdtime = no
memberdelay = 0
timeoutrestart = no
{members}
"""
    )
    # A second [from-carrier] section adds to the first; an exact extension wins over the _X. pattern.
    (etc / "extensions_custom.conf").write_text(
        f"""; bench/voice_load.py: the app_queue baseline (Teleplex answers before ringing agents; so does this)
[from-carrier]
exten => {BASELINE_DID},1,Answer()
 same => n,Queue({BASELINE_QUEUE},,,,)
 same => n,Hangup()
"""
    )


def active_channels(sandbox: Sandbox) -> int:
    out = sandbox.rx("core show channels count")
    m = re.search(r"(\d+) active channels?", out)
    return int(m.group(1)) if m else -1


def wait_idle(sandbox: Sandbox, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    n = active_channels(sandbox)
    while n != 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        n = active_channels(sandbox)
    return n


# --- Teleplex -------------------------------------------------------------------------------------------------


async def configure_teleplex(base_url: str, admin_password: str, agents: int) -> dict[str, Any]:
    """A queue at TELEPLEX_DID (longest idle, no wrap-up), `agents` agents on PJSIP/agentN, all logged in."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        r = await client.post("/api/v1/auth/token", json={"username": "admin", "password": admin_password})
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

        async def post(path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
            r = await client.post(f"/api/v1/{path}", json=body, headers=headers)
            if r.status_code != expect:
                raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:300]}")
            return r.json()

        queue = await post("queues", {
            "name": "bench", "dids": [TELEPLEX_DID], "strategy": "longest_idle", "wrapup_seconds": 0,
            "ring_timeout_seconds": RING_TIMEOUT_S,
        })  # fmt: skip
        limit = asyncio.Semaphore(4)

        async def agent(i: int) -> int:
            async with limit:
                user = await post("users", {"username": f"agent{i}", "password": "password-123456",
                                            "roles": ["agent"]})  # fmt: skip
                a = await post("agents", {"user_id": user["id"], "number": f"{3000 + i}",
                                          "device": f"PJSIP/agent{i}", "queues": [{"queue_id": queue["id"]}]})  # fmt: skip
                return int(a["id"])

        ids = await asyncio.gather(*(agent(i) for i in range(1, agents + 1)))
        for agent_id in ids:  # in order: agent1 has been idle longest, as in app_queue's member list
            await post(f"agents/{agent_id}/login", {}, expect=200)
        return {"queue_id": queue["id"], "agent_ids": ids, "headers": headers}


def wait_voice_link(base_url: str, headers: dict[str, str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            r = httpx.get(f"{base_url}/api/v1/live", headers=headers, timeout=5)
            if r.status_code == 200 and r.json().get("voice_link"):
                return
        time.sleep(0.2)
    raise RuntimeError("Teleplex's ARI link did not come up")


def teleplex_outcomes(base_url: str, headers: dict[str, str]) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    offset = 0
    for _ in range(1000):  # bounded paging
        r = httpx.get(f"{base_url}/api/v1/interactions", headers=headers,
                      params={"limit": 100, "offset": offset}, timeout=30)  # fmt: skip
        r.raise_for_status()
        items = r.json()["items"]
        for item in items:
            key = str(item.get("outcome") or item.get("state"))
            outcomes[key] = outcomes.get(key, 0) + 1
        if len(items) < 100:
            break
        offset += 100
    return outcomes


# --- one load -------------------------------------------------------------------------------------------------


@dataclass
class Load:
    cps: float
    calls: int
    talk_s: float
    agents: int


@dataclass
class Result:
    system: str
    offered: int = 0
    answered: int = 0
    lost: int = 0
    ttr_ms: list[float] = field(default_factory=list)
    re_offers: int = 0
    uac_failed: int = 0
    teleplex_cpu_s: float | None = None
    asterisk_cpu_s: float = 0.0
    wall_s: float = 0.0
    sipp_rc: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def pct(self, q: float) -> float | None:
        if not self.ttr_ms:
            return None
        values = sorted(self.ttr_ms)
        # nearest-rank percentile
        k = max(0, min(len(values) - 1, int(-(-q * len(values) // 100)) - 1))
        return round(values[k], 1)

    def per_call(self, seconds: float | None) -> float | None:
        return None if seconds is None or not self.offered else round(seconds / self.offered, 5)


def run_load(
    system: str, did: str, prefix: str, load: Load, *, state: SandboxState, sandbox: Sandbox, work: Path,
    procs: Processes, teleplex_pid: int | None,
) -> tuple[Result, Path]:  # fmt: skip
    folder = work / system
    folder.mkdir()
    scenario = folder / "customer.xml"
    scenario.write_text(uac_scenario(prefix, int(load.talk_s * 1000)))
    messages = folder / "customer_messages.log"
    duration = load.calls / load.cps + load.talk_s
    bound = duration + RING_TIMEOUT_S + 60
    args = [
        "sipp", f"127.0.0.1:{state.sip_udp_port}", "-sf", str(scenario), "-s", did,
        "-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port()),
        "-r", str(load.cps), "-rp", "1000", "-m", str(load.calls), "-l", str(load.calls),
        "-nostdin", "-aa", "-trace_msg", "-message_file", str(messages),
        "-trace_stat", "-stf", str(folder / "customer_stats.csv"), "-fd", "5",
        "-timeout", f"{int(bound)}s", "-timeout_error", "-max_retrans", "5",
    ]  # fmt: skip
    log(f"{system}: {load.calls} calls at {load.cps}/s, {load.talk_s:g} s talk, {load.agents} agents (~{duration:.0f} s)")
    ast_before = cpu_seconds(state.pid)
    tpx_before = cpu_seconds(teleplex_pid) if teleplex_pid else None
    started = time.monotonic()
    proc = procs.start(f"sipp-uac-{system}", args, out=folder / "customer_sipp.out", cwd=folder)
    try:
        rc = proc.wait(bound + 10)
    except subprocess.TimeoutExpired:
        procs.stop(proc)
        rc = None
    wall = time.monotonic() - started
    left = wait_idle(sandbox, 30)
    if left:
        log(f"{system}: {left} channels still up 30 s after the load ended")
    time.sleep(1.0)  # let the router write its last records
    ast_after = cpu_seconds(state.pid)
    tpx_after = cpu_seconds(teleplex_pid) if teleplex_pid else None
    result = Result(system, sipp_rc=rc, wall_s=round(wall, 1))
    result.asterisk_cpu_s = round(ast_after - ast_before, 2)
    if tpx_before is not None and tpx_after is not None:
        result.teleplex_cpu_s = round(tpx_after - tpx_before, 2)
    return result, messages


def score(result: Result, customer_log: Path, legs: dict[str, AgentLeg], prefix: str, load: Load) -> None:
    customers = customer_calls(parse_message_log(customer_log))
    result.offered = len(customers)
    if result.offered < load.calls:
        log(f"{result.system}: only {result.offered} of {load.calls} calls were placed")
        result.offered = load.calls  # calls that never left SIPp still count as offered and lost
    result.uac_failed = sum(1 for c in customers.values() if not (c.answered and c.bye_ok))
    answered = 0
    for number, call in customers.items():
        leg = legs.get(number)
        if leg is None:
            continue
        result.ttr_ms.append((leg.invite_at - call.invite_at) * 1000.0)
        result.re_offers += max(0, leg.legs - 1)
        if leg.answered and call.answered and call.bye_ok:
            answered += 1
    result.answered = answered
    result.lost = result.offered - answered
    result.extra["agent_legs_without_customer"] = sum(
        1 for n in legs if n.startswith(prefix) and n not in customers
    )


# --- main -----------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 calls/s, 150 calls, 30 agents, 5 s talk")
    parser.add_argument("--cps", type=float, help="new calls per second (full: 10)")
    parser.add_argument("--calls", type=int, help="calls per system (full: 600)")
    parser.add_argument("--talk", type=float, help="talk seconds per call (full: 10)")
    parser.add_argument("--agents", type=int, help="agents (full: 110)")
    parser.add_argument("--only", choices=["teleplex", "app_queue"], help="run one system only")
    parser.add_argument("--var-dir", default=str(REPO / "var" / "asterisk"), help="the sandbox's var folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (SIPp logs, Teleplex log)")
    parser.add_argument("--profile", metavar="SECONDS", type=float,
                        help="py-spy record Teleplex for this many seconds of its load (needs py-spy)")  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        load = Load(cps=5, calls=150, talk_s=5, agents=30)
    else:
        load = Load(cps=10, calls=600, talk_s=10, agents=110)
    load = Load(
        cps=args.cps or load.cps, calls=args.calls or load.calls, talk_s=args.talk or load.talk_s,
        agents=args.agents or load.agents,
    )  # fmt: skip
    if os.geteuid() != 0:
        log("error: needs root (the sandbox Asterisk runs chrooted)")
        return 1
    if not shutil.which("sipp"):
        log("error: sipp not found (apt-get install sip-tester)")
        return 1

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="teleplex-voice-load-"))
    work.chmod(0o755)
    procs = Processes()
    sandbox = Sandbox(args.var_dir, instance=f"bench{os.getpid()}", progress=log)
    results: list[Result] = []
    meta: dict[str, Any] = {}
    try:
        uas_port, uas_media = free_udp_port(), free_udp_port()
        agents = [
            AgentDevice(f"agent{i}", contact=f"sip:agent{i}@127.0.0.1:{uas_port}")
            for i in range(1, load.agents + 1)
        ]
        state = sandbox.up(agents=agents, timeout=60)
        meta["asterisk"] = state.asterisk_version
        concurrency = int(load.cps * (load.talk_s + 1)) + 10
        rtp = widen_rtp_window(sandbox, state, max(400, 4 * concurrency + 40))
        log(f"sandbox: RTP window {rtp[0]}-{rtp[1]}")
        uas_scn = work / "agents.xml"
        uas_scn.write_text(_UAS)
        uas_log = work / "agents_messages.log"
        uas = procs.start("sipp-uas", [
            "sipp", "-sf", str(uas_scn), "-i", "127.0.0.1", "-p", str(uas_port), "-mp", str(uas_media),
            "-rtp_echo", "-nostdin", "-aa", "-trace_msg", "-message_file", str(uas_log),
        ], out=work / "agents_sipp.out", cwd=work)  # fmt: skip

        results_tpx = None
        if args.only in (None, "teleplex"):
            http_port = free_tcp_port()
            admin_password = "bench-" + os.urandom(8).hex()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("TELEPLEX_")},
                "TELEPLEX_DATABASE_URL": f"sqlite:///{work / 'teleplex.db'}",
                "TELEPLEX_ARI_URL": state.ari_url, "TELEPLEX_ARI_USER": state.ari_user,
                "TELEPLEX_ARI_PASSWORD": state.ari_password, "TELEPLEX_ARI_APP": state.app,
                "TELEPLEX_ADMIN_PASSWORD": admin_password, "TELEPLEX_HTTP_PORT": str(http_port),
                "TELEPLEX_VAR_DIR": str(work / "var"), "TELEPLEX_COOKIE_SECURE": "false",
            }  # fmt: skip
            teleplex = str(Path(sys.executable).parent / "teleplex")
            subprocess.run([teleplex, "migrate"], env=env, check=True, capture_output=True, timeout=120)
            server = procs.start("teleplex", [teleplex, "serve"], out=work / "teleplex.log", env=env, cwd=work)
            base_url = f"http://127.0.0.1:{http_port}"
            deadline = time.monotonic() + 30
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"teleplex serve exited: {(work / 'teleplex.log').read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("teleplex serve did not answer within 30 s")
                time.sleep(0.2)
            t_cfg = time.monotonic()
            center = asyncio.run(configure_teleplex(base_url, admin_password, load.agents))
            wait_voice_link(base_url, center["headers"])
            log(f"teleplex: {load.agents} agents configured and logged in ({time.monotonic() - t_cfg:.1f} s)")
            profiler = None
            if args.profile:
                py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
                profiler = procs.start("py-spy", [
                    py_spy, "record", "-p", str(server.pid), "-d", str(int(args.profile)), "-r", "400",
                    "-f", "raw", "--nonblocking", "-o", str(work / "teleplex.pyspy.txt"),
                ], out=work / "py-spy.out")  # fmt: skip
            results_tpx, tpx_log = run_load(
                "teleplex", TELEPLEX_DID, TELEPLEX_PREFIX, load, state=state, sandbox=sandbox, work=work,
                procs=procs, teleplex_pid=server.pid,
            )  # fmt: skip
            if profiler is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    profiler.wait(30)
            results_tpx.extra["teleplex_outcomes"] = teleplex_outcomes(base_url, center["headers"])
            results.append(results_tpx)

        results_base = None
        if args.only in (None, "app_queue"):
            baseline_config(state, load.agents)
            sandbox.rx("dialplan reload")
            sandbox.rx("module reload app_queue.so")
            shown = sandbox.rx(f"queue show {BASELINE_QUEUE}")
            members = len(re.findall(r"PJSIP/agent\d+", shown))
            if members != load.agents or BASELINE_DID not in sandbox.rx(f"dialplan show {BASELINE_DID}@from-carrier"):
                raise RuntimeError(f"app_queue baseline not configured ({members} members):\n{shown[:1000]}")
            time.sleep(1.0)
            results_base, base_log = run_load(
                "app_queue", BASELINE_DID, BASELINE_PREFIX, load, state=state, sandbox=sandbox, work=work,
                procs=procs, teleplex_pid=None,
            )  # fmt: skip
            shown = sandbox.rx(f"queue show {BASELINE_QUEUE}")
            m = re.search(r"C:(\d+), A:(\d+)", shown)
            if m:
                results_base.extra["app_queue_completed"] = int(m.group(1))
                results_base.extra["app_queue_abandoned"] = int(m.group(2))
            results.append(results_base)

        procs.stop(uas)
        legs = agent_legs(parse_message_log(uas_log))
        if results_tpx is not None:
            score(results_tpx, tpx_log, legs, TELEPLEX_PREFIX, load)
        if results_base is not None:
            score(results_base, base_log, legs, BASELINE_PREFIX, load)
        meta.update(
            date=datetime.now().astimezone().isoformat(timespec="seconds"), host=platform.node(),
            cpus=os.cpu_count(), cpu_model=_cpu_model(), kernel=platform.release(),
            rtp_window=f"{rtp[0]}-{rtp[1]}", wall_s=round(time.monotonic() - t0, 1),
        )  # fmt: skip
    except KeyboardInterrupt:
        log("interrupted: tearing down")
        return 130
    finally:
        procs.stop_all()
        with contextlib.suppress(Exception):
            sandbox.down()
        with contextlib.suppress(Exception):
            if not args.keep:
                sandbox.purge()
        if args.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    report(results, load, meta)
    return 0


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def report(results: list[Result], load: Load, meta: dict[str, Any]) -> None:
    by = {r.system: r for r in results}
    tpx, base = by.get("teleplex"), by.get("app_queue")
    rows = [
        ("calls offered", lambda r: r.offered),
        ("calls answered by an agent", lambda r: r.answered),
        ("calls lost", lambda r: r.lost),
        ("customer calls failed (SIPp)", lambda r: r.uac_failed),
        ("re-offers (agent rung twice)", lambda r: r.re_offers),
        ("time to ring p50 (ms)", lambda r: r.pct(50)),
        ("time to ring p90 (ms)", lambda r: r.pct(90)),
        ("time to ring p99 (ms)", lambda r: r.pct(99)),
        ("time to ring max (ms)", lambda r: r.pct(100)),
        ("Teleplex CPU s", lambda r: r.teleplex_cpu_s),
        ("Asterisk CPU s", lambda r: r.asterisk_cpu_s),
        ("Teleplex CPU s per call", lambda r: r.per_call(r.teleplex_cpu_s)),
        ("Asterisk CPU s per call", lambda r: r.per_call(r.asterisk_cpu_s)),
        ("load wall time s", lambda r: r.wall_s),
    ]
    print(f"\nvoice load: {load.cps:g} calls/s, {load.calls} calls per system, {load.talk_s:g} s talk, "
          f"{load.agents} agents; {meta.get('asterisk')}; {meta.get('cpus')} CPUs; {meta.get('date')}")  # fmt: skip
    print(f"{'':32}{'Teleplex':>14}{'app_queue':>14}")
    for label, get in rows:
        cells = [get(r) if r else None for r in (tpx, base)]
        print(f"{label:32}" + "".join(f"{'-' if c is None else c:>14}" for c in cells))
    for r in results:
        if r.extra:
            print(f"{r.system}: {json.dumps(r.extra, sort_keys=True)}")
    line: dict[str, Any] = {
        "calls_offered": tpx.offered if tpx else None,
        "calls_answered": tpx.answered if tpx else None,
        "calls_lost": tpx.lost if tpx else None,
        "ttr_p50_ms": tpx.pct(50) if tpx else None,
        "ttr_p99_ms": tpx.pct(99) if tpx else None,
        "teleplex_cpu_s_per_call": tpx.per_call(tpx.teleplex_cpu_s) if tpx else None,
        "asterisk_cpu_s_per_call": tpx.per_call(tpx.asterisk_cpu_s) if tpx else None,
        "baseline_calls_offered": base.offered if base else None,
        "baseline_calls_answered": base.answered if base else None,
        "baseline_calls_lost": base.lost if base else None,
        "baseline_ttr_p50_ms": base.pct(50) if base else None,
        "baseline_ttr_p99_ms": base.pct(99) if base else None,
        "baseline_asterisk_cpu_s_per_call": base.per_call(base.asterisk_cpu_s) if base else None,
        "cps": load.cps, "calls": load.calls, "talk_s": load.talk_s, "agents": load.agents, **meta,
    }  # fmt: skip
    print(json.dumps(line))


if __name__ == "__main__":
    sys.exit(main())
