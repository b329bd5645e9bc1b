"""Who gets the item: strategies, penalties, priorities, aging and skills."""

from __future__ import annotations

from routing_harness import Harness, offers

from teleplex.routing import Strategy


def handle(h: Harness, item_id: str, agent_id: str, queue_id: str = "sales") -> None:
    """Route, accept and end one call with the named agent (who must be the one offered)."""
    assert offers(h.item(item_id, queue_id)) == [(item_id, agent_id)]
    h.router.offer_accepted(item_id, agent_id)
    h.clock.advance(1)
    h.router.interaction_ended(item_id)
    h.clock.advance(1)


def test_longest_idle_agent_gets_the_call(h: Harness) -> None:
    h.queue(strategy=Strategy.LONGEST_IDLE)
    h.agent("alice")
    h.clock.advance(1)
    h.agent("bob")
    handle(h, "c1", "alice")  # alice idle since t=0, bob since t=1
    handle(h, "c2", "bob")  # alice's call ended at t=2, bob idle since t=1
    handle(h, "c3", "alice")


def test_round_robin_rotates(h: Harness) -> None:
    h.queue(strategy=Strategy.ROUND_ROBIN)
    for name in ("carol", "alice", "bob"):
        h.agent(name)
    for n, expected in enumerate(["alice", "bob", "carol", "alice"]):
        handle(h, f"c{n}", expected)


def test_round_robin_skips_busy_agent_and_keeps_its_place(h: Harness) -> None:
    h.queue(strategy=Strategy.ROUND_ROBIN)
    for name in ("alice", "bob", "carol"):
        h.agent(name)
    assert offers(h.item("c1")) == [("c1", "alice")]
    h.router.offer_accepted("c1", "alice")
    assert offers(h.item("c2")) == [("c2", "bob")]
    h.router.offer_accepted("c2", "bob")
    h.router.interaction_ended("c1")
    assert offers(h.item("c3")) == [("c3", "carol")]
    h.router.offer_accepted("c3", "carol")
    assert offers(h.item("c4")) == [("c4", "alice")]


def test_fewest_interactions_agent_gets_the_call(h: Harness) -> None:
    h.queue(strategy=Strategy.FEWEST_INTERACTIONS)
    h.agent("alice")
    h.agent("bob")
    handle(h, "c1", "alice")  # tie on 0: alice idle longest by id order at equal times
    handle(h, "c2", "bob")
    handle(h, "c3", "alice")  # both 1, alice's last call ended earlier
    h.agent("carol")
    handle(h, "c4", "carol")  # carol has handled none


def test_fewest_interactions_balances_open_chats_first(h: Harness) -> None:
    h.queue(strategy=Strategy.FEWEST_INTERACTIONS)
    h.agent("alice")
    h.agent("bob")
    got = [offers(h.item(f"m{n}", channel="webchat"))[0][1] for n in range(4)]
    assert got == ["alice", "bob", "alice", "bob"]


def test_skills_weighted_prefers_the_most_skilled_agent(h: Harness) -> None:
    h.queue(strategy=Strategy.SKILLS_WEIGHTED, required_skills={"spanish": 3})
    h.agent("alice", skills={"spanish": 5, "billing": 9})
    h.agent("bob", skills={"spanish": 8})
    h.agent("carol", skills={"spanish": 2})
    assert offers(h.item("c1")) == [("c1", "bob")]
    assert offers(h.item("c2")) == [("c2", "alice")]
    assert offers(h.item("c3")) == []  # carol is below the minimum


def test_skills_weighted_scores_against_the_item_override(h: Harness) -> None:
    h.queue(strategy=Strategy.SKILLS_WEIGHTED, required_skills={"spanish": 3})
    h.agent("alice", skills={"spanish": 9, "billing": 2})
    h.agent("bob", skills={"spanish": 3, "billing": 7})
    assert offers(h.item("c1", required_skills={"billing": 1})) == [("c1", "bob")]


def test_skills_weighted_aging_serves_a_long_waiting_low_priority_caller(h: Harness) -> None:
    h.queue("vip", strategy=Strategy.SKILLS_WEIGHTED, priority=2, aging_s=60)
    h.queue("basic", strategy=Strategy.SKILLS_WEIGHTED, priority=0, aging_s=60)
    h.agent("alice", ["vip", "basic"])
    handle_first = h.item("c0", "vip")
    assert offers(handle_first) == [("c0", "alice")]
    h.router.offer_accepted("c0", "alice")
    h.item("old", "basic")
    h.clock.advance(180)  # "old" has aged 3 levels: 0 + 3 > 2
    h.item("fresh", "vip")
    assert offers(h.router.interaction_ended("c0")) == [("old", "alice")]


def test_higher_priority_queue_served_first(h: Harness) -> None:
    h.queue("vip", priority=10)
    h.queue("basic", priority=0)
    h.agent("alice", ["vip", "basic"])
    h.router.agent_pause("alice", "break")
    h.item("b1", "basic")
    h.clock.advance(60)
    h.item("v1", "vip")
    assert offers(h.router.agent_ready("alice")) == [("v1", "alice")]


def test_same_priority_longest_waiting_first_across_queues(h: Harness) -> None:
    h.queue("a")
    h.queue("b")
    h.agent("alice", ["a", "b"])
    h.router.agent_pause("alice", "break")
    h.item("late", "a")
    h.item("early", "b", arrived_at=h.at(-30))  # transferred in, waited longer overall
    assert offers(h.router.agent_ready("alice")) == [("early", "alice")]


def test_priority_bump_jumps_the_line(h: Harness) -> None:
    h.queue()
    h.agent("alice")
    h.router.agent_pause("alice", "break")
    h.item("c1")
    h.item("c2", priority_bump=1)
    assert offers(h.router.agent_ready("alice")) == [("c2", "alice")]


def test_penalty_agent_used_only_when_lower_penalty_agents_are_busy(h: Harness) -> None:
    h.queue(strategy=Strategy.LONGEST_IDLE)
    h.agent("backup", {"sales": 5})
    h.clock.advance(1)
    h.agent("alice", {"sales": 0})
    h.agent("bob", {"sales": 0})
    assert offers(h.item("c1")) == [("c1", "alice")]
    assert offers(h.item("c2")) == [("c2", "bob")]
    assert offers(h.item("c3")) == [("c3", "backup")]


def test_required_skills_keep_item_waiting_without_blocking_others(h: Harness) -> None:
    h.queue()
    h.agent("alice", skills={"french": 4})
    h.router.agent_pause("alice", "break")
    h.item("needs-german", required_skills={"german": 5})
    h.item("plain")
    assert offers(h.router.agent_ready("alice")) == [("plain", "alice")]
