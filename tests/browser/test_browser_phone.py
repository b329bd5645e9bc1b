"""The browser phone: credentials issued per login, phone.js registering from chromium to the sandbox Asterisk
over WebSocket, and a customer's call routed to it, answered, keyed and hung up from the browser."""

from __future__ import annotations

from typing import Any

import pytest

from teleplex.core.db import Database
from teleplex.voice.ari import AriError
from teleplex.voice.sandbox import SandboxState
from teleplex.voice.webrtc import sorcery_objects, ws_url_for
from phone_harness import (  # noqa: F401 - fixtures
    base_url,
    center,
    AriWatcher,
    PhonePage,
    asterisk_sandbox,
    chromium,
    sandbox_state,
    sandbox_var_dir,
    served,
    start_sandbox,
)
from voice_harness import VoiceCenter, eventually, place_call, running_center


async def agent_with_token(center: VoiceCenter, did: str) -> tuple[dict[str, Any], str]:
    """A queue on `did` and an agent in it (not logged in), with the agent's own bearer token."""
    queue = await center.queue(did)
    agent = await center.agent(None, [queue["id"]], login=False)
    username = (await center.get(f"users/{agent['user_id']}")).json()["username"]
    r = await center.client.post("/api/v1/auth/token", json={"username": username, "password": "password-123"})
    assert r.status_code == 200, r.text
    return agent, r.json()["access_token"]


def test_objects_pushed_to_asterisk_make_a_webrtc_endpoint() -> None:
    objects = dict(sorcery_objects("tpx-web-7", "s3cret"))
    assert list(objects) == ["auth", "aor", "endpoint"]
    assert objects["auth"] == {"auth_type": "userpass", "username": "tpx-web-7", "password": "s3cret"}
    assert objects["aor"]["max_contacts"] == "1" and objects["aor"]["remove_existing"] == "yes"
    endpoint = objects["endpoint"]
    assert endpoint["webrtc"] == "yes" and endpoint["dtls_auto_generate_cert"] == "yes"
    assert endpoint["transport"] == "transport-ws" and endpoint["auth"] == endpoint["aors"] == "tpx-web-7"
    assert ws_url_for("http://127.0.0.1:8088") == "ws://127.0.0.1:8088/ws"
    assert ws_url_for("https://pbx.example.internal:8089/") == "wss://pbx.example.internal:8089/ws"


async def test_credentials_are_refused_with_a_reason_when_voice_is_off(api) -> None:
    headers = await api.user("ana", "agent")
    me = (await api.get("auth/me", headers)).json()
    agent = await api.create("agents", {"user_id": me["id"], "number": "2001"})
    r = await api.post(f"agents/{agent['id']}/webrtc", None, headers)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "voice_off" and "TELEPLEX_ARI_URL" in r.json()["error"]["message"]
    assert (await api.post("agents/999/webrtc", None)).status_code == 404


