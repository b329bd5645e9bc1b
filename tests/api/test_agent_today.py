"""GET /agents/{id}/today: an agent's figures since their local midnight, and who may read them."""

from datetime import UTC, datetime, timedelta

from teleplex.interactions.models import Interaction, InteractionEvent


async def _agent(api, username: str, queue_ids=(), timezone: str = "America/Guayaquil"):
    user = await api.create("users", {"username": username, "password": "password-123", "roles": ["agent"],
                                      "timezone": timezone})  # fmt: skip
    agent = await api.create("agents", {"user_id": user["id"], "number": str(1000 + user["id"]),
                                        "device": "PJSIP/1001", "queues": [{"queue_id": q} for q in queue_ids]})  # fmt: skip
    return agent, await api.login(username, "password-123")


async def _store_chat(db, interaction_id: int, agent_id: int, answered: datetime, ended: datetime) -> None:
    async with db.session() as s:
        s.add(Interaction(id=interaction_id, channel="webchat", direction="inbound", state="resolved",
                          outcome="resolved", agent_id=agent_id, arrived_at=answered, answered_at=answered,
                          ended_at=ended, talk_seconds=(ended - answered).total_seconds(), hold_seconds=0.0))  # fmt: skip
        s.add(InteractionEvent(interaction_id=interaction_id, at=answered - timedelta(seconds=5),
                               kind="offer_failed", agent_id=agent_id, data={"reason": "no_answer"}))  # fmt: skip


async def test_an_agent_sees_their_day_since_local_midnight(live, clock, clean_database):
    # the clock reads 2026-01-05 09:00 UTC: 04:00 in Guayaquil, whose day began at 05:00 UTC
    agent, me = await _agent(live, "ana")
    path = f"agents/{agent['id']}"
    await live.post(f"{path}/login", {}, me)
    clock.advance(600)
    await live.post(f"{path}/pause", {"reason": "Break"}, me)
    clock.advance(300)
    await live.post(f"{path}/ready", None, me)
    clock.advance(60)
    now = clock.now()
    await _store_chat(clean_database, 900001, agent["id"], now - timedelta(seconds=120), now - timedelta(seconds=30))
    yesterday = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)  # 23:00 the day before, in Guayaquil
    await _store_chat(clean_database, 900002, agent["id"], yesterday - timedelta(seconds=60), yesterday)

    r = await live.get(f"{path}/today", me)
    assert r.status_code == 200, r.text
    day = r.json()
    assert day["timezone"] == "America/Guayaquil"
    assert datetime.fromisoformat(day["since"]) == datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
    assert day["handled_total"] == 1 and day["handled_by_channel"] == {"webchat": 1}
    assert day["talk_seconds"] == 90 and day["average_talk_seconds"] == 90
    assert day["pause_by_reason"] == [{"reason": "Break", "seconds": 300.0}]
    assert day["ready_seconds"] == 660 and day["logged_in_seconds"] == 960
    assert day["missed_offers"] == 1  # the yesterday's one is not counted


async def test_today_is_the_agents_own_or_their_supervisors(live):
    mine, other = await live.create("queues", {"name": "a"}), await live.create("queues", {"name": "b"})
    ana, ana_h = await _agent(live, "ana", [mine["id"]])
    bea, bea_h = await _agent(live, "bea", [other["id"]])
    sup = await live.user("sup", "supervisor", supervised_queue_ids=[mine["id"]])
    assert (await live.get(f"agents/{ana['id']}/today", ana_h)).status_code == 200
    assert (await live.get(f"agents/{ana['id']}/today", bea_h)).status_code == 403
    assert (await live.get(f"agents/{ana['id']}/today", sup)).status_code == 200
    assert (await live.get(f"agents/{bea['id']}/today", sup)).status_code == 403
    assert (await live.get(f"agents/{bea['id']}/today")).status_code == 200  # the administrator
    assert (await live.get("agents/999999/today")).status_code == 404
    assert (await live.get("agents/0/today")).status_code == 422
