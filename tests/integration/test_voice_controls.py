"""What an agent does with a call in progress: hold, hang up, transfer, pause the recording; and the recording."""

from __future__ import annotations

import asyncio
import math
from array import array
import io
import wave

import pytest

from voice_harness import ANSWERS, VoiceCenter, place_call, running_center

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def center(sandbox_state, clean_database):
    async with running_center(sandbox_state, clean_database) as c:
        yield c


async def connected_call(center: VoiceCenter, sandbox_state, tmp_path, did: str, **queue):
    q = await center.queue(did, **queue)
    agent = await center.agent(ANSWERS, [q["id"]])
    caller = await place_call(sandbox_state, tmp_path, did, audio=True)  # waits for our BYE
    call = await center.latest_in_state("connected")
    return q, agent, caller, call


async def test_hold_and_unhold_count_hold_time_apart_from_talk(center, sandbox_state, tmp_path):
    _, _, caller, call = await connected_call(center, sandbox_state, tmp_path, "5553001")
    await asyncio.sleep(1)
    await center.do(call["id"], "hold")
    assert (await center.interaction(call["id"]))["state"] == "held"
    await asyncio.sleep(2)
    await center.do(call["id"], "unhold")
    await asyncio.sleep(1)
    await center.do(call["id"], "hangup")
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    done = await center.ended_interaction()
    assert 2 <= done["hold_seconds"] < 3
    assert 1.8 <= done["talk_seconds"] < 3.5  # talk excludes the hold
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds.index("held") < kinds.index("unheld") < kinds.index("ended")
    assert done["timeline"][-1]["data"]["hung_up_by"] == "agent"


async def test_blind_transfer_to_a_queue_reaches_its_agent(center, sandbox_state, tmp_path):
    _, first, caller, call = await connected_call(center, sandbox_state, tmp_path, "5553002")
    other = await center.queue("5553003")
    second = await center.agent(ANSWERS, [other["id"]])
    await center.do(call["id"], "transfer", {"to": {"kind": "queue", "queue_id": other["id"]}})

    async def with_second():
        i = await center.interaction(call["id"])
        return i if i["state"] == "connected" and i["agent_id"] == second["id"] else None

    from voice_harness import eventually

    moved = await eventually(with_second, 15, "the call to reach the second agent")
    assert moved["queue_id"] == other["id"]
    assert (await center.presence(first["id"]))["state"] in ("wrap_up", "ready")
    await center.do(call["id"], "hangup")
    await caller.finished()
    done = await center.ended_interaction()
    transferred = [e for e in done["timeline"] if e["kind"] == "transferred"]
    assert transferred[0]["agent_id"] == first["id"] and done["agent_id"] == second["id"]


