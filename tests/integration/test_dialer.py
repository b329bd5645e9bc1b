"""Campaign calls on the sandbox Asterisk against a second Asterisk acting as the public network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from teleplex.campaigns.models import Attempt, Callback, Lead
from teleplex.voice.public_network import BUSY, MACHINE, PERSON, PERSON_2, PERSON_LONG, RINGS_OUT, install
from voice_harness import ANSWERS, VoiceCenter, eventually, running_center

pytestmark = pytest.mark.asterisk

ALL_DAY = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]


@pytest.fixture(scope="module")
def public_network(start_sandbox):
    sandbox = start_sandbox("pstn")
    messages = install(sandbox)
    return sandbox.read_state(), messages


@pytest.fixture(scope="module")
def dialer_sandbox(start_sandbox, public_network):
    state, _ = public_network
    return start_sandbox("dialer", carrier_contact=f"sip:127.0.0.1:{state.sip_udp_port}").read_state()


@pytest.fixture
async def center(dialer_sandbox, clean_database) -> AsyncIterator[VoiceCenter]:
    async with running_center(dialer_sandbox, clean_database, dialer_tick_seconds=0.2) as c:
        yield c


async def campaign(center: VoiceCenter, numbers: list[str], agents: int = 1, **settings: Any) -> dict[str, Any]:
    """A running campaign on its own queue with `agents` ready agents whose phones answer, and these leads."""
    queue = await center.create("queues", {"name": f"outbound{len(numbers)}{agents}", "wrapup_seconds": 0})
    members = [await center.agent(ANSWERS, [queue["id"]]) for _ in range(agents)]
    body = {"name": f"campaign-{queue['id']}", "queue_id": queue["id"], "dial_mode": "progressive",
            "trunk": "PJSIP/{number}@carrier", "ring_seconds": 15, "calling_windows": ALL_DAY,
            "allow_outside_legal_hours": True, "abandon_message": "tt-monkeys", **settings}  # fmt: skip
    c = await center.create("campaigns", body)
    lst = await center.create(f"campaigns/{c['id']}/lists", {"name": "today"})
    csv = "phone\n" + "\n".join(numbers) + "\n"
    r = await center.client.post(
        f"/api/v1/campaign-lists/{lst['id']}/import", params={"phone_column": "phone"}, content=csv.encode(),
        headers={**center.admin, "content-type": "text/csv"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    for agent in members:
        await center.post(f"agents/{agent['id']}/ready", {})
    r = await center.post(f"campaigns/{c['id']}/start", {})
    assert r.status_code == 200, r.text
    return {**c, "agents": members, "queue": queue}


async def attempts(db) -> dict[str, list[Attempt]]:
    async with db.session() as session:
        rows = (await session.execute(select(Attempt).order_by(Attempt.id))).scalars()
        out: dict[str, list[Attempt]] = {}
        for a in rows:
            out.setdefault(a.number, []).append(a)
        return out


async def settled(db, count: int, timeout: float = 60.0) -> dict[str, list[Attempt]]:
    """Wait until `count` attempts have an outcome (a bounded wait, not a timing claim)."""

    async def check() -> dict[str, list[Attempt]] | None:
        found = await attempts(db)
        done = sum(1 for rows in found.values() for a in rows if a.outcome)
        return found if done >= count else None

    return await eventually(check, timeout, f"{count} attempts to end")


async def lead(db, number: str) -> Lead:
    async with db.session() as session:
        return (await session.execute(select(Lead).where(Lead.phone == number))).scalar_one()


async def test_outcomes_of_a_person_a_busy_line_a_machine_and_no_answer(center, clean_database):
    c = await campaign(center, [PERSON, BUSY, MACHINE, RINGS_OUT], amd_enabled=True, machine_action="hangup",
                       recording=True)
    found = await settled(clean_database, 4, timeout=120)
    person, busy, machine, rings = (found[n][0] for n in (PERSON, BUSY, MACHINE, RINGS_OUT))

    assert person.outcome == "answered" and person.amd_result == "HUMAN"
    assert person.agent_id == c["agents"][0]["id"] and person.interaction_id is not None
    assert person.ringing_at is not None and person.answered_at is not None and person.ended_at is not None
    call = await center.interaction(person.interaction_id)
    assert call["direction"] == "outbound" and call["agent_id"] == c["agents"][0]["id"]
    assert call["outcome"] == "answered" and call["caller_id"] == PERSON
    assert person.recording_path == f"teleplex-{person.interaction_id}.wav"  # the campaign records its calls
    r = await center.get(f"interactions/{person.interaction_id}/recording")
    assert r.status_code == 200 and r.content[:4] == b"RIFF" and len(r.content) > 8000

    assert busy.outcome == "busy" and busy.answered_at is None
    assert machine.outcome == "machine" and machine.amd_result == "MACHINE" and machine.agent_id is None
    assert rings.outcome == "no_answer" and rings.answered_at is None and rings.ringing_at is not None

    # Retries follow the campaign's rules (defaults: busy again after 15 minutes; machines after 24 hours).
    busy_lead, done_lead = await lead(clean_database, BUSY), await lead(clean_database, PERSON)
    assert busy_lead.status == "pending" and busy_lead.attempts == 1
    assert busy_lead.next_attempt_at - busy.ended_at == timedelta(minutes=15)
    assert done_lead.status == "done" and done_lead.last_outcome == "answered"

    progress = (await center.get(f"campaigns/{c['id']}/progress")).json()
    assert progress["attempts_by_outcome"] == {"answered": 1, "busy": 1, "machine": 1, "no_answer": 1}
    assert progress["abandon_rate_24h"] == 0.0 and progress["live"]["calls_ringing"] == 0


async def test_a_person_no_agent_can_take_within_two_seconds_hears_the_message_and_counts_abandoned(
    center, clean_database
):
    # Power dialing at two calls per free agent, one agent: both people answer, only one can be served.
    c = await campaign(center, [PERSON_LONG, PERSON_2], dial_mode="power", power_ratio=2.0)
    found = await settled(clean_database, 1, timeout=60)
    ended = [a for rows in found.values() for a in rows if a.outcome]
    assert [a.outcome for a in ended] == ["abandoned"]
    dropped = ended[0]
    assert dropped.answered_at is not None and dropped.agent_id is None
    assert (dropped.ended_at - dropped.answered_at).total_seconds() >= 2.0
    call = await center.interaction(dropped.interaction_id)
    assert call["outcome"] == "abandoned"
    assert any(e["kind"] == "abandon_message" for e in call["timeline"]), call["timeline"]
    # The other one talks to the agent.
    talking = next(a for rows in found.values() for a in rows if a is not dropped)
    await eventually(lambda: _agent_of(clean_database, talking.id), 20, "the other call to reach the agent")
    abandoned_lead = await lead(clean_database, dropped.number)
    assert abandoned_lead.last_abandoned_at is not None and abandoned_lead.status == "pending"
    assert abandoned_lead.next_attempt_at - dropped.ended_at == timedelta(hours=72)
    progress = (await center.get(f"campaigns/{c['id']}/progress")).json()
    assert progress["abandon_rate_24h"] == 1.0  # one person answered so far, and was dropped


async def _talking(center: VoiceCenter, db, attempt_id: int) -> int | None:
    """The attempt's interaction once it is connected to an agent."""
    async with db.session() as session:
        call_id = (await session.get(Attempt, attempt_id)).interaction_id
    return call_id if call_id and (await center.interaction(call_id))["state"] == "connected" else None


