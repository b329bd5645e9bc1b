"""Calls that leave the center: attended (consult) transfer to a number, with complete and cancel; blind transfer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from teleplex.voice.ari import AriNotFound
from voice_harness import ANSWERS, VoiceCenter, eventually, free_udp_port, place_call, running_center

pytestmark = pytest.mark.asterisk


class OutsideParty:
    """A phone outside the center, behind the carrier trunk: a SIPp that answers and waits for BYE."""

    def __init__(self, port: int, folder) -> None:
        self.port = port
        self.folder = folder
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(self.port), "-mp", str(free_udp_port()),
            "-m", "1", "-nostdin", "-timeout", "60s", "-timeout_error",
            cwd=self.folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip

    async def finished(self) -> int:
        assert self.proc is not None
        await asyncio.wait_for(self.proc.communicate(), 30)
        return self.proc.returncode or 0

    async def kill(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture(scope="module")
def outside_port() -> int:
    return free_udp_port()


@pytest.fixture(scope="module")
def outside_sandbox(start_sandbox, outside_port):
    return start_sandbox("outside", carrier_contact=f"sip:127.0.0.1:{outside_port}").read_state()


@pytest.fixture
async def world(outside_sandbox, clean_database, outside_port, tmp_path) -> AsyncIterator[tuple]:
    party = OutsideParty(outside_port, tmp_path)
    await party.start()
    try:
        async with running_center(outside_sandbox, clean_database) as center:
            yield center, party
    finally:
        await party.kill()


async def connected(center: VoiceCenter, state, tmp_path, did: str):
    q = await center.queue(did)
    agent = await center.agent(ANSWERS, [q["id"]])
    caller = await place_call(state, tmp_path, did, audio=True)
    return agent, caller, await center.latest_in_state("connected")


def bridge_of(center, call_id):
    ari = center.app.state.engine.handlers["voice"].ari

    async def get():
        return next((b for b in await ari.bridges() if b["id"].startswith(f"tpx-call-{call_id}-")), None)

    return get


async def test_consult_then_complete_hands_the_customer_over(world, outside_sandbox, tmp_path):
    center, party = world
    agent, caller, call = await connected(center, outside_sandbox, tmp_path, "5554001")
    await center.do(call["id"], "consult", {"number": "5557000"})
    assert (await center.interaction(call["id"]))["state"] == "held"  # the customer waits on hold

    async def agent_and_party_talk():
        b = await bridge_of(center, call["id"])()
        return b if b and any(c.startswith("tpx-consult-") for c in b["channels"]) and len(b["channels"]) == 2 else None

    bridge = await eventually(agent_and_party_talk, 10, "the consulted party to answer and join the agent")
    assert any(c.startswith("tpx-offer-") for c in bridge["channels"])  # the agent talks with the party
    await center.do(call["id"], "consult/complete")

    async def customer_and_party():
        b = await bridge_of(center, call["id"])()
        if not b or len(b["channels"]) != 2:
            return None
        return b if not any(c.startswith("tpx-offer-") for c in b["channels"]) else None

    await eventually(customer_and_party, 10, "the customer to be with the consulted party, without the agent")
    await center.presence_is(agent["id"], "ready")  # wrap-up 0: free for the next call at once
    await center.do(call["id"], "hangup")
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    assert await party.finished() == 0
    done = await center.ended_interaction()
    assert done["outcome"] == "transferred" and done["hold_seconds"] > 0
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds.index("consult_started") < kinds.index("consult_answered") < kinds.index("transferred")


async def test_consult_then_cancel_returns_to_the_customer(world, outside_sandbox, tmp_path):
    center, party = world
    _, caller, call = await connected(center, outside_sandbox, tmp_path, "5554002")
    await center.do(call["id"], "consult", {"number": "5557000"})

    async def consulting():
        b = await bridge_of(center, call["id"])()
        return b if b and any(c.startswith("tpx-consult-") for c in b["channels"]) else None

    await eventually(consulting, 10, "the consulted party to answer")
    await center.do(call["id"], "consult/cancel")
    assert await party.finished() == 0  # the third party was hung up

    async def back_with_customer():
        b = await bridge_of(center, call["id"])()
        return b if b and len(b["channels"]) == 2 and not any("consult" in c for c in b["channels"]) else None

    await eventually(back_with_customer, 10, "the agent to be back with the customer")
    assert (await center.interaction(call["id"]))["state"] == "connected"
    r = await center.post(f"interactions/{call['id']}/consult/complete")
    assert r.status_code == 409 and "not consulting" in r.json()["error"]["message"]
    await center.do(call["id"], "hangup")
    await caller.finished()
    assert (await center.ended_interaction())["outcome"] == "answered"


async def test_blind_transfer_to_a_number_leaves_the_center(world, outside_sandbox, tmp_path):
    center, party = world
    agent, caller, call = await connected(center, outside_sandbox, tmp_path, "5554003")
    await center.do(call["id"], "transfer", {"to": {"kind": "number", "number": "5557000"}})
    done = await center.ended_interaction()
    assert done["outcome"] == "transferred" and done["timeline"][-1]["data"]["target"]["number"] == "5557000"
    await center.presence_is(agent["id"], "ready")
    ari = center.app.state.engine.handlers["voice"].ari

    async def outside_leg_up():
        legs = [c for c in await ari.channels() if c["name"].startswith("PJSIP/carrier-") and c["state"] == "Up"]
        return legs if len(legs) == 2 else None  # the customer's leg and the leg to the outside party

    legs = await eventually(outside_leg_up, 10, "the customer to be connected to the outside number")
    assert any(c["dialplan"]["context"] == "teleplex-outbound" for c in legs)
    try:
        await ari.hangup(legs[0]["id"])  # the other leg goes with it
    except AriNotFound:
        pass
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    assert await party.finished() == 0