async def test_controls_refuse_what_is_not_a_call_in_progress(center, sandbox_state, tmp_path):
    q = await center.queue("5553004")
    caller = await place_call(sandbox_state, tmp_path, "5553004", hang_up_after_ms=1000)
    await caller.finished()
    done = await center.ended_interaction()
    r = await center.post(f"interactions/{done['id']}/hold")
    assert r.status_code == 409 and "not a call in progress" in r.json()["error"]["message"]
    assert (await center.post("interactions/999999/hold")).status_code == 404
    r = await center.post(f"interactions/{done['id']}/dtmf", {"digits": "12x"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("digits")
    assert q["id"]


async def test_recording_has_the_calls_real_audio_and_can_pause(center, sandbox_state, tmp_path):
    _, agent, caller, call = await connected_call(center, sandbox_state, tmp_path, "5553005", recording=True)
    await asyncio.sleep(3)
    await center.do(call["id"], "recording/pause")
    await asyncio.sleep(2)
    await center.do(call["id"], "recording/resume")
    await asyncio.sleep(1)
    await center.do(call["id"], "hangup")
    await caller.finished()
    done = await center.ended_interaction()
    kinds = [e["kind"] for e in done["timeline"]]
    assert "recording_started" in kinds and "recording_paused" in kinds and "recording_resumed" in kinds

    async def downloaded():
        r = await center.client.get(f"/api/v1/interactions/{call['id']}/recording", headers=center.admin)
        return r if r.status_code == 200 and len(r.content) > 44 else None

    from voice_harness import eventually

    r = await eventually(downloaded, 10, "the recording to be written")
    assert r.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(r.content)) as wav:
        frames = wav.readframes(wav.getnframes())
        seconds = wav.getnframes() / wav.getframerate()
        width = wav.getsampwidth()
    # about 6 s of call, of which 2 s paused: the file holds the unpaused part
    assert 3 <= seconds <= 5.5, seconds
    assert width == 2
    samples = array("h", frames)
    rms = math.sqrt(sum(x * x for x in samples) / len(samples))
    assert rms > 100  # the customer's voice, not silence


async def test_supervisor_listens_and_barges_and_it_all_ends_with_the_call(center, sandbox_state, tmp_path):
    from voice_harness import eventually

    q, _, caller, call = await connected_call(center, sandbox_state, tmp_path, "5553006")
    ari = center.app.state.engine.handlers["voice"].ari
    await center.create("users", {"username": "sup", "password": "password-123", "roles": ["supervisor"],
                                        "supervised_queue_ids": [q["id"]]})  # fmt: skip
    r = await center.client.post("/api/v1/auth/token", json={"username": "sup", "password": "password-123"})
    sup_h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await center.post(f"interactions/{call['id']}/monitor", {"mode": "listen", "device": ANSWERS}, sup_h)
    assert r.status_code == 204, r.text

    async def monitor_bridge():
        bridges = [b for b in await ari.bridges() if b["id"].startswith("tpx-mon-")]
        return bridges[0] if bridges and len(bridges[0]["channels"]) == 2 else None

    bridge = await eventually(monitor_bridge, 10, "the supervisor to be bridged with the snoop")
    assert any(c.startswith("tpx-snoop-") for c in bridge["channels"])
    assert any(c.startswith("tpx-monitor-") for c in bridge["channels"])

    r = await center.post(f"interactions/{call['id']}/monitor", {"mode": "barge", "device": ANSWERS}, sup_h)
    assert r.status_code == 204

    async def three_in_call():  # ids restart with each test's database: an older test's bridge may share the prefix
        return next((b for b in await ari.bridges()
                     if b["id"].startswith(f"tpx-call-{call['id']}-") and len(b["channels"]) == 3), None)  # fmt: skip

    await eventually(three_in_call, 10, "the supervisor to join the call")
    await center.do(call["id"], "hangup")
    await caller.finished()

    async def all_gone():
        channels = [c["id"] for c in await ari.channels()]
        bridges = [b["id"] for b in await ari.bridges()]
        left = [c for c in channels if c.startswith(("tpx-snoop-", "tpx-monitor-"))]
        return not left and not any(b.startswith("tpx-mon-") for b in bridges)

    await eventually(all_gone, 10, "monitor channels and bridges to end with the call")
    done = await center.interaction(call["id"])
    kinds = [e["kind"] for e in done["timeline"]]
    assert "supervisor_listen" in kinds and "supervisor_barge" in kinds


async def test_only_a_supervisor_of_the_queue_may_monitor(center, sandbox_state, tmp_path):
    _, _, caller, call = await connected_call(center, sandbox_state, tmp_path, "5553007")
    other = await center.queue("5553008")
    await center.create("users", {"username": "sup2", "password": "password-123", "roles": ["supervisor"],
                                  "supervised_queue_ids": [other["id"]]})  # fmt: skip
    r = await center.client.post("/api/v1/auth/token", json={"username": "sup2", "password": "password-123"})
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await center.post(f"interactions/{call['id']}/monitor", {"mode": "listen", "device": ANSWERS}, h)
    assert r.status_code == 403
    await center.do(call["id"], "hangup")
    await caller.finished()


async def test_blind_transfer_to_a_named_agent(center, sandbox_state, tmp_path):
    from voice_harness import eventually

    q, first, caller, call = await connected_call(center, sandbox_state, tmp_path, "5553009")
    other_queue = await center.queue("5553010")
    named = await center.agent(ANSWERS, [other_queue["id"]])  # not a member of the call's queue
    busy = await center.agent(ANSWERS, [q["id"]], login=False)
    r = await center.post(f"interactions/{call['id']}/transfer", {"to": {"kind": "agent", "agent_id": busy["id"]}})
    assert r.status_code == 409 and "not available (logged out)" in r.json()["error"]["message"]
    await center.do(call["id"], "transfer", {"to": {"kind": "agent", "agent_id": named["id"]}})

    async def with_named():
        i = await center.interaction(call["id"])
        return i if i["state"] == "connected" and i["agent_id"] == named["id"] else None

    moved = await eventually(with_named, 15, "the call to reach the named agent")
    assert moved["queue_id"] == q["id"]  # it stays the queue's call for reports
    await center.presence_is(first["id"], "ready")
    await center.do(call["id"], "hangup")
    await caller.finished()
    done = await center.ended_interaction()
    assert [e["data"]["to"] for e in done["timeline"] if e["kind"] == "transferred"] == [
        {"kind": "agent", "agent_id": named["id"]}
    ]