@pytest.mark.asterisk
async def test_only_the_agent_or_an_admin_gets_the_credentials(center: VoiceCenter) -> None:
    agent, token = await agent_with_token(center, "5552100")
    other, other_token = await agent_with_token(center, "5552101")
    r = await center.post(f"agents/{agent['id']}/webrtc", headers={"Authorization": f"Bearer {other_token}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    mine = await center.post(f"agents/{agent['id']}/webrtc", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    body = mine.json()
    assert body["username"] == f"tpx-web-{agent['id']}" and body["device"] == f"PJSIP/tpx-web-{agent['id']}"
    assert body["ws_url"].endswith("/ws") and body["sip_uri"] == f"sip:tpx-web-{agent['id']}@127.0.0.1"
    by_admin = await center.post(f"agents/{agent['id']}/webrtc")
    assert by_admin.status_code == 200 and by_admin.json()["password"] != body["password"]


@pytest.mark.asterisk
async def test_a_supervisor_gets_a_monitoring_phone_of_their_own(center: VoiceCenter) -> None:
    queue = await center.queue("5552102")
    token = {}
    for username, roles in (("vera", ["supervisor"]), ("ana", ["agent"])):
        user = await center.create("users", {"username": username, "password": "password-123", "roles": roles,
                                             "supervised_queue_ids": [queue["id"]] if "supervisor" in roles else []})
        r = await center.client.post("/api/v1/auth/token", json={"username": username, "password": "password-123"})
        token[username] = ({"Authorization": f"Bearer {r.json()['access_token']}"}, user)
    headers, vera = token["vera"]
    mine = await center.post("users/me/webrtc", headers=headers)
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    assert mine.json()["device"] == f"PJSIP/tpx-web-u{vera['id']}"  # no agent profile needed
    again = await center.post("users/me/webrtc", headers=headers)
    assert again.json()["username"] == mine.json()["username"] and again.json()["password"] != mine.json()["password"]
    r = await center.post("users/me/webrtc", headers=token["ana"][0])  # an agent does not monitor
    assert r.status_code == 403 and r.json()["error"]["details"]["permission"] == "agents.control"


@pytest.mark.asterisk
@pytest.mark.browser
async def test_a_call_rings_in_the_browser_is_answered_keyed_and_hung_up_there(
    center: VoiceCenter, base_url: str, chromium: Any, sandbox_state: SandboxState, tmp_path
) -> None:
    agent, token = await agent_with_token(center, "5552001")
    page = await PhonePage.open(chromium, base_url)
    try:
        status, creds = await page.credentials(agent["id"], token)
        assert status == 200, creds
        assert await page.register(creds) == "registered"
        assert ["state", "registered", ""] in await page.seen()

        auth = {"Authorization": f"Bearer {token}"}
        r = await center.post(f"agents/{agent['id']}/login", {"device": creds["device"]}, headers=auth)
        assert r.status_code == 200 and r.json()["state"] == "ready" and r.json()["device"] == creds["device"], r.text

        async with AriWatcher(sandbox_state) as asterisk:
            caller = await place_call(sandbox_state, tmp_path, "5552001", caller="5550177", audio=True)
            assert await page.wait_seen("incoming") == ["incoming", "5550177"]
            await page.call("answer")
            connected = await center.latest_in_state("connected")
            assert connected["agent_id"] == agent["id"] and connected["answered_at"] is not None
            assert (await center.presence(agent["id"]))["state"] == "on_call"

            async def hearing() -> dict[str, Any] | None:
                media = await page.audio_received()
                return media if media["ice"] in ("connected", "completed") and media["packets"] > 0 else None

            await eventually(hearing, 15, "the customer's audio to reach the browser over DTLS-SRTP")

            await page.call("dtmf", "5")

            async def keyed() -> str:
                return asterisk.dtmf_on(creds["device"] + "-")

            assert await eventually(keyed, 10, "Asterisk to receive the browser's key press") == "5"

            await page.call("hangup")
            code, out = await caller.finished()
        assert code == 0, out[-1500:]  # the customer was hung up on (BYE), as expected by the scenario
        ended = await center.ended_interaction()
        assert ended["id"] == connected["id"] and ended["outcome"] == "answered" and ended["agent_id"] == agent["id"]
        assert ended["timeline"][-1]["data"]["hung_up_by"] == "agent"
        assert (await page.wait_seen("ended"))[0] == "ended"
    finally:
        await page.close()


@pytest.mark.asterisk
@pytest.mark.browser
async def test_asterisk_refuses_a_wrong_password(center: VoiceCenter, base_url: str, chromium: Any) -> None:
    agent, token = await agent_with_token(center, "5552002")
    page = await PhonePage.open(chromium, base_url)
    try:
        status, creds = await page.credentials(agent["id"], token)
        assert status == 200, creds
        result = await page.register({**creds, "password": creds["password"] + "x"})
        assert result.startswith("refused: registration refused: 401"), result
        assert (await page.seen())[-1][:2] == ["state", "failed"]
    finally:
        await page.close()


@pytest.mark.asterisk
@pytest.mark.browser
async def test_new_credentials_replace_the_previous_ones(center: VoiceCenter, base_url: str, chromium: Any) -> None:
    agent, token = await agent_with_token(center, "5552003")
    first_tab, second_tab = await PhonePage.open(chromium, base_url), await PhonePage.open(chromium, base_url)
    try:
        _, first = await first_tab.credentials(agent["id"], token)
        _, second = await second_tab.credentials(agent["id"], token)
        assert first["username"] == second["username"] and first["password"] != second["password"]
        assert (await first_tab.register(first)).startswith("refused: registration refused: 401")
        assert await second_tab.register(second) == "registered"
    finally:
        await first_tab.close()
        await second_tab.close()


@pytest.mark.asterisk
@pytest.mark.browser
async def test_after_asterisk_restarts_the_phone_is_pushed_again_and_registers_again(
    start_sandbox, clean_database: Database, chromium: Any
) -> None:
    sandbox = start_sandbox("phone-restart")  # its own instance: restarting it disturbs no other test
    state = sandbox.read_state()
    assert state is not None
    async with running_center(state, clean_database) as center, served(center) as base_url:
        agent, token = await agent_with_token(center, "5552004")
        voice = center.app.state.engine.handlers["voice"]
        page = await PhonePage.open(chromium, base_url)
        try:
            status, issued = await page.credentials(agent["id"], token)
            assert status == 200, issued
            assert await page.register(issued) == "registered"

            async def password_in_asterisk() -> str | None:
                path = f"/asterisk/config/dynamic/res_pjsip/auth/{issued['username']}"
                try:
                    fields = await voice.ari.request("GET", path)
                except AriError:
                    return None
                return next(f["value"] for f in fields if f["attribute"] == "password")

            assert await password_in_asterisk() == issued["password"]
            sandbox.rx("core restart now")  # same process and ports; objects kept in memory are lost

            async def relinked() -> bool:
                return voice.reader.connections >= 2 and voice.link_up

            await eventually(relinked, 30, "the ARI link to come back after the restart")
            assert await eventually(password_in_asterisk, 10, "the phone to be pushed again") == issued["password"]

            async def registered_again() -> bool:
                states = [s[1] for s in await page.seen() if s[0] == "state"]
                return states.count("registered") >= 2 and states[-1] == "registered"

            await eventually(registered_again, 40, "the browser to register again by itself")
            assert ["state", "registering", "connection lost; reconnecting"] in await page.seen()
        finally:
            await page.close()


@pytest.mark.asterisk
@pytest.mark.browser
async def test_a_missing_library_bundle_fails_with_what_to_do(base_url: str, chromium: Any) -> None:
    page = await PhonePage.open(chromium, base_url)
    try:
        await page.page.route("**/static/vendor/jssip.min.js", lambda route: route.fulfill(status=404, body="gone"))
        creds = {"ws_url": "ws://127.0.0.1:9/ws", "sip_uri": "sip:x@127.0.0.1", "username": "x", "password": "y"}
        result = await page.register(creds)
        assert "library is missing" in result and "make setup" in result, result
        assert (await page.seen())[-1][:2] == ["state", "failed"]
    finally:
        await page.close()
