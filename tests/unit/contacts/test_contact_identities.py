"""Identity normal forms: the same person must produce the same (kind, value) on every channel."""

import pytest

from teleplex.contacts.identities import (
    IdentityKind,
    InvalidIdentity,
    identity_kind,
    implied_phone,
    normalise,
    provider_phone,
    search_phone,
)


@pytest.mark.parametrize(
    "raw, region, e164",
    [
        ("+1 (202) 555-0134", "US", "+12025550134"),
        ("(202) 555-0134", "US", "+12025550134"),
        ("202.555.0134", "US", "+12025550134"),
        ("099 123 4567", "EC", "+593991234567"),
        ("+593 99 123 4567", "US", "+593991234567"),
    ],
)
def test_phone_numbers_are_stored_in_e164_whatever_the_typing(raw, region, e164):
    assert normalise("phone", raw, region) == (IdentityKind.PHONE, e164)


def test_whatsapp_id_is_the_number_without_plus_and_implies_the_phone():
    kind, value = normalise("whatsapp", "16505551234")
    assert (kind, value) == (IdentityKind.WHATSAPP, "16505551234")
    assert implied_phone(kind, value) == "+16505551234"
    assert normalise("whatsapp", "+1 650 555 1234")[1] == "16505551234"


def test_messaging_alias_for_the_business_scoped_id_maps_to_one_kind():
    assert identity_kind("whatsapp_user") is IdentityKind.WHATSAPP_BSUID
    assert normalise("whatsapp_user", "US.13491208655302741918") == (
        IdentityKind.WHATSAPP_BSUID, "US.13491208655302741918")
    assert implied_phone(IdentityKind.WHATSAPP_BSUID, "US.1") is None


def test_email_is_lowercased_visitor_ids_are_kept_exactly():
    assert normalise("email", " Ana@Example.COM ")[1] == "ana@example.com"
    assert normalise("visitor", "v_AbC-123")[1] == "v_AbC-123"
    assert normalise("visitor_verified", "crm:42")[1] == "crm:42"


@pytest.mark.parametrize(
    "kind, value",
    [("phone", "call me"), ("phone", "12"), ("telegram", "abc"), ("email", "not-an-email"),
     ("visitor", "has space"), ("whatsapp_bsuid", "bad id!"), ("whatsapp", "")],
)
def test_impossible_identities_are_refused_naming_the_value(kind, value):
    with pytest.raises(InvalidIdentity) as err:
        normalise(kind, value)
    assert err.value.message.startswith("value:") and err.value.status == 422


def test_unknown_kind_is_refused_listing_the_known_ones():
    with pytest.raises(InvalidIdentity) as err:
        normalise("fax", "123")
    assert "phone" in err.value.message and "visitor_verified" in err.value.message


def test_provider_phones_without_plus_read_as_international_when_valid():
    assert provider_phone("593991234567", "US") == "+593991234567"  # Telegram's shared contacts drop the "+"
    assert provider_phone("2025550134", "US") == "+12025550134"  # ten digits: a national number
    assert provider_phone("nonsense", "US") is None


@pytest.mark.parametrize(
    "text, expected",
    [("(202) 555-0134", "+12025550134"), ("202 555 0134", "+12025550134"), ("+1 202-555-0134", "+12025550134"),
     ("ana", None), ("0134", None), ("ana 555 0134", None)],
)
def test_search_text_that_reads_as_a_phone_becomes_e164(text, expected):
    assert search_phone(text, "US") == expected
