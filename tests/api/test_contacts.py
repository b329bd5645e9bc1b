"""Customer profiles over the API: CRUD with identities, tags and custom fields, search, the timeline of
every channel, and who may do what."""

from __future__ import annotations

from typing import Any

from teleplex.contacts.service import resolve_phone
from teleplex.interactions import service as interactions
from teleplex.interactions.states import Outcome
from teleplex.messaging.models import Channel, Message


async def call(db: Any, clock: Any, *, contact_id: int | None, caller: str = "+12025550134", queue_id: int | None = None,
               agent_id: int | None = None, recording: str | None = None, disposition_id: int | None = None) -> int:
    async with db.session() as s:
        i = await interactions.open_interaction(s, clock.now(), channel="voice", did="5551000", caller_id=caller,
                                                caller_name="ANA P", contact_id=contact_id)
        if queue_id:
            await interactions.queued(s, i, clock.now(), queue_id)
        if agent_id:
            await interactions.offered(s, i, clock.now(), agent_id)
            clock.advance(3)
            await interactions.connected(s, i, clock.now(), agent_id)
        clock.advance(30)
        if agent_id:
            await interactions.ended(s, i, clock.now(), Outcome.ANSWERED)
        i.recording_path, i.disposition_id, i.notes = recording, disposition_id, "asked about the invoice"
        return i.id


async def channel(db: Any, clock: Any, kind: str = "whatsapp") -> int:
    async with db.session() as s:
        ch = Channel(kind=kind, name=f"{kind}-{clock.now().timestamp()}", enabled=True, credentials="-",
                     credential_names=[], settings={}, created_at=clock.now(), updated_at=clock.now())
        s.add(ch)
        await s.flush()
        return ch.id


async def conversation(db: Any, clock: Any, channel_id: int, *, contact_id: int | None, peer: str,
                       texts: list[tuple[str, str]], media_path: str | None = None) -> tuple[int, list[int]]:
    """A WhatsApp conversation with its messages ((direction, text) in order)."""
    async with db.session() as s:
        i = await interactions.open_interaction(s, clock.now(), channel="whatsapp", caller_id=peer,
                                                contact_id=contact_id)
        ids = []
        for n, (direction, text) in enumerate(texts):
            clock.advance(5)
            m = Message(channel_id=channel_id, interaction_id=i.id, direction=direction,
                        provider_message_id=f"wamid.{i.id}.{n}", peer_kind="whatsapp", peer=peer, kind="text",
                        text=text, media_path=media_path if n == 0 else None, status="received",
                        created_at=clock.now())
            s.add(m)
            await s.flush()
            ids.append(m.id)
        return i.id, ids


async def fields(api) -> None:
    await api.create("contact-fields", {"key": "age", "label": "Age", "kind": "number"})
    await api.create("contact-fields", {"key": "tier", "label": "Tier", "kind": "choice", "choices": ["gold", "silver"]})
    await api.create("contact-fields", {"key": "birthday", "label": "Birthday", "kind": "date"})


ANA = {"display_name": "Ana Pérez", "identities": [{"kind": "phone", "value": "(202) 555-0134"},
                                                   {"kind": "email", "value": "Ana@Example.com"}],
       "tags": ["vip", "Spanish"], "fields": {"age": 41, "tier": "gold"}}


async def test_create_a_contact_with_identities_tags_and_fields(api):
    await fields(api)
    c = await api.create("contacts", ANA)
    assert [(i["kind"], i["value"], i["source"]) for i in c["identities"]] == [
        ("phone", "+12025550134", "agent"), ("email", "ana@example.com", "agent")]
    assert c["tags"] == ["spanish", "vip"] and c["fields"] == {"age": 41, "tier": "gold"}
    detail = (await api.get(f"contacts/{c['id']}")).json()
    assert detail["suggestions"] == [] and detail["identities"] == c["identities"]


async def test_update_changes_only_what_is_sent_and_is_audited(api):
    await fields(api)
    c = await api.create("contacts", ANA)
    r = await api.patch(f"contacts/{c['id']}", {"fields": {"tier": None, "birthday": "1985-03-01"}, "tags": ["b2b"]})
    assert r.status_code == 200, r.text
    assert r.json()["fields"] == {"age": 41, "birthday": "1985-03-01"} and r.json()["tags"] == ["b2b"]
    assert r.json()["display_name"] == "Ana Pérez"
    log = (await api.get("audit-log", entity_type="contact", entity_id=c["id"])).json()["items"]
    assert [e["action"] for e in log] == ["update", "create"]
    assert log[0]["before"]["tags"] == ["spanish", "vip"] and log[0]["after"]["tags"] == ["b2b"]


