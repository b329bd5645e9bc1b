"""Delivery statuses merge forward only, whatever order the callbacks arrive in."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, strategies as st

from teleplex.messaging.status import DeliveryStatus as S, merge, normalise

OUTBOUND = [S.QUEUED, S.SENT, S.DELIVERED, S.READ, S.PLAYED, S.FAILED]


@pytest.mark.parametrize(
    ("current", "incoming", "result"),
    [
        (S.QUEUED, S.SENT, S.SENT),
        (S.SENT, S.DELIVERED, S.DELIVERED),
        (S.DELIVERED, S.READ, S.READ),
        (S.READ, S.DELIVERED, S.READ),
        (S.READ, S.SENT, S.READ),
        (S.READ, S.PLAYED, S.PLAYED),
        (S.SENT, S.FAILED, S.FAILED),
        (S.QUEUED, S.FAILED, S.FAILED),
        (S.FAILED, S.SENT, S.FAILED),
        (S.FAILED, S.DELIVERED, S.DELIVERED),  # a later delivery proves the failure report wrong
        (S.FAILED, S.READ, S.READ),
        (S.DELIVERED, S.FAILED, S.DELIVERED),
        (None, S.DELIVERED, S.DELIVERED),
        (S.RECEIVED, S.READ, S.RECEIVED),  # inbound messages have no delivery status to move
    ],
)
def test_merge_moves_forward_only(current: S | None, incoming: S, result: S) -> None:
    assert merge(current, incoming) is result


@given(st.lists(st.sampled_from(OUTBOUND), min_size=1, max_size=8))
def test_the_outcome_does_not_depend_on_arrival_order(updates: list[S]) -> None:
    outcomes = set()
    for order in itertools.islice(itertools.permutations(updates), 50):
        state: S | None = None
        for u in order:
            state = merge(state, u)
        outcomes.add(state)
    assert len(outcomes) == 1


@given(st.lists(st.sampled_from(OUTBOUND), min_size=1, max_size=8))
def test_merging_twice_changes_nothing(updates: list[S]) -> None:
    state: S | None = None
    for u in updates:
        state = merge(state, u)
        assert merge(state, u) is state


@pytest.mark.parametrize(("word", "status"), [("delivered", S.DELIVERED), ("undelivered", S.FAILED),
                                              ("Queued", S.QUEUED), ("played", S.PLAYED), ("deleted", None)])
def test_provider_words_are_normalised(word: str, status: S | None) -> None:
    assert normalise(word) is status
