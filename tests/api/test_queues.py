"""Queues: configuration, validation, references, deletion in use, and supervisors' scope."""

import pytest

FULL = {
    "name": "sales",
    "description": "new customers",
    "channels": ["voice", "whatsapp", "voice"],
    "strategy": "skills_weighted",
    "required_skills": {"spanish": 5, "billing": 3},
    "priority": 10,
    "service_level_seconds": 30,
    "wrapup_seconds": 15,
    "ring_timeout_seconds": 25,
    "recording": True,
    "moh_class": "default",
    "announcements": {"periodic_interval_seconds": 60, "announce_position": True},
}


async def test_create_queue_with_defaults(api):
    q = await api.create("queues", {"name": "support"})
    assert q["strategy"] == "longest_idle" and q["channels"] == ["voice"]
    assert q["service_level_seconds"] == 20 and q["ring_timeout_seconds"] == 20 and q["wrapup_seconds"] == 10
    assert q["max_wait_seconds"] is None and q["overflow"] is None and q["recording"] is False


async def test_create_queue_with_every_setting(api):
    q = await api.create("queues", FULL)
    assert q["channels"] == ["voice", "whatsapp"]
    assert q["required_skills"] == {"spanish": 5, "billing": 3}
    assert q["announcements"]["periodic_interval_seconds"] == 60 and q["announcements"]["announce_position"]
    assert (await api.get(f"queues/{q['id']}")).json() == q


async def test_overflow_to_another_queue_business_hours_and_dispositions(api):
    target = await api.create("queues", {"name": "overflow"})
    hours = await api.create(
        "business-hours", {"name": "office", "timezone": "UTC", "weekly": [{"day": "mon", "open": "09:00", "close": "17:00"}]}
    )
    sale = await api.create("dispositions", {"code": "SALE", "label": "Sale", "category": "success"})
    q = await api.create(
        "queues",
        {
            "name": "sales",
            "max_wait_seconds": 120,
            "overflow": {"kind": "queue", "queue_id": target["id"]},
            "business_hours_id": hours["id"],
            "disposition_ids": [sale["id"]],
        },
    )
    assert q["overflow"] == {"kind": "queue", "queue_id": target["id"]}
    assert q["business_hours_id"] == hours["id"] and q["disposition_ids"] == [sale["id"]]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "q", "strategy": "random"}, "strategy"),
        ({"name": "q", "channels": []}, "channels"),
        ({"name": "q", "channels": ["fax"]}, "channels[0]"),
        ({"name": "q", "required_skills": {"spanish": 11}}, "required_skills.spanish"),
        ({"name": "q", "required_skills": {"Bad Name": 1}}, "required_skills.Bad Name"),
        ({"name": "q", "ring_timeout_seconds": 2}, "ring_timeout_seconds"),
        ({"name": "q", "priority": "high"}, "priority"),
        ({"name": "q", "max_wait_seconds": 60}, "max_wait_seconds and overflow"),
        ({"name": "q", "max_wait_seconds": 60, "overflow": {"kind": "queue", "queue_id": 999}}, "overflow.queue_id"),
        ({"name": "q", "max_wait_seconds": 60, "overflow": {"kind": "teleport"}}, "overflow"),
        ({"name": "q", "max_wait_seconds": 60, "overflow": {"kind": "number", "number": "call me"}},
         "overflow.number.number"),
        ({"name": "q", "business_hours_id": 999}, "business_hours_id"),
        ({"name": "q", "disposition_ids": [999]}, "disposition_ids"),
        ({"name": "q", "moh_class": "../../etc"}, "moh_class"),
        ({"name": "q", "colour": "red"}, "colour"),
    ],
)
async def test_invalid_queue_is_422_naming_the_field(api, body, field):
    r = await api.post("queues", body)
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["message"], r.json()


async def test_duplicate_queue_name_is_409(api):
    await api.create("queues", {"name": "sales"})
    r = await api.post("queues", {"name": "sales"})
    assert r.status_code == 409 and "sales" in r.json()["error"]["message"]


async def test_update_changes_only_what_is_sent(api):
    q = await api.create("queues", FULL)
    r = await api.patch(f"queues/{q['id']}", {"priority": 50, "channels": ["webchat"]})
    assert r.status_code == 200
    assert r.json()["priority"] == 50 and r.json()["channels"] == ["webchat"]
    assert r.json()["required_skills"] == FULL["required_skills"]


async def test_update_cannot_overflow_to_itself_or_break_the_pairing(api):
    q = await api.create("queues", {"name": "sales"})
    r = await api.patch(f"queues/{q['id']}", {"max_wait_seconds": 60, "overflow": {"kind": "queue", "queue_id": q["id"]}})
    assert r.status_code == 422 and "itself" in r.json()["error"]["message"]
    ok = await api.patch(f"queues/{q['id']}", {"max_wait_seconds": 60, "overflow": {"kind": "callback"}})
    assert ok.status_code == 200
    r = await api.patch(f"queues/{q['id']}", {"overflow": None})
    assert r.status_code == 422


async def test_renaming_to_an_existing_name_is_409(api):
    await api.create("queues", {"name": "sales"})
    q = await api.create("queues", {"name": "support"})
    assert (await api.patch(f"queues/{q['id']}", {"name": "sales"})).status_code == 409


