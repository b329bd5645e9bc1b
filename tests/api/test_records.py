"""Pause reasons, dispositions and business hours."""

import pytest

WEEK = [{"day": d, "open": "09:00", "close": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")]


async def test_pause_reason_lifecycle(api):
    r = await api.create("pause-reasons", {"name": "Lunch", "paid": False, "max_duration_seconds": 3600})
    assert r["paid"] is False and r["max_duration_seconds"] == 3600
    upd = await api.patch(f"pause-reasons/{r['id']}", {"paid": True, "max_duration_seconds": None})
    assert upd.status_code == 200 and upd.json()["paid"] is True and upd.json()["max_duration_seconds"] is None
    assert (await api.post("pause-reasons", {"name": "Lunch"})).status_code == 409
    assert (await api.get("pause-reasons")).json()["total"] == 1
    assert (await api.delete(f"pause-reasons/{r['id']}")).status_code == 204
    assert (await api.get(f"pause-reasons/{r['id']}")).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "max_duration_seconds": 0}, "max_duration_seconds"),
        ({"name": "x", "paid": "maybe"}, "paid"),
        ({"name": "   "}, "name"),
    ],
)
async def test_invalid_pause_reason(api, body, field):
    r = await api.post("pause-reasons", body)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith(field)


async def test_disposition_lifecycle_and_categories(api):
    d = await api.create("dispositions", {"code": "SALE", "label": "Sale made", "category": "success"})
    assert d["category"] == "success"
    r = await api.post("dispositions", {"code": "X", "label": "x", "category": "great"})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("category")
    assert (await api.post("dispositions", {"code": "SALE", "label": "dup", "category": "other"})).status_code == 409
    assert (await api.patch(f"dispositions/{d['id']}", {"label": "Sold"})).json()["label"] == "Sold"
    assert (await api.patch(f"dispositions/{d['id']}", {"category": None})).status_code == 422


async def test_disposition_attached_to_a_queue_cannot_be_deleted(api):
    d = await api.create("dispositions", {"code": "SALE", "label": "Sale", "category": "success"})
    await api.create("queues", {"name": "sales", "disposition_ids": [d["id"]]})
    r = await api.delete(f"dispositions/{d['id']}")
    assert r.status_code == 409 and r.json()["error"]["details"]["used_by"] == ["sales"]


async def test_business_hours_lifecycle(api):
    h = await api.create(
        "business-hours",
        {"name": "office", "timezone": "America/Guayaquil", "weekly": WEEK, "holidays": [{"date": "2026-12-25"}]},
    )
    assert h["timezone"] == "America/Guayaquil" and len(h["weekly"]) == 5
    assert h["holidays"] == [{"date": "2026-12-25", "name": None}]
    r = await api.patch(f"business-hours/{h['id']}", {"timezone": "Europe/Madrid"})
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Madrid"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"weekly": [{"day": "mon", "open": "17:00", "close": "09:00"}]}, "weekly[0]"),
        ({"weekly": [{"day": "funday", "open": "09:00", "close": "17:00"}]}, "weekly[0].day"),
        ({"weekly": [{"day": "mon", "open": "9am", "close": "17:00"}]}, "weekly[0].open"),
        ({"holidays": [{"date": "2026-02-30"}]}, "holidays[0].date"),
    ],
)
async def test_invalid_business_hours(api, body, field):
    base = {"name": "office", "timezone": "UTC", "weekly": WEEK}
    r = await api.post("business-hours", {**base, **body})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"].startswith(field), r.json()


async def test_business_hours_status_answers_open_or_closed(api):
    h = await api.create("business-hours", {"name": "office", "timezone": "America/Guayaquil", "weekly": WEEK})
    opened = (await api.get(f"business-hours/{h['id']}/status", at="2026-01-05T14:30:00Z")).json()
    assert opened["open"] is True and opened["local_time"].startswith("2026-01-05T09:30:00-05:00")
    closed = (await api.get(f"business-hours/{h['id']}/status", at="2026-01-05T23:00:00Z")).json()
    assert closed["open"] is False
    r = await api.get(f"business-hours/{h['id']}/status", at="2026-01-05T14:30:00")
    assert r.status_code == 422 and "UTC offset" in r.json()["error"]["message"]


async def test_business_hours_used_by_a_queue_cannot_be_deleted(api):
    h = await api.create("business-hours", {"name": "office", "timezone": "UTC", "weekly": WEEK})
    await api.create("queues", {"name": "sales", "business_hours_id": h["id"]})
    r = await api.delete(f"business-hours/{h['id']}")
    assert r.status_code == 409 and "sales" in r.json()["error"]["message"]


@pytest.mark.parametrize("path", ["pause-reasons", "dispositions", "business-hours"])
async def test_agents_and_supervisors_read_but_cannot_write_records(api, path):
    bodies = {
        "pause-reasons": {"name": "Lunch"},
        "dispositions": {"code": "SALE", "label": "Sale", "category": "success"},
        "business-hours": {"name": "office", "timezone": "UTC", "weekly": WEEK},
    }
    record = await api.create(path, bodies[path])
    for role in ("agent", "supervisor"):
        headers = await api.user(f"u-{role}", role)
        can_read = path != "business-hours" or role == "supervisor"
        assert (await api.get(path, headers=headers)).status_code == (200 if can_read else 403)
        assert (await api.post(path, bodies[path], headers)).status_code == 403
        assert (await api.patch(f"{path}/{record['id']}", {}, headers)).status_code == 403
        assert (await api.delete(f"{path}/{record['id']}", headers)).status_code == 403
