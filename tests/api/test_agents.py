"""Agent profiles: device, skills, capacity, queue memberships; who may see and change them."""

import pytest


async def agent_user(api, username="ana", roles=("agent",)):
    return await api.create("users", {"username": username, "password": "password-123", "roles": list(roles)})


async def test_create_agent_profile(api):
    q = await api.create("queues", {"name": "sales"})
    user = await agent_user(api)
    a = await api.create(
        "agents",
        {
            "user_id": user["id"],
            "number": "1001",
            "device": "PJSIP/1001",
            "skills": {"spanish": 8, "billing": 3},
            "capacity": {"voice": 1, "chat": 3},
            "queues": [{"queue_id": q["id"], "penalty": 2}],
        },
    )
    assert a["display_name"] == "ana" and a["device"] == "PJSIP/1001"
    assert a["skills"] == {"spanish": 8, "billing": 3} and a["capacity"] == {"voice": 1, "chat": 3}
    assert a["queues"] == [{"queue_id": q["id"], "penalty": 2}]


async def test_browser_phone_is_a_device(api):
    user = await agent_user(api)
    a = await api.create("agents", {"user_id": user["id"], "number": "1001", "device": "browser"})
    assert a["device"] == "browser"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"number": "ab"}, "number"),
        ({"device": "PJSIP/10 01"}, "device"),
        ({"device": "Dahdi/1"}, "device"),
        ({"skills": {"spanish": 0}}, "skills.spanish"),
        ({"capacity": {"voice": 2}}, "capacity.voice"),
        ({"capacity": {"chat": 21}}, "capacity.chat"),
        ({"capacity": {"fax": 1}}, "capacity.fax"),
        ({"queues": [{"queue_id": 999}]}, "queues"),
        ({"queues": [{"queue_id": 1, "penalty": -1}]}, "queues[0].penalty"),
    ],
)
async def test_invalid_agent_is_422_naming_the_field(api, extra, field):
    user = await agent_user(api)
    r = await api.post("agents", {"user_id": user["id"], "number": "1001", **extra})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith(field), r.json()


async def test_same_queue_twice_is_422(api):
    q = await api.create("queues", {"name": "sales"})
    user = await agent_user(api)
    r = await api.post("agents", {"user_id": user["id"], "number": "1001", "queues": [{"queue_id": q["id"]}] * 2})
    assert r.status_code == 422 and "once" in r.json()["error"]["message"]


async def test_agent_profile_needs_a_user_with_the_agent_role(api):
    sup = await agent_user(api, "sup", ("supervisor",))
    r = await api.post("agents", {"user_id": sup["id"], "number": "1001"})
    assert r.status_code == 422 and "agent role" in r.json()["error"]["message"]
    r = await api.post("agents", {"user_id": 999, "number": "1001"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("user_id")


async def test_one_profile_per_user_and_unique_numbers(api):
    ana, bea = await agent_user(api, "ana"), await agent_user(api, "bea")
    await api.create("agents", {"user_id": ana["id"], "number": "1001"})
    assert (await api.post("agents", {"user_id": ana["id"], "number": "1002"})).status_code == 409
    r = await api.post("agents", {"user_id": bea["id"], "number": "1001"})
    assert r.status_code == 409 and "1001" in r.json()["error"]["message"]


async def test_update_memberships_and_skills(api):
    q1, q2 = await api.create("queues", {"name": "a"}), await api.create("queues", {"name": "b"})
    user = await agent_user(api)
    a = await api.create("agents", {"user_id": user["id"], "number": "1001", "queues": [{"queue_id": q1["id"]}]})
    r = await api.patch(
        f"agents/{a['id']}", {"queues": [{"queue_id": q1["id"], "penalty": 5}, {"queue_id": q2["id"]}], "skills": {"x": 1}}
    )
    assert r.status_code == 200
    assert r.json()["queues"] == [{"queue_id": q1["id"], "penalty": 5}, {"queue_id": q2["id"], "penalty": 0}]
    assert r.json()["skills"] == {"x": 1} and r.json()["number"] == "1001"
    assert (await api.get("agents", queue_id=q2["id"])).json()["total"] == 1


async def test_delete_agent_then_user(api):
    user = await agent_user(api)
    a = await api.create("agents", {"user_id": user["id"], "number": "1001"})
    assert (await api.delete(f"agents/{a['id']}")).status_code == 204
    assert (await api.delete(f"users/{user['id']}")).status_code == 204


async def test_supervisor_sees_agents_of_their_queues_only(api):
    mine, other = await api.create("queues", {"name": "sales"}), await api.create("queues", {"name": "support"})
    ana, bea = await agent_user(api, "ana"), await agent_user(api, "bea")
    a1 = await api.create("agents", {"user_id": ana["id"], "number": "1001", "queues": [{"queue_id": mine["id"]}]})
    a2 = await api.create("agents", {"user_id": bea["id"], "number": "1002", "queues": [{"queue_id": other["id"]}]})
    sup = await api.user("sup", "supervisor", supervised_queue_ids=[mine["id"]])
    listed = (await api.get("agents", headers=sup)).json()
    assert [a["number"] for a in listed["items"]] == ["1001"] and listed["total"] == 1
    assert (await api.get(f"agents/{a1['id']}", headers=sup)).status_code == 200
    assert (await api.get(f"agents/{a2['id']}", headers=sup)).status_code == 403
    assert (await api.patch(f"agents/{a1['id']}", {"skills": {}}, sup)).status_code == 403


async def test_agent_sees_only_their_own_profile(api):
    ana, bea = await agent_user(api, "ana"), await agent_user(api, "bea")
    a1 = await api.create("agents", {"user_id": ana["id"], "number": "1001"})
    a2 = await api.create("agents", {"user_id": bea["id"], "number": "1002"})
    headers = await api.login("ana", "password-123")
    assert [a["id"] for a in (await api.get("agents", headers=headers)).json()["items"]] == [a1["id"]]
    assert (await api.get(f"agents/{a2['id']}", headers=headers)).status_code == 403
    me = (await api.get("auth/me", headers=headers)).json()
    assert me["agent_id"] == a1["id"]


async def test_user_without_agent_profile_sees_no_agents(api):
    headers = await api.user("ana", "agent")
    assert (await api.get("agents", headers=headers)).json()["total"] == 0
