"""Inbound calls on the real sandbox Asterisk: queued, offered, answered, abandoned, overflowed, closed."""

from __future__ import annotations

import math
import wave
from array import array
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from teleplex.core.db import Database
from teleplex.voice.sandbox import SandboxState
from voice_harness import ANSWERS, RINGS, VoiceCenter, eventually, place_call, running_center

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def center(sandbox_state: SandboxState, clean_database: Database) -> AsyncIterator[VoiceCenter]:
    async with running_center(sandbox_state, clean_database) as c:
        yield c


def kinds(interaction: dict) -> list[str]:
    return [e["kind"] for e in interaction["timeline"]]


async def test_call_is_routed_to_the_ready_agent_and_recorded_with_its_times(center, sandbox_state, tmp_path):
    queue = await center.queue("5551001")
    agent = await center.agent(ANSWERS, [queue["id"]])
    caller = await place_call(sandbox_state, tmp_path, "5551001", caller="5550101", hang_up_after_ms=2000)
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    call = await center.ended_interaction()
    assert call["outcome"] == "answered" and call["agent_id"] == agent["id"] and call["queue_id"] == queue["id"]
    assert call["did"] == "5551001" and call["caller_id"] == "5550101" and call["contact_id"] is not None
    assert kinds(call)[:4] == ["arrived", "queued", "offered", "answered"] and kinds(call)[-1] == "ended"
    assert call["wait_seconds"] < 2 and 1.5 <= call["talk_seconds"] < 4
    assert call["arrived_at"] <= call["answered_at"] <= call["ended_at"]
    assert call["timeline"][-1]["data"]["hung_up_by"] == "customer"


async def test_agent_goes_through_wrapup_back_to_ready(center, sandbox_state, tmp_path):
    queue = await center.queue("5551002", wrapup_seconds=1)
    agent = await center.agent(ANSWERS, [queue["id"]])
    caller = await place_call(sandbox_state, tmp_path, "5551002", hang_up_after_ms=1000)
    await caller.finished()
    await center.ended_interaction()

    await center.presence_is(agent["id"], "ready")
    call = await center.ended_interaction()
    assert call["wrapup_seconds"] is not None and call["wrapup_seconds"] >= 1


async def test_ring_no_answer_offers_the_next_agent(center, sandbox_state, tmp_path):
    queue = await center.queue("5551003", ring_timeout_seconds=5)
    deaf = await center.agent(RINGS, [queue["id"]])  # logged in first: idle longest, offered first
    answers = await center.agent(ANSWERS, [queue["id"]])
    caller = await place_call(sandbox_state, tmp_path, "5551003", hang_up_after_ms=8000)
    await caller.finished()
    call = await center.ended_interaction()
    assert call["outcome"] == "answered" and call["agent_id"] == answers["id"]
    failed = [e for e in call["timeline"] if e["kind"] == "offer_failed"]
    assert failed and failed[0]["agent_id"] == deaf["id"] and failed[0]["data"]["reason"] == "no_answer"
    assert 5 <= call["wait_seconds"] < 7
    presence = await center.presence(deaf["id"])
    assert presence["state"] == "paused" and presence["pause_reason"] == "missed"


async def test_caller_who_hangs_up_while_waiting_is_counted_abandoned(center, sandbox_state, tmp_path):
    queue = await center.queue("5551004")
    await center.agent(ANSWERS, [queue["id"]], login=False)
    caller = await place_call(sandbox_state, tmp_path, "5551004", hang_up_after_ms=1500)
    await caller.finished()
    call = await center.ended_interaction()
    assert call["outcome"] == "abandoned" and call["agent_id"] is None
    assert 1.3 <= call["wait_seconds"] < 4 and call["answered_at"] is None


async def test_overflow_to_another_queue_after_max_wait(center, sandbox_state, tmp_path):
    backup = await center.queue("5551005")
    agent = await center.agent(ANSWERS, [backup["id"]])
    await center.queue("5551006", max_wait_seconds=2, overflow={"kind": "queue", "queue_id": backup["id"]})
    caller = await place_call(sandbox_state, tmp_path, "5551006", hang_up_after_ms=4000)
    await caller.finished()
    call = await center.ended_interaction()
    assert call["outcome"] == "answered" and call["agent_id"] == agent["id"] and call["queue_id"] == backup["id"]
    assert "overflowed" in kinds(call) and call["wait_seconds"] >= 2


async def test_closed_hours_get_the_closed_treatment(center, sandbox_state, tmp_path):
    hours = await center.create("business-hours", {"name": "never", "timezone": "UTC", "weekly": []})
    closed = {"kind": "hangup", "message": "vm-goodbye"}
    await center.queue("5551007", business_hours_id=hours["id"], closed_treatment=closed)
    caller = await place_call(sandbox_state, tmp_path, "5551007")  # answered, hears the message, gets our BYE
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    call = await center.ended_interaction()
    assert call["outcome"] == "closed_hours" and call["queue_id"] is not None


