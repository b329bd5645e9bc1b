"""Continuity: calls survive a restart of Teleplex; a restart of Asterisk closes what died, rightly."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from teleplex.interactions.models import Interaction, InteractionEvent

from voice_harness import ANSWERS, eventually, place_call, running_center

pytestmark = pytest.mark.asterisk


async def test_waiting_call_survives_a_teleplex_restart_and_is_routed(sandbox_state, clean_database, tmp_path):
    async with running_center(sandbox_state, clean_database, hang_up_leftovers=False) as first:
        queue = await first.queue("5552001")
        agent = await first.agent(ANSWERS, [queue["id"]], login=False)
        r = await first.post(f"agents/{agent['id']}/login", {"pause_reason": "Lunch"})
        assert r.json()["state"] == "paused"
        caller = await place_call(sandbox_state, tmp_path, "5552001", hang_up_after_ms=10000)
        waiting = await first.latest_in_state("queued")
    try:
        async with running_center(sandbox_state, clean_database) as second:
            restored = await second.presence(agent["id"])
            assert restored["state"] == "paused" and restored["pause_reason"] == "Lunch"
            assert (await second.post(f"agents/{agent['id']}/ready")).status_code == 200
            connected = await second.latest_in_state("connected")
            assert connected["id"] == waiting["id"] and connected["agent_id"] == agent["id"]
            code, out = await caller.finished()
            assert code == 0, out[-1500:]
            call = await second.ended_interaction()
            assert call["id"] == waiting["id"] and call["outcome"] == "answered"
            assert call["arrived_at"] == waiting["arrived_at"]  # the wait counts from the first arrival
            assert [e["kind"] for e in call["timeline"]].count("arrived") == 1
    finally:
        await caller.kill()


async def test_a_caller_whose_record_was_never_written_is_adopted_after_a_crash(sandbox_state, clean_database,
                                                                                  tmp_path):  # fmt: skip
    """Teleplex died between routing a call and its journal writing the record: the caller, still waiting in
    Asterisk, is taken as a new arrival by the next Teleplex and routed."""
    async with running_center(sandbox_state, clean_database, hang_up_leftovers=False) as first:
        queue = await first.queue("5552004")
        agent = await first.agent(ANSWERS, [queue["id"]], login=False)
        caller = await place_call(sandbox_state, tmp_path, "5552004", caller="5550188", hang_up_after_ms=4000)
        waiting = await first.latest_in_state("queued")
    async with clean_database.session() as session:  # what a crash before the journal's write leaves behind
        await session.execute(delete(InteractionEvent))
        await session.execute(delete(Interaction))
    try:
        async with running_center(sandbox_state, clean_database) as second:
            adopted = await second.latest_in_state("queued")
            assert adopted["caller_id"] == "5550188" and adopted["did"] == "5552004"
            assert (await second.post(f"agents/{agent['id']}/login", {})).status_code == 200
            code, out = await caller.finished()
            assert code == 0, out[-1500:]
            call = await second.ended_interaction()
            assert call["id"] == adopted["id"]
            assert call["outcome"] == "answered" and call["agent_id"] == agent["id"]
    finally:
        await caller.kill()


async def test_connected_call_survives_a_teleplex_restart(sandbox_state, clean_database, tmp_path):
    async with running_center(sandbox_state, clean_database, hang_up_leftovers=False) as first:
        queue = await first.queue("5552002")
        agent = await first.agent(ANSWERS, [queue["id"]])
        caller = await place_call(sandbox_state, tmp_path, "5552002", hang_up_after_ms=6000)
        connected = await first.latest_in_state("connected")
    try:
        async with running_center(sandbox_state, clean_database) as second:
            await second.presence_is(agent["id"], "on_call")
            code, out = await caller.finished()
            assert code == 0, out[-1500:]
            call = await second.ended_interaction()
            assert call["id"] == connected["id"] and call["outcome"] == "answered"
            assert call["agent_id"] == agent["id"] and call["talk_seconds"] >= 5
            await second.presence_is(agent["id"], "ready")
    finally:
        await caller.kill()


async def test_asterisk_restart_mid_call_closes_the_call_and_frees_the_agent(start_sandbox, clean_database, tmp_path):
    sandbox = start_sandbox("restart")
    state = sandbox.read_state()
    async with running_center(state, clean_database) as center:
        queue = await center.queue("5552003")
        agent = await center.agent(ANSWERS, [queue["id"]])
        caller = await place_call(state, tmp_path, "5552003", hang_up_after_ms=60000)
        try:
            connected = await center.latest_in_state("connected")
            sandbox.rx("core restart now")
            call = await center.ended_interaction(timeout=30)
            assert call["id"] == connected["id"] and call["outcome"] == "answered"
            await center.presence_is(agent["id"], "ready")
            async def linked_again():
                r = await center.client.get("/readyz")
                return r if r.status_code == 200 else None

            ready = await eventually(linked_again, 20, "/readyz to report the link back up")
            assert ready.json()["checks"]["asterisk"]["ok"] is True
            # and the center takes calls again
            second = await place_call(state, tmp_path, "5552003", caller="5550177", hang_up_after_ms=1500)
            code, out = await second.finished()
            assert code == 0, out[-1500:]
            after = await center.ended_interaction()
            assert after["caller_id"] == "5550177" and after["outcome"] == "answered"
        finally:
            await caller.kill()
