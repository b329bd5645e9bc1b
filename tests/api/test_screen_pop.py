"""The screen-pop settings of queues and campaigns (http/https URLs with known placeholders only, a clear
422 otherwise) and the filled URL an agent's console opens for an interaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from teleplex.campaigns.models import Attempt
from teleplex.contacts.models import Contact
from teleplex.core.db import Database
from teleplex.interactions.models import Interaction

TEMPLATE = "https://crm.example/search?phone={caller}&queue={queue}&id={interaction}&name={contact_name}"


@pytest.mark.parametrize(("template", "says"), [
    ("https://crm.example/?p={phone}", "unknown placeholder(s) {phone}"),
    ("javascript:alert(1)", "must be an http:// or https:// URL"),
    ("https://crm.example/?p={caller", "brace without its pair"),
    ("x" * 2001, "at most 2000 characters"),
])
async def test_a_bad_queue_crm_template_is_422_saying_why(api, template: str, says: str) -> None:
    r = await api.post("queues", {"name": "sales", "crm_url_template": template})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert "crm_url_template" in error["message"] and says in error["message"], error


async def test_queue_screen_pop_settings_are_stored_changed_and_cleared(api) -> None:
    q = await api.create("queues", {"name": "sales"})
    assert (q["crm_url_template"], q["screen_pop_mode"]) == (None, "tab")
    r = await api.patch(f"queues/{q['id']}", {"crm_url_template": TEMPLATE, "screen_pop_mode": "embed"})
    assert r.status_code == 200, r.text
    assert (r.json()["crm_url_template"], r.json()["screen_pop_mode"]) == (TEMPLATE, "embed")
    r = await api.patch(f"queues/{q['id']}", {"screen_pop_mode": "window"})
    assert r.status_code == 422 and "screen_pop_mode" in r.json()["error"]["message"]
    r = await api.patch(f"queues/{q['id']}", {"screen_pop_mode": None})
    assert r.status_code == 422 and "screen_pop_mode" in r.json()["error"]["message"]
    r = await api.patch(f"queues/{q['id']}", {"crm_url_template": None})
    assert r.status_code == 200 and r.json()["crm_url_template"] is None and r.json()["screen_pop_mode"] == "embed"


async def test_campaign_crm_template_is_validated_and_stored(api) -> None:
    queue = await api.create("queues", {"name": "outbound"})
    r = await api.post("campaigns", {"name": "winter", "queue_id": queue["id"],
                                     "crm_url_template": "ftp://crm.example/{lead_id}"})  # fmt: skip
    assert r.status_code == 422 and "http:// or https://" in r.json()["error"]["message"]
    campaign = await api.create("campaigns", {"name": "winter", "queue_id": queue["id"],
                                              "crm_url_template": "https://crm.example/lead/{lead_id}?c={campaign}",
                                              "screen_pop_mode": "embed"})  # fmt: skip
    assert campaign["crm_url_template"] == "https://crm.example/lead/{lead_id}?c={campaign}"
    assert campaign["screen_pop_mode"] == "embed"
    r = await api.patch(f"campaigns/{campaign['id']}", {"crm_url_template": "https://crm.example/?x={queue_name}"})
    assert r.status_code == 422 and "{queue_name}" in r.json()["error"]["message"]


async def _interaction(db: Database, api, queue_id: int, **extra) -> int:
    """A live call in this queue from a known contact, written as the engine would."""
    async with db.session() as session:
        contact = Contact(display_name="Ada & Co", created_at=datetime.now(UTC), updated_at=datetime.now(UTC))
        session.add(contact)
        await session.flush()
        values = {"channel": "voice", "direction": "inbound", "state": "connected", "queue_id": queue_id,
                  "contact_id": contact.id, "caller_id": "+34600111222", "arrived_at": datetime.now(UTC), **extra}
        row = Interaction(**values)
        session.add(row)
        await session.flush()
        return row.id


async def test_the_queue_screen_pop_is_filled_for_an_interaction_in_scope(api, clean_database: Database) -> None:
    queue = await api.create("queues", {"name": "Ventas ES", "crm_url_template": TEMPLATE})
    interaction_id = await _interaction(clean_database, api, queue["id"])
    r = await api.get(f"interactions/{interaction_id}/screen-pop")
    assert r.status_code == 200, r.text
    assert r.json() == {"url": f"https://crm.example/search?phone=%2B34600111222&queue=Ventas%20ES"
                               f"&id={interaction_id}&name=Ada%20%26%20Co", "mode": "tab", "source": "queue"}
    outsider = await api.user("zoe", "agent")
    assert (await api.get(f"interactions/{interaction_id}/screen-pop", headers=outsider)).status_code == 403
    plain = await api.create("queues", {"name": "plain"})
    other = await _interaction(clean_database, api, plain["id"])
    assert (await api.get(f"interactions/{other}/screen-pop")).json() == {"url": None, "mode": None, "source": None}
    assert (await api.get("interactions/999999/screen-pop")).status_code == 404


async def test_a_campaign_call_pops_the_campaign_template_over_the_queue(api, clean_database: Database) -> None:
    queue = await api.create("queues", {"name": "outbound", "crm_url_template": TEMPLATE})
    campaign = await api.create("campaigns", {"name": "winter", "queue_id": queue["id"],
                                              "crm_url_template": "https://crm.example/lead?c={campaign}&l={lead_id}",
                                              "screen_pop_mode": "embed"})  # fmt: skip
    interaction_id = await _interaction(clean_database, api, queue["id"], direction="outbound")
    async with clean_database.session() as session:
        session.add(Attempt(campaign_id=campaign["id"], lead_id=None, number="+34600111222",
                            dialed_at=datetime.now(UTC), interaction_id=interaction_id))  # fmt: skip
    r = await api.get(f"interactions/{interaction_id}/screen-pop")
    assert r.json() == {"url": "https://crm.example/lead?c=winter&l=", "mode": "embed", "source": "campaign"}
