"""The identity graph through resolve_identity and link_identity: channels meet on one profile, untrusted
data never links, and two existing profiles merge only on trusted evidence (audited, undoable)."""

import pytest
from sqlalchemy import select

from teleplex.contacts.models import Contact, ContactMerge, ContactSuggestion
from teleplex.contacts.service import IdentityTaken, link_identity, resolve, resolve_identity, resolve_phone
from teleplex.core.errors import InvalidInput


def kinds(contact):
    return sorted((i.kind, i.value) for i in contact.identities)


async def test_a_call_and_a_whatsapp_from_the_same_number_land_on_one_contact(clean_database, clock):
    async with clean_database.session() as s:
        caller = await resolve_phone(s, clock.now(), "(202) 555-0134", "US", "ANA P")
    async with clean_database.session() as s:
        chat = await resolve_identity(s, clock.now(), "whatsapp", "12025550134", display_name="Ana Pérez",
                                      source="whatsapp")
        sms = await resolve_identity(s, clock.now(), "phone", "+12025550134")
        assert chat.id == caller.id == sms.id
        assert kinds(chat) == [("phone", "+12025550134"), ("whatsapp", "12025550134")]
        assert chat.display_name == "ANA P"  # a name already known is not overwritten by a channel
        assert (await s.execute(select(Contact))).scalars().all() == [chat]


async def test_a_whatsapp_first_contact_is_found_again_by_a_later_call(clean_database, clock):
    async with clean_database.session() as s:
        chat = await resolve_identity(s, clock.now(), "whatsapp", "12025550134", display_name="Ana")
    async with clean_database.session() as s:
        caller = await resolve_phone(s, clock.now(), "+1 202 555 0134", "US")
        assert caller.id == chat.id and caller.display_name == "Ana"


async def test_untrusted_telegram_shared_contact_does_not_link_and_leaves_a_suggestion(clean_database, clock):
    async with clean_database.session() as s:
        owner = await resolve_phone(s, clock.now(), "+12025550134", "US")
    async with clean_database.session() as s:
        tg = await resolve_identity(s, clock.now(), "telegram", "777000", display_name="mallory",
                                    phone="+12025550134", trusted=False)
        again = await resolve_identity(s, clock.now(), "telegram", "777000", phone="+12025550134", trusted=False)
        assert tg.id != owner.id and again.id == tg.id
        assert kinds(tg) == [("telegram", "777000")]
        suggestions = (await s.execute(select(ContactSuggestion))).scalars().all()
        assert [(x.contact_id, x.other_contact_id, x.reason, x.phone) for x in suggestions] == [
            (tg.id, owner.id, "phone_owned_by_other", "+12025550134")]
    async with clean_database.session() as s:
        owner = await s.get(Contact, owner.id)
        assert kinds(owner) == [("phone", "+12025550134")]


async def test_untrusted_phone_nobody_owns_is_not_claimed_either(clean_database, clock):
    async with clean_database.session() as s:
        tg = await resolve_identity(s, clock.now(), "telegram", "777000", phone="+12025550134", trusted=False)
        assert kinds(tg) == [("telegram", "777000")]
    async with clean_database.session() as s:
        caller = await resolve_phone(s, clock.now(), "+12025550134", "US")
        assert caller.id != tg.id


async def test_trusted_telegram_shared_contact_joins_the_phones_profile(clean_database, clock):
    async with clean_database.session() as s:
        owner = await resolve_phone(s, clock.now(), "+12025550134", "US")
    async with clean_database.session() as s:
        tg = await resolve_identity(s, clock.now(), "telegram", "777000", phone="12025550134", trusted=True)
        assert tg.id == owner.id
        assert kinds(tg) == [("phone", "+12025550134"), ("telegram", "777000")]


