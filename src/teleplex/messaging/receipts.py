"""Read receipts from the agent's side: once an agent has seen a customer's messages, the customer's app
is told where the channel can show it (WhatsApp's blue ticks, the web chat widget's "Seen"), and the
messages are marked `read`.

Best effort, never in the way of the conversation: the provider is called after the agent's request has
committed; if it fails, the messages stay `received` and the next accept, reply or read tries again.
"""

from __future__ import annotations

from sqlalchemy import select, update

from teleplex.core.clock import Clock
from teleplex.core.db import Database
from teleplex.core.logging import get_logger
from teleplex.messaging import status as delivery
from teleplex.messaging.clients import Providers
from teleplex.messaging.models import Channel, Message
from teleplex.messaging.providers.base import SendError
from teleplex.messaging.providers.whatsapp import WhatsAppClient
from teleplex.messaging.schemas import ChannelKind
from teleplex.messaging.webchat import service as webchat
from teleplex.messaging.webchat.hub import hub_for

log = get_logger("teleplex.messaging.receipts")


async def agent_read(db: Database, clock: Clock, providers: Providers, interaction_id: int) -> int:
    """Mark the conversation's unread customer messages read, telling WhatsApp about the latest one (which
    marks the earlier ones too). Returns how many messages were marked."""
    async with db.session() as session:
        unread = list((await session.execute(select(
                Message.id, Message.provider_message_id, Message.channel_id, Message.peer).where(
            Message.interaction_id == interaction_id, Message.direction == "in",
            Message.status == delivery.DeliveryStatus.RECEIVED.value).order_by(Message.id))).all())
        if not unread:
            return 0
        channel = await session.get(Channel, unread[-1].channel_id)
    if channel is None:
        return 0
    latest = unread[-1].provider_message_id
    if channel.kind == ChannelKind.WHATSAPP.value and latest:
        try:
            async with providers.open(channel) as client:
                assert isinstance(client, WhatsAppClient)
                await client.mark_read(latest)
        except SendError as exc:
            log.warning("whatsapp mark-as-read failed; retried at the agent's next action",
                        channel_id=channel.id, error=f"{exc.code}: {exc.message}"[:200])  # fmt: skip
            return 0
        except Exception:  # noqa: BLE001 - unreadable credentials, a bug: logged, the conversation goes on
            log.exception("whatsapp mark-as-read failed", channel_id=channel.id)
            return 0
    ids = [row.id for row in unread]
    seen = None
    async with db.session() as session:
        marked = list((await session.execute(update(Message).where(
            Message.id.in_(ids), Message.status == delivery.DeliveryStatus.RECEIVED.value).values(
            status=delivery.DeliveryStatus.READ.value, status_at=clock.now()).returning(Message.id))).scalars())
        if channel.kind == ChannelKind.WEBCHAT.value and marked:  # the widget shows them seen
            seen = await webchat.append_read(session, clock, channel.id, unread[-1].peer, marked)
    if seen is not None:
        hub_for(db).appended(*seen)
    return len(ids)
