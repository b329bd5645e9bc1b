"""Which callbacks are due, in what order, and when a personal one goes to the team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st

from teleplex.campaigns.due import PendingCallback, due

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def cb(i, due_at=None, until=None, agent=None, source="agent", requested=NOW - 60 * M):
    return PendingCallback(i, requested, due_at, until, agent, source)


def test_future_and_missed_callbacks_are_not_due():
    items = [cb(1, due_at=NOW + M), cb(2, due_at=NOW - 60 * M, until=NOW), cb(3)]
    assert [d.id for d in due(items, NOW)] == [3]


def test_closing_windows_then_waiting_callers_then_the_most_overdue():
    items = [cb(1, due_at=NOW - 50 * M), cb(2, source="inbound_overflow", requested=NOW - M),
             cb(3, due_at=NOW - M, until=NOW + 10 * M), cb(4, due_at=NOW - 5 * M)]  # fmt: skip
    assert [d.id for d in due(items, NOW)] == [3, 2, 1, 4]


def test_a_personal_callback_is_the_agents_until_the_grace_period_ends():
    item = cb(1, due_at=NOW, agent=7)
    first = due([item], NOW + 14 * M, grace=15 * M)[0]
    assert first.agent_id == 7 and not first.handed_to_team
    later = due([item], NOW + 15 * M, grace=15 * M)[0]
    assert later.agent_id is None and later.handed_to_team


@given(st.lists(st.tuples(st.integers(-120, 120), st.one_of(st.none(), st.integers(-60, 240)),
                          st.one_of(st.none(), st.integers(1, 5))), max_size=15))
def test_due_callbacks_have_started_and_are_not_missed(specs):
    items = [cb(i, due_at=NOW + s * M, until=None if u is None else NOW + u * M, agent=a)
             for i, (s, u, a) in enumerate(specs)]  # fmt: skip
    result = due(items, NOW)
    by_id = {c.id: c for c in items}
    for d in result:
        c = by_id[d.id]
        assert c.due_at <= NOW and (c.due_until is None or NOW < c.due_until)
    assert [d.priority for d in result] == sorted((d.priority for d in result), reverse=True)
