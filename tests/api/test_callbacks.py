"""Callbacks over the API: scheduling by agents and supervisors, scoped lists, cancel, due and hand-over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from teleplex.campaigns.models import Callback

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the FakeClock's start


async def team(api):
    """Two queues; agents ana and bo in 'sales'; a supervisor of 'sales' and one of 'support'."""
    sales = await api.create("queues", {"name": "sales"})
    support = await api.create("queues", {"name": "support"})
    heads = {}
    for name in ("ana", "bo"):
        heads[name] = await api.user(name, "agent")
        users = (await api.get("users", search=name)).json()["items"]
        agent = await api.create("agents", {"user_id": users[0]["id"], "number": str(1000 + len(heads)),
                                            "queues": [{"queue_id": sales["id"]}]})  # fmt: skip
        heads[name + "_id"] = agent["id"]
        heads[name] = await api.login(name, "password-123")  # log in again: memberships are read at login
    heads["sup"] = await api.user("sue", "supervisor", supervised_queue_ids=[sales["id"]])
    heads["other_sup"] = await api.user("oz", "supervisor", supervised_queue_ids=[support["id"]])
    return sales, support, heads


async def test_an_agent_schedules_a_personal_callback_others_do_not_see_it(api):
    sales, _, h = await team(api)
    due = (NOW + timedelta(hours=2)).isoformat()
    r = await api.post("callbacks", {"number": "212 555 0100", "agent_id": h["ana_id"], "queue_id": sales["id"],
                                     "due_at": due, "note": "after lunch"}, headers=h["ana"])  # fmt: skip
    assert r.status_code == 201, r.text
    cb = r.json()
    assert cb["number"] == "+12125550100" and cb["personal"] and cb["source"] == "agent" and cb["status"] == "pending"
    assert [c["id"] for c in (await api.get("callbacks", headers=h["ana"])).json()["items"]] == [cb["id"]]
    assert (await api.get("callbacks", headers=h["bo"])).json()["total"] == 0
    assert (await api.get(f"callbacks/{cb['id']}", headers=h["bo"])).status_code == 403
    assert (await api.get("callbacks", headers=h["sup"])).json()["total"] == 1
    assert (await api.get("callbacks", headers=h["other_sup"])).json()["total"] == 0
    assert (await api.get(f"callbacks/{cb['id']}", headers=h["other_sup"])).status_code == 403


async def test_agents_cannot_schedule_for_someone_else_or_outside_their_queues(api):
    sales, support, h = await team(api)
    r = await api.post("callbacks", {"number": "+12125550100", "agent_id": h["bo_id"]}, headers=h["ana"])
    assert r.status_code == 403
    r = await api.post("callbacks", {"number": "+12125550100", "queue_id": support["id"]}, headers=h["ana"])
    assert r.status_code == 403
    r = await api.post("callbacks", {"number": "+12125550100", "queue_id": sales["id"]}, headers=h["ana"])
    assert r.status_code == 201  # a team callback for her own queue
    assert (await api.get("callbacks", headers=h["bo"])).json()["total"] == 1  # the team sees it


async def test_inbound_overflow_requests_appear_in_the_same_lists(api, clean_database):
    sales, _, h = await team(api)
    async with clean_database.session() as session:
        session.add(Callback(number="+12125550199", queue_id=sales["id"], source="inbound_overflow",
                             status="pending", requested_at=NOW))  # fmt: skip
    for who in ("ana", "sup"):
        items = (await api.get("callbacks", headers=h[who])).json()["items"]
        assert [c["source"] for c in items] == ["inbound_overflow"]
    due = (await api.get("callbacks/due", headers=h["ana"])).json()
    assert due[0]["callback"]["number"] == "+12125550199" and due[0]["priority"] >= 100


async def test_validation_errors_name_the_field(api):
    sales, _, _ = await team(api)
    cases = [
        ({"number": "x", "queue_id": sales["id"]}, "number"),
        ({"number": "+12125550100"}, "body"),
        ({"number": "+12125550100", "queue_id": sales["id"], "due_at": "2026-01-05T10:00:00"}, "due_at"),
        ({"number": "+12125550100", "queue_id": 999}, "queue_id"),
    ]
    for body, field in cases:
        r = await api.post("callbacks", body)
        assert r.status_code == 422, (body, r.text)
        details = r.json()["error"]["details"]
        fields = [d["field"] for d in details] if isinstance(details, list) else [details["field"]]
        assert field in fields, (body, details)


async def test_cancel_only_pending_and_only_in_scope(api):
    sales, _, h = await team(api)
    cb = (await api.post("callbacks", {"number": "+12125550100", "agent_id": h["ana_id"]}, headers=h["ana"])).json()
    assert (await api.post(f"callbacks/{cb['id']}/cancel", None, headers=h["bo"])).status_code == 403
    r = await api.post(f"callbacks/{cb['id']}/cancel", None, headers=h["ana"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await api.post(f"callbacks/{cb['id']}/cancel", None, headers=h["ana"])).status_code == 409
    assert (await api.get("callbacks", status="pending", headers=h["ana"])).json()["total"] == 0


async def test_a_personal_callback_goes_to_the_team_after_the_grace_period(api, clock):
    sales, _, h = await team(api)
    body = {"number": "+12125550100", "agent_id": h["ana_id"], "queue_id": sales["id"], "due_at": NOW.isoformat()}
    cb = (await api.post("callbacks", body, headers=h["ana"])).json()
    assert [d["callback"]["id"] for d in (await api.get("callbacks/due", headers=h["ana"])).json()] == [cb["id"]]
    assert (await api.get("callbacks/due", headers=h["bo"])).json() == []
    later = (NOW + timedelta(minutes=16)).isoformat()
    handed = (await api.get("callbacks/due", at=later, headers=h["bo"])).json()
    assert [(d["callback"]["id"], d["agent_id"], d["handed_to_team"]) for d in handed] == [(cb["id"], None, True)]
