"""The parameters of one simulated campaign: team, list quality, call durations, AMD, shifts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DialerScenario:
    """Everything that defines a simulated campaign except the dialer; a seed makes it repeatable.

    Per dial: a person answers with `human_answer_probability`, a machine with `machine_probability`, the line
    is busy/invalid with `busy_probability`, otherwise nobody answers before `dial_timeout_seconds`. Talk times
    are a mix of very short calls (the customer hangs up at once) and a lognormal with the rest of the mean.
    """

    agents: int = 10
    human_answer_probability: float = 0.20
    machine_probability: float = 0.05
    busy_probability: float = 0.10
    human_ring_median_seconds: float = 9.0
    machine_ring_median_seconds: float = 18.0
    busy_ring_seconds: float = 3.0
    dial_timeout_seconds: float = 25.0
    talk_mean_seconds: float = 180.0
    short_call_share: float = 0.10
    short_call_max_seconds: float = 15.0
    talk_sigma: float = 0.8
    wrapup_min_seconds: float = 20.0
    wrapup_max_seconds: float = 40.0
    machine_handling_seconds: float = 8.0  # an agent hearing a voicemail greeting and dispositioning it
    amd_enabled: bool = False
    amd_false_positive_rate: float = 0.01  # people AMD hangs up on as machines
    amd_machine_detection: float = 0.90  # machines AMD recognises; the rest reach agents
    shift_hours: float = 8.0
    days: int = 1
    channels_per_agent: float = 4.0
    preview_seconds: float = 5.0  # an agent's look at the lead before dialing in preview mode
    decision_interval_seconds: float = 1.0
    abandon_grace_seconds: float = 2.0
    seed: int = 1

    @property
    def channels(self) -> int:
        return max(1, round(self.agents * self.channels_per_agent))

    @property
    def shift_seconds(self) -> float:
        return self.shift_hours * 3600.0

    def with_seed(self, seed: int) -> DialerScenario:
        from dataclasses import replace

        return replace(self, seed=seed)
