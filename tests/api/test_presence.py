"""Agents' presence over the API, with the engine running (no Asterisk needed), and who may change it."""

import httpx

from teleplex.app import create_app


async def setup_agent(api, username="ana", queue_ids=()):
    user = await api.create("users", {"username": username, "password": "password-123", "roles": ["agent"]})
    agent = await api.create(
        "agents", {"user_id": user["id"], "number": str(1000 + user["id"]), "device": "PJSIP/1001",
                   "queues": [{"queue_id": q} for q in queue_ids]},
    )  # fmt: skip
    return agent, await api.login(username, "password-123")


async def test_agent_logs_in_pauses_readies_and_logs_out(live):
    q = await live.create("queues", {"name": "sales"})
    agent, me = await setup_agent(live, queue_ids=[q["id"]])
    path = f"agents/{agent['id']}"
    r = await live.post(f"{path}/login", {}, me)
    assert r.status_code == 200 and r.json()["state"] == "ready" and r.json()["device"] == "PJSIP/1001"
    r = await live.post(f"{path}/pause", {"reason": "Lunch"}, me)
    assert r.json()["state"] == "paused" and r.json()["pause_reason"] == "Lunch"
    assert (await live.post(f"{path}/ready", None, me)).json()["state"] == "ready"
    assert (await live.post(f"{path}/logout", None, me)).json()["state"] == "logged_out"


async def test_every_presence_change_is_stored_with_its_time(live, clock, clean_database):
    from sqlalchemy import select

    from teleplex.interactions.models import AgentStateChange

    agent, me = await setup_agent(live)
    await live.post(f"agents/{agent['id']}/login", {"device": "PJSIP/2002"}, me)
    clock.advance(30)
    await live.post(f"agents/{agent['id']}/pause", {"reason": "Break"}, me)
    async with clean_database.session() as s:
        rows = (await s.execute(select(AgentStateChange).order_by(AgentStateChange.id))).scalars().all()
    assert [(r.state, r.reason) for r in rows] == [("ready", None), ("paused", "Break")]
    assert (rows[1].at - rows[0].at).total_seconds() == 30


async def test_login_with_a_pause_reason_starts_paused(live):
    agent, me = await setup_agent(live)
    r = await live.post(f"agents/{agent['id']}/login", {"pause_reason": "Training"}, me)
    assert r.json()["state"] == "paused" and r.json()["pause_reason"] == "Training"


async def test_moves_that_make_no_sense_are_409_with_the_reason(live):
    agent, me = await setup_agent(live)
    r = await live.post(f"agents/{agent['id']}/ready", None, me)
    assert r.status_code == 409 and "not logged in" in r.json()["error"]["message"]
    await live.post(f"agents/{agent['id']}/login", {}, me)
    r = await live.post(f"agents/{agent['id']}/login", {}, me)
    assert r.status_code == 409 and "already logged in" in r.json()["error"]["message"]


