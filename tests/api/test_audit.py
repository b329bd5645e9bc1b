"""The audit log records every administrative change: who, when, what, before and after."""

from datetime import timedelta


async def entries(api, **params):
    r = await api.get("audit-log", **params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_create_update_delete_are_recorded_with_before_and_after(api, clock):
    q = await api.create("queues", {"name": "sales"})
    clock.advance(60)
    await api.patch(f"queues/{q['id']}", {"priority": 7}, headers=api.admin)
    clock.advance(60)
    await api.delete(f"queues/{q['id']}")
    log = await entries(api, entity_type="queue")
    assert [e["action"] for e in log] == ["delete", "update", "create"]
    delete, update, create = log
    assert create["before"] is None and create["after"]["name"] == "sales"
    assert update["before"]["priority"] == 0 and update["after"]["priority"] == 7
    assert delete["before"]["priority"] == 7 and delete["after"] is None
    assert all(e["actor_name"] == "admin" and e["actor_kind"] == "user" for e in log)
    assert create["at"] < update["at"] < delete["at"]
    assert update["at"] == (clock.now() - timedelta(seconds=60)).isoformat().replace("+00:00", "Z")


async def test_entry_carries_the_request_id(api):
    r = await api.client.post(
        "/api/v1/pause-reasons", json={"name": "Lunch"}, headers={**api.admin, "X-Request-ID": "req-42"}
    )
    assert r.status_code == 201 and r.headers["x-request-id"] == "req-42"
    assert (await entries(api, entity_type="pause_reason"))[0]["request_id"] == "req-42"


async def test_passwords_never_reach_the_log(api):
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    await api.patch(f"users/{user['id']}", {"password": "another-pass-1"})
    log = await entries(api, entity_type="user", entity_id=user["id"])
    text = str(log)
    assert "password-123" not in text and "another-pass-1" not in text
    assert log[0]["after"]["password_changed"] is True


async def test_api_key_changes_are_recorded_without_the_key(api):
    key = await api.create("api-keys", {"name": "crm", "roles": ["admin"]})
    await api.delete(f"api-keys/{key['id']}")
    log = await entries(api, entity_type="api_key")
    assert [e["action"] for e in log] == ["revoke", "create"]
    assert key["key"] not in str(log)


async def test_changes_by_api_key_name_the_key(api):
    key = (await api.create("api-keys", {"name": "crm", "roles": ["admin"]}))["key"]
    await api.post("queues", {"name": "sales"}, {"Authorization": f"Bearer {key}"})
    log = await entries(api, entity_type="queue")
    assert log[0]["actor_kind"] == "api_key" and log[0]["actor_name"] == "api-key:crm"


async def test_failed_change_leaves_no_entry(api):
    await api.create("queues", {"name": "sales"})
    assert (await api.post("queues", {"name": "sales"})).status_code == 409
    assert len(await entries(api, entity_type="queue")) == 1


async def test_unchanged_update_is_not_recorded(api):
    q = await api.create("queues", {"name": "sales"})
    await api.patch(f"queues/{q['id']}", {"priority": 0})
    assert len(await entries(api, entity_type="queue")) == 1


async def test_filters_by_actor_and_time(api, clock):
    await api.create("pause-reasons", {"name": "Lunch"})
    start = clock.now()
    clock.advance(10)
    await api.create("pause-reasons", {"name": "Break"})
    later = await entries(api, since=(start + timedelta(seconds=1)).isoformat())
    assert [e["after"]["name"] for e in later] == ["Break"]
    assert await entries(api, actor="nobody") == []
    r = await api.get("audit-log", since="2026-01-05T09:00:00")
    assert r.status_code == 422 and "UTC offset" in r.json()["error"]["message"]


async def test_only_admins_read_the_audit_log(api):
    for role in ("agent", "supervisor"):
        headers = await api.user(f"u-{role}", role)
        assert (await api.get("audit-log", headers=headers)).status_code == 403
