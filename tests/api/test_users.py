"""Users: create, read, update, delete, with roles in any combination, guarded by permissions."""

import pytest


async def me(api, headers):
    return (await api.get("auth/me", headers=headers)).json()


async def test_admin_creates_a_user_with_several_roles(api):
    r = await api.post("users", {"username": "ana", "password": "password-123", "roles": ["supervisor", "agent"]})
    assert r.status_code == 201
    body = r.json()
    assert body["roles"] == ["agent", "supervisor"] and body["enabled"] is True and body["language"] == "en"
    assert "password" not in body and "password_hash" not in body
    headers = await api.login("ana", "password-123")
    perms = set((await me(api, headers))["permissions"])
    assert {"agents.read.own", "queues.read", "agents.control"} <= perms


async def test_duplicate_username_is_409_whatever_the_case(api):
    await api.user("ana", "agent")
    r = await api.post("users", {"username": "ANA", "password": "password-123", "roles": ["agent"]})
    assert r.status_code == 409 and r.json()["error"]["details"]["field"] == "username"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"username": "ana", "password": "short", "roles": ["agent"]}, "password"),
        ({"username": "ana", "password": "password-123", "roles": ["boss"]}, "roles[0]"),
        ({"username": "ana", "password": "password-123", "roles": []}, "roles"),
        ({"username": "a b", "password": "password-123", "roles": ["agent"]}, "username"),
        ({"username": "x" * 65, "password": "password-123", "roles": ["agent"]}, "username"),
        ({"username": "ana", "password": "password-123", "roles": ["agent"], "is_root": True}, "is_root"),
        ({"username": "ana", "password": "password-123", "roles": ["agent"], "language": "klingon"}, "language"),
        ({"username": "ana", "password": "password-123", "roles": ["agent"], "supervised_queue_ids": [999]},
         "supervised_queue_ids"),
    ],
)
async def test_invalid_user_is_rejected_naming_the_field(api, body, field):
    r = await api.post("users", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith(field)


async def test_list_users_pages_searches_and_orders(api):
    for name in ("carla", "bruno", "dora"):
        await api.create("users", {"username": name, "password": "password-123", "roles": ["agent"]})
    page = (await api.get("users", limit=2, offset=0, order="username")).json()
    assert page["total"] == 4 and [u["username"] for u in page["items"]] == ["admin", "bruno"]
    page = (await api.get("users", limit=2, offset=2, order="-username")).json()
    assert [u["username"] for u in page["items"]] == ["bruno", "admin"]
    page = (await api.get("users", search="OR")).json()
    assert [u["username"] for u in page["items"]] == ["dora"]


async def test_admin_updates_roles_language_and_supervision(api):
    queue = await api.create("queues", {"name": "sales"})
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    r = await api.patch(
        f"users/{user['id']}", {"roles": ["supervisor"], "language": "es", "supervised_queue_ids": [queue["id"]]}
    )
    assert r.status_code == 200
    assert r.json()["roles"] == ["supervisor"] and r.json()["language"] == "es"
    assert r.json()["supervised_queue_ids"] == [queue["id"]]


async def test_null_for_a_required_field_is_422(api):
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    r = await api.patch(f"users/{user['id']}", {"roles": None})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("roles")


async def test_last_admin_cannot_be_demoted_disabled_or_deleted(api):
    admin_id = (await me(api, api.admin))["id"]
    r = await api.patch(f"users/{admin_id}", {"roles": ["agent"]})
    assert r.status_code == 409 and "last enabled administrator" in r.json()["error"]["message"]
    assert (await api.patch(f"users/{admin_id}", {"enabled": False})).status_code == 409
    other = await api.create("users", {"username": "root2", "password": "password-123", "roles": ["admin"]})
    assert (await api.patch(f"users/{admin_id}", {"roles": ["agent", "admin"]})).status_code == 200
    headers = await api.login("root2", "password-123")
    assert (await api.delete(f"users/{other['id']}", headers)).status_code == 409  # yourself
    assert (await api.delete(f"users/{admin_id}", headers)).status_code == 204


async def test_refusals_carry_a_reason_key_and_malformed_bodies_none(api):
    """The web interface says `reason` in the user's language; a body that fails validation has its types."""
    admin_id = (await me(api, api.admin))["id"]
    r = await api.patch(f"users/{admin_id}", {"enabled": False})
    error = r.json()["error"]
    assert r.status_code == 409 and error["code"] == "conflict" and error["reason"] == "last_admin"
    assert error["message"] == "this is the last enabled administrator; make another one first"
    r = await api.patch(f"users/{admin_id}", {"roles": None})
    assert r.status_code == 422 and r.json()["error"]["reason"] == "not_nullable"
    assert r.json()["error"]["details"] == {"field": "roles"}
    r = await api.post("users", {"username": "ana", "password": "short", "roles": ["agent"]})
    assert r.status_code == 422 and "reason" not in r.json()["error"]


async def test_user_with_an_agent_profile_cannot_be_deleted(api):
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    agent = await api.create("agents", {"user_id": user["id"], "number": "1001"})
    r = await api.delete(f"users/{user['id']}")
    assert r.status_code == 409 and r.json()["error"]["details"]["agent_id"] == agent["id"]


async def test_deleted_user_is_gone(api):
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    assert (await api.delete(f"users/{user['id']}")).status_code == 204
    assert (await api.get(f"users/{user['id']}")).status_code == 404


async def test_unknown_user_is_404_in_the_error_shape(api):
    r = await api.get("users/4242")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "user 4242 does not exist", "details": {"id": 4242}}}


@pytest.mark.parametrize("role", ["agent", "supervisor"])
async def test_non_admins_cannot_manage_users(api, role):
    headers = await api.user("bob", role)
    assert (await api.get("users", headers=headers)).status_code == 403
    assert (await api.get("users/1", headers=headers)).status_code == 403
    r = await api.post("users", {"username": "eve", "password": "password-123", "roles": ["admin"]}, headers)
    assert r.status_code == 403 and r.json()["error"]["details"]["permission"] == "users.write"
    assert (await api.patch("users/1", {"enabled": False}, headers)).status_code == 403
    assert (await api.delete("users/1", headers)).status_code == 403
