"""Merging and unmerging profiles, and a person's data: exported whole, erased for good (with the counts
reports need kept)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from test_contacts import ANA, call, channel, conversation, fields

from teleplex.campaigns.models import Callback
from teleplex.core.settings import Settings
from teleplex.interactions.models import Interaction, InteractionEvent
from teleplex.messaging.models import Message


@pytest.fixture
def settings(clean_database, tmp_path) -> Settings:
    """Recordings and media in a folder of the test's own, so erasure has real files to remove."""
    return Settings(database_url=clean_database.url, cookie_secure=False, recordings_dir=tmp_path / "recordings",
                    var_dir=tmp_path / "var")


async def callback(db, clock, contact_id: int, number: str) -> int:
    async with db.session() as s:
        cb = Callback(number=number, contact_id=contact_id, source="agent", status="pending", requested_at=clock.now(),
                      name="Ana", note="after 5pm")
        s.add(cb)
        await s.flush()
        return cb.id


async def profile(api, contact_id: int) -> dict:
    """Everything a person sees of a profile, without the times a merge necessarily touches."""
    c = (await api.get(f"contacts/{contact_id}")).json()
    c.pop("updated_at")
    timeline = (await api.get(f"contacts/{contact_id}/timeline")).json()["items"]
    notes = (await api.get(f"contacts/{contact_id}/notes")).json()["items"]
    return {"contact": c, "timeline": timeline, "notes": notes}


async def two_profiles(api, db, clock):
    await fields(api)
    ana = await api.create("contacts", ANA)
    bea = await api.create("contacts", {"display_name": None, "tags": ["vip", "late-payer"],
                                        "identities": [{"kind": "telegram", "value": "777000"}],
                                        "fields": {"age": 40, "birthday": "1985-03-01"}})
    await api.post(f"contacts/{ana['id']}/notes", {"text": "ana's note"})
    await api.post(f"contacts/{bea['id']}/notes", {"text": "bea's note"})
    await call(db, clock, contact_id=ana["id"])
    await call(db, clock, contact_id=bea["id"], caller="+12025550199")
    ch = await channel(db, clock, "telegram")
    await conversation(db, clock, ch, contact_id=bea["id"], peer="777000", texts=[("in", "hi"), ("out", "hello")])
    cb = await callback(db, clock, bea["id"], "+12025550199")
    return ana, bea, cb


async def test_merge_then_unmerge_restores_both_exactly(api, clean_database, clock):
    ana, bea, cb = await two_profiles(api, clean_database, clock)
    before = {ana["id"]: await profile(api, ana["id"]), bea["id"]: await profile(api, bea["id"])}

    r = await api.post(f"contacts/{ana['id']}/merge", {"source_contact_id": bea["id"], "reason": "same person"})
    assert r.status_code == 201, r.text
    merge = r.json()
    assert merge["moved"] == {"identities": 1, "interactions": 2, "callbacks": 1, "notes": 1}
    merged = await profile(api, ana["id"])
    assert merged["contact"]["tags"] == ["late-payer", "spanish", "vip"]
    assert merged["contact"]["fields"] == {"age": 41, "tier": "gold", "birthday": "1985-03-01"}
    assert {i["kind"] for i in merged["contact"]["identities"]} == {"phone", "email", "telegram"}
    assert len(merged["timeline"]) == 3 and len(merged["notes"]) == 2
    shell = (await api.get(f"contacts/{bea['id']}")).json()
    assert shell["merged_into_id"] == ana["id"] and shell["identities"] == [] and shell["tags"] == []
    assert [c["id"] for c in (await api.get("contacts")).json()["items"]] == [ana["id"]]
    assert (await api.patch(f"contacts/{bea['id']}", {"display_name": "x"})).status_code == 409
    assert (await api.post(f"contacts/{bea['id']}/merge", {"source_contact_id": ana["id"]})).status_code == 409

    r = await api.post(f"contact-merges/{merge['id']}/undo", {})
    assert r.status_code == 200 and r.json()["undone_by"] == "admin"
    assert await profile(api, ana["id"]) == before[ana["id"]]
    assert await profile(api, bea["id"]) == before[bea["id"]]
    async with clean_database.session() as s:
        assert (await s.get(Callback, cb)).contact_id == bea["id"]
    assert (await api.post(f"contact-merges/{merge['id']}/undo", {})).status_code == 409
    log = (await api.get("audit-log", entity_type="contact", entity_id=ana["id"])).json()["items"]
    assert [e["action"] for e in log][:2] == ["unmerge", "merge"]


