"""Do-not-call over the API and the service functions other capabilities call (SMS STOP/START)."""

from __future__ import annotations

from teleplex.campaigns import dnc_service


async def test_add_check_and_remove_a_global_number(api):
    r = await api.post("dnc", {"number": "(212) 555-0100", "note": "asked on the phone"})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["number"] == "+12125550100" and entry["campaign_id"] is None and entry["source"] == "manual"
    assert (await api.post("dnc", {"number": "+1 212 555 0100"})).json()["id"] == entry["id"]  # idempotent
    check = (await api.get("dnc/check", number="2125550100", campaign_id=7)).json()
    assert check["blocked"] is True and [e["id"] for e in check["entries"]] == [entry["id"]]
    assert (await api.delete(f"dnc/{entry['id']}")).status_code == 204
    assert (await api.get("dnc/check", number="2125550100")).json()["blocked"] is False


async def test_a_campaign_list_blocks_only_that_campaign(api):
    queue = await api.create("queues", {"name": "q"})
    a = await api.create("campaigns", {"name": "a", "queue_id": queue["id"]})
    b = await api.create("campaigns", {"name": "b", "queue_id": queue["id"]})
    await api.post("dnc", {"number": "+12125550100", "campaign_id": a["id"]})
    assert (await api.get("dnc/check", number="+12125550100", campaign_id=a["id"])).json()["blocked"]
    assert not (await api.get("dnc/check", number="+12125550100", campaign_id=b["id"])).json()["blocked"]
    assert (await api.get("dnc", scope="global")).json()["total"] == 0
    assert (await api.get("dnc", campaign_id=a["id"])).json()["total"] == 1


async def test_import_reports_bad_rows_and_skips_known_numbers(api):
    await api.post("dnc", {"number": "+12125550100"})
    body = "number,comment\n212-555-0100,old\n312-555-0101,new\nxyz,bad\n,empty\n"
    r = await api.client.post("/api/v1/dnc/import", params={"number_column": "number"}, content=body.encode(),
                              headers={**api.admin, "content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["rows"] == 4 and report["added"] == 1 and report["already"] == 1
    assert [(x["line"], x["code"], x["reason"]) for x in report["rejected"]] == [
        (4, "invalid_number", "invalid number"), (5, "empty", "empty")]


async def test_invalid_numbers_are_422(api):
    r = await api.post("dnc", {"number": "hello"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "number"
    assert (await api.get("dnc/check", number="12")).status_code == 422


async def test_agents_cannot_touch_the_list_and_supervisors_can(api):
    agent = await api.user("al", "agent")
    sup = await api.user("sue", "supervisor")
    assert (await api.post("dnc", {"number": "+12125550100"}, headers=agent)).status_code == 403
    assert (await api.get("dnc", headers=agent)).status_code == 403
    assert (await api.post("dnc", {"number": "+12125550100"}, headers=sup)).status_code == 201


async def test_sms_stop_and_start_add_and_lift_only_their_own_opt_out(clean_database, clock):
    async with clean_database.session() as session:
        entry = await dnc_service.add_opt_out(session, "12125550100", "sms_stop", clock.now())
        assert entry is not None and entry.number == "+12125550100"
        assert await dnc_service.is_blocked(session, "+12125550100", 3)
        assert await dnc_service.add_opt_out(session, "garbage", "sms_stop", clock.now()) is None
        assert await dnc_service.remove_opt_out(session, "+12125550100", "sms_stop") == 1
        assert not await dnc_service.is_blocked(session, "+12125550100", 3)
        # START never lifts an entry an administrator made.
        await dnc_service.add(session, "+12125550100", None, "manual", clock.now())
        assert await dnc_service.remove_opt_out(session, "+12125550100", "sms_stop") == 0
        assert await dnc_service.is_blocked(session, "+12125550100", None)


async def test_a_large_import_counts_repeats_once(api):
    body = "".join(f"+1212555{n:04d}\n" for n in range(1200)) + "+12125550000\n"
    r = await api.client.post("/api/v1/dnc/import", content=body.encode(),
                              headers={**api.admin, "content-type": "text/plain"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["added"], r.json()["already"], r.json()["rows"]) == (1200, 1, 1201)
    assert (await api.get("dnc", limit=1)).json()["total"] == 1200
