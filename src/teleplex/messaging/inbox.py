"""The inbox's writer: deliveries that arrive together are stored together, in one transaction.

A provider waits for our 200 until its delivery is stored, and a commit is the slow part of storing it
(one sync to disk, one round trip): deliveries are written by group commit (group_commit.py). Dedupe stays
exact: a delivery whose provider id the channel already has, or that came twice in the same batch, stores
nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.messaging.group_commit import GroupCommit
from teleplex.messaging.models import InboundEvent

MAX_BATCH = 200


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery or polled update, as received."""

    channel_id: int
    source: str
    provider_event_id: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str]:
        return self.channel_id, self.provider_event_id


Stored = tuple[int, bool]  # (inbound event id, newly stored)


class Inbox:
    """Stores deliveries with group commit; `store` returns once its delivery is committed."""

    def __init__(self, db: Database, clock: Clock, stored: Callable[[list[int]], Awaitable[None] | None] | None = None,
                 ) -> None:  # fmt: skip
        """`stored` hears the ids of newly stored events, after their commit (the processor's cue)."""
        self.db, self.clock, self._stored = db, clock, stored
        # A unique-key race with another node fails a batch: one by one finds which delivery it was.
        self._group: GroupCommit[Delivery, Stored] = GroupCommit(lambda batch: self._write(batch), MAX_BATCH,
                                                                 (IntegrityError,), self._written)  # fmt: skip
        self.in_flight = 0  # deliveries whose provider is waiting for our answer

    def pressed(self) -> bool:
        """Providers are waiting for answers: work that can wait (processing) should give way."""
        return self.in_flight > 0

    async def store(self, delivery: Delivery) -> Stored:
        """Store unless the channel already has it. Raises what the database raised (the provider retries)."""
        self.in_flight += 1
        try:
            return await self._group.submit(delivery)
        finally:
            self.in_flight -= 1

    def _written(self, _: list[Delivery], results: list[Stored]) -> Awaitable[None] | None:
        new_ids = [event_id for event_id, new in results if new]
        return self._stored(new_ids) if new_ids and self._stored is not None else None

    async def _write(self, batch: list[Delivery]) -> list[Stored]:
        keys = list({d.key for d in batch})
        async with self.db.session() as session:
            found = {
                (channel_id, provider_id): event_id
                for event_id, channel_id, provider_id in (await session.execute(
                    select(InboundEvent.id, InboundEvent.channel_id, InboundEvent.provider_event_id)
                    .where(tuple_(InboundEvent.channel_id, InboundEvent.provider_event_id).in_(keys))))
            }  # fmt: skip
            added: dict[tuple[int, str], InboundEvent] = {}
            for delivery in batch:
                if delivery.key not in found and delivery.key not in added:
                    added[delivery.key] = InboundEvent(
                        channel_id=delivery.channel_id, source=delivery.source,
                        provider_event_id=delivery.provider_event_id, body=delivery.body, headers=delivery.headers,
                        received_at=self.clock.now(), attempts=0)  # fmt: skip
            session.add_all(added.values())
            await session.flush()
        results: list[Stored] = []
        first: set[tuple[int, str]] = set()
        for delivery in batch:
            if delivery.key in found:
                results.append((found[delivery.key], False))
            else:
                results.append((added[delivery.key].id, delivery.key not in first))
                first.add(delivery.key)
        return results


__all__ = ["Delivery", "Inbox", "Stored"]
