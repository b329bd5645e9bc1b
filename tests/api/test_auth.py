"""Logging in, tokens and their revocation, brute-force throttling, the web session cookie, API keys."""

import pytest


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def token_for(api, username, password):
    return await api.client.post("/api/v1/auth/token", json={"username": username, "password": password})


async def test_login_returns_a_bearer_token_that_works(api):
    r = await token_for(api, "admin", "admin-password")
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) > 30
    me = await api.get("auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["roles"] == ["admin"]


async def test_wrong_password_is_401_in_the_error_shape(api):
    r = await token_for(api, "admin", "nope")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    assert r.json()["error"]["message"] == "wrong username or password"


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api):
    r = await token_for(api, "ghost", "whatever")
    assert r.status_code == 401 and r.json()["error"]["message"] == "wrong username or password"


async def test_username_is_case_insensitive_at_login(api):
    assert (await token_for(api, "ADMIN", "admin-password")).status_code == 200


async def test_no_token_is_401_with_www_authenticate(api):
    r = await api.client.get("/api/v1/queues")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthenticated"


async def test_garbage_token_is_401(api):
    assert (await api.get("queues", headers=bearer("garbage"))).status_code == 401


async def test_logout_revokes_the_token(api):
    headers = await api.user("alice", "agent")
    assert (await api.post("auth/logout", None, headers=headers)).status_code == 204
    assert (await api.get("auth/me", headers=headers)).status_code == 401


async def test_token_expires(api, clock, settings):
    headers = await api.user("alice", "agent")
    clock.advance(settings.token_ttl_seconds + 1)
    assert (await api.get("auth/me", headers=headers)).status_code == 401


async def test_changing_own_password_ends_every_session(api):
    first = await api.user("alice", "agent")
    second = await api.login("alice", "password-123")
    r = await api.post("auth/password", {"current_password": "password-123", "new_password": "new-password-1"}, first)
    assert r.status_code == 204
    assert (await api.get("auth/me", headers=first)).status_code == 401
    assert (await api.get("auth/me", headers=second)).status_code == 401
    assert (await token_for(api, "alice", "password-123")).status_code == 401
    assert (await token_for(api, "alice", "new-password-1")).status_code == 200


async def test_changing_password_needs_the_current_one(api):
    headers = await api.user("alice", "agent")
    r = await api.post("auth/password", {"current_password": "wrong", "new_password": "new-password-1"}, headers)
    assert r.status_code == 422 and "current_password" in r.json()["error"]["message"]


async def test_admin_password_reset_ends_the_users_sessions(api):
    headers = await api.user("alice", "agent")
    me = (await api.get("auth/me", headers=headers)).json()
    assert (await api.patch(f"users/{me['id']}", {"password": "reset-password"})).status_code == 200
    assert (await api.get("auth/me", headers=headers)).status_code == 401


async def test_disabling_a_user_revokes_their_tokens_and_login(api):
    headers = await api.user("alice", "agent")
    me = (await api.get("auth/me", headers=headers)).json()
    assert (await api.patch(f"users/{me['id']}", {"enabled": False})).status_code == 200
    assert (await api.get("auth/me", headers=headers)).status_code == 401
    r = await token_for(api, "alice", "password-123")
    assert r.status_code == 401 and "disabled" in r.json()["error"]["message"]


# --- brute force -----------------------------------------------------------------------------------------


async def test_repeated_failures_are_slowed_then_refused_with_retry_after(api, clock):
    await api.user("alice", "agent")
    statuses = []
    for _ in range(3):
        statuses.append((await token_for(api, "alice", "bad")).status_code)
    assert statuses == [401, 401, 401]
    # the third failure imposes a delay: even the right password must wait
    r = await token_for(api, "alice", "password-123")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == 1
    assert r.json()["error"]["details"]["retry_after"] == 1
    clock.advance(1)
    assert (await token_for(api, "alice", "password-123")).status_code == 200


