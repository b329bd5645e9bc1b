"""The campaign's life as an explicit state machine: one enum, one table of allowed moves."""

from __future__ import annotations

from enum import StrEnum


class CampaignState(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class DialMode(StrEnum):
    PREVIEW = "preview"  # the agent sees the lead and decides to dial
    PROGRESSIVE = "progressive"  # one call per free agent
    POWER = "power"  # a fixed number of calls per free agent (`power_ratio`)
    PREDICTIVE = "predictive"  # the pacer aims at `target_abandon_percent`


class LeadStatus(StrEnum):
    PENDING = "pending"  # waiting to be dialed (now, or at next_attempt_at)
    DIALING = "dialing"  # an attempt is in progress
    DONE = "done"  # closed by a final outcome
    EXHAUSTED = "exhausted"  # closed: no attempts left


# action -> (states it may start from, state it leads to)
MOVES: dict[str, tuple[frozenset[CampaignState], CampaignState]] = {
    "start": (frozenset({CampaignState.DRAFT, CampaignState.PAUSED}), CampaignState.RUNNING),
    "pause": (frozenset({CampaignState.RUNNING}), CampaignState.PAUSED),
    "stop": (frozenset({CampaignState.RUNNING, CampaignState.PAUSED}), CampaignState.STOPPED),
}


def move(state: CampaignState, action: str) -> CampaignState | None:
    """The state after `action`, or None when the move is not allowed from `state`."""
    sources, target = MOVES[action]
    return target if state in sources else None
