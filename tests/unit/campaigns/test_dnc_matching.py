"""Do-not-call matching: global entries block every campaign, a campaign's only its own."""

from __future__ import annotations

from hypothesis import given, strategies as st

from teleplex.campaigns.dnc import Entry, blocking, normalise, scope_key


def test_global_blocks_every_campaign_and_campaign_entries_only_theirs():
    entries = [Entry("+12125550100", None), Entry("+13125550101", 1)]
    assert blocking(entries, "+12125550100", 7) == [entries[0]]
    assert blocking(entries, "+13125550101", 1) == [entries[1]]
    assert blocking(entries, "+13125550101", 2) == []


def test_numbers_are_matched_in_e164_whatever_the_format():
    assert normalise("(212) 555-0100", "US") == normalise("+1 212 555 0100", "US") == "+12125550100"
    assert normalise("hello", "US") is None


def test_scope_keys_keep_global_entries_unique():
    assert scope_key(None) == "global" and scope_key(4) == "campaign:4"


@given(st.lists(st.tuples(st.sampled_from(["+1", "+2", "+3"]), st.one_of(st.none(), st.integers(1, 3)))),
       st.sampled_from(["+1", "+2", "+3"]), st.integers(1, 3))
def test_blocked_exactly_when_a_global_or_own_entry_exists(raw, number, campaign):
    entries = [Entry(n, c) for n, c in raw]
    expected = any(n == number and c in (None, campaign) for n, c in raw)
    assert bool(blocking(entries, number, campaign)) == expected
