"""Voice routing behaviour: ringing, answers, timeouts, wrap-up, overflow and pauses."""

from __future__ import annotations

import pytest
from routing_harness import Harness, moves, of_type, offers

from teleplex.routing import (
    AgentBusy,
    AgentStateChanged,
    ItemNotConnected,
    OfferNotFound,
    OfferRescinded,
    OfferTimedOut,
    Overflow,
    PauseExceeded,
    Presence,
    QueueNotEmpty,
    WrapUpEnded,
)

P = Presence


def test_call_rings_free_agent_and_connects_on_accept(h: Harness) -> None:
    h.queue(offer_timeout_s=15)
    h.agent("alice")
    out = h.item("c1")
    assert offers(out) == [("c1", "alice")]
    assert out[0].timeout_s == 15 and out[0].deadline == h.at(15)
    assert moves(out, "alice") == [(P.READY, P.RINGING)]
    out = h.router.offer_accepted("c1", "alice")
    assert moves(out, "alice") == [(P.RINGING, P.ON_CALL)]


def test_ring_no_answer_offers_next_agent(h: Harness) -> None:
    h.queue(offer_timeout_s=10)
    h.agent("alice")
    h.clock.advance(1)
    h.agent("bob")
    assert offers(h.item("c1")) == [("c1", "alice")]
    assert h.router.next_deadline() == h.at(11)
    out = h.advance(10)
    assert of_type(out, OfferTimedOut)[0].agent_id == "alice"
    assert offers(out) == [("c1", "bob")]


def test_missed_pause_on_no_answer(h: Harness) -> None:
    h.queue(offer_timeout_s=10)
    h.agent("alice")
    h.item("c1")
    out = h.advance(10)
    assert moves(out, "alice") == [(P.RINGING, P.PAUSED)]
    (changed,) = of_type(out, AgentStateChanged)
    assert changed.pause_reason == "missed" and changed.reason == "timed_out"
    h.advance(60)
    assert offers(h.router.agent_ready("alice")) == [("c1", "alice")]


def test_missed_pause_can_be_turned_off_per_queue() -> None:
    h = Harness(missed_pause=True)
    h.queue(offer_timeout_s=10, missed_pause=False)
    h.agent("alice")
    h.item("c1")
    out = h.advance(10)
    assert moves(out, "alice") == [(P.RINGING, P.READY)]


def test_declined_agent_is_not_rung_again_while_another_is_free() -> None:
    h = Harness(missed_pause=False, reoffer_delay_s=5)
    h.queue()
    h.agent("alice")
    h.clock.advance(1)
    h.agent("bob")
    h.item("c1")
    out = h.router.offer_declined("c1", "alice")
    assert offers(out) == [("c1", "bob")]
    # bob declines too: alice has cooled down only after 5 s, and then comes first (declined once, like bob)
    out = h.router.offer_declined("c1", "bob")
    assert offers(out) == []
    assert h.router.next_deadline() == h.at(6)
    out = h.advance(5)
    assert offers(out) == [("c1", "alice")]


def test_only_agent_who_declined_gets_item_again_after_delay() -> None:
    h = Harness(missed_pause=False, reoffer_delay_s=5)
    h.queue()
    h.agent("alice")
    h.item("c1")
    assert offers(h.router.offer_declined("c1", "alice")) == []
    assert offers(h.advance(4.9)) == []
    assert offers(h.advance(0.1)) == [("c1", "alice")]


def test_agent_with_voice_capacity_one_is_never_rung_twice(h: Harness) -> None:
    h.queue()
    h.agent("alice")
    assert offers(h.item("c1")) == [("c1", "alice")]
    assert offers(h.item("c2")) == []
    h.router.offer_accepted("c1", "alice")
    assert offers(h.advance(1)) == []


def test_wrapup_then_ready(h: Harness) -> None:
    h.queue(wrapup_s=30)
    h.agent("alice")
    h.item("c1")
    h.router.offer_accepted("c1", "alice")
    h.item("c2")
    out = h.router.interaction_ended("c1")
    assert moves(out, "alice") == [(P.ON_CALL, P.WRAP_UP)]
    assert offers(out) == []
    assert h.router.next_deadline() == h.at(30)
    out = h.advance(30)
    assert of_type(out, WrapUpEnded) == [WrapUpEnded("alice", "c1", early=False, at=h.at(30))]
    assert moves(out, "alice") == [(P.WRAP_UP, P.READY), (P.READY, P.RINGING)]
    assert offers(out) == [("c2", "alice")]


def test_agent_ends_wrapup_early(h: Harness) -> None:
    h.queue(wrapup_s=30)
    h.agent("alice")
    h.item("c1")
    h.router.offer_accepted("c1", "alice")
    h.router.interaction_ended("c1")
    h.clock.advance(3)
    out = h.router.end_wrapup("alice")
    assert of_type(out, WrapUpEnded) == [WrapUpEnded("alice", "c1", early=True, at=h.at(3))]
    assert h.state("alice") == P.READY
    assert h.router.next_deadline() is None