async def test_closed_hours_to_voicemail_keeps_the_callers_message(center, sandbox_state, tmp_path, asterisk_sandbox):
    hours = await center.create("business-hours", {"name": "never", "timezone": "UTC", "weekly": []})
    closed = {"kind": "voicemail", "mailbox": "101"}
    await center.queue("5551012", business_hours_id=hours["id"], closed_treatment=closed)
    inbox = Path(sandbox_state.instance_dir) / "spool" / "voicemail" / "teleplex" / "101" / "INBOX"
    before = set(inbox.glob("msg*.wav")) if inbox.exists() else set()
    # The caller is a Local channel into the carrier's context whose other half plays a long recording: it talks
    # through the mailbox's greeting and on into the message, then hangs up.
    asterisk_sandbox.rx("channel originate Local/5551012@from-carrier application Playback tt-monkeys")
    call = await center.ended_interaction()
    assert call["outcome"] == "closed_hours" and call["did"] == "5551012"

    async def message():
        return sorted(set(inbox.glob("msg*.wav")) - before) if inbox.exists() else None

    (left,) = await eventually(message, timeout=30, what="the voicemail message to be stored")
    with wave.open(str(left)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = array("h", wav.readframes(wav.getnframes()))
    rms = math.sqrt(sum(x * x for x in samples) / max(1, len(samples)))
    assert seconds >= 1 and rms > 100  # the caller's sound after the greeting and beep, not silence


async def test_unknown_number_is_refused_and_recorded(center, sandbox_state, tmp_path):
    caller = await place_call(sandbox_state, tmp_path, "5559999")
    await caller.finished()
    call = await center.ended_interaction()
    assert call["outcome"] == "no_queue" and call["did"] == "5559999"


async def test_caller_who_presses_1_at_overflow_gets_a_callback(center, sandbox_state, tmp_path, clean_database):
    from sqlalchemy import select

    from teleplex.campaigns.models import Callback

    queue = await center.queue("5551008", max_wait_seconds=1, overflow={"kind": "callback", "wait_seconds": 8})
    caller = await place_call(sandbox_state, tmp_path, "5551008", caller="5550188", press=("1", 3000))
    code, out = await caller.finished()
    assert code == 0, out[-1500:]  # thanked and hung up by us
    call = await center.ended_interaction()
    assert call["outcome"] == "callback_requested" and call["queue_id"] == queue["id"]
    async with clean_database.session() as s:
        callback = (await s.execute(select(Callback))).scalar_one()
    assert callback.number == "+15550188" and callback.status == "pending" and callback.queue_id == queue["id"]
    assert callback.interaction_id == call["id"] and callback.source == "inbound_overflow"


async def test_caller_who_does_not_press_is_let_go_as_overflowed(center, sandbox_state, tmp_path):
    await center.queue("5551009", max_wait_seconds=1, overflow={"kind": "callback", "wait_seconds": 3})
    caller = await place_call(sandbox_state, tmp_path, "5551009")
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    call = await center.ended_interaction()
    assert call["outcome"] == "overflowed" and call["timeline"][-1]["data"]["callback"] == "declined"


async def test_waiting_callers_hear_their_place_in_line(center, sandbox_state, tmp_path):
    announcements = {"periodic_interval_seconds": 2, "announce_position": True}
    await center.queue("5551010", announcements=announcements)
    first = await place_call(sandbox_state, tmp_path, "5551010", caller="5550110", hang_up_after_ms=7000)
    await center.latest_in_state("queued")
    second = await place_call(sandbox_state, tmp_path, "5551010", caller="5550111", hang_up_after_ms=4500)
    for caller in (first, second):
        code, out = await caller.finished()
        assert code == 0, out[-1500:]

    async def both_ended():
        listed = await center.interactions()
        return listed if len(listed) == 2 and all(i["state"] == "ended" for i in listed) else None

    calls = {i["caller_id"]: await center.interaction(i["id"]) for i in await eventually(both_ended, what="both ended")}

    def places(call):
        return [e["data"]["position"] for e in call["timeline"] if e["kind"] == "position_announced"]

    assert places(calls["5550110"])[:2] == [1, 1] and len(places(calls["5550110"])) >= 3
    assert places(calls["5550111"])[0] == 2
    assert all(c["outcome"] == "abandoned" for c in calls.values())


async def test_a_waiting_caller_hears_the_expected_wait_from_recent_handle_times(center, sandbox_state, tmp_path):
    announcements = {"periodic_interval_seconds": 2, "announce_expected_wait": True}
    queue = await center.queue("5551011", wrapup_seconds=0, announcements=announcements)
    await center.agent(ANSWERS, [queue["id"]])
    short = await place_call(sandbox_state, tmp_path, "5551011", caller="5550120", hang_up_after_ms=2000)
    assert (await short.finished())[0] == 0
    await center.ended_interaction()  # one call handled: about 2 s of talk, no wrap-up
    long = await place_call(sandbox_state, tmp_path, "5551011", caller="5550121", hang_up_after_ms=9000)
    await center.latest_in_state("connected")
    waiting = await place_call(sandbox_state, tmp_path, "5551011", caller="5550122", hang_up_after_ms=5000)
    for caller in (long, waiting):
        assert (await caller.finished())[0] == 0

    async def waited_call():
        listed = [i for i in await center.interactions() if i["caller_id"] == "5550122" and i["state"] == "ended"]
        return await center.interaction(listed[0]["id"]) if listed else None

    call = await eventually(waited_call, what="the waiting caller's record to end")
    heard = [e["data"] for e in call["timeline"] if e["kind"] == "position_announced"]
    assert heard, "the caller heard no announcement"
    assert all("position" not in d for d in heard)  # only the wait was asked for
    assert 1.5 <= heard[0]["expected_wait_s"] <= 4  # one agent, first in line: about one ~2 s handle time

