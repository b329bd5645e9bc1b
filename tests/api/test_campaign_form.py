"""The campaign's form on a call: the agent reads the script and form, saves answers kept with the attempt,
and bad answers are refused with a 422 naming each field."""

from __future__ import annotations

from teleplex.campaigns import service
from teleplex.campaigns.models import CampaignList, Lead
from teleplex.interactions import service as interactions

FORM = [
    {"name": "plan", "label": "Plan", "type": "select", "options": ["gold", "silver"], "required": True},
    {"name": "age", "label": "Age", "type": "number"},
    {"name": "consent", "label": "Consent to be called", "type": "checkbox", "required": True},
    {"name": "visit", "label": "Visit on", "type": "date"},
    {"name": "notes", "label": "Notes", "type": "textarea"},
]


async def _agent(api, username: str, queue_id: int) -> tuple[dict, dict]:
    user = await api.create("users", {"username": username, "password": "password-123", "roles": ["agent"]})
    agent = await api.create("agents", {"user_id": user["id"], "number": str(1000 + user["id"]),
                                        "queues": [{"queue_id": queue_id}]})  # fmt: skip
    return agent, await api.login(username, "password-123")


async def campaign_call(api, db, clock) -> tuple[dict, int, int, dict]:
    """A campaign with a script and form, and one call of it made by agent ana: (campaign, attempt id,
    interaction id, ana's headers)."""
    queue = await api.create("queues", {"name": "outbound"})
    campaign = await api.create("campaigns", {"name": "autumn", "queue_id": queue["id"], "form_fields": FORM,
                                              "script": "Hello {first_name}"})  # fmt: skip
    agent, ana = await _agent(api, "ana", queue["id"])
    now = clock.now()
    async with db.session() as session:
        lst = CampaignList(campaign_id=campaign["id"], name="l", active=True, created_at=now, updated_at=now)
        session.add(lst)
        await session.flush()
        lead = Lead(list_id=lst.id, campaign_id=campaign["id"], phone="+34911234501", alt_phones=[],
                    timezones="UTC", attributes={}, status="pending", attempts=0, outcome_counts={}, created_at=now,
                    updated_at=now)  # fmt: skip
        session.add(lead)
        await session.flush()
        attempt = await service.begin_attempt(session, lead, now)
        call = await interactions.open_interaction(session, now, channel="voice", direction="outbound")
        attempt.interaction_id, attempt.agent_id = call.id, agent["id"]
        await session.commit()
        return campaign, attempt.id, call.id, ana


async def test_the_agent_saves_answers_kept_with_the_attempt(api, clean_database, clock):
    campaign, attempt_id, call_id, ana = await campaign_call(api, clean_database, clock)
    form = (await api.get(f"interactions/{call_id}/campaign-form", ana)).json()
    assert form["attempt_id"] == attempt_id and form["script"] == "Hello {first_name}"
    assert [f["name"] for f in form["form_fields"]] == ["plan", "age", "consent", "visit", "notes"]
    assert form["answers"] == {}
    assert form["lead"]["phone"] == "+34911234501"  # what the script's placeholders are filled with
    answers = {"plan": "gold", "age": 41, "consent": True, "visit": "2026-02-03", "notes": "  call after 5  "}
    r = await api.client.put(f"/api/v1/campaign-attempts/{attempt_id}/form", json={"answers": answers}, headers=ana)
    assert r.status_code == 200, r.text
    saved = {"plan": "gold", "age": 41, "consent": True, "visit": "2026-02-03", "notes": "call after 5"}
    assert r.json()["answers"] == saved
    assert (await api.get(f"campaign-attempts/{attempt_id}/form", ana)).json()["answers"] == saved
    attempts = (await api.get(f"campaigns/{campaign['id']}/attempts")).json()["items"]
    assert attempts[0]["form_answers"] == saved  # supervisors read them with the campaign's dials


async def test_bad_answers_are_422_naming_each_field(api, clean_database, clock):
    _, attempt_id, _, ana = await campaign_call(api, clean_database, clock)
    bad = {"plan": "bronze", "age": "forty", "visit": "31/01/2026", "colour": "red"}
    r = await api.client.put(f"/api/v1/campaign-attempts/{attempt_id}/form", json={"answers": bad}, headers=ana)
    assert r.status_code == 422
    problems = {d["field"]: d["message"] for d in r.json()["error"]["details"]}
    assert problems == {
        "answers.colour": "is not a field of this campaign's form",
        "answers.plan": "must be one of: gold, silver",
        "answers.age": "must be a number",
        "answers.consent": "is required",
        "answers.visit": "must be a date like 2026-01-31",
    }
    assert r.json()["error"]["message"] == "answers.colour: is not a field of this campaign's form"
    codes = {d["field"]: (d["type"], d["ctx"]) for d in r.json()["error"]["details"]}
    assert codes == {  # stable, so a client can say each in its user's language (as validation errors)
        "answers.colour": ("extra_forbidden", {}),
        "answers.plan": ("literal_error", {"expected": ["gold", "silver"]}),
        "answers.age": ("float_type", {}),
        "answers.consent": ("missing", {}),
        "answers.visit": ("date_parsing", {}),
    }
    r = await api.client.put(f"/api/v1/campaign-attempts/{attempt_id}/form", json={"answers": {"plan": "gold"}},
                             headers=ana)  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["details"] == [
        {"field": "answers.consent", "type": "missing", "message": "is required", "ctx": {}}]
    assert (await api.get(f"campaign-attempts/{attempt_id}/form", ana)).json()["answers"] == {}  # nothing saved
    r = await api.client.put(f"/api/v1/campaign-attempts/{attempt_id}/form", json={"answers": []}, headers=ana)
    assert r.status_code == 422


async def test_only_the_calling_agent_or_the_campaigns_controllers_save(api, clean_database, clock):
    campaign, attempt_id, call_id, _ = await campaign_call(api, clean_database, clock)
    _, bea = await _agent(api, "bea", campaign["queue_id"])
    body = {"answers": {"plan": "silver", "consent": True}}
    r = await api.client.put(f"/api/v1/campaign-attempts/{attempt_id}/form", json=body, headers=bea)
    assert r.status_code == 403 and "another agent's call" in r.json()["error"]["message"]
    r = await api.client.put(f"/api/v1/campaign-attempts/{attempt_id}/form", json=body, headers=api.admin)
    assert r.status_code == 200
    assert (await api.get("campaign-attempts/999999/form")).status_code == 404
    other = await api.create("queues", {"name": "elsewhere"})
    _, carl = await _agent(api, "carl", other["id"])
    assert (await api.get(f"campaign-attempts/{attempt_id}/form", carl)).status_code == 403
    r = await api.get(f"interactions/{call_id + 1000}/campaign-form")
    assert r.status_code == 404 and "not a campaign call" in r.json()["error"]["message"]