async def test_custom_field_validation_is_422_naming_every_field(api):
    await fields(api)
    r = await api.post("contacts", {"display_name": "x", "fields": {"age": "forty", "tier": "bronze",
                                                                     "birthday": "1985-02-30", "shoe": 1}})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert {d["field"] for d in err["details"]} == {"fields.age", "fields.tier", "fields.birthday", "fields.shoe"}
    assert "fields.tier: must be one of: gold, silver" in err["message"]
    assert (await api.get("contacts")).json()["total"] == 0  # nothing half-stored
    r = await api.post("contacts", {"fields": {"age": True}})
    assert r.status_code == 422 and "age" in r.json()["error"]["message"]


async def test_identities_must_be_valid_and_free(api):
    await fields(api)
    c = await api.create("contacts", ANA)
    r = await api.post("contacts", {"identities": [{"kind": "phone", "value": "202-555-0134"}]})
    assert r.status_code == 409 and str(c["id"]) in r.json()["error"]["message"]
    error = r.json()["error"]  # a reason and the details its sentence takes, for the Spanish interface
    assert error["reason"] == "identity_taken"
    assert (error["details"]["value"], error["details"]["contact_id"]) == ("+12025550134", c["id"])
    r = await api.post("contacts", {"identities": [{"kind": "phone", "value": "call me"}]})
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("identities[0].value")
    assert r.json()["error"]["reason"] == "identity_value_invalid"
    assert r.json()["error"]["details"] == {"field": "value", "value": "call me", "identity_kind": "phone"}
    r = await api.post(f"contacts/{c['id']}/identities", {"kind": "telegram", "value": "777000"})
    assert r.status_code == 201 and r.json()["value"] == "777000"
    other = await api.create("contacts", {"display_name": "Bea"})
    r = await api.post(f"contacts/{other['id']}/identities", {"kind": "telegram", "value": "777000"})
    assert r.status_code == 409 and r.json()["error"]["details"]["contact_id"] == c["id"]
    assert r.json()["error"]["reason"] == "identity_taken"
    assert (await api.delete(f"contacts/{c['id']}/identities/999")).status_code == 404
    ident = next(i for i in (await api.get(f"contacts/{c['id']}")).json()["identities"] if i["kind"] == "telegram")
    assert (await api.delete(f"contacts/{c['id']}/identities/{ident['id']}")).status_code == 204
    assert "telegram" not in [i["kind"] for i in (await api.get(f"contacts/{c['id']}")).json()["identities"]]


async def test_search_finds_a_phone_typed_in_national_format(api):
    await fields(api)
    ana = await api.create("contacts", ANA)
    await api.create("contacts", {"display_name": "Bea", "identities": [{"kind": "phone", "value": "+442071234567"}],
                                  "tags": ["b2b"]})
    wa = await api.create("contacts", {"identities": [{"kind": "whatsapp", "value": "12025550177"}]})

    async def ids(**q):
        r = await api.get("contacts", **q)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert await ids(search="202.555.0134") == [ana["id"]]  # stored as +12025550134, typed nationally
    assert await ids(search="+1 202 555 0134") == [ana["id"]]
    assert await ids(search="202.555.0177") == [wa["id"]]  # a WhatsApp id is found by its number too
    assert await ids(search="ana@EXAMPLE") == [ana["id"]]
    assert await ids(search="pérez") == [ana["id"]]
    assert await ids(tag="VIP") == [ana["id"]]
    assert await ids(identity_kind="email") == [ana["id"]]
    assert await ids(search="nobody") == []
    page = (await api.get("contacts", limit=2, order="-id")).json()
    assert page["total"] == 3 and [c["id"] for c in page["items"]] == [wa["id"], page["items"][1]["id"]]
    assert (await api.get("contacts", order="phone")).status_code == 422


async def test_timeline_has_calls_and_conversations_with_messages_in_order(api, clean_database, clock):
    sale = await api.create("dispositions", {"code": "SALE", "label": "Sale", "category": "success"})
    async with clean_database.session() as s:
        contact_id = (await resolve_phone(s, clock.now(), "+12025550134", "US")).id
    call_id = await call(clean_database, clock, contact_id=contact_id, recording="call-1.wav",
                         disposition_id=sale["id"])
    ch = await channel(clean_database, clock)
    conv_id, msg_ids = await conversation(clean_database, clock, ch, contact_id=contact_id, peer="12025550134",
                                          texts=[("in", "hola"), ("out", "¿en qué le ayudo?"), ("in", "factura")])
    await call(clean_database, clock, contact_id=None, caller="+15550000000")  # someone else's call
    r = await api.get(f"contacts/{contact_id}/timeline")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["interaction_id"] for i in items] == [conv_id, call_id] and r.json()["total"] == 2
    conv, voice = items
    assert [(m["id"], m["direction"], m["text"]) for m in conv["messages"]] == [
        (msg_ids[0], "in", "hola"), (msg_ids[1], "out", "¿en qué le ayudo?"), (msg_ids[2], "in", "factura")]
    assert voice["channel"] == "voice" and voice["messages"] == []
    assert voice["disposition"] == {"id": sale["id"], "code": "SALE", "label": "Sale"}
    assert voice["recording_url"] == f"/api/v1/interactions/{call_id}/recording"
    assert voice["notes"] == "asked about the invoice"
    assert [i["interaction_id"] for i in (await api.get(f"contacts/{contact_id}/timeline", limit=1, offset=1)).json()["items"]] == [call_id]
    assert (await api.get("contacts/999999/timeline")).status_code == 404