async def test_a_bsuid_profile_meeting_its_phone_is_merged_into_the_phones_profile(clean_database, clock):
    async with clean_database.session() as s:
        bsuid = await resolve_identity(s, clock.now(), "whatsapp_user", "US.1349", display_name="ana_wa")
        caller = await resolve_phone(s, clock.now(), "+12025550134", "US")
    async with clean_database.session() as s:
        found = await resolve_identity(s, clock.now(), "whatsapp_bsuid", "US.1349", phone="12025550134")
        assert found.id == caller.id
        assert kinds(found) == [("phone", "+12025550134"), ("whatsapp", "12025550134"),
                                ("whatsapp_bsuid", "US.1349")]
        merge = (await s.execute(select(ContactMerge))).scalar_one()
        assert (merge.target_id, merge.source_id, merge.merged_by) == (caller.id, bsuid.id, "system")
        assert (await s.get(Contact, bsuid.id)).merged_into_id == caller.id


async def test_link_identity_is_idempotent_and_refuses_anothers_identity(clean_database, clock):
    async with clean_database.session() as s:
        ana = await resolve_phone(s, clock.now(), "+12025550134", "US")
        bea = await resolve_phone(s, clock.now(), "+12025550199", "US")
        first = await link_identity(s, ana.id, "visitor_verified", "crm:42", clock.now(), "webchat")
        again = await link_identity(s, ana.id, "visitor_verified", "crm:42", clock.now(), "webchat")
        assert first.id == again.id and first.source == "webchat"
        with pytest.raises(IdentityTaken) as err:
            await link_identity(s, bea.id, "visitor_verified", "crm:42", clock.now(), "webchat")
        assert err.value.status == 409 and err.value.details["contact_id"] == ana.id
        assert err.value.reason == "identity_taken"
        with pytest.raises(InvalidInput) as invalid:
            await link_identity(s, bea.id, "email", "nope", clock.now(), "agent")
        assert invalid.value.reason == "identity_value_invalid"
        with pytest.raises(InvalidInput) as invalid:
            await link_identity(s, bea.id, "fax", "1", clock.now(), "agent")
        assert invalid.value.reason == "identity_kind_unknown" and invalid.value.details["value"] == "fax"


async def test_resolve_never_refuses_an_odd_identity_the_channels_hand_over(clean_database, clock):
    async with clean_database.session() as s:
        odd = await resolve(s, clock.now(), "webchat_session", "abc def")
        assert (await resolve(s, clock.now(), "webchat_session", "abc def")).id == odd.id
        assert await resolve_phone(s, clock.now(), "anonymous", "US") is None


async def test_a_profile_created_meanwhile_by_another_writer_is_reused_not_duplicated(clean_database, clock):
    """Two messages from a new customer at once: the loser of the unique index takes the winner's profile."""
    from teleplex.contacts import graph
    from teleplex.contacts.identities import IdentityKind

    async with clean_database.session() as s:
        first = await graph._create(s, clock.now(), IdentityKind.TELEGRAM, "777000", "a", "telegram")
        second = await graph._create(s, clock.now(), IdentityKind.TELEGRAM, "777000", "b", "telegram")
        assert second.id == first.id
        ana = await resolve_phone(s, clock.now(), "+12025550134", "US")
        with pytest.raises(IdentityTaken):
            await graph.insert_identity(s, ana, IdentityKind.TELEGRAM, "777000", clock.now(), "agent")
    async with clean_database.session() as s:
        assert len((await s.execute(select(Contact))).scalars().all()) == 2


async def test_a_suggestion_shows_on_both_profiles_until_someone_dismisses_it(api, clean_database, clock):
    async with clean_database.session() as s:
        owner = await resolve_phone(s, clock.now(), "+12025550134", "US")
        tg = await resolve_identity(s, clock.now(), "telegram", "777000", phone="+12025550134", trusted=False)
    shown = (await api.get(f"contacts/{owner.id}")).json()["suggestions"]
    assert [(x["contact_id"], x["other_contact_id"], x["kind"], x["value"]) for x in shown] == [
        (tg.id, owner.id, "telegram", "777000")]
    assert (await api.get(f"contacts/{tg.id}")).json()["suggestions"] == shown
    assert (await api.delete(f"contacts/{owner.id}/suggestions/999")).status_code == 404
    assert (await api.delete(f"contacts/{owner.id}/suggestions/{shown[0]['id']}")).status_code == 204
    assert (await api.get(f"contacts/{tg.id}")).json()["suggestions"] == []
