"""Consult (attended) transfers to a colleague by name and to a queue: the customer waits on hold while the
agent talks to the consulted agent, then hands the call over or goes back to the customer."""

from __future__ import annotations

import pytest

from voice_harness import ANSWERS, RINGS, VoiceCenter, eventually, place_call, running_center

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def center(sandbox_state, clean_database):
    async with running_center(sandbox_state, clean_database) as c:
        yield c


async def connected_call(center: VoiceCenter, sandbox_state, tmp_path, did: str, **queue):
    q = await center.queue(did, **queue)
    agent = await center.agent(ANSWERS, [q["id"]])
    caller = await place_call(sandbox_state, tmp_path, did, hang_up_after_ms=12000)
    call = await center.latest_in_state("connected")
    return q, agent, caller, call


def kinds(call: dict) -> list[str]:
    return [e["kind"] for e in call["timeline"]]


async def test_consult_a_colleague_then_hand_the_call_over(center, sandbox_state, tmp_path):
    q, ana, caller, call = await connected_call(center, sandbox_state, tmp_path, "5554001")
    bob = await center.agent(ANSWERS, [])  # in no queue: a consult by name reaches them anyway
    await center.do(call["id"], "consult", {"agent_id": bob["id"]})
    await center.presence_is(bob["id"], "on_call")
    assert (await center.interaction(call["id"]))["state"] == "held"  # the customer waits on music
    await center.do(call["id"], "consult/complete")
    await center.presence_is(ana["id"], "ready")  # ana left (no wrap-up in this queue)
    assert (await center.presence(bob["id"]))["state"] == "on_call"
    moved = await center.interaction(call["id"])
    assert moved["state"] == "connected" and moved["agent_id"] == bob["id"]
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    done = await center.ended_interaction()
    assert done["id"] == call["id"] and done["outcome"] == "answered" and done["agent_id"] == bob["id"]
    assert ["consult_started", "consult_answered", "transferred"] == [
        k for k in kinds(done) if k in ("consult_started", "consult_answered", "transferred")]
    await center.presence_is(bob["id"], "ready")


async def test_consult_a_queue_then_cancel_goes_back_to_the_customer(center, sandbox_state, tmp_path):
    q, ana, caller, call = await connected_call(center, sandbox_state, tmp_path, "5554002")
    experts = await center.queue("5554003")
    cy = await center.agent(ANSWERS, [experts["id"]])
    await center.do(call["id"], "consult", {"queue_id": experts["id"]})
    await center.presence_is(cy["id"], "on_call")
    await center.do(call["id"], "consult/cancel")
    await center.presence_is(cy["id"], "ready")
    back = await center.interaction(call["id"])
    assert back["state"] == "connected" and back["agent_id"] == ana["id"]
    assert "consult_cancelled" in kinds(back)
    code, out = await caller.finished()
    assert code == 0, out[-1500:]
    assert (await center.ended_interaction())["agent_id"] == ana["id"]


async def test_a_colleague_who_does_not_answer_leaves_the_customer_on_hold_for_the_agent(center, sandbox_state,
                                                                                          tmp_path):  # fmt: skip
    q, ana, caller, call = await connected_call(center, sandbox_state, tmp_path, "5554004", ring_timeout_seconds=5)
    deaf = await center.agent(RINGS, [])
    await center.do(call["id"], "consult", {"agent_id": deaf["id"]})

    async def not_answered():
        found = await center.interaction(call["id"])
        return found if "consult_not_answered" in kinds(found) else None

    held = await eventually(not_answered, 15, "the consult to ring out")
    assert held["state"] == "held"  # nobody else was rung; the agent decides
    await center.presence_is(deaf["id"], "paused")  # missed the offer: the missed pause, as for any call
    r = await center.post(f"interactions/{call['id']}/consult/complete")
    assert r.status_code == 409  # nobody to hand over to
    await center.do(call["id"], "unhold")  # the consult is over: the agent takes the customer back
    assert (await center.interaction(call["id"]))["state"] == "connected"
    await caller.kill()


async def test_consulting_someone_unavailable_is_refused(center, sandbox_state, tmp_path):
    q, ana, caller, call = await connected_call(center, sandbox_state, tmp_path, "5554005")
    away = await center.agent(ANSWERS, [], login=False)
    r = await center.post(f"interactions/{call['id']}/consult", {"agent_id": away["id"]})
    assert r.status_code == 409 and "not available" in r.json()["error"]["message"]
    r = await center.post(f"interactions/{call['id']}/consult", {"agent_id": away["id"], "number": "+15550100"})
    assert r.status_code == 422
    assert (await center.interaction(call["id"]))["state"] == "connected"  # nothing changed for the customer
    await caller.kill()