async def _agent_of(db, attempt_id: int) -> int | None:
    async with db.session() as session:
        return (await session.get(Attempt, attempt_id)).agent_id


async def test_a_message_is_left_on_a_machine_when_the_campaign_says_so(center, clean_database, public_network):
    _, messages = public_network
    before = set(messages.glob("*.wav")) if messages.exists() else set()
    await campaign(center, [MACHINE], amd_enabled=True, machine_action="leave_message", machine_message="tt-monkeys")
    found = await settled(clean_database, 1, timeout=90)
    attempt = found[MACHINE][0]
    assert attempt.outcome == "machine" and attempt.amd_result == "MACHINE_MESSAGE_LEFT"
    left = await eventually(lambda: _new_files(messages, before), 20, "the far end to keep the message")
    assert max(f.stat().st_size for f in left) > 8000  # about a second of audio at least, not an empty file


async def _new_files(folder, before):
    return [f for f in folder.glob("*.wav") if f not in before and f.stat().st_size > 0] if folder.exists() else []


async def test_a_personal_callback_is_dialed_at_its_time_for_its_agent(center, clean_database):
    c = await campaign(center, [BUSY], agents=1)  # a campaign needs a lead to start
    agent = c["agents"][0]
    async with clean_database.session() as session:
        cb = Callback(number=PERSON, queue_id=c["queue"]["id"], agent_id=agent["id"], source="agent",
                      status="pending", requested_at=datetime.now(UTC), due_at=datetime.now(UTC) + timedelta(seconds=3),
                      campaign_id=c["id"])  # fmt: skip
        session.add(cb)
        await session.commit()
        cb_id = cb.id
    found = await settled(clean_database, 2, timeout=60)
    attempt = found[PERSON][0]
    assert attempt.callback_id == cb_id and attempt.outcome == "answered"
    assert attempt.agent_id == agent["id"] and attempt.dialed_at >= cb.due_at
    async with clean_database.session() as session:
        assert (await session.get(Callback, cb_id)).status == "done"


