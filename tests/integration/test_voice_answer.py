"""Agents whose devices answer by themselves take calls from the console: the offer waits there, and their
answer makes Teleplex call the device with auto-answer and bridge it to the caller."""

from __future__ import annotations

import pytest

from voice_harness import ANSWERS, eventually, place_call, running_center

pytestmark = pytest.mark.asterisk


async def _token(center, agent: dict) -> dict[str, str]:
    """Log in as the agent's user (the harness names users after a count, so ask for the name)."""
    username = (await center.get(f"users/{agent['user_id']}")).json()["username"]
    r = await center.client.post("/api/v1/auth/token", json={"username": username, "password": "password-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_an_agent_answers_from_the_console(sandbox_state, clean_database, tmp_path):
    async with running_center(sandbox_state, clean_database) as center:
        q = await center.queue("5556001")
        agent = await center.agent(ANSWERS, [q["id"]], answer_mode="console")
        other = await center.agent(ANSWERS, [], login=True)
        me = await _token(center, agent)
        not_me = await _token(center, other)
        caller = await place_call(sandbox_state, tmp_path, "5556001", hang_up_after_ms=2000)
        offered = await center.latest_in_state("offered")
        await center.presence_is(agent["id"], "ringing")
        ari = center.app.state.engine.handlers["voice"].ari
        assert not [c for c in await ari.channels() if c["id"].startswith("tpx-offer-")]  # nothing rung yet

        r = await center.client.post(f"/api/v1/interactions/{offered['id']}/answer", headers=not_me)
        assert r.status_code == 409  # offered to someone else
        r = await center.client.post(f"/api/v1/interactions/{offered['id']}/answer", headers=me)
        assert r.status_code == 204, r.text
        connected = await center.latest_in_state("connected")
        assert connected["id"] == offered["id"] and connected["agent_id"] == agent["id"]
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        done = await center.ended_interaction()
        assert done["outcome"] == "answered" and done["talk_seconds"] >= 1.5


async def test_a_console_offer_not_answered_goes_to_the_next_agent(sandbox_state, clean_database, tmp_path):
    async with running_center(sandbox_state, clean_database) as center:
        q = await center.queue("5556002", ring_timeout_seconds=5)
        idle = await center.agent(ANSWERS, [q["id"]], answer_mode="console")  # logged in first: offered first
        ready = await center.agent(ANSWERS, [q["id"]])
        caller = await place_call(sandbox_state, tmp_path, "5556002", hang_up_after_ms=9000)  # from our answer
        code, out = await caller.finished()
        assert code == 0, out[-1500:]
        call = await center.ended_interaction()
        assert call["outcome"] == "answered" and call["agent_id"] == ready["id"]
        failed = [e for e in call["timeline"] if e["kind"] == "offer_failed"]
        assert failed and failed[0]["agent_id"] == idle["id"]

        async def missed():
            p = await center.presence(idle["id"])
            return p if p["state"] == "paused" else None

        await eventually(missed, 10, "the console agent to get the missed pause")
