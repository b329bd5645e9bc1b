"""The one publisher of `campaign.progress`: a campaign's figures, pushed on the event stream when they change.

It watches the campaign facts on the bus (`campaign.dialing`, `campaign.connected`, `campaign.attempt` from
the dialer, `campaign.state` from the API), gathers a burst for a moment, waits until the journal has stored
what those facts recorded, and publishes each touched campaign's progress, the same body as
`GET /campaigns/{id}/progress`, so the monitor needs no polling and API and event never drift apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from teleplex.campaigns import service
from teleplex.campaigns.models import Campaign
from teleplex.campaigns.schemas import Progress
from teleplex.core.events import Event
from teleplex.core.logging import get_logger
from teleplex.engine.engine import Engine

log = get_logger(__name__)
WATCHED = frozenset({"campaign.dialing", "campaign.connected", "campaign.attempt", "campaign.state"})
GATHER_S = 0.3  # a predictive campaign's burst of dials becomes one update


class CampaignProgressNotifier:
    def __init__(self, engine: Engine, dialer: Callable[[], Any]) -> None:
        self.engine = engine
        self.dialer = dialer  # the running dialer (or None), asked for its live figures
        self.dirty: set[int] = set()
        self._flush: asyncio.Task[None] | None = None
        # the bus calls the filter on every publish: that is where the facts are seen, nothing is queued
        engine.bus.subscribe(self._seen, size=1)

    def _seen(self, event: Event) -> bool:
        if event.type in WATCHED and isinstance(event.data.get("campaign_id"), int):
            self.dirty.add(event.data["campaign_id"])
            if self._flush is None or self._flush.done():
                try:
                    loop = asyncio.get_running_loop()
                    self._flush = loop.create_task(self._publish_soon(), name="campaign-progress")
                except RuntimeError:  # published outside the event loop (a synchronous tool): nobody listens
                    self.dirty.clear()
        return False

    async def _publish_soon(self) -> None:
        while self.dirty:  # facts seen while publishing make another round
            await asyncio.sleep(GATHER_S)
            await self.engine.settle()  # the attempts' outcomes are stored before they are counted
            ids, self.dirty = sorted(self.dirty), set()
            for campaign_id in ids:
                try:
                    await self.publish(campaign_id)
                except Exception:  # one campaign's figures failing must not silence the others
                    log.exception("campaign progress could not be published", campaign_id=campaign_id)

    async def publish(self, campaign_id: int) -> None:
        now = self.engine.clock.now()
        async with self.engine.db.session() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None:
                return
            dialer = self.dialer()
            figures = await service.progress(session, campaign, now)
            figures["live"] = dialer and dialer.live(campaign_id)
            queue_id = campaign.queue_id
        data = Progress.model_validate(figures).model_dump(mode="json")
        self.engine.publish("campaign.progress", now, data, queue_id=queue_id)
