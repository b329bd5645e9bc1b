"""After an engine restart, calls that went on in Asterisk are taken back as connected."""

import pytest

from routing_harness import Harness, offers
from teleplex.routing import AgentNotFound, AgentSpec, DuplicateItem, WorkItem


def resume(h: Harness, item_id: str, agent_id: str):
    return h.router.resume_connected(
        WorkItem(id=item_id, queue_id="sales", channel="voice", arrived_at=h.at(-60)), agent_id
    )


def test_resumed_call_makes_the_agent_on_call_and_unavailable():
    h = Harness()
    h.queue(wrapup_s=5)
    h.agent("ana")
    resume(h, "c1", "ana")
    assert h.state("ana") == "on_call"
    assert offers(h.item("c2")) == []  # voice capacity 1 is taken by the resumed call


def test_resumed_call_ends_into_wrapup_then_ready():
    h = Harness()
    h.queue(wrapup_s=5)
    h.agent("ana")
    resume(h, "c1", "ana")
    h.router.interaction_ended("c1")
    assert h.state("ana") == "wrap_up"
    h.advance(5)
    assert h.state("ana") == "ready"


def test_paused_agent_keeps_the_pause_after_the_resumed_call():
    h = Harness()
    h.queue()
    h.router.agent_login(AgentSpec(id="ana", queues={"sales": 0}), pause_reason="lunch")
    resume(h, "c1", "ana")
    assert h.state("ana") == "on_call"
    h.router.interaction_ended("c1")
    assert h.state("ana") == "paused"


def test_resume_needs_a_logged_in_agent_and_a_new_item():
    h = Harness()
    h.queue()
    with pytest.raises(AgentNotFound):
        resume(h, "c1", "ghost")
    h.agent("ana")
    resume(h, "c1", "ana")
    with pytest.raises(DuplicateItem):
        resume(h, "c1", "ana")