async def test_lockout_after_many_failures_lasts_the_lockout_period(api, clock, settings):
    await api.user("alice", "agent")
    for _ in range(settings.login_lockout_failures):
        r = await token_for(api, "alice", "bad")
        if r.status_code == 429:
            clock.advance(int(r.headers["retry-after"]))
            r = await token_for(api, "alice", "bad")
        assert r.status_code == 401
    r = await token_for(api, "alice", "password-123")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == settings.login_lockout_seconds
    clock.advance(settings.login_lockout_seconds)
    assert (await token_for(api, "alice", "password-123")).status_code == 200


async def test_success_clears_the_users_failures(api, clock):
    await api.user("alice", "agent")
    for _ in range(2):
        await token_for(api, "alice", "bad")
    assert (await token_for(api, "alice", "password-123")).status_code == 200
    for _ in range(2):
        assert (await token_for(api, "alice", "bad")).status_code == 401
    assert (await token_for(api, "alice", "password-123")).status_code == 200


async def test_one_address_guessing_many_usernames_is_throttled(api, clock):
    statuses = []
    for i in range(16):
        r = await token_for(api, f"user{i}", "bad")
        statuses.append(r.status_code)
    assert statuses[:15] == [401] * 15
    assert statuses[15] == 429


# --- web session cookie ----------------------------------------------------------------------------------


async def test_session_cookie_login_and_csrf_header(api):
    await api.user("alice", "agent")
    r = await api.client.post("/api/v1/auth/session", json={"username": "alice", "password": "password-123"})
    assert r.status_code == 200 and r.json()["username"] == "alice"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert (await api.client.get("/api/v1/auth/me")).status_code == 200
    # a write without the anti-forgery header is refused
    r = await api.client.post("/api/v1/auth/logout")
    assert r.status_code == 403 and "x-requested-with" in r.json()["error"]["message"]
    r = await api.client.post("/api/v1/auth/logout", headers={"X-Requested-With": "teleplex"})
    assert r.status_code == 204
    api.client.cookies.clear()


async def test_session_cookie_is_secure_by_default(api, settings):
    from teleplex.core.settings import Settings

    assert Settings().cookie_secure is True


# --- API keys --------------------------------------------------------------------------------------------


async def test_api_key_is_shown_once_and_authenticates(api):
    created = await api.create("api-keys", {"name": "crm", "roles": ["admin"]})
    assert created["key"].startswith("tpx_")
    listed = (await api.get("api-keys")).json()["items"]
    assert listed[0]["name"] == "crm" and "key" not in listed[0]
    r = await api.get("queues", headers=bearer(created["key"]))
    assert r.status_code == 200


async def test_api_key_is_limited_to_its_roles(api):
    created = await api.create("api-keys", {"name": "wallboard", "roles": ["supervisor"]})
    r = await api.post("queues", {"name": "sales"}, bearer(created["key"]))
    assert r.status_code == 403


async def test_revoked_api_key_stops_working(api):
    created = await api.create("api-keys", {"name": "crm", "roles": ["admin"]})
    r = await api.delete(f"api-keys/{created['id']}")
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert (await api.get("queues", headers=bearer(created["key"]))).status_code == 401


async def test_supervisor_api_key_is_scoped_to_its_queues(api):
    q1 = await api.create("queues", {"name": "sales"})
    await api.create("queues", {"name": "support"})
    key = (await api.create("api-keys", {"name": "wb", "roles": ["supervisor"], "queue_ids": [q1["id"]]}))["key"]
    names = [q["name"] for q in (await api.get("queues", headers=bearer(key))).json()["items"]]
    assert names == ["sales"]


async def test_duplicate_api_key_name_is_409(api):
    await api.create("api-keys", {"name": "crm", "roles": ["admin"]})
    assert (await api.post("api-keys", {"name": "crm", "roles": ["agent"]})).status_code == 409


@pytest.mark.parametrize("role", ["agent", "supervisor"])
async def test_only_admins_manage_api_keys(api, role):
    key = await api.create("api-keys", {"name": "crm", "roles": ["admin"]})
    headers = await api.user("bob", role)
    assert (await api.post("api-keys", {"name": "x", "roles": ["admin"]}, headers)).status_code == 403
    assert (await api.get("api-keys", headers=headers)).status_code == 403
    assert (await api.delete(f"api-keys/{key['id']}", headers)).status_code == 403
