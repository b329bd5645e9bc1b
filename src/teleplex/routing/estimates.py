"""How long a waiting customer can expect to wait, from the queue's recent handle times (pure).

The estimate a caller hears: their place in line times the queue's average handle time, divided by the agents
serving the queue (N agents free up N times as fast as one). The average is a moving one, weighted like
Asterisk's app_queue (each new call counts for a quarter), so it follows the day without jumping on one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NEW_CALL_WEIGHT = 0.25


@dataclass
class HandleTimes:
    """Moving average of talk plus wrap-up seconds per queue."""

    by_queue: dict[str, float] = field(default_factory=dict)

    def observe(self, queue_id: str, seconds: float) -> None:
        seconds = max(0.0, seconds)
        previous = self.by_queue.get(queue_id)
        self.by_queue[queue_id] = seconds if previous is None else previous + NEW_CALL_WEIGHT * (seconds - previous)

    def average(self, queue_id: str) -> float | None:
        return self.by_queue.get(queue_id)


def expected_wait_s(place_in_line: int, serving_agents: int, average_handle_s: float | None) -> float | None:
    """None when there is nothing to go on: no call handled yet, or nobody serving the queue."""
    if average_handle_s is None or serving_agents <= 0 or place_in_line <= 0:
        return None
    return place_in_line * average_handle_s / serving_agents
