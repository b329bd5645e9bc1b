"""The first-response service level of conversations: which ones wait past their queue's target; pure.

A conversation is watched from its arrival until an agent first answers it (or it is resolved). Past its
deadline it is overdue: reported once, then counted per queue until it is answered. The engine's timer
loop asks `next_deadline` and calls `due` when that time comes, with the time from the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Overdue:
    """A conversation that just went past its first-response target."""

    interaction_id: int
    queue_id: int
    deadline: datetime


class FirstResponseWatch:
    def __init__(self) -> None:
        self._waiting: dict[int, tuple[datetime, int]] = {}  # interaction -> (deadline, queue)
        self._overdue: dict[int, int] = {}  # interaction -> queue

    def arm(self, interaction_id: int, queue_id: int, deadline: datetime) -> None:
        """Start watching; a conversation already watched (or already overdue) keeps its deadline."""
        if interaction_id not in self._waiting and interaction_id not in self._overdue:
            self._waiting[interaction_id] = (deadline, queue_id)

    def mark_overdue(self, interaction_id: int, queue_id: int) -> None:
        """Overdue already (reported before a restart): counted, never reported again."""
        self._waiting.pop(interaction_id, None)
        self._overdue[interaction_id] = queue_id

    def move(self, interaction_id: int, queue_id: int) -> None:
        """The conversation changed queue (transfer, overflow): it counts in the new one, same deadline."""
        if interaction_id in self._waiting:
            self._waiting[interaction_id] = (self._waiting[interaction_id][0], queue_id)
        if interaction_id in self._overdue:
            self._overdue[interaction_id] = queue_id

    def clear(self, interaction_id: int) -> int | None:
        """Answered or resolved: stop watching. Returns the queue when it was overdue."""
        self._waiting.pop(interaction_id, None)
        return self._overdue.pop(interaction_id, None)

    def next_deadline(self) -> datetime | None:
        return min((deadline for deadline, _ in self._waiting.values()), default=None)

    def due(self, now: datetime) -> list[Overdue]:
        """Conversations whose deadline has come, earliest first; each is returned once."""
        found = sorted((d, i, q) for i, (d, q) in self._waiting.items() if d <= now)
        for deadline, interaction_id, queue_id in found:
            del self._waiting[interaction_id]
            self._overdue[interaction_id] = queue_id
        return [Overdue(i, q, d) for d, i, q in found]

    def overdue_by_queue(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for queue_id in self._overdue.values():
            counts[queue_id] = counts.get(queue_id, 0) + 1
        return counts

    def is_overdue(self, interaction_id: int) -> bool:
        return interaction_id in self._overdue
