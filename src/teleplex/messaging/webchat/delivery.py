"""The outbox's web chat "provider": sending is writing the agent's message into the visitor's stream."""

from __future__ import annotations

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.messaging.models import Channel
from teleplex.messaging.providers.base import OutgoingContent, PermanentSendError
from teleplex.messaging.webchat import service
from teleplex.messaging.webchat.hub import hub_for


class WebchatClient:
    """Same shape as the other providers' clients (`send(to, content) -> provider id`)."""

    def __init__(self, db: Database | None, clock: Clock | None, channel: Channel) -> None:
        if db is None or clock is None:
            raise PermanentSendError("web chat needs the messaging runtime's database", "not_configured")
        self.db, self.clock, self.channel = db, clock, channel

    async def send(self, to: str, content: OutgoingContent) -> str:
        """Committed to the stream before returning: the visitor gets it now or when they resume."""
        async with self.db.session() as session:
            provider_id, visitor_id = await service.append_outgoing(session, self.clock, self.channel, to, content)
        hub_for(self.db).poke(visitor_id)
        return provider_id
