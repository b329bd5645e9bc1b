"""What a call needs before its agent may end the wrap-up: the queue's or campaign's `wrapup_requires`,
enforced by the server (409 wrapup_incomplete naming each call and what it lacks), and flagged on the call
when the queue's wrap-up timer ends it anyway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_client import Api
from wrapup_calls import call_in_wrapup

from teleplex.app import create_app
from teleplex.campaigns.models import Attempt


@pytest.fixture
async def center(settings, clock, clean_database) -> AsyncIterator[tuple[Api, Any]]:
    """The API with the routing engine running, and the app (to put calls in wrap-up)."""
    app = create_app(settings, clock=clock, db=clean_database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://teleplex.test") as client:
            api = Api(client)
            await api.bootstrap_admin(clean_database, clock)
            yield api, app


async def agent_in_wrapup(api: Api, app: Any, queue: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], int]:
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    agent = await api.create("agents", {"user_id": user["id"], "number": "1001", "device": "PJSIP/1001",
                                        "queues": [{"queue_id": queue["id"]}]})  # fmt: skip
    me = await api.login("ana", "password-123")
    assert (await api.post(f"agents/{agent['id']}/login", {}, me)).status_code == 200
    call_id = await call_in_wrapup(app.state.engine, queue["id"], agent["id"])
    assert (await api.get(f"agents/{agent['id']}/presence", me)).json()["wrapups"] == [call_id]
    return agent, me, call_id


async def test_queues_and_campaigns_require_a_disposition_unless_told_otherwise(center):
    api, _ = center
    queue = await api.create("queues", {"name": "sales"})
    assert queue["wrapup_requires"] == ["disposition"]
    r = await api.patch(f"queues/{queue['id']}", {"wrapup_requires": ["notes", "disposition", "notes"]})
    assert r.status_code == 200 and r.json()["wrapup_requires"] == ["disposition", "notes"]
    r = await api.patch(f"queues/{queue['id']}", {"wrapup_requires": ["form"]})  # queues have no form
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "wrapup_requires[0]"
    campaign = await api.create("campaigns", {"name": "Renewals", "queue_id": queue["id"],
                                              "wrapup_requires": ["form", "notes"]})  # fmt: skip
    assert campaign["wrapup_requires"] == ["form", "notes"]


async def test_ending_the_wrapup_without_the_disposition_is_refused_then_allowed(center):
    api, app = center
    sale = await api.create("dispositions", {"code": "sale", "label": "Sale", "category": "success"})
    queue = await api.create("queues", {"name": "sales", "wrapup_seconds": 600, "wrapup_requires": ["disposition", "notes"]})
    agent, me, call_id = await agent_in_wrapup(api, app, queue)

    r = await api.post(f"agents/{agent['id']}/wrapup/end", None, me)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "wrapup_incomplete"
    assert error["message"] == f"interaction {call_id} needs a disposition and notes before the wrap-up ends"
    assert error["details"] == {"interactions": [{"interaction_id": call_id, "missing": ["disposition", "notes"],
                                                  "fields": []}]}  # fmt: skip
    assert (await api.get(f"agents/{agent['id']}/presence", me)).json()["state"] == "wrap_up"

    await api.patch(f"interactions/{call_id}", {"disposition_id": sale["id"]}, me)
    r = await api.post(f"agents/{agent['id']}/wrapup/end", None, me)
    assert r.status_code == 409 and r.json()["error"]["details"]["interactions"][0]["missing"] == ["notes"]

    await api.patch(f"interactions/{call_id}", {"notes": "wants the gold plan"}, me)
    r = await api.post(f"agents/{agent['id']}/wrapup/end", None, me)
    assert r.status_code == 200 and r.json()["state"] == "ready"


async def test_a_queue_that_requires_nothing_lets_the_wrapup_end_at_once(center):
    api, app = center
    await api.create("dispositions", {"code": "sale", "label": "Sale", "category": "success"})
    queue = await api.create("queues", {"name": "support", "wrapup_seconds": 600, "wrapup_requires": []})
    agent, me, _ = await agent_in_wrapup(api, app, queue)
    r = await api.post(f"agents/{agent['id']}/wrapup/end", None, me)
    assert r.status_code == 200 and r.json()["state"] == "ready"


async def test_without_any_disposition_to_choose_the_default_rule_does_not_block(center):
    api, app = center
    queue = await api.create("queues", {"name": "support", "wrapup_seconds": 600})
    agent, me, _ = await agent_in_wrapup(api, app, queue)
    assert (await api.post(f"agents/{agent['id']}/wrapup/end", None, me)).json()["state"] == "ready"


async def test_a_campaign_call_needs_its_forms_required_answers(center, clean_database, clock):
    api, app = center
    queue = await api.create("queues", {"name": "outbound", "wrapup_seconds": 600, "wrapup_requires": []})
    campaign = await api.create("campaigns", {
        "name": "Renewals", "queue_id": queue["id"], "wrapup_requires": ["form"],
        "form_fields": [{"name": "plan", "label": "Plan", "type": "select", "options": ["gold", "silver"],
                         "required": True}, {"name": "seats", "label": "Seats", "type": "number"}]})
    agent, me, call_id = await agent_in_wrapup(api, app, queue)
    async with clean_database.session() as session:  # what the dialer writes when the call is put through
        attempt = Attempt(campaign_id=campaign["id"], number="+34600111222", dialed_at=clock.now(),
                          interaction_id=call_id, agent_id=agent["id"], outcome="answered")  # fmt: skip
        session.add(attempt)
        await session.commit()
        attempt_id = attempt.id

    r = await api.post(f"agents/{agent['id']}/wrapup/end", None, me)
    assert r.status_code == 409
    assert r.json()["error"]["message"] == f"interaction {call_id} needs the campaign form (plan) before the wrap-up ends"
    assert r.json()["error"]["details"]["interactions"] == [{"interaction_id": call_id, "missing": ["form"],
                                                              "fields": ["plan"]}]  # fmt: skip
    r = await api.client.put(f"/api/v1/campaign-attempts/{attempt_id}/form", json={"answers": {"plan": "gold"}},
                             headers=me)  # fmt: skip
    assert r.status_code == 200
    assert (await api.post(f"agents/{agent['id']}/wrapup/end", None, me)).json()["state"] == "ready"


async def test_the_wrapup_timer_still_ends_it_and_flags_the_call(center, clock):
    api, app = center
    await api.create("dispositions", {"code": "sale", "label": "Sale", "category": "success"})
    queue = await api.create("queues", {"name": "sales", "wrapup_seconds": 30})
    agent, me, call_id = await agent_in_wrapup(api, app, queue)
    clock.advance(31)
    engine = app.state.engine
    async with engine.serial():
        await engine.decide(lambda: engine.router.tick(clock.now()))
    await engine.settle()
    assert (await api.get(f"agents/{agent['id']}/presence", me)).json()["state"] == "ready"
    timeline = (await api.get(f"interactions/{call_id}")).json()["timeline"]
    flagged = [e for e in timeline if e["kind"] == "wrapup_incomplete"]
    assert [e["data"] for e in flagged] == [{"missing": ["disposition"], "fields": []}]