async def test_merges_are_undone_newest_first_and_a_contact_cannot_absorb_itself(api):
    a, b, c = [await api.create("contacts", {"display_name": n}) for n in "ABC"]
    assert (await api.post(f"contacts/{a['id']}/merge", {"source_contact_id": a["id"]})).status_code == 422
    first = (await api.post(f"contacts/{a['id']}/merge", {"source_contact_id": b["id"]})).json()
    second = (await api.post(f"contacts/{c['id']}/merge", {"source_contact_id": a["id"]})).json()
    r = await api.post(f"contact-merges/{first['id']}/undo", {})
    assert r.status_code == 409 and str(second["id"]) in r.json()["error"]["message"]
    assert (await api.post(f"contact-merges/{second['id']}/undo", {})).status_code == 200
    assert (await api.post(f"contact-merges/{first['id']}/undo", {})).status_code == 200
    assert (await api.get("contact-merges", contact_id=a["id"])).json()["total"] == 2


async def test_export_contains_everything_we_hold(api, clean_database, clock):
    await fields(api)
    ana = await api.create("contacts", ANA)
    await api.post(f"contacts/{ana['id']}/notes", {"text": "prefers mornings"})
    call_id = await call(clean_database, clock, contact_id=ana["id"], recording="call-7.wav")
    ch = await channel(clean_database, clock)
    conv_id, msg_ids = await conversation(clean_database, clock, ch, contact_id=ana["id"], peer="12025550134",
                                          texts=[("in", "hola"), ("out", "buenas")])
    cb = await callback(clean_database, clock, ana["id"], "+12025550134")
    r = await api.get(f"contacts/{ana['id']}/export")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["contact"]["display_name"] == "Ana Pérez" and data["contact"]["fields"] == {"age": 41, "tier": "gold"}
    assert {i["value"] for i in data["contact"]["identities"]} == {"+12025550134", "ana@example.com"}
    assert data["contact"]["tags"] == ["spanish", "vip"]
    assert [n["text"] for n in data["notes"]] == ["prefers mornings"]
    assert [i["id"] for i in data["interactions"]] == [call_id, conv_id]
    assert data["interactions"][0]["caller_id"] == "+12025550134"
    assert [e["kind"] for e in data["interactions"][0]["events"]] == ["arrived"]
    assert [(m["id"], m["text"]) for m in data["messages"]] == [(msg_ids[0], "hola"), (msg_ids[1], "buenas")]
    assert data["recordings"] == [{"interaction_id": call_id, "path": "call-7.wav"}]
    assert [c["id"] for c in data["callbacks"]] == [cb]
    log = (await api.get("audit-log", entity_type="contact", entity_id=ana["id"])).json()["items"]
    assert log[0]["action"] == "export" and log[0]["actor_name"] == "admin"


