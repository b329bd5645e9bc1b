"""Several campaigns sharing agents: a joint decision never counts a shared agent twice."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from teleplex.campaigns.pacing import AgentActivity, CampaignLoad, ProgressivePacer, SharedAgent, pace_jointly


def ready(*campaigns: str) -> SharedAgent:
    return SharedAgent(AgentActivity.READY, 10.0, frozenset(campaigns))


def test_two_progressive_campaigns_share_three_agents_without_over_dialing() -> None:
    agents = [ready("a", "b"), ready("a", "b"), ready("a", "b")]
    loads = {
        "a": CampaignLoad(ProgressivePacer(), free_channels=10),
        "b": CampaignLoad(ProgressivePacer(), free_channels=10),
    }
    decisions = pace_jointly(0.0, agents, loads, free_trunks=20)
    assert sum(decisions.values()) == 3


def test_ringing_calls_keep_their_reserved_agents() -> None:
    agents = [ready("a", "b"), ready("a", "b"), ready("a", "b")]
    loads = {
        "a": CampaignLoad(ProgressivePacer(), calls_ringing=2, free_channels=10),
        "b": CampaignLoad(ProgressivePacer(), free_channels=10),
    }
    decisions = pace_jointly(0.0, agents, loads, free_trunks=20)
    assert decisions == {"a": 0, "b": 1}


def test_shared_trunks_bound_the_joint_decision() -> None:
    agents = [ready("a"), ready("a"), ready("b"), ready("b")]
    loads = {
        "a": CampaignLoad(ProgressivePacer(), free_channels=10),
        "b": CampaignLoad(ProgressivePacer(), free_channels=10),
    }
    assert sum(pace_jointly(0.0, agents, loads, free_trunks=3).values()) == 3


@given(
    st.lists(st.sets(st.sampled_from(["a", "b", "c"]), min_size=1), max_size=20),
    st.lists(st.integers(0, 5), min_size=3, max_size=3),
)
def test_progressive_campaigns_never_have_more_calls_than_shared_free_agents(
    memberships: list[set[str]], ringing: list[int]
) -> None:
    agents = [ready(*m) for m in memberships]
    loads = {
        cid: CampaignLoad(ProgressivePacer(), calls_ringing=r, free_channels=100)
        for cid, r in zip("abc", ringing, strict=True)
    }
    decisions = pace_jointly(0.0, agents, loads, free_trunks=1000)
    for cid in "abc":
        eligible = sum(1 for m in memberships if cid in m)
        assert decisions[cid] <= max(0, eligible - loads[cid].calls_ringing)
    in_flight = sum(decisions.values()) + sum(
        min(r, sum(1 for m in memberships if c in m)) for c, r in zip("abc", ringing)
    )
    assert sum(decisions.values()) <= len(agents)
    assert in_flight <= len(agents) + sum(ringing)
