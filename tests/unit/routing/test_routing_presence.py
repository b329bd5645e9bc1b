"""The presence table and the snapshot supervisors read."""

from __future__ import annotations

import pytest
from routing_harness import Harness, moves, of_type

from teleplex.routing import (
    ALLOWED_MOVES,
    AgentNotFound,
    AgentSpec,
    AgentStateChanged,
    InvalidSpec,
    InvalidTransition,
    Presence,
    QueueSpec,
    check_move,
)

P = Presence


def test_presence_rejects_invalid_moves(h: Harness) -> None:
    with pytest.raises(InvalidTransition):
        check_move(P.LOGGED_OUT, P.ON_CALL)
    with pytest.raises(InvalidTransition):
        check_move(P.PAUSED, P.RINGING)
    with pytest.raises(InvalidTransition):
        check_move(P.READY, P.READY)
    check_move(P.PAUSED, P.PAUSED)  # a change of pause reason
    h.queue()
    h.agent("alice")
    with pytest.raises(InvalidTransition):
        h.agent("alice")
    with pytest.raises(AgentNotFound):
        h.router.agent_ready("nobody")
    with pytest.raises(AgentNotFound):
        h.router.agent_pause("nobody", "lunch")


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(ALLOWED_MOVES) == set(Presence)
    assert all(P.LOGGED_OUT not in ALLOWED_MOVES[s] for s in (P.ON_CALL, P.LOGGED_OUT))


def test_login_paused_then_ready(h: Harness) -> None:
    h.queue()
    out = h.router.agent_login(AgentSpec(id="alice", queues={"sales": 0}), pause_reason="setup")
    assert of_type(out, AgentStateChanged) == [
        AgentStateChanged("alice", P.LOGGED_OUT, P.PAUSED, "login", h.at(0), pause_reason="setup")
    ]
    h.clock.advance(5)
    assert moves(h.router.agent_ready("alice"), "alice") == [(P.PAUSED, P.READY)]
    assert h.router.agent_ready("alice") == []  # already ready: nothing to do


def test_change_of_pause_reason_is_recorded_and_restarts_the_limit() -> None:
    h = Harness(pause_limits={"break": 100, "training": 1000})
    h.agent("alice", [])
    h.router.agent_pause("alice", "break")
    h.clock.advance(50)
    out = h.router.agent_pause("alice", "training")
    assert of_type(out, AgentStateChanged)[0].pause_reason == "training"
    assert h.router.next_deadline() == h.at(1050)


def test_snapshot_reports_queues_and_agents(h: Harness) -> None:
    h.queue()
    h.agent("alice", device="PJSIP/alice")
    h.item("c1")
    h.clock.advance(3)
    h.item("c2")
    h.clock.advance(4)
    snap = h.router.snapshot()
    (queue,) = snap.queues
    assert (queue.waiting, queue.offered, queue.connected, queue.longest_wait_s) == (1, 1, 0, 7.0)
    (agent,) = snap.agents
    assert agent.state is P.RINGING and agent.offers == ("c1",) and agent.time_in_state_s == 7.0
    assert agent.device == "PJSIP/alice"
    assert [i.item_id for i in snap.items] == ["c1", "c2"]


def test_specs_are_validated() -> None:
    with pytest.raises(InvalidSpec):
        QueueSpec(id="q", channels=frozenset({"voice"}), required_skills={"x": 11})
    with pytest.raises(InvalidSpec):
        QueueSpec(id="q", channels=frozenset())
    with pytest.raises(InvalidSpec):
        AgentSpec(id="a", capacity={"voice": -1})


def test_same_facts_give_same_decisions() -> None:
    def run() -> list[object]:
        h = Harness()
        h.queue(wrapup_s=5)
        out: list[object] = []
        for name in ("zed", "amy", "kim"):
            out += h.agent(name)
        for n in range(5):
            out += h.item(f"c{n}")
        out += h.router.offer_accepted("c0", "amy")
        out += h.advance(20)
        return out

    assert run() == run()