async def test_notes_keep_author_and_time(api, clock):
    c = await api.create("contacts", {"display_name": "Ana"})
    r = await api.post(f"contacts/{c['id']}/notes", {"text": "  prefers WhatsApp  "})
    assert r.status_code == 201 and r.json()["author"] == "admin" and r.json()["text"] == "prefers WhatsApp"
    assert r.json()["created_at"].startswith(clock.now().date().isoformat())
    assert (await api.post(f"contacts/{c['id']}/notes", {"text": "   "})).status_code == 422
    assert (await api.get(f"contacts/{c['id']}/notes")).json()["total"] == 1


async def test_field_definitions_are_admin_only_and_in_use_ones_stay(api):
    sup = await api.user("sup", "supervisor")
    assert (await api.post("contact-fields", {"key": "age", "label": "Age", "kind": "number"}, sup)).status_code == 403
    await fields(api)
    assert (await api.post("contact-fields", {"key": "age", "label": "Again", "kind": "text"})).status_code == 409
    assert (await api.post("contact-fields", {"key": "x", "label": "X", "kind": "choice"})).status_code == 422
    await api.create("contacts", ANA)
    tier = next(f for f in (await api.get("contact-fields", headers=sup)).json()["items"] if f["key"] == "tier")
    r = await api.patch(f"contact-fields/{tier['id']}", {"choices": ["silver"]})
    assert r.status_code == 409 and "gold" in r.json()["error"]["message"]
    assert (await api.delete(f"contact-fields/{tier['id']}")).status_code == 409
    assert (await api.patch(f"contact-fields/{tier['id']}", {"choices": ["gold", "silver", "bronze"]})).status_code == 200


async def test_agents_see_and_edit_only_contacts_of_their_interactions(api, clean_database, clock):
    q = await api.create("queues", {"name": "sales"})
    user = await api.create("users", {"username": "ana", "password": "password-123", "roles": ["agent"]})
    agent = await api.create("agents", {"user_id": user["id"], "number": "1001", "queues": [{"queue_id": q["id"]}]})
    mine = await api.create("contacts", {"display_name": "Mine"})
    theirs = await api.create("contacts", {"display_name": "Theirs"})
    await call(clean_database, clock, contact_id=mine["id"], queue_id=q["id"], agent_id=agent["id"])
    await call(clean_database, clock, contact_id=theirs["id"], queue_id=q["id"])
    ana = await api.login("ana", "password-123")
    assert [c["id"] for c in (await api.get("contacts", headers=ana)).json()["items"]] == [mine["id"]]
    assert (await api.get(f"contacts/{mine['id']}", headers=ana)).status_code == 200
    assert (await api.get(f"contacts/{mine['id']}/timeline", headers=ana)).status_code == 200
    assert (await api.get(f"contacts/{theirs['id']}", headers=ana)).status_code == 403
    assert (await api.patch(f"contacts/{mine['id']}", {"tags": ["callback"]}, ana)).status_code == 200
    assert (await api.post(f"contacts/{mine['id']}/notes", {"text": "ok"}, ana)).status_code == 201
    assert (await api.patch(f"contacts/{theirs['id']}", {"tags": ["x"]}, ana)).status_code == 403
    assert (await api.post("contacts", {"display_name": "new"}, ana)).status_code == 403
    body = {"source_contact_id": theirs["id"]}
    assert (await api.post(f"contacts/{mine['id']}/merge", body, ana)).status_code == 403
    assert (await api.get(f"contacts/{mine['id']}/export", headers=ana)).status_code == 403
    assert (await api.post(f"contacts/{mine['id']}/erase", {"confirm_contact_id": mine["id"]}, ana)).status_code == 403


async def test_supervisors_read_write_and_merge_but_neither_export_nor_erase(api):
    sup = await api.user("sup", "supervisor")
    a = await api.create("contacts", {"display_name": "A"})
    b = await api.create("contacts", {"display_name": "B"})
    assert (await api.get("contacts", headers=sup)).json()["total"] == 2
    assert (await api.post("contacts", {"display_name": "C"}, sup)).status_code == 201
    assert (await api.patch(f"contacts/{a['id']}", {"display_name": "A2"}, sup)).status_code == 200
    assert (await api.post(f"contacts/{a['id']}/merge", {"source_contact_id": b["id"]}, sup)).status_code == 201
    assert (await api.get(f"contacts/{a['id']}/export", headers=sup)).status_code == 403
    assert (await api.post(f"contacts/{a['id']}/erase", {"confirm_contact_id": a["id"]}, sup)).status_code == 403
    assert (await api.delete(f"contacts/{a['id']}", sup)).status_code == 403
    assert (await api.get("contacts")).status_code == 200
    assert (await api.client.get("/api/v1/contacts")).status_code == 401
