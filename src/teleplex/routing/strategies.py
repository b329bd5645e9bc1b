"""Ordering rules as pure functions, so each strategy's formula is readable and testable alone.

Two orders matter. Items: which waiting item is served first (`item_rank_key`).
Agents: which free matching agent gets an item (`agent_rank_key`). Both end in a
stable id so ties never depend on hashing or insertion order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from teleplex.routing.model import Strategy


@dataclass(frozen=True)
class Candidate:
    """The facts about one free, matching agent that the strategies read."""

    agent_id: str
    penalty: int
    declines: int
    """How often this agent declined or missed this very item."""
    load: int
    """Offers, interactions and wrap-ups the agent holds in the item's capacity class."""
    idle_since: datetime
    """Login, or the end of the agent's last work in this class (after wrap-up)."""
    handled: int
    """Interactions the agent accepted from this queue since login."""
    skill_score: int


def skill_score(agent_skills: Mapping[str, int], required: Mapping[str, int]) -> int:
    """Score an agent against an item's requirement: the sum of their levels in the required skills.

    Only required skills count, so an agent's unrelated skills neither help nor hurt.
    With no requirement every agent scores 0 and the tie-breakers decide.
    """
    return sum(agent_skills.get(name, 0) for name in sorted(required))


def meets(agent_skills: Mapping[str, int], required: Mapping[str, int]) -> bool:
    """Whether the agent reaches every required minimum level."""
    return all(agent_skills.get(name, 0) >= level for name, level in required.items())


def strategy_key(strategy: Strategy, c: Candidate, rr_last: str | None) -> tuple[object, ...]:
    """The strategy's own part of the agent order (smaller sorts first).

    - longest_idle:        (load, idle_since)
    - round_robin:         (0 if agent_id > rr_last else 1)  -- next id after the last one offered, cyclic
    - fewest_interactions: (load, handled, idle_since)
    - skills_weighted:     (-skill_score, load, idle_since)
    """
    if strategy is Strategy.LONGEST_IDLE:
        return (c.load, c.idle_since)
    if strategy is Strategy.ROUND_ROBIN:
        return (0 if rr_last is None or c.agent_id > rr_last else 1,)
    if strategy is Strategy.FEWEST_INTERACTIONS:
        return (c.load, c.handled, c.idle_since)
    if strategy is Strategy.SKILLS_WEIGHTED:
        return (-c.skill_score, c.load, c.idle_since)
    raise ValueError(f"unknown strategy {strategy!r}")


def agent_rank_key(strategy: Strategy, c: Candidate, rr_last: str | None) -> tuple[object, ...]:
    """The full agent order: fewer declines of this item, then lower penalty, then strategy, then id.

    Declines come first so an agent who just refused an item is asked again only when
    no other matching agent is free; penalty tiers come next (Asterisk-like: a higher
    penalty is reached only when no free matching agent has a lower one).
    """
    return (c.declines, c.penalty, *strategy_key(strategy, c, rr_last), c.agent_id)


def rank_agents(strategy: Strategy, candidates: list[Candidate], rr_last: str | None) -> list[Candidate]:
    """Sort free matching agents best first for one item."""
    return sorted(candidates, key=lambda c: agent_rank_key(strategy, c, rr_last))


def aged_priority(
    queue_priority: int, priority_bump: int, aging_s: float | None, arrived_at: datetime, now: datetime
) -> int:
    """An item's effective priority: queue priority + bump + one level per `aging_s` seconds waited.

    Aging lets a long wait in a low-priority queue eventually beat fresh items in a
    higher one, so no customer starves. Integer steps keep the order stable between ticks.
    """
    level = queue_priority + priority_bump
    if aging_s is not None:
        waited = max(0.0, (now - arrived_at).total_seconds())
        level += int(waited // aging_s)
    return level


def item_rank_key(
    *,
    queue_priority: int,
    priority_bump: int,
    aging_s: float | None,
    arrived_at: datetime,
    seq: int,
    now: datetime,
) -> tuple[int, datetime, int]:
    """The item order: higher aged priority first, then longer wait, then arrival order in the router."""
    return (-aged_priority(queue_priority, priority_bump, aging_s, arrived_at, now), arrived_at, seq)
