"""Campaigns, lists and leads over the API on the real database: import, selection, state, progress, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from teleplex.campaigns import service
from teleplex.campaigns.models import Campaign, Lead
from teleplex.campaigns.rules import Outcome

# 2026-01-05 is a Monday; 15:00 UTC is 10:00 in New York, 09:00 in Chicago, 07:00 in Los Angeles.
MONDAY_15_UTC = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)

CSV = (
    "Phone;Mobile;First;Last;Plan;Zone\r\n"
    "(212) 555-0100;;Ana;Ruiz;gold;\r\n"  # line 2: New York
    "312-555-0101;;Bo;Li;silver;\r\n"  # line 3: Chicago
    "not a number;;Cy;Oh;;\r\n"  # line 4: invalid
    ";;Di;Ng;;\r\n"  # line 5: empty
    "+1 212 555 0100;;Ana;Dup;;\r\n"  # line 6: duplicate of line 2
    "213-555-0102;+1 310 555 0103;Ed;Po;bronze;America/New_York\r\n"  # line 7: LA number, zone overridden
)
MAPPING = {"phone_column": ["Phone", "Mobile"], "first_name_column": "First", "last_name_column": "Last",
           "timezone_column": "Zone"}  # fmt: skip


async def setup_campaign(api, **extra):
    queue = await api.create("queues", {"name": "outbound"})
    campaign = await api.create("campaigns", {"name": "winter", "queue_id": queue["id"], **extra})
    lst = await api.create(f"campaigns/{campaign['id']}/lists", {"name": "january"})
    return queue, campaign, lst


async def upload(api, list_id, body, params=MAPPING, headers=None, content_type="text/csv"):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return await api.client.post(
        f"/api/v1/campaign-lists/{list_id}/import", params=params, content=data,
        headers={**(headers or api.admin), "content-type": content_type},
    )  # fmt: skip


async def test_campaign_defaults_are_legal_and_complete(api):
    _, c, _ = await setup_campaign(api)
    assert c["state"] == "draft" and c["dial_mode"] == "progressive"
    assert c["ring_seconds"] == 25 and c["target_abandon_percent"] == 3.0
    assert c["calling_windows"] == [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                     "start": "09:00", "end": "21:00"}]  # fmt: skip
    assert c["no_redial_after_abandon_hours"] == 72 and c["retry_rules"]["busy"]["max_attempts"] == 3
    assert (await api.get(f"campaigns/{c['id']}")).json() == c


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ring_seconds": 14}, "ring_seconds"),
        ({"target_abandon_percent": 3.5}, "target_abandon_percent"),
        ({"dial_mode": "turbo"}, "dial_mode"),
        ({"calling_windows": [{"days": ["mon"], "start": "07:00", "end": "12:00"}]}, "calling_windows"),
        ({"calling_windows": [{"days": ["mon"], "start": "12:00", "end": "10:00"}]}, "calling_windows[0]"),
        ({"machine_action": "leave_message"}, "machine_message"),
        ({"default_timezone": "Mars/Olympus"}, "default_timezone"),
        ({"form_fields": [{"name": "x", "label": "X", "type": "select"}]}, "form_fields[0]"),
        ({"starts_at": "2026-02-01T00:00:00"}, "starts_at"),
        ({"queue_id": None, "agent_ids": []}, "queue_id"),
    ],
)
async def test_invalid_campaign_settings_are_422_naming_the_field(api, body, field):
    queue = await api.create("queues", {"name": "q"})
    r = await api.post("campaigns", {"name": "c", "queue_id": queue["id"], **body})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_input"
    fields = [d["field"] for d in err["details"]] if isinstance(err["details"], list) else [err["details"]["field"]]
    assert field in fields, err


async def test_outside_legal_hours_needs_the_explicit_switch(api):
    queue = await api.create("queues", {"name": "q"})
    early = [{"days": ["sat"], "start": "07:30", "end": "12:00"}]
    r = await api.post("campaigns", {"name": "c", "queue_id": queue["id"], "calling_windows": early,
                                     "allow_outside_legal_hours": True})  # fmt: skip
    assert r.status_code == 201, r.text
    r = await api.post("campaigns", {"name": "d", "queue_id": queue["id"], "calling_windows": early})
    assert r.status_code == 422 and r.json()["error"]["reason"] == "campaign_incoherent"
    [problem] = r.json()["error"]["details"]["problems"]
    assert (problem["code"], problem["field"], problem["params"]) == (
        "outside_legal_hours", "calling_windows", {"windows": ["07:30-12:00"]})


async def test_import_reports_every_rejected_row_and_keeps_the_rest(api):
    _, _, lst = await setup_campaign(api)
    r = await upload(api, lst["id"], CSV)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["delimiter"] == ";" and report["encoding"] == "utf-8"
    assert report["rows"] == 6 and report["added"] == 3 and report["updated"] == 0
    rejected = {row["line"]: row["reason"] for row in report["rejected"]}
    assert rejected[4] == "invalid number" and rejected[5].startswith("empty")
    assert rejected[6].startswith("duplicate within file (first on line 2)")
    assert set(rejected) == {4, 5, 6}
    coded = [(row["line"], row["code"], row["params"]) for row in report["rejected"]]  # what a client translates
    assert coded == [(4, "invalid_number", {}), (5, "empty", {}), (6, "duplicate_in_file", {"first_line": 2})]
    leads = (await api.get(f"campaign-lists/{lst['id']}/leads", order="id")).json()["items"]
    assert [lead["phone"] for lead in leads] == ["+12125550100", "+13125550101", "+12135550102"]
    assert leads[0]["timezones"] == ["America/New_York"] and leads[1]["timezones"] == ["America/Chicago"]
    assert leads[2]["timezones"] == ["America/New_York"] and leads[2]["alt_phones"] == ["+13105550103"]
    assert leads[0]["attributes"] == {"Plan": "gold"} and leads[0]["first_name"] == "Ana"


async def test_reimporting_the_same_file_adds_nobody_and_updates_attributes(api):
    _, _, lst = await setup_campaign(api)
    assert (await upload(api, lst["id"], CSV)).json()["added"] == 3
    again = (await upload(api, lst["id"], CSV)).json()
    assert again["added"] == 0 and again["updated"] == 0 and again["unchanged"] == 3
    changed = (await upload(api, lst["id"], CSV.replace("gold", "platinum"))).json()
    assert changed["added"] == 0 and changed["updated"] == 1
    page = (await api.get(f"campaign-lists/{lst['id']}/leads")).json()
    assert page["total"] == 3
    assert any(lead["attributes"].get("Plan") == "platinum" for lead in page["items"])


async def test_import_in_latin1_with_tabs_is_detected(api):
    _, _, lst = await setup_campaign(api)
    body = "Phone\tFirst\tLast\n212-555-0100\tJosé\tMuñoz\n".encode("latin-1")
    r = await upload(api, lst["id"], body, params={"phone_column": "Phone", "first_name_column": "First"})
    assert r.status_code == 200, r.text
    assert r.json()["delimiter"] == "\t" and r.json()["added"] == 1
    lead = (await api.get(f"campaign-lists/{lst['id']}/leads")).json()["items"][0]
    assert lead["first_name"] == "José" and lead["attributes"] == {"Last": "Muñoz"}


@pytest.mark.parametrize(
    "body, params, content_type, field",
    [
        ("Tel\n2125550100\n", {"phone_column": "Phone"}, "text/csv", "phone_column"),
        ("", {"phone_column": "Phone"}, "text/csv", "body"),
        ('{"a": 1}', {"phone_column": "Phone"}, "application/json", "body"),
        ("Phone\n1\n", {}, "text/csv", "phone_column"),
    ],
)
async def test_unusable_uploads_are_422(api, body, params, content_type, field):
    _, _, lst = await setup_campaign(api)
    r = await upload(api, lst["id"], body, params=params, content_type=content_type)
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    fields = [d["field"] for d in details] if isinstance(details, list) else [details["field"]]
    assert field in fields


async def test_an_oversized_upload_is_413(api, monkeypatch):
    from teleplex.campaigns import api as campaigns_api

    monkeypatch.setattr(campaigns_api, "MAX_UPLOAD_BYTES", 100)
    _, _, lst = await setup_campaign(api)
    r = await upload(api, lst["id"], "Phone\n" + "2125550100\n" * 50)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


async def test_start_refuses_when_nothing_is_dialable_then_moves_through_the_states(api):
    _, c, lst = await setup_campaign(api)
    r = await api.post(f"campaigns/{c['id']}/start", None)
    assert r.status_code == 409 and "nothing to dial" in r.json()["error"]["message"]
    assert r.json()["error"]["reason"] == "campaign_cannot_start"
    assert r.json()["error"]["details"]["problems"] == [{  # a code to say it by, the English for people and logs
        "code": "nothing_to_dial", "field": None, "params": {},
        "message": "nothing to dial: no pending lead in an active list (or all are on do-not-call)"}]
    await upload(api, lst["id"], CSV)
    assert (await api.post(f"campaigns/{c['id']}/pause", None)).status_code == 409  # draft cannot pause
    for action, state in (("start", "running"), ("pause", "paused"), ("start", "running"), ("stop", "stopped")):
        r = await api.post(f"campaigns/{c['id']}/{action}", None)
        assert r.status_code == 200 and r.json()["state"] == state, r.text
    assert (await api.post(f"campaigns/{c['id']}/start", None)).status_code == 409  # stopped is final
    assert (await api.patch(f"campaigns/{c['id']}", {"name": "again"})).status_code == 409


async def test_predictive_needs_an_abandon_message_to_start(api):
    _, c, lst = await setup_campaign(api, dial_mode="predictive")
    await upload(api, lst["id"], CSV)
    r = await api.post(f"campaigns/{c['id']}/start", None)
    assert r.status_code == 409 and "abandon_message" in r.json()["error"]["message"]
    [problem] = r.json()["error"]["details"]["problems"]
    assert (problem["code"], problem["field"], problem["params"]) == (
        "abandon_message_missing", "abandon_message", {"dial_mode": "predictive"})
    await api.patch(f"campaigns/{c['id']}", {"abandon_message": "custom/sorry"})
    assert (await api.post(f"campaigns/{c['id']}/start", None)).status_code == 200


async def _selection(database, campaign_id, now, limit=10):
    async with database.session() as session:
        campaign = await session.get(Campaign, campaign_id)
        return [lead.phone for lead in await service.next_leads(session, campaign, now, limit)]


async def test_selection_respects_windows_dnc_lists_and_the_abandon_rule(api, clean_database, clock):
    clock._now = MONDAY_15_UTC
    _, c, lst = await setup_campaign(api)
    await upload(api, lst["id"], CSV)
    assert await _selection(clean_database, c["id"], MONDAY_15_UTC) == []  # draft dials nothing
    assert (await api.post(f"campaigns/{c['id']}/start", None)).status_code == 200
    # 10:00 New York: NY leads callable (LA number with NY override too); 09:00 Chicago: callable.
    assert sorted(await _selection(clean_database, c["id"], MONDAY_15_UTC)) == [
        "+12125550100", "+12135550102", "+13125550101"]  # fmt: skip
    # 14:30 UTC: 08:30 in Chicago is before the 09:00 window.
    early = MONDAY_15_UTC - timedelta(minutes=30)
    assert "+13125550101" not in await _selection(clean_database, c["id"], early)
    # Do-not-call is checked at selection time, not only at import.
    assert (await api.post("dnc", {"number": "212 555 0100"})).status_code == 201
    assert (await api.post("dnc", {"number": "+13125550101", "campaign_id": c["id"]})).status_code == 201
    assert await _selection(clean_database, c["id"], MONDAY_15_UTC) == ["+12135550102"]
    # A paused list is not dialed.
    assert (await api.patch(f"campaign-lists/{lst['id']}", {"active": False})).status_code == 200
    assert await _selection(clean_database, c["id"], MONDAY_15_UTC) == []
    await api.patch(f"campaign-lists/{lst['id']}", {"active": True})
    # An abandoned call blocks the number for 72 hours even though the retry rule would allow it sooner.
    async with clean_database.session() as session:
        campaign = await session.get(Campaign, c["id"])
        campaign.retry_rules = {**campaign.retry_rules, "abandoned": {"delay_minutes": 1, "max_attempts": 5}}
        lead = (await session.execute(select(Lead).where(Lead.phone == "+12135550102"))).scalar_one()
        attempt = await service.begin_attempt(session, lead, MONDAY_15_UTC)
        assert await service.next_leads(session, campaign, MONDAY_15_UTC, 10) == []  # being dialed
        decision = await service.record_outcome(session, campaign, lead, Outcome.ABANDONED, MONDAY_15_UTC,
                                                attempt=attempt)  # fmt: skip
        assert decision.next_attempt_at == MONDAY_15_UTC + timedelta(minutes=1)
    assert await _selection(clean_database, c["id"], MONDAY_15_UTC + timedelta(hours=24)) == []
    assert await _selection(clean_database, c["id"], MONDAY_15_UTC + timedelta(hours=72)) == ["+12135550102"]


async def test_progress_counts_from_the_database(api, clean_database, clock):
    clock._now = MONDAY_15_UTC
    _, c, lst = await setup_campaign(api)
    await upload(api, lst["id"], CSV)
    await api.post(f"campaigns/{c['id']}/start", None)
    async with clean_database.session() as session:
        campaign = await session.get(Campaign, c["id"])
        leads = await service.next_leads(session, campaign, MONDAY_15_UTC, 2)
        for lead, outcome in zip(leads, (Outcome.BUSY, Outcome.SUCCESS), strict=True):
            attempt = await service.begin_attempt(session, lead, MONDAY_15_UTC)
            await service.record_outcome(session, campaign, lead, outcome, MONDAY_15_UTC, attempt=attempt)
    p = (await api.get(f"campaigns/{c['id']}/progress")).json()
    assert p["leads_total"] == 3 and p["by_status"] == {"pending": 2, "done": 1}
    assert p["dialable_now"] == 1 and p["waiting_retry"] == 1
    assert p["done_by_outcome"] == {"success": 1}
    assert p["attempts"] == 2 and p["attempts_by_outcome"] == {"busy": 1, "success": 1}
    assert p["lists"] == [{"list_id": lst["id"], "name": "january", "active": True, "leads": 3, "pending": 2}]


async def test_recycling_makes_chosen_outcomes_dialable_again(api, clean_database, clock):
    clock._now = MONDAY_15_UTC
    _, c, lst = await setup_campaign(api)
    await upload(api, lst["id"], CSV)
    await api.post(f"campaigns/{c['id']}/start", None)
    async with clean_database.session() as session:
        campaign = await session.get(Campaign, c["id"])
        for lead, outcome in zip(await service.next_leads(session, campaign, MONDAY_15_UTC, 3),
                                 (Outcome.NOT_INTERESTED, Outcome.SUCCESS, Outcome.WRONG_NUMBER), strict=True):
            await service.record_outcome(session, campaign, lead, outcome, MONDAY_15_UTC)
    r = await api.post(f"campaign-lists/{lst['id']}/recycle", {"outcomes": ["not_interested"]})
    assert r.status_code == 200 and r.json()["recycled"] == 1
    assert len(await _selection(clean_database, c["id"], MONDAY_15_UTC)) == 1


async def test_permissions_and_supervisor_scope(api):
    mine = await api.create("queues", {"name": "mine"})
    other = await api.create("queues", {"name": "other"})
    c_mine = await api.create("campaigns", {"name": "a", "queue_id": mine["id"]})
    c_other = await api.create("campaigns", {"name": "b", "queue_id": other["id"]})
    sup = await api.user("sue", "supervisor", supervised_queue_ids=[mine["id"]])
    listed = (await api.get("campaigns", headers=sup)).json()
    assert [c["id"] for c in listed["items"]] == [c_mine["id"]]
    r = await api.get(f"campaigns/{c_other['id']}", headers=sup)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert (await api.post(f"campaigns/{c_other['id']}/pause", None, headers=sup)).status_code == 403
    assert (await api.patch(f"campaigns/{c_mine['id']}", {"name": "x"}, headers=sup)).status_code == 403
    assert (await api.post("campaigns", {"name": "z", "queue_id": mine["id"]}, headers=sup)).status_code == 403
    # Supervisors may start/pause their own campaigns (409 here only because nothing is dialable).
    assert (await api.post(f"campaigns/{c_mine['id']}/start", None, headers=sup)).status_code == 409
    agent = await api.user("al", "agent")
    assert (await api.get("campaigns", headers=agent)).json()["total"] == 0
    assert (await api.post(f"campaigns/{c_mine['id']}/start", None, headers=agent)).status_code == 403


async def test_deleting_a_running_campaign_is_refused(api):
    _, c, lst = await setup_campaign(api)
    await upload(api, lst["id"], CSV)
    await api.post(f"campaigns/{c['id']}/start", None)
    r = await api.delete(f"campaigns/{c['id']}")
    assert r.status_code == 409 and "stop it first" in r.json()["error"]["message"]
    await api.post(f"campaigns/{c['id']}/stop", None)
    assert (await api.delete(f"campaigns/{c['id']}")).status_code == 204
    assert (await api.get(f"campaign-lists/{lst['id']}")).status_code == 404


async def test_a_call_ended_by_answering_machine_detection_waits_24_hours(api, clean_database, clock):
    clock._now = MONDAY_15_UTC
    _, c, lst = await setup_campaign(api, retry_rules={"machine": {"delay_minutes": 1, "max_attempts": 3}})
    await upload(api, lst["id"], "Phone\n212-555-0100\n", params={"phone_column": "Phone"})
    await api.post(f"campaigns/{c['id']}/start", None)
    async with clean_database.session() as session:
        campaign = await session.get(Campaign, c["id"])
        (lead,) = await service.next_leads(session, campaign, MONDAY_15_UTC, 5)
        await service.record_outcome(session, campaign, lead, Outcome.MACHINE, MONDAY_15_UTC)
    assert await _selection(clean_database, c["id"], MONDAY_15_UTC + timedelta(hours=23)) == []
    assert await _selection(clean_database, c["id"], MONDAY_15_UTC + timedelta(hours=24)) == ["+12125550100"]


async def test_leads_left_dialing_by_a_stopped_dialer_are_released(api, clean_database, clock):
    clock._now = MONDAY_15_UTC
    _, c, lst = await setup_campaign(api)
    await upload(api, lst["id"], "Phone\n212-555-0100\n", params={"phone_column": "Phone"})
    await api.post(f"campaigns/{c['id']}/start", None)
    async with clean_database.session() as session:
        campaign = await session.get(Campaign, c["id"])
        (lead,) = await service.next_leads(session, campaign, MONDAY_15_UTC, 5)
        await service.begin_attempt(session, lead, MONDAY_15_UTC)
    later = MONDAY_15_UTC + timedelta(minutes=10)
    assert await _selection(clean_database, c["id"], later) == []
    async with clean_database.session() as session:
        assert await service.release_stale(session, c["id"], MONDAY_15_UTC, later) == 0  # not older than that
        assert await service.release_stale(session, c["id"], later, later) == 1
    assert await _selection(clean_database, c["id"], later) == ["+12125550100"]


async def test_agents_see_the_campaigns_of_their_queues_for_the_script(api):
    mine = await api.create("queues", {"name": "mine"})
    other = await api.create("queues", {"name": "other"})
    c_mine = await api.create("campaigns", {"name": "a", "queue_id": mine["id"], "script": "Hello {first_name}"})
    c_other = await api.create("campaigns", {"name": "b", "queue_id": other["id"]})
    await api.user("al", "agent")
    user = (await api.get("users", search="al")).json()["items"][0]
    await api.create("agents", {"user_id": user["id"], "number": "1001", "queues": [{"queue_id": mine["id"]}]})
    al = await api.login("al", "password-123")
    assert [c["script"] for c in (await api.get("campaigns", headers=al)).json()["items"]] == ["Hello {first_name}"]
    assert (await api.get(f"campaigns/{c_mine['id']}/progress", headers=al)).status_code == 200
    assert (await api.get(f"campaigns/{c_other['id']}", headers=al)).status_code == 403


async def test_a_toll_free_number_keeps_all_its_candidate_zones(api):
    _, _, lst = await setup_campaign(api)
    r = await upload(api, lst["id"], "Phone\n+1 800 555 0100\n", params={"phone_column": "Phone"})
    assert r.status_code == 200, r.text
    lead = (await api.get(f"campaign-lists/{lst['id']}/leads")).json()["items"][0]
    assert len(lead["timezones"]) > 10 and "America/New_York" in lead["timezones"]