async def test_deleting_a_queue_with_agents_is_refused_with_the_reason(api):
    q = await api.create("queues", {"name": "sales"})
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    await api.create("agents", {"user_id": user["id"], "number": "1001", "queues": [{"queue_id": q["id"]}]})
    r = await api.delete(f"queues/{q['id']}")
    assert r.status_code == 409 and "member agents" in r.json()["error"]["message"]
    assert r.json()["error"]["details"] == {"used_by": ["1001"], "name": "sales"}
    assert r.json()["error"]["reason"] == "queue_has_members"


async def test_deleting_an_overflow_target_or_supervised_queue_is_refused(api):
    target = await api.create("queues", {"name": "backup"})
    await api.create("queues", {"name": "sales", "max_wait_seconds": 9, "overflow": {"kind": "queue", "queue_id": target["id"]}})
    r = await api.delete(f"queues/{target['id']}")
    assert r.status_code == 409 and "sales" in r.json()["error"]["message"]
    lone = await api.create("queues", {"name": "lone"})
    await api.user("sup", "supervisor", supervised_queue_ids=[lone["id"]])
    r = await api.delete(f"queues/{lone['id']}")
    assert r.status_code == 409 and r.json()["error"]["details"]["used_by"] == ["sup"]


async def test_unused_queue_is_deleted(api):
    q = await api.create("queues", {"name": "old"})
    assert (await api.delete(f"queues/{q['id']}")).status_code == 204
    assert (await api.get(f"queues/{q['id']}")).status_code == 404


async def test_list_queues_paging_search_order_and_total(api):
    for name, prio in (("alpha", 1), ("beta", 3), ("gamma", 2)):
        await api.create("queues", {"name": name, "priority": prio})
    page = (await api.get("queues", order="-priority", limit=2)).json()
    assert page["total"] == 3 and [q["name"] for q in page["items"]] == ["beta", "gamma"]
    assert page["limit"] == 2 and page["offset"] == 0
    assert [q["name"] for q in (await api.get("queues", search="AMM")).json()["items"]] == ["gamma"]
    r = await api.get("queues", order="password")
    assert r.status_code == 422 and "cannot sort by 'password'" in r.json()["error"]["message"]
    assert (await api.get("queues", limit=0)).status_code == 422
    assert (await api.get("queues", limit=501)).status_code == 422


async def test_search_treats_wildcards_literally(api):
    await api.create("queues", {"name": "a_b"})
    await api.create("queues", {"name": "axb"})
    assert [q["name"] for q in (await api.get("queues", search="a_b")).json()["items"]] == ["a_b"]


# --- scope -----------------------------------------------------------------------------------------------


async def test_supervisor_sees_only_their_queues(api):
    mine = await api.create("queues", {"name": "sales"})
    other = await api.create("queues", {"name": "support"})
    sup = await api.user("sup", "supervisor", supervised_queue_ids=[mine["id"]])
    listed = (await api.get("queues", headers=sup)).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "sales"
    assert (await api.get(f"queues/{mine['id']}", headers=sup)).status_code == 200
    r = await api.get(f"queues/{other['id']}", headers=sup)
    assert r.status_code == 403 and "outside your scope" in r.json()["error"]["message"]


async def test_agent_sees_only_the_queues_they_work_in(api):
    mine = await api.create("queues", {"name": "sales"})
    other = await api.create("queues", {"name": "support"})
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    await api.create("agents", {"user_id": user["id"], "number": "1001", "queues": [{"queue_id": mine["id"]}]})
    headers = await api.login("ana", "password-123")
    assert [q["name"] for q in (await api.get("queues", headers=headers)).json()["items"]] == ["sales"]
    assert (await api.get(f"queues/{other['id']}", headers=headers)).status_code == 403


@pytest.mark.parametrize("role", ["agent", "supervisor"])
async def test_only_admins_change_queues(api, role):
    q = await api.create("queues", {"name": "sales"})
    headers = await api.user("bob", role, **({"supervised_queue_ids": [q["id"]]} if role == "supervisor" else {}))
    assert (await api.post("queues", {"name": "x"}, headers)).status_code == 403
    assert (await api.patch(f"queues/{q['id']}", {"priority": 1}, headers)).status_code == 403
    assert (await api.delete(f"queues/{q['id']}", headers)).status_code == 403


async def test_dialed_numbers_lead_to_one_queue_only(api):
    sales = await api.create("queues", {"name": "sales", "dids": ["5551000", "+593451000", "5551000"]})
    assert sales["dids"] == ["+593451000", "5551000"]
    r = await api.post("queues", {"name": "support", "dids": ["5551000"]})
    assert r.status_code == 409 and "5551000" in r.json()["error"]["message"]
    support = await api.create("queues", {"name": "support", "dids": ["5552000"]})
    assert (await api.patch(f"queues/{support['id']}", {"dids": ["5551000"]})).status_code == 409
    r = await api.patch(f"queues/{sales['id']}", {"dids": ["5551000"]})
    assert r.status_code == 200 and r.json()["dids"] == ["5551000"]
    assert (await api.post("queues", {"name": "x", "dids": ["call-me"]})).status_code == 422


async def test_closed_treatment_is_hangup_with_message_or_voicemail(api):
    q = await api.create("queues", {"name": "sales", "closed_treatment": {"kind": "hangup", "message": "closed"}})
    assert q["closed_treatment"] == {"kind": "hangup", "message": "closed"}
    r = await api.patch(f"queues/{q['id']}", {"closed_treatment": {"kind": "voicemail", "mailbox": "100"}})
    assert r.json()["closed_treatment"] == {"kind": "voicemail", "mailbox": "100"}
    r = await api.patch(f"queues/{q['id']}", {"closed_treatment": {"kind": "queue", "queue_id": 1}})
    assert r.status_code == 422
