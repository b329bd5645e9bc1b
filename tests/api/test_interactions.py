"""The interaction records over the API: scope by role, filters, timeline, disposition and notes."""

from teleplex.interactions import service as interactions
from teleplex.interactions.states import Outcome


async def seed_call(db, clock, queue_id, agent_id=None, caller="+15550100"):
    async with db.session() as s:
        i = await interactions.open_interaction(s, clock.now(), channel="voice", did="5551000", caller_id=caller)
        await interactions.queued(s, i, clock.now(), queue_id)
        if agent_id:
            await interactions.offered(s, i, clock.now(), agent_id)
            clock.advance(4)
            await interactions.connected(s, i, clock.now(), agent_id)
            clock.advance(60)
            await interactions.ended(s, i, clock.now(), Outcome.ANSWERED)
        return i.id


async def world(api, clean_database, clock):
    qa, qb = await api.create("queues", {"name": "a"}), await api.create("queues", {"name": "b"})
    ana_u = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    ana = await api.create("agents", {"user_id": ana_u["id"], "number": "1001", "queues": [{"queue_id": qa["id"]}]})
    bea_u = await api.create("users", {"username": "bea", "password": "password-123", "roles": ["agent"]})
    bea = await api.create("agents", {"user_id": bea_u["id"], "number": "1002", "queues": [{"queue_id": qb["id"]}]})
    ia = await seed_call(clean_database, clock, qa["id"], ana["id"])
    ib = await seed_call(clean_database, clock, qb["id"], bea["id"], caller="+15550199")
    return qa, qb, ana, bea, ia, ib


async def test_admin_lists_calls_with_times_and_filters(api, clean_database, clock):
    qa, _, ana, _, ia, ib = await world(api, clean_database, clock)
    page = (await api.get("interactions")).json()
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [ib, ia]  # newest first
    one = (await api.get("interactions", queue_id=qa["id"])).json()["items"]
    assert [i["id"] for i in one] == [ia]
    assert one[0]["wait_seconds"] == 4 and one[0]["talk_seconds"] == 60 and one[0]["outcome"] == "answered"
    assert [i["id"] for i in (await api.get("interactions", search="0199")).json()["items"]] == [ib]
    assert (await api.get("interactions", outcome="abandoned")).json()["total"] == 0


async def test_detail_has_the_timeline(api, clean_database, clock):
    *_, ia, _ = await world(api, clean_database, clock)
    detail = (await api.get(f"interactions/{ia}")).json()
    assert [e["kind"] for e in detail["timeline"]] == ["arrived", "queued", "offered", "answered", "ended"]


async def test_agents_see_their_own_calls_supervisors_their_queues(api, clean_database, clock):
    qa, _, _, _, ia, ib = await world(api, clean_database, clock)
    ana = await api.login("ana", "password-123")
    assert [i["id"] for i in (await api.get("interactions", headers=ana)).json()["items"]] == [ia]
    assert (await api.get(f"interactions/{ib}", headers=ana)).status_code == 403
    sup = await api.user("sup", "supervisor", supervised_queue_ids=[qa["id"]])
    assert [i["id"] for i in (await api.get("interactions", headers=sup)).json()["items"]] == [ia]
    assert (await api.get(f"interactions/{ib}", headers=sup)).status_code == 403


async def test_agent_sets_disposition_and_notes_and_it_is_audited(api, clean_database, clock):
    *_, ia, ib = await world(api, clean_database, clock)
    sale = await api.create("dispositions", {"code": "SALE", "label": "Sale", "category": "success"})
    ana = await api.login("ana", "password-123")
    r = await api.patch(f"interactions/{ia}", {"disposition_id": sale["id"], "notes": "wants the blue one"}, ana)
    assert r.status_code == 200 and r.json()["disposition_id"] == sale["id"]
    assert r.json()["notes"] == "wants the blue one"
    assert (await api.patch(f"interactions/{ib}", {"notes": "x"}, ana)).status_code == 403
    r = await api.patch(f"interactions/{ia}", {"disposition_id": 999}, ana)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("disposition_id")
    log = (await api.get("audit-log", entity_type="interaction")).json()["items"]
    assert log[0]["actor_name"] == "ana" and log[0]["after"]["notes"] == "wants the blue one"
    timeline = (await api.get(f"interactions/{ia}")).json()["timeline"]
    assert timeline[-1]["kind"] == "disposition"


async def test_queue_agent_and_disposition_with_history_cannot_be_deleted(api, clean_database, clock):
    qa, _, ana, _, ia, _ = await world(api, clean_database, clock)
    sale = await api.create("dispositions", {"code": "SALE", "label": "Sale", "category": "success"})
    await api.patch(f"interactions/{ia}", {"disposition_id": sale["id"]})
    await api.patch(f"agents/{ana['id']}", {"queues": []})  # no members left: only history holds the queue
    for path, what in ((f"queues/{qa['id']}", "queue 'a'"), (f"agents/{ana['id']}", "agent 1001"),
                       (f"dispositions/{sale['id']}", "disposition 'SALE'")):  # fmt: skip
        r = await api.delete(path)
        assert r.status_code == 409, r.text
        assert r.json()["error"]["message"] == f"{what} has 1 interactions in its history and cannot be deleted"
    assert (await api.get(f"interactions/{ia}")).json()["queue_id"] == qa["id"]
