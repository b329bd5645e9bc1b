"""A waiting caller's place in line follows the router's own order, and the expected wait its handle times."""

from routing_harness import Harness, offers


def test_place_in_line_follows_priority_not_only_arrival():
    h = Harness()
    h.queue("sales", priority=0)
    h.item("early")
    h.clock.advance(5)
    h.item("vip", priority_bump=5)  # later, but the router will offer it first
    h.clock.advance(5)
    h.item("late")
    assert [h.router.place_in_line(i) for i in ("vip", "early", "late")] == [1, 2, 3]


def test_aging_moves_a_long_wait_ahead_of_a_fresh_priority_item():
    h = Harness()
    h.queue("sales", aging_s=10)
    h.item("old")
    h.clock.advance(30)  # three aging steps
    h.item("bumped", priority_bump=2)
    assert h.router.place_in_line("old") == 1 and h.router.place_in_line("bumped") == 2


def test_a_call_being_offered_counts_ahead_of_the_waiting_ones():
    h = Harness()
    h.queue("sales", wrapup_s=0)
    h.item("first")
    h.item("second")
    assert offers(h.agent("ana")) == [("first", "ana")]
    assert h.router.place_in_line("second") == 2


def test_expected_wait_is_unknown_before_any_call_is_handled():
    h = Harness()
    h.queue("sales", wrapup_s=0)
    h.agent("ana")
    h.router.agent_pause("ana", "lunch")
    h.item("c1")
    assert h.router.expected_wait_s("c1") is None


def test_expected_wait_is_place_times_handle_time_over_serving_agents():
    h = Harness()
    h.queue("sales", wrapup_s=20)
    h.agent("ana")
    h.agent("bob")
    for call in ("c1", "c2"):
        (item, agent), = offers(h.item(call))
        h.router.offer_accepted(item, agent)
    h.clock.advance(100)  # both talk 100 s, then wrap up 20 s: 120 s handled each
    h.router.interaction_ended("c1")
    h.router.interaction_ended("c2")
    h.item("w1")
    h.item("w2")
    assert h.router.expected_wait_s("w1") == 1 * 120 / 2
    assert h.router.expected_wait_s("w2") == 2 * 120 / 2
    h.router.agent_pause("bob", "lunch")  # one fewer agent serving: the wait doubles
    assert h.router.expected_wait_s("w2") == 2 * 120 / 1