async def as_agent(center: VoiceCenter, agent: dict[str, Any]) -> dict[str, str]:
    user = (await center.get(f"users/{agent['user_id']}")).json()
    r = await center.client.post("/api/v1/auth/token", json={"username": user["username"], "password": "password-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_preview_shows_the_lead_then_the_agent_dials_it_or_skips_it(center, clean_database):
    c = await campaign(center, [PERSON, BUSY], dial_mode="preview", script="Hello {first_name}")
    agent = c["agents"][0]
    me = await as_agent(center, agent)
    url = f"/api/v1/campaigns/{c['id']}"

    first = (await center.client.post(f"{url}/preview", headers=me)).json()
    assert first["script"] == "Hello {first_name}" and first["history"] == []
    again = (await center.client.post(f"{url}/preview", headers=me)).json()
    assert again["lead"]["id"] == first["lead"]["id"]  # held for me until I dial or skip it
    r = await center.client.post(f"{url}/leads/{first['lead']['id']}/skip", json={"reason": "asked to call on Monday"},
                                 headers=me)  # fmt: skip
    assert r.status_code == 204, r.text
    log = (await center.get("audit-log", entity_type="lead")).json()["items"]
    assert log[0]["action"] == "skip" and log[0]["after"]["reason"] == "asked to call on Monday"

    nxt = (await center.client.post(f"{url}/preview", headers=me)).json()
    assert nxt["lead"]["id"] != first["lead"]["id"]
    r = await center.client.post(f"{url}/leads/{first['lead']['id']}/dial", headers=me)
    assert r.status_code == 409 and "preview it first" in r.json()["error"]["message"]
    person = nxt if nxt["lead"]["phone"] == PERSON else None
    if person is None:  # the busy number came first: skip it too and take the person
        await center.client.post(f"{url}/leads/{nxt['lead']['id']}/skip", json={"reason": "later"}, headers=me)
        person = (await center.client.post(f"{url}/preview", headers=me)).json()
    assert person["lead"]["phone"] == PERSON
    r = await center.client.post(f"{url}/leads/{person['lead']['id']}/dial", headers=me)
    assert r.status_code == 202, r.text
    # While they talk, the agent sets the disposition "call back": the lead is dialed again later.
    call_id = await eventually(lambda: _talking(center, clean_database, r.json()["id"]), 30, "the agent to talk")
    later = await center.create("dispositions", {"code": "CB", "label": "Call back", "category": "callback"})
    patched = await center.client.patch(f"/api/v1/interactions/{call_id}", json={"disposition_id": later["id"]},
                                        headers=me)  # fmt: skip
    assert patched.status_code == 200, patched.text
    found = await settled(clean_database, 1, timeout=60)
    attempt = found[PERSON][0]
    assert attempt.outcome == "callback" and attempt.agent_id == agent["id"]
    assert (await lead(clean_database, PERSON)).status == "pending"
    call = await center.interaction(attempt.interaction_id)
    assert call["agent_id"] == agent["id"] and call["direction"] == "outbound" and call["outcome"] == "answered"


async def test_manual_dial_reaches_the_agent_and_refuses_what_it_must(center, clean_database):
    c = await campaign(center, [BUSY], dial_mode="preview")
    agent = c["agents"][0]
    me = await as_agent(center, agent)
    url = f"/api/v1/campaigns/{c['id']}/dial"

    r = await center.client.post(url, json={"number": "not a number"}, headers=me)
    assert r.status_code == 422 and "not a telephone number" in r.json()["error"]["message"]
    await center.create("dnc", {"number": PERSON_2})
    r = await center.client.post(url, json={"number": PERSON_2}, headers=me)
    assert r.status_code == 409 and "do-not-call" in r.json()["error"]["message"]
    r = await center.client.post(url, json={"number": PERSON}, headers=center.admin)
    assert r.status_code == 403  # the admin has no agent profile: only agents dial

    r = await center.client.post(url, json={"number": "+34 911 23 45 01"}, headers=me)
    assert r.status_code == 202, r.text
    assert r.json()["number"] == PERSON and r.json()["lead_id"] is None
    r2 = await center.client.post(url, json={"number": PERSON}, headers=me)
    assert r2.status_code == 409 and "already dialing" in r2.json()["error"]["message"]  # one at a time
    found = await settled(clean_database, 1, timeout=60)
    assert found[PERSON][0].outcome == "answered" and found[PERSON][0].agent_id == agent["id"]


async def test_an_asterisk_restart_fails_the_calls_in_flight_and_dialing_goes_on(start_sandbox, public_network,
                                                                                   clean_database):  # fmt: skip
    network, _ = public_network
    sandbox = start_sandbox("dialer-restart", carrier_contact=f"sip:127.0.0.1:{network.sip_udp_port}")
    async with running_center(sandbox.read_state(), clean_database, dialer_tick_seconds=0.2) as center:
        c = await campaign(center, [RINGS_OUT, PERSON])
        ringing = await eventually(lambda: _ringing(clean_database), 30, "the first call to ring")
        sandbox.rx("core restart now")
        found = await settled(clean_database, 2, timeout=90)
    lost = next(a for a in found[RINGS_OUT] if a.id == ringing)
    assert lost.outcome == "failed" and lost.answered_at is None
    assert found[PERSON][0].outcome == "answered" and found[PERSON][0].agent_id == c["agents"][0]["id"]
    retry = await lead(clean_database, RINGS_OUT)
    assert retry.status == "pending" and retry.attempts == 1 and retry.next_attempt_at is not None


async def _ringing(db) -> int | None:
    async with db.session() as session:
        return (await session.execute(select(Attempt.id).where(Attempt.ringing_at.is_not(None)))).scalar()


async def test_a_predictive_campaign_with_two_agents_places_and_connects_calls_with_live_progress(center,
                                                                                                 clean_database):  # fmt: skip
    c = await campaign(center, [PERSON, PERSON_2, BUSY], agents=2, dial_mode="predictive")
    live = await eventually(lambda: _live_calls(center, c["id"]), 30, "calls in progress to show")
    assert live["live"]["channels_in_use"] >= 1 and live["state"] == "running"
    found = await settled(clean_database, 3, timeout=60)
    outcomes = sorted(a.outcome for rows in found.values() for a in rows)
    assert outcomes == ["answered", "answered", "busy"]  # learning from nothing, it dials no more than agents
    served = {found[n][0].agent_id for n in (PERSON, PERSON_2)}
    assert served <= {a["id"] for a in c["agents"]} and None not in served
    progress = (await center.get(f"campaigns/{c['id']}/progress")).json()
    assert progress["live"]["risk_limit"] == 0.0  # no fair sample yet: progressive until it has one
    assert progress["abandon_rate_24h"] == 0.0 and progress["attempts"] == 3


async def _live_calls(center: VoiceCenter, campaign_id: int) -> dict[str, Any] | None:
    progress = (await center.get(f"campaigns/{campaign_id}/progress")).json()
    return progress if progress["live"] and progress["live"]["channels_in_use"] else None