async def test_erase_removes_personal_data_keeps_counts_and_is_audited(api, clean_database, clock, settings):
    await fields(api)
    ana = await api.create("contacts", ANA)
    other = await api.create("contacts", {"display_name": "Bea"})
    await api.post(f"contacts/{ana['id']}/notes", {"text": "secret"})
    settings.recordings_dir.mkdir(parents=True)
    (settings.recordings_dir / "call-9.wav").write_bytes(b"RIFF")
    media = settings.var_dir / "media"
    ch = await channel(clean_database, clock)
    (media / str(ch)).mkdir(parents=True)
    (media / str(ch) / "photo.jpg").write_bytes(b"\xff\xd8")
    (settings.var_dir / "keep.txt").write_text("outside media")
    call_id = await call(clean_database, clock, contact_id=ana["id"], recording="/var/spool/call-9.wav")
    conv_id, _ = await conversation(clean_database, clock, ch, contact_id=ana["id"], peer="12025550134",
                                    texts=[("in", "my card is 4111"), ("out", "thanks")],
                                    media_path=f"{ch}/photo.jpg")
    await call(clean_database, clock, contact_id=other["id"], caller="+12025550199")
    await callback(clean_database, clock, ana["id"], "+12025550134")

    r = await api.post(f"contacts/{ana['id']}/erase", {"confirm_contact_id": other["id"]})
    assert r.status_code == 422 and "confirm_contact_id" in r.json()["error"]["message"]
    assert (await api.post(f"contacts/{ana['id']}/erase", {})).status_code == 422
    assert (await api.get(f"contacts/{ana['id']}")).json()["display_name"] == "Ana Pérez"  # nothing happened yet

    r = await api.post(f"contacts/{ana['id']}/erase", {"confirm_contact_id": ana["id"]})
    assert r.status_code == 200, r.text
    removed = r.json()["removed"]
    assert removed["identities"] == 2 and removed["recordings_deleted"] == 1 and removed["media_deleted"] == 1
    assert removed["messages_cleared"] == 2 and removed["notes"] == 1
    assert not (settings.recordings_dir / "call-9.wav").exists() and not (media / str(ch) / "photo.jpg").exists()
    assert (settings.var_dir / "keep.txt").exists()

    c = (await api.get(f"contacts/{ana['id']}")).json()
    assert c["erased_at"] and c["display_name"] is None and c["identities"] == [] and c["tags"] == []
    assert c["fields"] == {}
    assert (await api.get(f"contacts/{ana['id']}/notes")).json()["total"] == 0
    async with clean_database.session() as s:
        assert (await s.execute(select(func.count(Interaction.id)))).scalar_one() == 3  # counts kept
        for i in (await s.execute(select(Interaction).where(Interaction.id.in_([call_id, conv_id])))).scalars():
            assert i.caller_id is None and i.caller_name is None and i.notes is None and i.recording_path is None
            assert i.contact_id == ana["id"]
        events = (await s.execute(select(InteractionEvent).where(InteractionEvent.interaction_id == call_id))).scalars()
        assert all("caller_id" not in (e.data or {}) for e in events)
        for m in (await s.execute(select(Message).where(Message.interaction_id == conv_id))).scalars():
            assert m.text is None and m.media_path is None and m.peer == "erased"
        cb = (await s.execute(select(Callback))).scalar_one()
        assert cb.status == "cancelled" and cb.number == "erased" and cb.name is None
        other_call = (await s.execute(select(Interaction).where(Interaction.contact_id == other["id"]))).scalar_one()
        assert other_call.caller_id == "+12025550199"
    log = (await api.get("audit-log", entity_type="contact", entity_id=ana["id"])).json()["items"]
    assert log[0]["action"] == "erase" and log[0]["after"]["identities"] == 2
    assert "Ana" not in str(log) and "2025550134" not in str(log)
    assert (await api.post(f"contacts/{ana['id']}/erase", {"confirm_contact_id": ana["id"]})).status_code == 409
    # the number is free again: a new call starts a new profile
    assert (await api.get("contacts", search="(202) 555-0134")).json()["total"] == 0


async def test_delete_is_only_for_profiles_without_history(api, clean_database, clock):
    a = await api.create("contacts", {"display_name": "A"})
    b = await api.create("contacts", {"display_name": "B"})
    await call(clean_database, clock, contact_id=a["id"])
    r = await api.delete(f"contacts/{a['id']}")
    assert r.status_code == 409 and "erase" in r.json()["error"]["message"]
    assert (await api.delete(f"contacts/{b['id']}")).status_code == 204
    assert (await api.get(f"contacts/{b['id']}")).status_code == 404


async def test_erasing_a_profile_also_erases_the_profiles_merged_into_it(api, clean_database):
    a = await api.create("contacts", {"display_name": "Ana"})
    b = await api.create("contacts", {"display_name": "Ana P.", "identities": [{"kind": "email", "value": "a@x.io"}]})
    merge = (await api.post(f"contacts/{a['id']}/merge", {"source_contact_id": b["id"]})).json()
    assert (await api.get(f"contacts/{b['id']}")).json()["display_name"] is None  # kept in the snapshot only
    r = await api.post(f"contacts/{a['id']}/erase", {"confirm_contact_id": a["id"]})
    assert r.status_code == 200, r.text
    shell = (await api.get(f"contacts/{b['id']}")).json()
    assert shell["erased_at"] and shell["display_name"] is None
    from teleplex.contacts.models import ContactMerge

    async with clean_database.session() as s:
        stored = await s.get(ContactMerge, merge["id"])
        assert "Ana" not in str(stored.snapshot) and "a@x.io" not in str(stored.snapshot)
    assert (await api.post(f"contact-merges/{merge['id']}/undo", {})).status_code == 409
    log = (await api.get("audit-log", entity_type="contact")).json()["items"]
    assert "a@x.io" not in str(log) and "Ana" not in str(log)
