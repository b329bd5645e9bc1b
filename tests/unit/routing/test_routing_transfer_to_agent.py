"""A transfer by name: the item is offered to one agent only, and returns to its queue if they do not take it."""

import pytest

from routing_harness import Harness, of_type, offers
from teleplex.routing import AgentNotFound, AgentSpec, OfferRescinded


def connected_to(h: Harness, item: str, agent: str) -> None:
    assert offers(h.item(item)) == [(item, agent)]
    h.router.offer_accepted(item, agent)


def test_transfer_offers_the_call_to_the_named_agent_only():
    h = Harness()
    h.queue(wrapup_s=0)
    h.agent("ana")
    connected_to(h, "c1", "ana")
    h.agent("bob")  # ready, in the queue, idle longest after ana: would win normal routing
    h.router.agent_login(AgentSpec(id="cy", queues={}))
    decisions = h.router.transfer_to_agent("c1", "cy")
    assert offers(decisions) == [("c1", "cy")]  # cy is in no queue: a transfer by name still reaches them
    assert h.state("ana") == "ready"


def test_named_agent_who_does_not_answer_returns_the_call_to_its_queue():
    h = Harness()
    h.queue(wrapup_s=0, offer_timeout_s=10)
    h.agent("ana")
    connected_to(h, "c1", "ana")
    h.agent("bob")
    h.agent("cy")
    h.router.pause_after_current("bob", "lunch")  # bob takes nothing new
    assert offers(h.router.transfer_to_agent("c1", "cy")) == [("c1", "cy")]
    decisions = h.advance(10)  # cy never answers
    assert ("c1", "ana") in offers(decisions)  # back to normal routing: ana is free again


def test_transfer_to_an_agent_who_is_not_logged_in_is_refused():
    h = Harness()
    h.queue()
    h.agent("ana")
    connected_to(h, "c1", "ana")
    with pytest.raises(AgentNotFound):
        h.router.transfer_to_agent("c1", "ghost")
    assert h.state("ana") == "on_call"  # refused before anything changed


def test_transfer_while_ringing_rescinds_the_first_offer():
    h = Harness()
    h.queue()
    h.agent("ana")
    h.agent("bob")
    assert offers(h.item("c1")) == [("c1", "ana")]
    decisions = h.router.transfer_to_agent("c1", "bob")
    assert [d.agent_id for d in of_type(decisions, OfferRescinded)] == ["ana"]
    assert offers(decisions) == [("c1", "bob")]


def test_an_item_for_one_agent_only_is_never_offered_to_anyone_else():
    """A consult: the agent asked for a colleague by name; if the colleague misses it, nobody else gets it."""
    from datetime import timedelta

    from teleplex.routing import WorkItem

    h = Harness()
    h.queue(wrapup_s=0, offer_timeout_s=10)
    h.agent("ana")
    h.agent("bob")
    item = WorkItem("k1", "sales", "voice", arrived_at=h.clock.now(), target_agent="bob", target_only=True)
    assert offers(h.router.enqueue(item)) == [("k1", "bob")]  # ana is free and idle longer: not offered
    for _ in range(3):
        decisions = h.advance(30)
        assert all(agent == "bob" for _, agent in offers(decisions))
    assert h.clock.now() - h.router.snapshot().items[0].arrived_at >= timedelta(seconds=90)


def test_an_item_for_an_agent_who_is_not_logged_in_is_refused():
    from teleplex.routing import WorkItem

    h = Harness()
    h.queue()
    with pytest.raises(AgentNotFound):
        h.router.enqueue(WorkItem("k1", "sales", "voice", arrived_at=h.clock.now(), target_agent="zed"))