def test_pause_after_current_interaction(h: Harness) -> None:
    h.queue(wrapup_s=10)
    h.agent("alice")
    h.item("c1")
    h.router.offer_accepted("c1", "alice")
    assert h.router.pause_after_current("alice", "lunch") == []
    h.item("c2")
    h.router.interaction_ended("c1")
    out = h.advance(10)
    assert moves(out, "alice") == [(P.WRAP_UP, P.PAUSED)]
    assert offers(out) == []
    assert h.router.snapshot().agents[0].pause_reason == "lunch"


def test_pause_now_rescinds_the_ringing_offer_without_missed_pause(h: Harness) -> None:
    h.queue()
    h.agent("alice")
    h.agent("bob")
    h.item("c1")
    out = h.router.agent_pause("alice", "break")
    assert of_type(out, OfferRescinded) == [OfferRescinded("c1", "alice", "pause", h.at(0))]
    assert moves(out, "alice") == [(P.RINGING, P.PAUSED)]
    assert offers(out) == [("c1", "bob")]


def test_pause_exceeded_alert_once() -> None:
    h = Harness(pause_limits={"break": 300})
    h.queue()
    h.agent("alice")
    h.router.agent_pause("alice", "break")
    assert h.router.next_deadline() == h.at(300)
    assert of_type(h.advance(299), PauseExceeded) == []
    out = h.advance(1)
    assert of_type(out, PauseExceeded) == [PauseExceeded("alice", "break", 300, h.at(300))]
    assert h.router.next_deadline() is None
    assert of_type(h.advance(1000), PauseExceeded) == []


def test_pause_limit_given_with_the_pause_overrides_the_router_table() -> None:
    h = Harness(pause_limits={"break": 300})
    h.queue()
    h.agent("alice")
    h.router.agent_pause("alice", "break", max_seconds=60)
    assert of_type(h.advance(60), PauseExceeded)[0].limit_s == 60


def test_overflow_after_max_wait(h: Harness) -> None:
    h.queue(max_wait_s=120, overflow_target={"queue": "backup"})
    h.item("c1")
    assert h.router.next_deadline() == h.at(120)
    out = h.advance(120)
    assert of_type(out, Overflow) == [Overflow("c1", "sales", {"queue": "backup"}, h.at(120))]
    assert h.router.snapshot().items == ()
    assert h.router.next_deadline() is None


def test_ringing_item_overflows_only_after_the_offer_ends(h: Harness) -> None:
    h.queue(max_wait_s=10, offer_timeout_s=20)
    h.agent("alice")
    h.agent("bob")
    h.item("c1")
    assert of_type(h.advance(10), Overflow) == []
    out = h.advance(10)
    assert of_type(out, OfferTimedOut) and of_type(out, Overflow)
    assert offers(out) == []


def test_withdrawn_ringing_call_stops_ringing_without_pause(h: Harness) -> None:
    h.queue()
    h.agent("alice")
    h.item("c1")
    out = h.router.withdraw("c1")
    assert of_type(out, OfferRescinded) == [OfferRescinded("c1", "alice", "abandoned", h.at(0))]
    assert moves(out, "alice") == [(P.RINGING, P.READY)]


def test_transfer_of_connected_call_frees_agent_into_wrapup_and_requeues(h: Harness) -> None:
    h.queue("sales", wrapup_s=5)
    h.queue("support")
    h.agent("alice", ["sales"])
    h.agent("bob", ["support"])
    h.item("c1")
    h.router.offer_accepted("c1", "alice")
    out = h.router.transfer_to_queue("c1", "support")
    assert moves(out, "alice") == [(P.ON_CALL, P.WRAP_UP)]
    assert offers(out) == [("c1", "bob")]


def test_late_accept_after_timeout_is_refused(h: Harness) -> None:
    h.queue(offer_timeout_s=10)
    h.agent("alice")
    h.item("c1")
    h.advance(10)
    with pytest.raises(OfferNotFound):
        h.router.offer_accepted("c1", "alice")


def test_logout_refused_while_on_call_and_rescinds_ringing(h: Harness) -> None:
    h.queue()
    h.agent("alice")
    h.agent("bob")
    h.item("c1")
    h.item("c2")
    h.router.offer_accepted("c1", "alice")
    with pytest.raises(AgentBusy):
        h.router.agent_logout("alice")
    out = h.router.agent_logout("bob")
    assert of_type(out, OfferRescinded)[0].item_id == "c2"
    assert moves(out, "bob") == [(P.RINGING, P.LOGGED_OUT)]


def test_queue_with_waiting_items_cannot_be_removed(h: Harness) -> None:
    h.queue()
    h.item("c1")
    with pytest.raises(QueueNotEmpty):
        h.router.remove_queue("sales")
    h.router.withdraw("c1")
    assert h.router.remove_queue("sales") == []


def test_ending_an_unconnected_item_is_refused_without_change(h: Harness) -> None:
    h.queue()
    h.item("c1")
    before = h.router.snapshot()
    with pytest.raises(ItemNotConnected):
        h.router.interaction_ended("c1")
    assert h.router.snapshot() == before