async def test_agent_without_a_device_cannot_log_in(live):
    user = await live.create("users", {"username": "bo", "password": "password-123", "roles": ["agent"]})
    agent = await live.create("agents", {"user_id": user["id"], "number": "1009"})
    r = await live.post(f"agents/{agent['id']}/login", {})
    assert r.status_code == 409 and r.json()["error"]["details"]["field"] == "device"
    r = await live.post(f"agents/{agent['id']}/login", {"device": "not a device"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("device")


async def test_an_agent_cannot_change_another_agents_presence(live):
    ana, _ = await setup_agent(live, "ana")
    _, bea = await setup_agent(live, "bea")
    r = await live.post(f"agents/{ana['id']}/login", {}, bea)
    assert r.status_code == 403


async def test_supervisor_forces_pause_and_logout_in_scope_only(live):
    mine, other = await live.create("queues", {"name": "a"}), await live.create("queues", {"name": "b"})
    ana, ana_h = await setup_agent(live, "ana", [mine["id"]])
    bea, bea_h = await setup_agent(live, "bea", [other["id"]])
    for a, h in ((ana, ana_h), (bea, bea_h)):
        await live.post(f"agents/{a['id']}/login", {}, h)
    sup = await live.user("sup", "supervisor", supervised_queue_ids=[mine["id"]])
    r = await live.post(f"agents/{ana['id']}/pause", {"reason": "Coaching"}, sup)
    assert r.status_code == 200 and r.json()["state"] == "paused"
    assert (await live.post(f"agents/{ana['id']}/logout", None, sup)).json()["state"] == "logged_out"
    assert (await live.post(f"agents/{bea['id']}/pause", {"reason": "x"}, sup)).status_code == 403
    assert (await live.post(f"agents/{bea['id']}/login", {}, sup)).status_code == 403
    assert (await live.post(f"agents/{ana['id']}/ready", None, sup)).status_code == 403  # only the agent


async def test_live_state_is_scoped(live):
    mine, other = await live.create("queues", {"name": "a"}), await live.create("queues", {"name": "b"})
    ana, ana_h = await setup_agent(live, "ana", [mine["id"]])
    bea, bea_h = await setup_agent(live, "bea", [other["id"]])
    for a, h in ((ana, ana_h), (bea, bea_h)):
        await live.post(f"agents/{a['id']}/login", {}, h)
    sup = await live.user("sup", "supervisor", supervised_queue_ids=[mine["id"]])
    state = (await live.get("live", headers=sup)).json()
    assert [q["queue_id"] for q in state["queues"]] == [mine["id"]]
    assert [a["agent_id"] for a in state["agents"]] == [ana["id"]]
    assert state["voice_link"] is None  # no Asterisk configured on this node
    everything = (await live.get("live")).json()
    assert len(everything["queues"]) == 2 and len(everything["agents"]) == 2


async def test_pause_past_its_limit_raises_an_alert_event(live, clock):
    await live.create("pause-reasons", {"name": "Break", "max_duration_seconds": 60})
    agent, me = await setup_agent(live)
    bus = live.client._transport.app.state.bus  # type: ignore[attr-defined]
    sub = bus.subscribe(lambda e: e.type == "agent.pause_exceeded")
    await live.post(f"agents/{agent['id']}/login", {}, me)
    await live.post(f"agents/{agent['id']}/pause", {"reason": "Break"}, me)
    clock.advance(61)
    engine = live.client._transport.app.state.engine  # type: ignore[attr-defined]
    async with engine.serial():
        await engine.decide(lambda: engine.router.tick(clock.now()))
    event = sub.queue.get_nowait()
    assert event.data == {"agent_id": agent["id"], "reason": "Break", "limit_s": 60.0}


async def test_presence_needs_the_engine(api):
    agent, me = await setup_agent(api)
    r = await api.post(f"agents/{agent['id']}/login", {}, me)
    assert r.status_code == 503 and "engine" in r.json()["error"]["message"]


async def test_readyz_reports_an_unreachable_asterisk(settings, clock, clean_database):
    from pydantic import SecretStr

    cfg = settings.model_copy(update={"ari_url": "http://127.0.0.1:9", "ari_password": SecretStr("x")})
    app = create_app(cfg, clock=clock, db=clean_database)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"]["ok"] is True
    assert r.json()["checks"]["asterisk"] == {"ok": False, "url": "http://127.0.0.1:9",
                                             "error": "the ARI link is down; reconnecting"}  # fmt: skip


async def test_live_state_counts_the_queues_day_and_its_service_level(live, clock, clean_database):
    """Today's answered and abandoned calls, the share answered within the service level, and handle time."""
    from datetime import timedelta

    from teleplex.interactions import service as interactions
    from teleplex.interactions.states import Outcome

    q = await live.create("queues", {"name": "sales", "service_level_seconds": 20})
    now = clock.now()
    yesterday = now - timedelta(days=1)
    async with clean_database.session() as s:
        for arrived, wait, answered in ((now, 10, True), (now, 30, True), (now, 5, False), (yesterday, 1, True)):
            i = await interactions.open_interaction(s, arrived - timedelta(seconds=60), channel="voice")
            await interactions.queued(s, i, arrived - timedelta(seconds=60), q["id"])
            i.arrived_at = arrived
            if answered:
                await interactions.offered(s, i, arrived, 1)
                i.answered_at, i.wait_seconds, i.talk_seconds, i.hold_seconds, i.wrapup_seconds = arrived, wait, 100, 0, 20
                i.state, i.ended_at, i.outcome = "ended", arrived, Outcome.ANSWERED
            else:
                await interactions.ended(s, i, arrived, Outcome.ABANDONED)
    (sales,) = (await live.get("live")).json()["queues"]
    assert sales["answered_today"] == 2 and sales["abandoned_today"] == 1
    assert sales["service_level_today"] == round(1 / 3, 4)  # one of three within 20 s
    assert sales["average_handle_s_today"] == 120.0
